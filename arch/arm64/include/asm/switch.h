/* arm64 context switch frame: what arch_switch_to() (switch.S) keeps on a switched-out stack. */
#pragma once

#include <lib/types.h>

void arch_kthread_start(void);

/*
 * AAPCS64: x19-x28, the frame pointer x29 and sp are callee-saved; x30 (lr) is where
 * arch_switch_to() returns. Everything else is saved by the C caller (or by the exception
 * entry, for a preempted task). Lowest address first, as switch.S stores them; 96 bytes,
 * so sp stays 16-byte aligned.
 */
struct switch_frame {
	unsigned long x29, x30;
	unsigned long x19_x28[10];
};

/*
 * Builds a new task's first frame at the top of its stack and returns the stack pointer to
 * save: the first switch to it loads zeroes (x29 = 0 ends every backtrace) and returns into
 * arch_kthread_start with sp = stack_top.
 */
static inline unsigned long arch_init_switch_frame(unsigned long stack_top)
{
	struct switch_frame *f = (struct switch_frame *)(stack_top - sizeof(*f));

	*f = (struct switch_frame){ .x30 = (unsigned long)arch_kthread_start };
	return (unsigned long)f;
}
