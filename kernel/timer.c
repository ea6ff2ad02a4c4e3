/* The periodic tick: counts time and runs one-shot callbacks in interrupt context. */
#include <kernel/timer.h>
#include <kernel/arch.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/smp.h>

static volatile u64 ticks;
static unsigned int hz = TIMER_HZ; /* written with interrupts masked; read anywhere */
/* Each CPU's own count of its timer interrupts: only that CPU writes its slot. */
static u64 cpu_ticks[NR_CPUS];
static void (*once_fn)(void *);
static void *once_arg;

unsigned int timer_hz(void)
{
	return READ_ONCE(hz);
}

static void set_hz_here(void *arg)
{
	arch_timer_set_hz(*(const unsigned int *)arg);
}

void timer_set_hz(unsigned int new_hz)
{
	if (WARN_ONCE(new_hz == 0 || new_hz > 10000, "timer_set_hz(%u): refused", new_hz))
		return;
	WRITE_ONCE(hz, new_hz);
	/* Every CPU runs its own timer: each reprograms its own (interrupts masked there). */
	on_each_cpu(set_hz_here, &new_hz, true);
}

u64 timer_ticks(void)
{
	return ticks;
}

/* Time and the one-shot callbacks: the boot CPU's tick only, or they would run N times. */
static void boot_cpu_tick(void)
{
	void (*fn)(void *) = once_fn;

	ticks++;
	if (fn) {
		once_fn = NULL;
		fn(once_arg);
	}
}

void timer_tick(void)
{
	unsigned int cpu = smp_processor_id();

	__atomic_store_n(&cpu_ticks[cpu], cpu_ticks[cpu] + 1, __ATOMIC_RELAXED);
	if (cpu == 0)
		boot_cpu_tick();
	/* Every CPU's own run queue: its wake-ups and time slices. */
	sched_tick();
}

u64 timer_cpu_ticks(unsigned int cpu)
{
	return cpu < NR_CPUS ? __atomic_load_n(&cpu_ticks[cpu], __ATOMIC_RELAXED) : 0;
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
