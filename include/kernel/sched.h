/* Kernel threads and the scheduler (kernel/sched.c), with Linux's names. */
#pragma once

#include <lib/types.h>
#include <kernel/irq.h>
#include <kernel/preempt.h>
#include <kernel/task.h>

/*
 * Round-robin per CPU: each CPU has its own run queue, a running task is switched out when
 * its slice of SCHED_SLICE_TICKS timer ticks is used up and another task is waiting, and
 * a CPU with nothing to run runs its idle task (which halts until the next interrupt).
 * Switches happen only at interrupt exit (preemption: count 0, the interrupted code had
 * interrupts on, not nested in another handler), at preempt_enable() reaching count 0,
 * and at explicit schedule()/yield()/cond_resched()/msleep()/waits.
 */
#define SCHED_SLICE_TICKS 2

/* Starts this CPU's run queue and idle task; the calling flow (the boot task) keeps running. */
void sched_init(void);

/*
 * Creates a kernel thread running fn(data) and queues it. The name is copied (at most
 * TASK_NAME_LEN - 1 characters). NULL when out of memory. kthread_run() queues it on the
 * calling CPU; kthread_run_on_cpu() on cpu, for life, or returns NULL when cpu is not
 * online. Either way the caller owns the task until kthread_stop().
 */
struct task *kthread_run(int (*fn)(void *data), void *data, const char *name);
struct task *kthread_run_on_cpu(int (*fn)(void *data), void *data, unsigned int cpu,
				const char *name);
/*
 * The two halves of kthread_run_on_cpu(), for processes (kernel/process.c), which must fill
 * in their task before it can run: a task created, not queued (NULL as kthread_run()); then
 * queued on its CPU.
 */
struct task *task_create_on_cpu(int (*fn)(void *data), void *data, unsigned int cpu,
				const char *name);
void task_start(struct task *t);
/* Ends the running task with code (a kernel thread's fn returning does this). */
__noreturn void task_exit(int code);
/* Frees a task that has exited and been switched out for good (t->exited). */
void task_release(struct task *t);
/*
 * For a task with free_refs (a process: its parent's reap and its own last switch each hold
 * one): drops one, and the last frees it. Whichever comes second - the parent may reap a
 * zombie that is still running its last steps on its own stack - frees it.
 */
void task_put(struct task *t);

/*
 * Linux's kthread_use_mm()/kthread_unuse_mm(): the calling kernel thread works in mm's
 * user half for a while (tests, benchmarks); the caller keeps its own reference on mm.
 */
void kthread_use_mm(struct mm_struct *mm);
void kthread_unuse_mm(struct mm_struct *mm);

/* True once kthread_stop() was called for the running task. */
bool kthread_should_stop(void);
/*
 * Asks t to stop (kthread_should_stop() becomes true, and a sleeping t is woken), waits until
 * it has exited, frees it and its stack, and returns what its fn returned. Must be called
 * once per task, by another task.
 */
int kthread_stop(struct task *t);

/* Gives up the CPU; returns when the scheduler picks this task again. */
void schedule(void);
/* schedule() for a task that stays runnable: lets every other queued task run first. */
void yield(void);
/* A voluntary preemption point: switches only if a reschedule is due and allowed. */
void cond_resched(void);
/*
 * Sleeps at least ms milliseconds, at most one tick more (plus the wait for the CPU if
 * other tasks run). Rounded up to whole ticks (1000 / timer_hz() ms each).
 */
void msleep(unsigned int ms);

/*
 * Sets the running task's state under its run-queue lock (then call schedule() to sleep):
 * a wake-up on another CPU sees the state and the waker's own write in one order.
 */
void set_current_state(enum task_state state);
/* Makes a SLEEPING or BLOCKED task runnable; false if it was already running or queued. */
bool wake_up_process(struct task *t);

static inline bool in_task(void)
{
	return !in_interrupt();
}

/*
 * Every arch calls this on the way out of an interrupt, after irq_exit() and the EOI, with
 * interrupts still masked, on the interrupted task's stack. It switches to another task
 * when one is due and preemption is allowed: not nested in another interrupt, preempt count
 * 0, and the interrupted code had interrupts enabled (irqs_were_on, from the saved RFLAGS
 * or SPSR). The switched-out task resumes here later and returns through the arch exit path.
 */
void irq_exit_maybe_preempt(bool irqs_were_on);

/* Called by the timer tick (kernel/timer.c) in interrupt context: wake-ups, time slices. */
void sched_tick(void);

/* Counts since boot, summed over CPUs (tests). */
struct sched_stats {
	u64 switches;	 /* context switches */
	u64 preemptions; /* ... of them, at interrupt exit or preempt_enable() */
	u64 tasks;	 /* kernel threads alive (created, not yet freed by kthread_stop) */
};
void sched_stats_read(struct sched_stats *s);

/* The idle task of cpu (never on a run queue). */
struct task *idle_task(unsigned int cpu);

/*
 * Calls fn(t, arg) for every task that exists - boot tasks, idle tasks, kernel threads not
 * yet freed by kthread_stop() - oldest first, with the task list's lock held and interrupts
 * masked: fn must not sleep, and sees each task's fields as they are at that moment (what a
 * console's "ps" prints). Returns how many there were.
 */
unsigned int sched_for_each_task(void (*fn)(const struct task *t, void *arg), void *arg);
/* "running", "sleeping", "blocked", "dead". */
const char *task_state_name(enum task_state state);

/* --- arch contract: arch/<arch>/switch.S and <asm/switch.h> --- */

/*
 * Saves the callee-saved registers of the running task on its stack, stores its stack
 * pointer in *prev_sp, loads next_sp and returns into the task that saved it (or, for a new
 * task, into arch_kthread_start, which calls kthread_entry()).
 */
void arch_switch_to(unsigned long *prev_sp, unsigned long next_sp);
/* A new task's first code: calls kthread_entry() and never returns. */
void arch_kthread_start(void);
/* Runs a new task's function (with the run-queue lock held, as after any switch). */
__noreturn void kthread_entry(void);
