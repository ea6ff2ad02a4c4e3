/* call_nofault() on arm64: the state a fault inside the callee resumes with. */
#pragma once

/* Offsets into struct nofault_ctx for nofault.S (checked against the C layout in traps.c). */
#define NOFAULT_X19  0
#define NOFAULT_X21  16
#define NOFAULT_X23  32
#define NOFAULT_X25  48
#define NOFAULT_X27  64
#define NOFAULT_X29  80 /* x29 (frame pointer) and x30 (link register) as a pair */
#define NOFAULT_SP   96
#define NOFAULT_PC   104
#define NOFAULT_DAIF 112

#ifndef __ASSEMBLY__
#include <lib/types.h>

/*
 * Filled by arch_call_nofault() before it calls fn: the callee-saved registers x19-x29,
 * the link register, the stack pointer, the interrupt masks, and where to resume. A fault
 * inside fn rewrites the exception frame from this and erets, so arch_call_nofault()
 * appears to return -EFAULT. Only callee-saved state is needed (AAPCS64: x19-x29, sp):
 * to its caller, that return looks like any call.
 */
struct nofault_ctx {
	u64 x19_x28[10];
	u64 fp; /* x29 */
	u64 lr; /* x30 */
	u64 sp;
	u64 resume_pc;
	u64 daif;
	/* this_cpu()->irq_depth when armed: a fault in an interrupt handler that happens to
	 * interrupt fn must not unwind into fn's caller. */
	unsigned int irq_depth;
};

/* nofault.S: saves the context into ctx, then runs fn(arg); 0, or -EFAULT after a fault. */
int arch_call_nofault(struct nofault_ctx *ctx, void (*fn)(void *), void *arg);
#endif
