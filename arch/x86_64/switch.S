/* x86-64 context switch: swap the callee-saved registers and the stack (policy: kernel/sched.c). */

/*
 * void arch_switch_to(unsigned long *prev_sp, unsigned long next_sp)
 *
 * Called from C with interrupts masked. Pushes what the ABI says a callee must preserve and
 * the data segment selectors (struct switch_frame in <asm/switch.h>, in reverse), saves rsp
 * into *prev_sp, loads
 * next_sp and pops the next task's frame: its "ret" returns into the arch_switch_to()
 * call that switched it out, or, for a new task, into arch_kthread_start. RFLAGS is not
 * switched: both sides run with IF clear here, and each restores its own saved flags.
 */
	.text
	.globl arch_switch_to
	.type arch_switch_to, @function
arch_switch_to:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movl	%gs, %eax
	pushq	%rax
	movl	%fs, %eax
	pushq	%rax
	movl	%es, %eax
	pushq	%rax
	movl	%ds, %eax
	pushq	%rax
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%rax
	movl	%eax, %ds
	popq	%rax
	movl	%eax, %es
	popq	%rax
	movl	%eax, %fs
	/*
	 * Loading GS also loads GS base - the kernel's per-CPU pointer while we run. So the
	 * load goes to the parked half: swapgs, load (the user's base becomes the descriptor's,
	 * 0, as it would in ring 3), swapgs back. An NMI in between finds the user's base live
	 * and swaps for itself (entry.S, the paranoid path).
	 */
	popq	%rax
	swapgs
	movl	%eax, %gs
	swapgs
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size arch_switch_to, . - arch_switch_to

/* A new task starts here, rsp 16-byte aligned and rbp 0 (see arch_init_switch_frame()). */
	.globl arch_kthread_start
	.type arch_kthread_start, @function
arch_kthread_start:
	call	kthread_entry
	ud2	/* kthread_entry() never returns */
	.size arch_kthread_start, . - arch_kthread_start
