/* The exception vector table: entry from the kernel and from user mode, save, restore, eret. */
#include <asm/nofault.h>
#include <asm/traps.h>

/*
 * VBAR_EL1 points at a table of 16 entries, 0x80 bytes (32 instructions) each, 2 KiB
 * aligned (VBAR_EL1 bits [10:0] are RES0). Which entry runs depends on where the
 * exception came from and what kind it is:
 *
 *   offset  from                                  sync   IRQ    FIQ    SError
 *   0x000   current EL, interrupted code on SP_EL0 0x000  0x080  0x100  0x180
 *   0x200   current EL, on SP_EL1 (the kernel)     0x200  0x280  0x300  0x380
 *   0x400   lower EL, AArch64 (user mode, EL0)     0x400  0x480  0x500  0x580
 *   0x600   lower EL, AArch32 (never: fatal)       0x600  0x680  0x700  0x780
 *
 * Taking an exception to EL1 saves PC in ELR_EL1 and PSTATE in SPSR_EL1, masks D, A, I
 * and F, and switches to SP_EL1. General-purpose registers are ours to save. Each entry
 * branches to a stub below; the kernel's own sync and IRQ entries return to the kernel
 * (arm64_exception_return), user mode's sync and IRQ entries to user mode (ret_to_user).
 *
 * User-visible registers. Two system registers that look like free scratch space are not:
 * SP_EL0 is the user's stack pointer, and TPIDRRO_EL0 is readable at EL0 (a kernel value
 * left there is a leak). So an entry from user mode first saves SP_EL0 (and the user's
 * TPIDR_EL0, which is per thread) into the frame, and the return to user mode restores
 * them from it. In between - for every exception the kernel takes itself - SP_EL0 holds
 * nothing of anyone's, and the kernel's entries use it as their one scratch register.
 */
.macro ventry target
	.balign 0x80
	b	\target
.endm

	.text
	.balign 2048
	.globl arm64_vectors
arm64_vectors:
	ventry	el1t_sync
	ventry	el1t_irq
	ventry	el1t_fiq
	ventry	el1t_serror
	ventry	el1h_sync
	ventry	el1h_irq
	ventry	el1h_fiq
	ventry	el1h_serror
	ventry	el0_64_sync
	ventry	el0_64_irq
	ventry	el0_64_fiq
	ventry	el0_64_serror
	ventry	el0_32_sync
	ventry	el0_32_irq
	ventry	el0_32_fiq
	ventry	el0_32_serror
	.balign 0x80

