/* SMP, the generic half: bringing CPUs online, the idle loop, cross-CPU function calls. */
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/preempt.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/task.h>
#include <lib/errno.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>

_Static_assert(BOOT_MAX_CPUS == NR_CPUS, "boot/ keeps exactly as many CPUs as we can use");

/*
 * A CPU's life: OFFLINE until the boot CPU starts it (BOOTING); the CPU itself moves
 * BOOTING -> ONLINE in secondary_start(). If it takes too long the boot CPU moves
 * BOOTING -> ABANDONED instead, and a CPU that arrives late finds its state taken and parks
 * for good: both sides use compare-and-swap, so exactly one of them wins.
 * Written by those two CPUs only, with atomics; read by anyone.
 */
enum cpu_state { CPU_OFFLINE, CPU_BOOTING, CPU_ONLINE, CPU_ABANDONED };
static int cpu_state[NR_CPUS] = { [0] = CPU_ONLINE };
static unsigned int nr_online = 1; /* atomic; the ONLINE states counted */
static u64 hwids[NR_CPUS];	   /* written before the CPU starts, then read-only */

/*
 * Each secondary's boot stack (its boot task's, then its interrupt handlers' until the
 * scheduler switches to another task): 16 KiB on top of a guard page that is unmapped
 * before the CPU starts, so an overflow faults instead of running into cpu - 1's stack.
 */
#define SECONDARY_STACK_SIZE 16384
static u8 secondary_stacks[NR_CPUS][PAGE_SIZE + SECONDARY_STACK_SIZE] __aligned(PAGE_SIZE);

/* How long the boot CPU waits for a secondary, and a cross-call waits for its target. */
#define CPU_BOOT_TIMEOUT_MS 3000
#define CALL_TIMEOUT_MS	    10000

unsigned int num_online_cpus(void)
{
	return __atomic_load_n(&nr_online, __ATOMIC_ACQUIRE);
}

bool cpu_online(unsigned int cpu)
{
	return cpu < NR_CPUS && __atomic_load_n(&cpu_state[cpu], __ATOMIC_ACQUIRE) == CPU_ONLINE;
}

u64 cpu_hwid(unsigned int cpu)
{
	return cpu < NR_CPUS ? hwids[cpu] : 0;
}

static u64 ms_to_cycles(u64 ms)
{
	return arch_cycles_hz() / 1000 * ms;
}

/* ------------------------------------------------------------------ cross-calls */

#define CALL_QUEUE_LEN 16

struct call_slot {
	smp_call_func_t fn;
	void *info;
	unsigned int *pending; /* the waiter's count, decremented after fn; NULL: nobody waits */
};

/*
 * One queue per target CPU: a ring of calls, filled by any CPU, drained by the target in its
 * IPI handler (or while it waits for calls of its own). Protected by `lock`, always taken
 * with interrupts masked: the target's handler takes it too.
 */
struct call_queue {
	spinlock_t lock;
	unsigned int head, tail; /* free-running; tail - head calls are queued */
	struct call_slot slot[CALL_QUEUE_LEN];
};

static struct call_queue call_queues[NR_CPUS];

/* Runs everything queued for this CPU. Interrupts are masked (an IPI handler, or the poll). */
static void run_queued_calls(void)
{
	struct call_queue *q = &call_queues[smp_processor_id()];

	for (;;) {
		struct call_slot s;

		spin_lock(&q->lock);
		if (q->head == q->tail) {
			spin_unlock(&q->lock);
			return;
		}
		s = q->slot[q->head % CALL_QUEUE_LEN];
		q->head++;
		spin_unlock(&q->lock);
		/* Outside the lock: fn may itself queue calls (without waiting). */
		s.fn(s.info);
		/* Release: everything fn wrote is visible to the waiter that sees the count drop. */
		if (s.pending)
			__atomic_fetch_sub(s.pending, 1, __ATOMIC_RELEASE);
	}
}

void smp_handle_call_ipi(void)
{
	run_queued_calls();
}

/*
 * What a CPU does while it spins for other CPUs: run the calls queued for itself, as its
 * IPI handler would, in interrupt context. Without this, two CPUs that wait for each other
 * with interrupts masked (or whose IPIs are both in flight) would spin forever.
 */
static void poll_own_calls(void)
{
	unsigned long flags;

	local_irq_save(flags);
	irq_enter();
	run_queued_calls();
	irq_exit();
	local_irq_restore(flags);
}

