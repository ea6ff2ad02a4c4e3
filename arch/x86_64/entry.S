/* x86-64 trap entry: one stub per vector, and the common path that saves registers for C. */
#include <asm/traps.h>

/*
 * Vectors where the CPU pushes an error code: #DF(8) #TS(10) #NP(11) #SS(12) #GP(13)
 * #PF(14) #AC(17) #CP(21) #VC(29) #SX(30). For all others the stub pushes a 0 in its
 * place, so that every handler sees the same frame layout.
 */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			   (v) == 29 || (v) == 30)

/*
 * 256 stubs, each X86_TRAP_STUB_SIZE bytes long, so C finds the stub of vector v by
 * arithmetic. Every gate gets one: a vector nobody expects (a stray legacy interrupt, a
 * wrong "int n") then produces a report naming it, instead of a #GP about a missing gate.
 * The .org at the end of each stub fails the build if a stub ever outgrows its slot.
 */
	.text
	.balign X86_TRAP_STUB_SIZE
	.globl x86_trap_stubs
x86_trap_stubs:
	.set vector, 0
	.rept 256
	.if HAS_ERROR_CODE(vector)
	.else
	pushq $0
	.endif
	pushq $vector
	jmp x86_trap_common
	.org x86_trap_stubs + X86_TRAP_STUB_SIZE * (vector + 1), 0xcc
	.set vector, vector + 1
	.endr

/*
 * On entry the stack holds (top first): vector, error code, then what the CPU pushed: rip,
 * cs, rflags, rsp, ss. The CPU aligned rsp to 16 bytes before its pushes, so after those 7
 * words and the 15 registers below (22 words) rsp is 16-byte aligned again, as the C ABI
 * requires at a call.
 */
	.type x86_trap_common, @function
x86_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* The C ABI requires DF clear on calls; the interrupted code may have set it. */
	cld
	mov %rsp, %rdi
	call x86_handle_trap
	/* The handler may have rewritten any field of the frame: restore from it. */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	/* Drop vector and error code, then return: iretq restores rip, cs, rflags, rsp, ss. */
	add $16, %rsp
	iretq
	.size x86_trap_common, . - x86_trap_common
