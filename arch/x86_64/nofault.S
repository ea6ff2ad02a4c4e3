/* Accesses that may fault on purpose: single-byte nofault load/store, and call_nofault's core. */
#include <asm/nofault.h>
#include <lib/errno.h>

/*
 * One exception-table entry: if the instruction at insn faults, the trap handler resumes
 * at fixup (struct exception_table_entry: two absolute addresses).
 */
.macro ex_table insn, fixup
	.pushsection __ex_table, "a"
	.balign 8
	.quad \insn, \fixup
	.popsection
.endm

	.text

/* int arch_load_u8_nofault(const u8 *src, u8 *val): only the load from src may fault. */
	.globl arch_load_u8_nofault
	.type arch_load_u8_nofault, @function
arch_load_u8_nofault:
1:	movzbl (%rdi), %eax
	movb %al, (%rsi)
	xor %eax, %eax
	ret
2:	mov $-EFAULT, %eax
	ret
	ex_table 1b, 2b
	.size arch_load_u8_nofault, . - arch_load_u8_nofault

/* int arch_store_u8_nofault(u8 *dst, u8 val) */
	.globl arch_store_u8_nofault
	.type arch_store_u8_nofault, @function
arch_store_u8_nofault:
1:	movb %sil, (%rdi)
	xor %eax, %eax
	ret
2:	mov $-EFAULT, %eax
	ret
	ex_table 1b, 2b
	.size arch_store_u8_nofault, . - arch_store_u8_nofault

/*
 * int arch_call_nofault(struct nofault_ctx *ctx, void (*fn)(void *), void *arg)
 *
 * Records in ctx what the caller expects to find intact after a call (callee-saved
 * registers, rsp pointing at our return address, rflags) and where a fault resumes. The
 * trap handler, seeing a fault while ctx is armed, loads those values into the exception
 * frame, sets rax to -EFAULT and irets to the resume label: a plain "ret", so to the
 * caller this function simply returned -EFAULT. iretq, not a jump, leaves the handler, so
 * the CPU restores rflags (IF included) and the stack exactly as they were saved.
 */
	.globl arch_call_nofault
	.type arch_call_nofault, @function
arch_call_nofault:
	mov %rbx, NOFAULT_RBX(%rdi)
	mov %rbp, NOFAULT_RBP(%rdi)
	mov %r12, NOFAULT_R12(%rdi)
	mov %r13, NOFAULT_R13(%rdi)
	mov %r14, NOFAULT_R14(%rdi)
	mov %r15, NOFAULT_R15(%rdi)
	mov %rsp, NOFAULT_RSP(%rdi)
	pushfq
	popq NOFAULT_RFLAGS(%rdi)
	leaq 1f(%rip), %rax
	mov %rax, NOFAULT_RIP(%rdi)

	/* A frame of our own keeps the stack 16-byte aligned for fn and backtraces intact. */
	push %rbp
	mov %rsp, %rbp
	mov %rdx, %rdi
	call *%rsi
	pop %rbp
	xor %eax, %eax
1:	ret
	.size arch_call_nofault, . - arch_call_nofault