/* Stores x0-x30, ELR, SPSR, ESR and FAR into the frame at sp (x0 must hold its own value). */
.macro save_frame
	stp	x0, x1, [sp, #FRAME_X(0)]
	stp	x2, x3, [sp, #FRAME_X(2)]
	stp	x4, x5, [sp, #FRAME_X(4)]
	stp	x6, x7, [sp, #FRAME_X(6)]
	stp	x8, x9, [sp, #FRAME_X(8)]
	stp	x10, x11, [sp, #FRAME_X(10)]
	stp	x12, x13, [sp, #FRAME_X(12)]
	stp	x14, x15, [sp, #FRAME_X(14)]
	stp	x16, x17, [sp, #FRAME_X(16)]
	stp	x18, x19, [sp, #FRAME_X(18)]
	stp	x20, x21, [sp, #FRAME_X(20)]
	stp	x22, x23, [sp, #FRAME_X(22)]
	stp	x24, x25, [sp, #FRAME_X(24)]
	stp	x26, x27, [sp, #FRAME_X(26)]
	stp	x28, x29, [sp, #FRAME_X(28)]
	str	x30, [sp, #FRAME_X(30)]
	/* The syndrome registers now, before any C code could take a fault that rewrites them. */
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x0, x1, [sp, #FRAME_ELR]
	mrs	x0, esr_el1
	mrs	x1, far_el1
	stp	x0, x1, [sp, #FRAME_ESR]
.endm

/*
 * One entry stub for an exception the kernel takes itself (from EL1 on SP_EL1): reserve the
 * frame, check the stack, save, call handler(frame, vector).
 *
 * The stack check. A kernel stack overflow runs into the guard page below the boot stack
 * and faults - and taking that fault pushes the exception frame onto the very same stack,
 * which faults again, and again: without a check the CPU loops through this entry,
 * sinking a frame at a time, and either hangs or walks off the guard page into the bss
 * below and corrupts it. So before the first store we look at where the frame would go:
 * if it lies in the guard page (or sp is not 16-byte aligned, which would fault the same
 * way with SCTLR_EL1.SA set), we switch to a small emergency stack and report from there.
 * Nothing is stored before the check: x0 waits in SP_EL0 meanwhile (see the top of this
 * file for why that is free here and TPIDRRO_EL0 is not). IRQs, SErrors and debug
 * exceptions are masked on entry and none of these instructions can fault, so nothing can
 * come in between and reuse it. Limits: an overflow that jumps over the whole guard page
 * in one step (a frame of more than 4 KiB) isn't caught.
 *
 * Every kernel thread's stack has a guard page too (kernel/sched.c), at an address this
 * code can't know, so the check also asks the MMU: "at s1e1w" translates the frame's
 * lowest address as a write would, and PAR_EL1.F (bit 0) says whether that walk faulted.
 * A guard page or any other unmapped address then sends us to the emergency stack too.
 * It needs only x0, and PAR_EL1 is nobody else's.
 */
.macro kernel_entry name, vector, handler, returns
\name:
	sub	sp, sp, #FRAME_SIZE
	msr	sp_el0, x0
	mov	x0, sp
	tst	x0, #15
	b.ne	2f
	at	s1e1w, x0
	isb			/* PAR_EL1 holds the result only after a context synchronization */
	mrs	x0, par_el1
	tbnz	x0, #0, 2f
	adrp	x0, __stack_guard	/* page aligned, so adrp yields it exactly */
	cmp	sp, x0
	b.lo	1f
	add	x0, x0, #4096
	cmp	sp, x0
	b.lo	2f
1:	mrs	x0, sp_el0
	save_frame
	add	x0, sp, #FRAME_SIZE
	str	x0, [sp, #FRAME_SP]
	mov	x0, sp
	mov	x1, #\vector
	bl	\handler
	.if \returns
	b	arm64_exception_return
	.else
	b	.
	.endif

	/*
	 * Bad stack: move to the emergency stack, keeping both the interrupted sp (for the
	 * report) and x0 (in SP_EL0). With no register to spare, sp and x0 trade values by
	 * arithmetic: sp = B + E, x0 = sp - x0 = B, sp = sp - x0 = E. (sp is never used as an
	 * address in between, so its alignment meanwhile doesn't matter.)
	 */
2:	add	sp, sp, #FRAME_SIZE		/* B: the interrupted sp */
	adrp	x0, arm64_emergency_stack_top
	add	x0, x0, :lo12:arm64_emergency_stack_top
	sub	x0, x0, #FRAME_SIZE		/* E: the emergency stack's frame */
	add	sp, sp, x0
	sub	x0, sp, x0
	sub	sp, sp, x0
	str	x0, [sp, #FRAME_SP]
	mrs	x0, sp_el0
	save_frame
	mov	x0, sp
	mov	x1, #\vector
	bl	arm64_handle_bad_stack
	b	.
.endm

/*
 * From EL1 while on SP_EL0 (the "t" vectors): the kernel never runs like that, so these
 * are fatal, and SP_EL0 is the interrupted stack pointer the report wants - no scratch
 * use of it, and no stack check: save and report, on SP_EL1 as it is.
 */
.macro fatal_entry name, vector
\name:
	sub	sp, sp, #FRAME_SIZE
	save_frame
	add	x0, sp, #FRAME_SIZE
	str	x0, [sp, #FRAME_SP]
	mov	x0, sp
	mov	x1, #\vector
	bl	arm64_handle_unexpected
	b	.
.endm

/*
 * From user mode (AArch64 EL0). SP_EL1 is the top of the current task's kernel stack - the
 * frame it left user mode from was popped right before eret (ret_to_user), and nothing else
 * uses that stack while it runs in user mode - so there is nothing to check. The frame
 * keeps the user's SP_EL0 and TPIDR_EL0. x29 = 0 ends kernel backtraces here: the user's
 * x29 is no kernel frame record. handler(frame, vector) runs with everything masked; it
 * unmasks what it needs, and returns with interrupts masked for the way back.
 */
.macro user_entry name, vector, handler
\name:
	sub	sp, sp, #FRAME_SIZE
	save_frame
	mrs	x0, sp_el0
	str	x0, [sp, #FRAME_SP]
	mrs	x0, tpidr_el0
	str	x0, [sp, #FRAME_TPIDR]
	mov	x29, xzr
	mov	x0, sp
	mov	x1, #\vector
	bl	\handler
	b	ret_to_user
.endm

	fatal_entry el1t_sync, VEC_CUR_SP0 + VEC_SYNC
	fatal_entry el1t_irq, VEC_CUR_SP0 + VEC_IRQ
	fatal_entry el1t_fiq, VEC_CUR_SP0 + VEC_FIQ
	fatal_entry el1t_serror, VEC_CUR_SP0 + VEC_SERROR
	kernel_entry el1h_sync, VEC_CUR_SPX + VEC_SYNC, arm64_handle_sync, 1
	kernel_entry el1h_irq, VEC_CUR_SPX + VEC_IRQ, arm64_handle_irq, 1
	kernel_entry el1h_fiq, VEC_CUR_SPX + VEC_FIQ, arm64_handle_unexpected, 0
	kernel_entry el1h_serror, VEC_CUR_SPX + VEC_SERROR, arm64_handle_unexpected, 0
	user_entry el0_64_sync, VEC_LOWER_A64 + VEC_SYNC, arm64_handle_el0_sync
	user_entry el0_64_irq, VEC_LOWER_A64 + VEC_IRQ, arm64_handle_el0_irq
	user_entry el0_64_fiq, VEC_LOWER_A64 + VEC_FIQ, arm64_handle_unexpected
	user_entry el0_64_serror, VEC_LOWER_A64 + VEC_SERROR, arm64_handle_unexpected
	user_entry el0_32_sync, VEC_LOWER_A32 + VEC_SYNC, arm64_handle_unexpected
	user_entry el0_32_irq, VEC_LOWER_A32 + VEC_IRQ, arm64_handle_unexpected
	user_entry el0_32_fiq, VEC_LOWER_A32 + VEC_FIQ, arm64_handle_unexpected
	user_entry el0_32_serror, VEC_LOWER_A32 + VEC_SERROR, arm64_handle_unexpected

/*
 * Back to user mode with the frame at sp (the top of the task's kernel stack): what an
 * entry from user mode returns through, and where arch_return_to_user() starts a task's
 * first trip. Everything is masked for the rest of the way: between the write of SP_EL0
 * and eret no exception may come in - a kernel entry would use SP_EL0 as scratch.
 * Every general register comes from the frame, so nothing of the kernel's is left in one.
 * sp ends exactly at the frame's top: where the next entry from user mode starts.
 */
	.globl ret_to_user
ret_to_user:
	msr	daifset, #0xf
	ldr	x0, [sp, #FRAME_TPIDR]
	msr	tpidr_el0, x0
	ldr	x0, [sp, #FRAME_SP]
	msr	sp_el0, x0
	ldp	x0, x1, [sp, #FRAME_ELR]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x2, x3, [sp, #FRAME_X(2)]
	ldp	x4, x5, [sp, #FRAME_X(4)]
	ldp	x6, x7, [sp, #FRAME_X(6)]
	ldp	x8, x9, [sp, #FRAME_X(8)]
	ldp	x10, x11, [sp, #FRAME_X(10)]
	ldp	x12, x13, [sp, #FRAME_X(12)]
	ldp	x14, x15, [sp, #FRAME_X(14)]
	ldp	x16, x17, [sp, #FRAME_X(16)]
	ldp	x18, x19, [sp, #FRAME_X(18)]
	ldp	x20, x21, [sp, #FRAME_X(20)]
	ldp	x22, x23, [sp, #FRAME_X(22)]
	ldp	x24, x25, [sp, #FRAME_X(24)]
	ldp	x26, x27, [sp, #FRAME_X(26)]
	ldp	x28, x29, [sp, #FRAME_X(28)]
	ldr	x30, [sp, #FRAME_X(30)]
	ldp	x0, x1, [sp, #FRAME_X(0)]
	add	sp, sp, #FRAME_SIZE
	eret

/* __noreturn void arm64_ret_to_user_from(struct pt_regs *frame): arch_return_to_user(). */
	.globl arm64_ret_to_user_from
	.type arm64_ret_to_user_from, %function
arm64_ret_to_user_from:
	mov	sp, x0
	b	ret_to_user
	.size arm64_ret_to_user_from, . - arm64_ret_to_user_from

/*
 * void arm64_user_call_enter(struct nofault_ctx *ctx, const struct pt_regs *frame)
 * __noreturn void arm64_user_call_resume(const struct nofault_ctx *ctx)
 *
 * The test harness arm64_run_user() (traps.c): enter records the callee-saved registers,
 * sp, the interrupt masks and a resume point in ctx (call_nofault()'s struct: the same
 * state), copies frame below sp and leaves for EL0 through ret_to_user. The entry from EL0
 * lands on this very stack, below; its handler calls resume, which puts the recorded state
 * back and continues at the resume point: to enter's caller, it simply returned. No eret
 * is needed - the exception already brought us to EL1.
 */
	.globl arm64_user_call_enter
	.type arm64_user_call_enter, %function
arm64_user_call_enter:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	stp	x19, x20, [x0, #NOFAULT_X19]
	stp	x21, x22, [x0, #NOFAULT_X21]
	stp	x23, x24, [x0, #NOFAULT_X23]
	stp	x25, x26, [x0, #NOFAULT_X25]
	stp	x27, x28, [x0, #NOFAULT_X27]
	stp	x29, x30, [x0, #NOFAULT_X29]
	mov	x9, sp
	str	x9, [x0, #NOFAULT_SP]
	adr	x9, 2f
	str	x9, [x0, #NOFAULT_PC]
	mrs	x9, daif
	str	x9, [x0, #NOFAULT_DAIF]
	sub	sp, sp, #FRAME_SIZE
	mov	x9, sp
	add	x12, x1, #FRAME_SIZE
1:	ldp	x10, x11, [x1], #16
	stp	x10, x11, [x9], #16
	cmp	x1, x12
	b.lo	1b
	b	ret_to_user
2:	ldp	x29, x30, [sp], #16
	ret
	.size arm64_user_call_enter, . - arm64_user_call_enter

	.globl arm64_user_call_resume
	.type arm64_user_call_resume, %function
arm64_user_call_resume:
	ldp	x19, x20, [x0, #NOFAULT_X19]
	ldp	x21, x22, [x0, #NOFAULT_X21]
	ldp	x23, x24, [x0, #NOFAULT_X23]
	ldp	x25, x26, [x0, #NOFAULT_X25]
	ldp	x27, x28, [x0, #NOFAULT_X27]
	ldp	x29, x30, [x0, #NOFAULT_X29]
	ldr	x9, [x0, #NOFAULT_SP]
	mov	sp, x9
	ldr	x9, [x0, #NOFAULT_DAIF]
	msr	daif, x9
	ldr	x9, [x0, #NOFAULT_PC]
	br	x9
	.size arm64_user_call_resume, . - arm64_user_call_resume

/*
 * Back to the interrupted code with whatever the frame holds now: a handler may have
 * changed elr (an exception-table fixup) or, for call_nofault(), the callee-saved
 * registers, sp and x0. eret restores PC from ELR_EL1 and all of PSTATE (interrupt masks
 * included) from SPSR_EL1 in one step.
 */
arm64_exception_return:
	ldp	x0, x1, [sp, #FRAME_ELR]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x2, x3, [sp, #FRAME_X(2)]
	ldp	x4, x5, [sp, #FRAME_X(4)]
	ldp	x6, x7, [sp, #FRAME_X(6)]
	ldp	x8, x9, [sp, #FRAME_X(8)]
	ldp	x10, x11, [sp, #FRAME_X(10)]
	ldp	x12, x13, [sp, #FRAME_X(12)]
	ldp	x14, x15, [sp, #FRAME_X(14)]
	ldp	x16, x17, [sp, #FRAME_X(16)]
	ldp	x18, x19, [sp, #FRAME_X(18)]
	ldp	x20, x21, [sp, #FRAME_X(20)]
	ldp	x22, x23, [sp, #FRAME_X(22)]
	ldp	x24, x25, [sp, #FRAME_X(24)]
	ldp	x26, x27, [sp, #FRAME_X(26)]
	ldp	x28, x29, [sp, #FRAME_X(28)]
	ldr	x30, [sp, #FRAME_X(30)]
	/*
	 * sp last: usually the frame's own top, but call_nofault() resumes on another sp.
	 * The frame stays readable below the new sp for the final load - nothing can be
	 * pushed in between, as every exception but a synchronous one is masked here and
	 * these loads cannot fault.
	 */
	ldr	x0, [sp, #FRAME_SP]
	mov	x1, sp
	mov	sp, x0
	ldp	x0, x1, [x1, #FRAME_X(0)]
	eret

/* The stack a bad-stack report runs on. */
	.bss
	.balign 16
	.globl arm64_emergency_stack_top
arm64_emergency_stack:
	.skip EMERGENCY_STACK_SIZE
arm64_emergency_stack_top:
