/* x86-64 entry: one stub per vector, the syscall entry, and the exits to ring 0 and ring 3. */
#include <asm/desc.h>
#include <asm/percpu.h>
#include <asm/ptrace.h>
#include <asm/traps.h>

/*
 * Vectors where the CPU pushes an error code: #DF(8) #TS(10) #NP(11) #SS(12) #GP(13)
 * #PF(14) #AC(17) #CP(21) #VC(29) #SX(30). For all others the stub pushes a 0 in its
 * place, so that every handler sees the same frame layout.
 */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			   (v) == 29 || (v) == 30)

/*
 * swapgs, and who needs it. In ring 0 GS_BASE must be this CPU's struct cpu (per-CPU data,
 * `current`); in ring 3 it is the user's. Every way in from ring 3 swaps once before the
 * first %gs access, every way out to ring 3 swaps back right before iretq, and nothing else
 * swaps - a second swap would hand the kernel the user's base, or the user the kernel's.
 *
 * Ordinary vectors decide by the CS in the frame the CPU pushed: RPL 3 means we came from
 * ring 3, where the user's base is live. That is exact for them, because their gates clear
 * IF: no maskable interrupt can run between the CPU's delivery and the swapgs below, and
 * none between the exit's swapgs and its iretq.
 *
 * An NMI (or #DF, #MC) can arrive anywhere, including inside those windows: at the first
 * instruction of an entry (CS says ring 0, yet the user's base is still live), or between
 * the exit's swapgs and iretq (the same). For these the frame's CS proves nothing, so the
 * paranoid path asks the MSR itself: the kernel's base is a high-half address (bit 63 set)
 * and a user's never is (ring 3 can only load selectors from our GDT, whose bases are 0, and
 * FSGSBASE is off), so one rdmsr tells whose base is live.
 */

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
	.if X86_VEC_IS_PARANOID(vector)
	jmp x86_paranoid_common
	.else
	jmp x86_trap_common
	.endif
	.org x86_trap_stubs + X86_TRAP_STUB_SIZE * (vector + 1), 0xcc
	.set vector, vector + 1
	.endr

/* The general-purpose part of struct pt_regs (asm/ptrace.h), in push order. */
.macro PUSH_REGS
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
.endm

.macro POP_REGS
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
.endm

/*
 * On entry the stack holds (top first): vector, error code, then what the CPU pushed: rip,
 * cs, rflags, rsp, ss. The CPU aligned rsp to 16 bytes before its pushes (from ring 3 it
 * also switched to TSS.rsp0, the task's 16-byte aligned stack top), so after those 7
 * words and the 15 registers below (22 words) rsp is 16-byte aligned again, as the C ABI
 * requires at a call.
 */
	.type x86_trap_common, @function
x86_trap_common:
	testb $3, 16 + 8(%rsp)		/* the CS the CPU pushed: RPL 3 = from ring 3 */
	jz 1f
	swapgs
1:	PUSH_REGS
	/* The C ABI requires DF clear on calls; the interrupted code may have set it. */
	cld
	mov %rsp, %rdi
	call x86_handle_trap
	jmp x86_exit_frame
	.size x86_trap_common, . - x86_trap_common

/*
 * NMI, #DF, #MC: whose GS base is live is read from the MSR (see the top), and the same
 * answer restores it on the way out; rbx carries it across the call (callee-saved). These
 * never run exit_to_user_mode(), even from ring 3: an NMI is on its IST stack, where
 * rescheduling would let the next NMI overwrite the frame. A reschedule it would have
 * caused waits for the next tick.
 */
	.type x86_paranoid_common, @function
x86_paranoid_common:
	PUSH_REGS
	cld
	mov $MSR_IA32_GS_BASE, %ecx
	rdmsr				/* edx = bits 63:32 of the live GS base */
	xor %ebx, %ebx
	test %edx, %edx
	js 1f				/* bit 63 set: the kernel's */
	swapgs
	mov $1, %ebx
1:	mov %rsp, %rdi
	call x86_handle_trap
	test %ebx, %ebx
	jz 2f
	swapgs
