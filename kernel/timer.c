/* The periodic tick: counts time and runs one-shot callbacks in interrupt context. */
#include <kernel/timer.h>
#include <kernel/arch.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/sched.h>

static volatile u64 ticks;
static unsigned int hz = TIMER_HZ; /* written with interrupts masked; read anywhere */
static void (*once_fn)(void *);
static void *once_arg;

unsigned int timer_hz(void)
{
	return READ_ONCE(hz);
}

void timer_set_hz(unsigned int new_hz)
{
	unsigned long flags;

	if (WARN_ONCE(new_hz == 0 || new_hz > 10000, "timer_set_hz(%u): refused", new_hz))
		return;
	local_irq_save(flags);
	WRITE_ONCE(hz, new_hz);
	arch_timer_set_hz(new_hz);
	local_irq_restore(flags);
}

u64 timer_ticks(void)
{
	return ticks;
}

void timer_tick(void)
{
	void (*fn)(void *) = once_fn;

	ticks++;
	if (fn) {
		once_fn = NULL;
		fn(once_arg);
	}
	sched_tick();
}

void timer_call_once(void (*fn)(void *), void *arg)
{
	unsigned long flags;

	/* Interrupts off so the tick never sees the new fn with the old arg. */
	local_irq_save(flags);
	once_arg = arg;
	once_fn = fn;
	local_irq_restore(flags);
}

void timer_wait_ticks(u64 n)
{
	u64 end = ticks + n;

	while (ticks < end)
		arch_wait_for_interrupt();
}
