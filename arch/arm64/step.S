/* arm64 single-stepping: arch_step_call() arms software step and calls the function to step. */
#include <asm/debug-monitors.h>

	.text
/*
 * void arch_step_call(void (*fn)(void *), void *arg)
 *
 * Software step at EL1 needs, all at once: MDSCR_EL1.SS (stepping), MDSCR_EL1.KDE (debug
 * exceptions at the kernel's own EL), PSTATE.D clear (the kernel otherwise runs with debug
 * exceptions masked), and the OS lock unlocked (it is locked out of reset, and while it is,
 * no step exception is generated at all). PSTATE.SS can only be set by an exception return,
 * so stepping starts "active-pending": clearing D takes a step exception right away, before
 * the blr, with nothing stepped (ESR.ISV = 0). The handler erets with SPSR.SS = 1: blr
 * executes, traps on fn's first instruction, and from then on every instruction of fn and
 * its callees traps once. The trap after fn's ret lands on arch_step_return; the handler
 * then clears MDSCR_EL1.SS and KDE and erets with D masked again: nothing below is stepped.
 *
 * IRQ masking stays the caller's: only D changes.
 */
	.globl arch_step_call
	.type arch_step_call, %function
arch_step_call:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	mov	x9, x0
	mov	x0, x1
	msr	oslar_el1, xzr		/* OS lock off: step exceptions may be generated */
	mrs	x10, mdscr_el1
	orr	x10, x10, #MDSCR_EL1_SS
	orr	x10, x10, #MDSCR_EL1_KDE
	msr	mdscr_el1, x10
	isb				/* the MDSCR_EL1 and OS lock writes apply from here */
	msr	daifclr, #8		/* D clear: the first step exception follows at once */
	blr	x9
	.globl arch_step_return
arch_step_return:
	ldp	x29, x30, [sp], #16
	ret
	.size arch_step_call, . - arch_step_call