/* Queues one call for `cpu`; polls our own queue while the target's ring is full. */
static void queue_call(unsigned int cpu, smp_call_func_t fn, void *info, unsigned int *pending)
{
	struct call_queue *q = &call_queues[cpu];
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&q->lock, flags);
		if (q->tail - q->head < CALL_QUEUE_LEN) {
			q->slot[q->tail % CALL_QUEUE_LEN] = (struct call_slot){ fn, info, pending };
			q->tail++;
			spin_unlock_irqrestore(&q->lock, flags);
			return;
		}
		spin_unlock_irqrestore(&q->lock, flags);
		arch_send_call_ipi(cpu); /* it is behind: make sure it knows */
		poll_own_calls();
		cpu_relax();
	}
}

static void run_here(smp_call_func_t fn, void *info)
{
	unsigned long flags;

	/* The same context the targets get: interrupts masked, in_interrupt() true. */
	local_irq_save(flags);
	irq_enter();
	fn(info);
	irq_exit();
	local_irq_restore(flags);
}

/* Spins until *pending is 0; a target that never answers is a broken invariant. */
static void wait_for_calls(unsigned int *pending, smp_call_func_t fn, const unsigned int *who,
			   unsigned int n)
{
	u64 start = arch_cycles(), limit = ms_to_cycles(CALL_TIMEOUT_MS);

	while (__atomic_load_n(pending, __ATOMIC_ACQUIRE)) {
		poll_own_calls();
		cpu_relax();
		if (arch_cycles() - start > limit) {
			printk("smp: CPU %u: cross-call %p not run by %u of these CPUs within %u "
			       "ms:",
			       smp_processor_id(), (void *)fn,
			       __atomic_load_n(pending, __ATOMIC_ACQUIRE), CALL_TIMEOUT_MS);
			for (unsigned int i = 0; i < n; i++)
				printk(" %u", who[i]);
			printk("\n");
			panic("smp: cross-call never completed");
		}
	}
}

static bool refuse_wait(bool wait)
{
	return WARN_ONCE(wait && in_interrupt(),
			 "smp: a cross-call that waits, from interrupt context, can deadlock: "
			 "refused");
}

int smp_call_function_single(unsigned int cpu, smp_call_func_t fn, void *info, bool wait)
{
	unsigned int pending = 1;

	if (refuse_wait(wait))
		return -EDEADLK;
	preempt_disable(); /* "this CPU" must stay this CPU until the call is queued */
	if (cpu == smp_processor_id()) {
		run_here(fn, info);
		preempt_enable();
		return 0;
	}
	if (!cpu_online(cpu)) {
		preempt_enable();
		return -ENXIO;
	}
	queue_call(cpu, fn, info, wait ? &pending : NULL);
	arch_send_call_ipi(cpu);
	if (wait)
		wait_for_calls(&pending, fn, &cpu, 1);
	preempt_enable();
	return 0;
}

int on_each_cpu(smp_call_func_t fn, void *info, bool wait)
{
	unsigned int targets[NR_CPUS], n = 0, pending = 0, me;

	if (refuse_wait(wait))
		return -EDEADLK;
	preempt_disable();
	me = smp_processor_id();
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpu != me && cpu_online(cpu))
			targets[n++] = cpu;
	/* The count is complete before any target can decrement it. */
	pending = n;
	for (unsigned int i = 0; i < n; i++) {
		queue_call(targets[i], fn, info, wait ? &pending : NULL);
		arch_send_call_ipi(targets[i]);
	}
	run_here(fn, info); /* our share while the others work on theirs */
	if (wait)
		wait_for_calls(&pending, fn, targets, n);
	preempt_enable();
	return 0;
}

/* The interrupt is the message: its exit (irq_exit_maybe_preempt()) runs the scheduler. */
static void reschedule_ipi(void *unused)
{
	(void)unused;
}

void smp_send_reschedule(unsigned int cpu)
{
	if (cpu != smp_processor_id() && cpu_online(cpu))
		smp_call_function_single(cpu, reschedule_ipi, NULL, false);
}

/* ------------------------------------------------------------------ bring-up */

