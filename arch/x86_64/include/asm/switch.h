/* x86-64 context switch frame: what arch_switch_to() (switch.S) keeps on a switched-out stack. */
#pragma once

#include <lib/types.h>

void arch_kthread_start(void);

/*
 * The System V ABI lets a callee clobber everything but rbx, rbp, r12-r15 and rsp, so
 * those six and the return address are all a switch must keep: the rest is already saved by
 * the C caller (or by the interrupt entry, for a preempted task). Lowest address first, in
 * the order switch.S pops them.
 */
struct switch_frame {
	unsigned long r15, r14, r13, r12, rbx, rbp;
	unsigned long ret; /* where arch_switch_to() "returns" in the switched-to task */
};

/*
 * Builds a new task's first frame below stack_top and returns the stack pointer to save:
 * the first switch to it pops zeroes (rbp = 0 ends every backtrace) and returns into
 * arch_kthread_start with rsp = stack_top - 16, 16-byte aligned as a call site needs.
 */
static inline unsigned long arch_init_switch_frame(unsigned long stack_top)
{
	struct switch_frame *f = (struct switch_frame *)(stack_top - 16 - sizeof(*f));

	*f = (struct switch_frame){ .ret = (unsigned long)arch_kthread_start };
	return (unsigned long)f;
}
