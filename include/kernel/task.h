/* Tasks: for now one boot task per CPU; the scheduler will add a switch hook here. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>
#include <mm/lazy_mmu_types.h>
#include <mm/tlb_batch.h>

struct task {
	const char *name;
	/* > 0: this task must not be switched out (kernel/preempt.h). Only it changes it. */
	unsigned int preempt_count;
	/* Linux keeps this in task_struct too: the lazy MMU state belongs to the task. */
	struct lazy_mmu_state lazy_mmu_state;
	/* Invalidations and barriers this task deferred inside its lazy MMU section. */
	struct tlb_batch tlb_batch;
};

/* The member can't be called "current" itself: this macro would rewrite every use of it. */
#define current (this_cpu()->current_task)

/* Makes the boot flow of this CPU a task and sets current. */
void task_init_boot(void);
