/* The lazy MMU state a task carries (kept apart so <kernel/task.h> needs no more of mm/). */
#pragma once

#include <lib/types.h>

/*
 * Per task, as in Linux's task_struct. Changed only by the task itself, through the
 * helpers of <mm/lazy_mmu.h>; read by the scheduler's switch rule on this CPU. enable_count
 * comes first: the fast paths test both counts at once as one little-endian u16.
 */
struct lazy_mmu_state {
	u8 enable_count;
	u8 pause_count;
};
