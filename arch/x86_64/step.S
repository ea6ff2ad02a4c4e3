/* x86-64 single-stepping: arch_step_call() sets RFLAGS.TF and calls the function to step. */
#include <asm/debugreg.h>

	.text
/*
 * void arch_step_call(void (*fn)(void *), void *arg)
 *
 * popfq sets TF. The CPU traps only after the instruction *following* the one that set TF
 * (SDM 17.3.1.4), so the first #DB comes after "call": on fn's first instruction, and from
 * then on after every instruction of fn and its callees. The #DB after fn's "ret" lands on
 * arch_step_return; the handler clears TF in the frame it returns through, so nothing of
 * ours below is stepped. (Clearing TF with a second popf here would itself be stepped.)
 *
 * Interrupts keep the caller's mask: stepping changes TF only.
 */
	.globl arch_step_call
	.type arch_step_call, @function
arch_step_call:
	push %rbp
	mov %rsp, %rbp
	mov %rdi, %rax
	mov %rsi, %rdi
	pushfq
	orq $X86_RFLAGS_TF, (%rsp)
	popfq
	call *%rax
	.globl arch_step_return
arch_step_return:
	pop %rbp
	ret
	.size arch_step_call, . - arch_step_call