__noreturn void secondary_start(void)
{
	unsigned int cpu = smp_processor_id();
	int expected = CPU_BOOTING;

	/* This flow becomes the CPU's boot task, on the stack smp_boot_cpu() gave it. */
	task_init_boot();
	current->stack_guard = (unsigned long)(uintptr_t)secondary_stacks[cpu];
	current->stack_top = current->stack_guard + sizeof(secondary_stacks[cpu]);
	/* The run queue before going online: kthread_run_on_cpu() may queue on it from then. */
	sched_init();
	/*
	 * Online, unless the boot CPU gave up on us: then we must not take part in anything
	 * (it told the log we are missing), so park with interrupts masked.
	 */
	if (!__atomic_compare_exchange_n(&cpu_state[cpu], &expected, CPU_ONLINE, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		arch_cpu_park();
	}
	__atomic_fetch_add(&nr_online, 1, __ATOMIC_SEQ_CST);
	/*
	 * Shootdowns go to the CPUs that are online when they are sent. Between loading the
	 * kernel's tables and the line above, this CPU could have cached a translation that a
	 * shootdown sent in that window did not reach: drop everything now that every later
	 * shootdown includes us.
	 */
	arch_flush_tlb_all();
	local_irq_enable();

	/*
	 * Nothing is left for the boot flow to do: it blocks for good, and from here on this
	 * CPU runs its idle task (kernel/sched.c) whenever no kernel thread wants it.
	 */
	for (;;) {
		set_current_state(TASK_BLOCKED);
		schedule();
	}
}

bool smp_boot_cpu(unsigned int cpu, u64 hwid, unsigned int timeout_ms)
{
	u64 start, limit = ms_to_cycles(timeout_ms);
	int expected = CPU_OFFLINE, err;

	/* Each logical id is used once: a CPU that failed may still arrive and claim it. */
	if (cpu == 0 || cpu >= NR_CPUS ||
	    !__atomic_compare_exchange_n(&cpu_state[cpu], &expected, CPU_BOOTING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		printk("smp: logical CPU %u is not free\n", cpu);
		return false;
	}
	expected = CPU_BOOTING;

	cpus[cpu].id = cpu;
	cpus[cpu].self = &cpus[cpu]; /* before the arch points the CPU's register at it */
	hwids[cpu] = hwid;
	err = unmap_pages(&init_mm, (unsigned long)(uintptr_t)secondary_stacks[cpu], 1);
	if (!err)
		err =
		    arch_boot_secondary(cpu, hwid,
					(unsigned long)(uintptr_t)(secondary_stacks[cpu] +
								   sizeof(secondary_stacks[cpu])));
	if (err) {
		printk("smp: CPU %u (hwid %#llx): start request failed (%d); going on without "
		       "it\n",
		       cpu, (unsigned long long)hwid, err);
		__atomic_store_n(&cpu_state[cpu], CPU_ABANDONED, __ATOMIC_RELEASE);
		return false;
	}
	start = arch_cycles();
	while (!cpu_online(cpu)) {
		if (arch_cycles() - start > limit &&
		    __atomic_compare_exchange_n(&cpu_state[cpu], &expected, CPU_ABANDONED, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			printk("smp: CPU %u (hwid %#llx) did not come online within %u ms; "
			       "going on without it\n",
			       cpu, (unsigned long long)hwid, timeout_ms);
			return false;
		}
		cpu_relax();
	}
	return true;
}

void smp_init(void)
{
	u64 me = arch_cpu_hwid();
	unsigned int next = 1, wanted = 0;

	hwids[0] = me;
	cpus[0].id = 0;
	for (unsigned int i = 0; i < NR_CPUS; i++)
		spin_lock_init(&call_queues[i].lock);
	if (boot_info.nr_cpus_ignored)
		printk("smp: the firmware lists %u more CPUs than NR_CPUS (%u); they stay off\n",
		       boot_info.nr_cpus_ignored, NR_CPUS);

	for (unsigned int i = 0; i < boot_info.nr_cpus; i++) {
		if (boot_info.cpus[i] == me)
			continue;
		if (next == NR_CPUS) {
			/* The boot CPU wasn't in the list: the list itself has one too many. */
			printk("smp: no logical id left for hwid %#llx (NR_CPUS %u)\n",
			       (unsigned long long)boot_info.cpus[i], NR_CPUS);
			continue;
		}
		/* A CPU that failed keeps its logical id: if it arrives late it finds it taken. */
		wanted++;
		smp_boot_cpu(next++, boot_info.cpus[i], CPU_BOOT_TIMEOUT_MS);
	}
	printk("smp: %u CPU%s online (%u of %u started; boot CPU hwid %#llx)\n", num_online_cpus(),
	       num_online_cpus() == 1 ? "" : "s", num_online_cpus() - 1, wanted,
	       (unsigned long long)me);
}
