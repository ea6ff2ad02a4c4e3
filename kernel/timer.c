/* The periodic tick: counts time and runs one-shot callbacks in interrupt context. */
#include <kernel/timer.h>
#include <kernel/irq.h>
#include <kernel/sched.h>

static volatile u64 ticks;
static void (*once_fn)(void *);
static void *once_arg;

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
