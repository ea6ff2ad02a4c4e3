/* The preemption count: while it is non-zero the running task is not switched out. */
#pragma once

#include <kernel/task.h>

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

#ifndef preempt_disable
#define preempt_disable() preempt_count_inc()
#endif
#ifndef preempt_enable
#define preempt_enable() preempt_count_dec()
#endif
