/* arm64 context switch: swap the callee-saved registers and the stack (policy: kernel/sched.c). */

/*
 * void arch_switch_to(unsigned long *prev_sp, unsigned long next_sp)
 *
 * Called from C with interrupts masked. Stores the frame record (x29, x30) and x19-x28
 * (struct switch_frame in <asm/switch.h>) on the current stack, saves sp into *prev_sp,
 * loads next_sp and restores the next task's frame: its x30 returns into the
 * arch_switch_to() call that switched it out, or, for a new task, into arch_kthread_start.
 * PSTATE is not switched: both sides run with IRQs masked here, and each restores its own
 * saved DAIF afterwards. x9 is a caller-saved scratch register.
 */
	.text
	.globl arch_switch_to
	.type arch_switch_to, %function
arch_switch_to:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret
	.size arch_switch_to, . - arch_switch_to

/* A new task starts here with sp at its stack top and x29 = 0 (arch_init_switch_frame()). */
	.globl arch_kthread_start
	.type arch_kthread_start, %function
arch_kthread_start:
	bl	kthread_entry
	brk	#0x800	/* kthread_entry() never returns */
	.size arch_kthread_start, . - arch_kthread_start
