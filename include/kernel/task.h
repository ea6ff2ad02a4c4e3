/* Tasks: what the scheduler (kernel/sched.c) keeps per kernel thread, and `current`. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>
#include <mm/lazy_mmu_types.h>
#include <mm/tlb_batch.h>

/*
 * A task's life: RUNNING (running, or queued to run) <-> SLEEPING (msleep) / BLOCKED
 * (waiting for a completion or for another task to exit) -> DEAD (its function returned;
 * kthread_stop() frees it once it has been switched out for the last time).
 */
enum task_state {
	TASK_RUNNING,
	TASK_SLEEPING,
	TASK_BLOCKED,
	TASK_DEAD,
};

#define TASK_NAME_LEN 24
/* Each kernel thread's stack: KSTACK_PAGES mapped pages above one unmapped guard page. */
#define KSTACK_PAGES 4
#define KSTACK_SIZE  (KSTACK_PAGES * 4096UL)

struct nofault_ctx;
struct mm_struct;

/*
 * Who may touch what: the fields under "scheduler" are protected by the run-queue lock of
 * the task's CPU (kernel/sched.c), except that a running task reads its own need_resched
 * and should_stop without it (single loads, re-checked under the lock where it matters).
 * preempt_count and lazy_mmu_state are changed only by the task itself; tlb_batch only by
 * the task itself or by the switch path while it is being switched out (interrupts off).
 */
struct task {
	const char *name; /* points at name_buf for kernel threads */
	/* > 0: this task must not be switched out (kernel/preempt.h). Only it changes it. */
	unsigned int preempt_count;
	/* Linux keeps this in task_struct too: the lazy MMU state belongs to the task. */
	struct lazy_mmu_state lazy_mmu_state;
	/* Invalidations and barriers this task deferred inside its lazy MMU section. */
	struct tlb_batch tlb_batch;

	/* --- scheduler --- */
	unsigned long sp; /* saved stack pointer while switched out (arch_switch_to) */
	enum task_state state;
	bool need_resched;	 /* set by the tick or a wake-up: switch at the next chance */
	bool on_rq;		 /* queued or running: a wake-up must not queue it again */
	bool exited;		 /* DEAD and switched out for good: its stack is free */
	bool should_stop;	 /* kthread_stop() asked it to return */
	unsigned int cpu;	 /* the CPU whose run queue holds it (bound for life) */
	unsigned int slice;	 /* ticks left of its time slice */
	u64 wake_tick;		 /* SLEEPING: wake when timer_ticks() reaches this */
	struct task *rq_next;	 /* link in the run queue */
	struct task *sleep_next; /* link in the run queue's sleeper list (msleep) */
	struct task *wait_next;	 /* link in a completion's waiter list (its lock protects it) */
	/* The task in kthread_stop() waiting for this one to exit. */
	struct task *stop_waiter;
	/* Link in the list of every task (kernel/sched.c; tasks_lock protects it). */
	struct task *all_next;
	/* call_nofault()'s recovery point belongs to the task that armed it (kernel/fault.c). */
	struct nofault_ctx *nofault;

	/* --- process (kernel/process.c): NULL/0 for kernel threads --- */
	struct mm_struct *mm; /* its address space; a kernel thread borrows the CPU's */
	int pid;
	struct task *parent; /* proc_lock: who wait()s for it */
	int wait_status;     /* proc_lock: W_EXITCODE() once zombie */
	bool zombie;	     /* proc_lock: exited, not yet reaped */
	int free_refs;	     /* atomic: who must let go before it is freed (task_put()) */

	/* --- kernel thread --- */
	int (*fn)(void *data);
	void *data;
	int exit_code;
	unsigned long stack_guard; /* the unmapped page below the stack (boot: __stack_guard) */
	unsigned long stack_top;
	phys_addr_t stack_frames[KSTACK_PAGES];
	char name_buf[TASK_NAME_LEN];
};

/* The member can't be called "current" itself: this macro would rewrite every use of it. */
#define current this_cpu_read(current_task)

/* Makes the boot flow of this CPU a task and sets current. */
void task_init_boot(void);

/* The boot task of a CPU (the one kmain runs on for CPU 0). */
struct task *boot_task(unsigned int cpu);