2:	POP_REGS
	add $16, %rsp
	iretq
	.size x86_paranoid_common, . - x86_paranoid_common

/*
 * The syscall instruction (LSTAR): CPL 0, CS/SS from STAR, rip of the next user instruction
 * in rcx, user rflags in r11, SFMASK's bits (IF among them) cleared - and nothing else. rsp
 * is still the user's, which we can't trust or use, and no register is free: swapgs first,
 * then park the user's rsp in this CPU's struct cpu and load the task's kernel stack top
 * (both set by arch_set_kernel_stack()). With IF clear no interrupt can come in between;
 * an NMI can, and takes the paranoid path on its own stack.
 *
 * Then the same struct pt_regs an interrupt from ring 3 would have left there, with
 * vector = X86_VEC_SYSCALL and orig_ax = the syscall number; rcx and r11 are saved as the
 * CPU left them (the ABI lets them be clobbered).
 */
	.globl x86_syscall_entry
	.type x86_syscall_entry, @function
x86_syscall_entry:
	swapgs
	mov %rsp, %gs:CPU_ENTRY_SCRATCH
	mov %gs:CPU_ENTRY_STACK, %rsp
	pushq $GDT_USER_DS		/* ss */
	pushq %gs:CPU_ENTRY_SCRATCH	/* rsp */
	pushq %r11			/* rflags */
	pushq $GDT_USER_CS		/* cs */
	pushq %rcx			/* rip */
	pushq %rax			/* orig_ax */
	pushq $X86_VEC_SYSCALL		/* vector */
	PUSH_REGS
	mov %rsp, %rdi
	call x86_handle_syscall
	jmp x86_exit_frame
	.size x86_syscall_entry, . - x86_syscall_entry

/*
 * The one exit for every frame (but the paranoid ones): interrupts masked, rsp at a struct
 * pt_regs that the handlers may have rewritten. Back to ring 3 if its CS says so, swapping
 * GS right before iretq.
 *
 * iretq, not sysret, even after a syscall: sysret takes rip and rflags from rcx and r11,
 * so it could not return a frame that a handler changed (an entry from an interrupt has
 * its own rcx/r11), and on Intel a non-canonical rcx makes sysret fault in ring 0 with the
 * user's rsp and GS already live (CVE-2012-0217). iretq restores exactly the frame, for
 * every way in. Its own trap, a non-canonical rip (also raised in ring 0, after swapgs),
 * can't happen: x86_exit_to_user() refuses such a frame first.
 */
	.globl x86_exit_frame
	.type x86_exit_frame, @function
x86_exit_frame:
	POP_REGS
	add $16, %rsp			/* vector, error code */
	testb $3, 8(%rsp)		/* the CS iretq will load */
	jz 1f
	swapgs
1:	iretq
	.size x86_exit_frame, . - x86_exit_frame

/*
 * __noreturn void x86_enter_user(struct pt_regs *frame, const struct pt_regs *regs)
 *
 * Copies *regs to frame and leaves through x86_exit_frame: frame is the top of the task's
 * kernel stack, and regs may be anywhere - even overlapping frame, or on the part of the
 * stack frame itself covers (the task's first entry into ring 3 starts near its stack top).
 * So the copy runs before rsp moves, uses no stack, and copies backwards when the
 * destination lies above the source (memmove's rule). Interrupts masked throughout. rsp is
 * 16-byte aligned at the call: the stack top is, and PT_REGS_SIZE is a multiple of 16.
 */
	.globl x86_enter_user
	.type x86_enter_user, @function
x86_enter_user:
	cli
	mov %rdi, %rdx			/* frame, kept for rsp */
	mov $PT_REGS_SIZE, %ecx
	cmp %rsi, %rdi
	jbe 1f
	lea PT_REGS_SIZE - 1(%rsi), %rsi
	lea PT_REGS_SIZE - 1(%rdi), %rdi
	std
	rep movsb
	cld
	jmp 2f
1:	rep movsb
2:	mov %rdx, %rsp
	mov %rsp, %rdi
	call x86_prepare_user_frame	/* the frame's last check (arch/x86_64/user.c) */
	jmp x86_exit_frame
	.size x86_enter_user, . - x86_enter_user
