/* The periodic tick from the EL1 virtual timer (CNTV, PPI 27), and the cycle counter. */
#include <asm/arch_timer.h>
#include <asm/barrier.h>
#include <asm/gic.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/smp.h>
#include <kernel/timer.h>

/* Counter ticks per timer tick, the same on every CPU: set by the first CPU to start its
 * timer, and by timer_set_hz() (on every CPU, the same value). */
static u64 tick_period;
/* Each CPU's own comparator deadline: only that CPU reads or writes its slot. */
static u64 next_deadline[NR_CPUS];

/*
 * Periodic on a one-shot comparator: every interrupt moves CVAL one period further. Adding
 * to the previous deadline (not to "now") keeps the ticks from drifting by the interrupt
 * latency; if we fell more than a period behind (a long stretch with interrupts masked),
 * we skip the lost ticks instead of firing them back to back.
 */
void arm64_timer_interrupt(void)
{
	u64 now = arch_counter_read(), *deadline = &next_deadline[smp_processor_id()];

	*deadline += tick_period;
	if (*deadline <= now)
		*deadline = now + tick_period;
	/*
	 * A deadline in the future drops the timer's interrupt line. The isb makes sure the
	 * new CVAL is in effect before the caller's EOI, or the GIC would see the level still
	 * high and deliver the same tick twice.
	 */
	arch_timer_set_cval(*deadline);
	isb();
	timer_tick();
}

/* Each CPU has its own virtual timer (PPI 27 is private): every CPU starts its own. */
void arm64_timer_start(void)
{
	u64 *deadline = &next_deadline[smp_processor_id()];

	if (!READ_ONCE(tick_period))
		WRITE_ONCE(tick_period, arch_counter_freq() / TIMER_HZ);
	*deadline = arch_counter_read() + tick_period;
	arch_timer_set_cval(*deadline);
	arch_timer_set_ctl(CNTV_CTL_ENABLE);
	arm64_gic_enable(GIC_INTID_VTIMER);
}

/* The next tick comes one new period from now; later ones follow at the new rate. */
/* This CPU's timer only (timer_set_hz() runs it on every CPU); the period is shared. */
void arch_timer_set_hz(unsigned int hz)
{
	u64 *deadline = &next_deadline[smp_processor_id()];

	WRITE_ONCE(tick_period, arch_counter_freq() / hz);
	*deadline = arch_counter_read() + tick_period;
	arch_timer_set_cval(*deadline);
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
