/* Accesses that may fault on purpose: single-byte nofault load/store, and call_nofault's core. */
#include <asm/extable.h>
#include <asm/nofault.h>
#include <lib/errno.h>

	.text

/* int arch_load_u8_nofault(const u8 *src, u8 *val): only the load from src may fault. */
	.globl arch_load_u8_nofault
	.type arch_load_u8_nofault, %function
arch_load_u8_nofault:
1:	ldrb	w2, [x0]
	strb	w2, [x1]
	mov	w0, #0
	ret
2:	mov	w0, #-EFAULT
	ret
	ex_table 1b, 2b
	.size arch_load_u8_nofault, . - arch_load_u8_nofault

/* int arch_store_u8_nofault(u8 *dst, u8 val) */
	.globl arch_store_u8_nofault
	.type arch_store_u8_nofault, %function
arch_store_u8_nofault:
1:	strb	w1, [x0]
	mov	w0, #0
	ret
2:	mov	w0, #-EFAULT
	ret
	ex_table 1b, 2b
	.size arch_store_u8_nofault, . - arch_store_u8_nofault

/*
 * int arch_call_nofault(struct nofault_ctx *ctx, void (*fn)(void *), void *arg)
 *
 * Records in ctx what the caller expects to find intact after a call (x19-x29, the link
 * register, sp, and the DAIF masks) and where a fault resumes. The trap handler, seeing a
 * fault while ctx is armed, loads those values into the exception frame, sets x0 to
 * -EFAULT, points ELR at the resume label and erets: to the caller this function simply
 * returned -EFAULT. Leaving the handler by eret rather than a jump is what restores PSTATE
 * (the interrupt masks, the condition flags, the stack selection) consistently.
 */
	.globl arch_call_nofault
	.type arch_call_nofault, %function
arch_call_nofault:
	/* A frame record of our own: backtraces through fn reach our caller. */
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
	adr	x9, 1f
	str	x9, [x0, #NOFAULT_PC]
	mrs	x9, daif
	str	x9, [x0, #NOFAULT_DAIF]

	mov	x9, x1
	mov	x0, x2
	blr	x9
	mov	w0, #0
	/* A fault resumes here with w0 = -EFAULT and sp, x29 exactly as saved above. */
1:	ldp	x29, x30, [sp], #16
	ret
	.size arch_call_nofault, . - arch_call_nofault
