/* call_nofault() on x86-64: the state a fault inside the callee resumes with. */
#pragma once

/* Offsets into struct nofault_ctx for nofault.S (checked against the C layout in traps.c). */
#define NOFAULT_RBX    0
#define NOFAULT_RBP    8
#define NOFAULT_R12    16
#define NOFAULT_R13    24
#define NOFAULT_R14    32
#define NOFAULT_R15    40
#define NOFAULT_RSP    48
#define NOFAULT_RFLAGS 56
#define NOFAULT_RIP    64

#ifndef __ASSEMBLY__
#include <lib/types.h>

/*
 * Filled by arch_call_nofault() before it calls fn: the callee-saved registers, the stack
 * pointer and flags at that point, and where to resume. A fault inside fn rewrites the
 * exception frame from this and irets, so arch_call_nofault() appears to return -EFAULT.
 * Only callee-saved registers are needed: to its caller, that return looks like any call.
 */
struct nofault_ctx {
	u64 rbx, rbp, r12, r13, r14, r15;
	u64 rsp;
	u64 rflags;
	u64 resume_rip;
	/* this_cpu()->irq_depth when armed: a fault in an interrupt handler that happens to
	 * interrupt fn must not unwind into fn's caller. */
	unsigned int irq_depth;
};

/* nofault.S: saves the context into ctx, then runs fn(arg); 0, or -EFAULT after a fault. */
int arch_call_nofault(struct nofault_ctx *ctx, void (*fn)(void *), void *arg);
#endif
