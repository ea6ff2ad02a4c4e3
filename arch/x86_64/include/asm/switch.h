/* x86-64 context switch frame: what arch_switch_to() (switch.S) keeps on a switched-out stack. */
#pragma once

#include <lib/types.h>
#include <asm/desc.h>

void arch_kthread_start(void);

/*
 * The System V ABI lets a callee clobber everything but rbx, rbp, r12-r15 and rsp, so
 * those six and the return address are all a switch must keep: the rest is already saved by
 * the C caller (or by the interrupt entry, for a preempted task). Then the data segment
 * selectors: no entry changes them, so a process's own (ring 3 may load DS, ES, FS, GS
 * with any selector it can use) stay in the registers while the kernel runs, and would
 * follow the CPU into the next process. Their bases need no saving: every descriptor ring 3
 * can load has base 0, and nothing else ever sets one. Lowest address first, in the order
 * switch.S pops them.
 */
struct switch_frame {
	unsigned long ds, es, fs, gs;
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

	/* The kernel's data segment in DS and ES, as boot.S left them; FS and GS null. */
	*f = (struct switch_frame){
		.ds = GDT_KERNEL_DS,
		.es = GDT_KERNEL_DS,
		.ret = (unsigned long)arch_kthread_start,
	};
	return (unsigned long)f;
}
