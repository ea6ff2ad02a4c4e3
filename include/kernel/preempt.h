/* The preemption count: while it is non-zero the running task is not switched out. */
#pragma once

#include <kernel/task.h>
#include <asm/irqflags.h>

/*
 * Per task, as in Linux: a task that holds a spinlock (or is otherwise inside a region
 * that must finish on this CPU) has a non-zero count, and the scheduler only preempts at
 * count 0 with interrupts on. The count travels with the task across a switch, so it needs
 * no lock: only the running task changes its own count, and an interrupt handler that
 * raises it lowers it again before returning.
 */
static inline void preempt_count_inc(void)
{
	current->preempt_count++;
	barrier(); /* the protected region starts after the count is raised */
}

static inline void preempt_count_dec(void)
{
	barrier(); /* ... and ends before it is lowered */
	current->preempt_count--;
}

static inline unsigned int preempt_count(void)
{
	return READ_ONCE(current->preempt_count);
}

/*
 * Switches away if a reschedule became due while the count was raised (kernel/sched.c).
 * Does nothing with interrupts masked or in interrupt context: the switch then happens at
 * the next interrupt exit or explicit schedule() instead.
 */
void preempt_schedule(void);

/*
 * The count reaching 0 is a preemption point, as in Linux: a tick that found the slice used
 * up while the task held a lock (and so could not switch it out) left need_resched set, and
 * the switch happens here, as soon as it is allowed.
 */
static inline void preempt_count_dec_and_resched(void)
{
	preempt_count_dec();
	if (unlikely(READ_ONCE(current->need_resched)) && current->preempt_count == 0)
		preempt_schedule();
}

/* True when the running task may be switched out here: count 0 and interrupts on. */
#define preemptible() (preempt_count() == 0 && !arch_irqs_disabled())

#ifndef preempt_disable
#define preempt_disable() preempt_count_inc()
#endif
#ifndef preempt_enable
#define preempt_enable() preempt_count_dec_and_resched()
#endif
