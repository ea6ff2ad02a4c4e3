/* The periodic tick from the EL1 virtual timer (CNTV, PPI 27), and the cycle counter. */
#include <asm/arch_timer.h>
#include <asm/barrier.h>
#include <asm/gic.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/timer.h>

static u64 tick_period; /* counter ticks per timer tick */
static u64 next_deadline;

/*
 * Periodic on a one-shot comparator: every interrupt moves CVAL one period further. Adding
 * to the previous deadline (not to "now") keeps the ticks from drifting by the interrupt
 * latency; if we fell more than a period behind (a long stretch with interrupts masked),
 * we skip the lost ticks instead of firing them back to back.
 */
void arm64_timer_interrupt(void)
{
	u64 now = arch_counter_read();

	next_deadline += tick_period;
	if (next_deadline <= now)
		next_deadline = now + tick_period;
	/*
	 * A deadline in the future drops the timer's interrupt line. The isb makes sure the
	 * new CVAL is in effect before the caller's EOI, or the GIC would see the level still
	 * high and deliver the same tick twice.
	 */
	arch_timer_set_cval(next_deadline);
	isb();
	timer_tick();
}

static void arm64_timer_start(void)
{
	tick_period = arch_counter_freq() / TIMER_HZ;
	next_deadline = arch_counter_read() + tick_period;
	arch_timer_set_cval(next_deadline);
	arch_timer_set_ctl(CNTV_CTL_ENABLE);
	arm64_gic_enable(GIC_INTID_VTIMER);
}

/* The next tick comes one new period from now; later ones follow at the new rate. */
void arch_timer_set_hz(unsigned int hz)
{
	tick_period = arch_counter_freq() / hz;
	next_deadline = arch_counter_read() + tick_period;
	arch_timer_set_cval(next_deadline);
	isb();
}

void arch_irq_init(void)
{
	arm64_gic_init();
	arm64_timer_start();
}

u64 arch_cycles(void)
{
	return arch_counter_read();
}

u64 arch_cycles_hz(void)
{
	return arch_counter_freq();
}
