/* The register frame of every exception (struct pt_regs): the kernel's own, and user mode's. */
#pragma once

#include <asm/sysreg.h>

/*
 * vectors.S saves one frame per exception, at the stack pointer when a C handler runs. An
 * exception from EL0 finds SP_EL1 at the top of the task's kernel stack (the user frame
 * always sits there: arch_return_to_user() leaves from there), one from EL1 below the
 * interrupted kernel code's stack. Offsets for vectors.S; traps.c checks them:
 *
 *   0    x0 ... x30   (31 registers, 8 bytes each)
 *   248  sp           the interrupted stack pointer: SP_EL0 for user mode (the user's own
 *                     stack pointer, saved on entry, restored on return), the kernel's sp
 *                     for EL1
 *   256  elr          ELR_EL1: where eret resumes (the faulting instruction for an abort,
 *                     the one after svc for a system call)
 *   264  spsr         SPSR_EL1: the interrupted PSTATE (DAIF, NZCV, EL and SP selection)
 *   272  esr          ESR_EL1: why (exception class and syndrome) - read before any C runs
 *   280  far          FAR_EL1: the faulting address, for the classes that set it
 *   288  tpidr_el0    user mode only: the user's thread register (EL0 may write it, so
 *                     it is per thread like sp; unused in a kernel frame)
 *   296  (padding)
 *   304  (size, a multiple of 16 as SP alignment requires)
 */
#define FRAME_X(n)  ((n)*8)
#define FRAME_SP    248
#define FRAME_ELR   256
#define FRAME_SPSR  264
#define FRAME_ESR   272
#define FRAME_FAR   280
#define FRAME_TPIDR 288
#define FRAME_SIZE  304

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct pt_regs {
	u64 x[31];
	u64 sp;
	u64 elr;
	u64 spsr;
	u64 esr;
	u64 far;
	u64 tpidr_el0;
	u64 pad;
};

/*
 * SPSR.M[4:0] = 0: AArch64 EL0 on SP_EL0 ("EL0t"), the only user mode there is (an AArch32
 * EL0 would set M[4]; its vectors are fatal).
 */
static inline bool user_mode(const struct pt_regs *r)
{
	return (r->spsr & (SPSR_MODE_MASK | SPSR_MODE_AARCH32)) == SPSR_MODE_EL0t;
}

static inline unsigned long instruction_pointer(const struct pt_regs *r)
{
	return r->elr;
}

static inline unsigned long user_stack_pointer(const struct pt_regs *r)
{
	return r->sp;
}

/* The ABI (user/include/lazymmu/syscall.h): "svc #0", x8 = number, x0..x5, result in x0. */
static inline unsigned long syscall_get_nr(const struct pt_regs *r)
{
	return r->x[8];
}

static inline unsigned long syscall_get_arg(const struct pt_regs *r, unsigned int n)
{
	return n < 6 ? r->x[n] : 0;
}

static inline void syscall_set_return_value(struct pt_regs *r, long v)
{
	r->x[0] = (u64)v;
}

/* A fresh user register set: pc, sp, every register 0, EL0t, interrupts enabled. */
void start_thread(struct pt_regs *r, unsigned long pc, unsigned long sp);

/*
 * Leaves for user mode with *r: copies it to the top of the current task's kernel stack
 * (where the next entry from user mode will find SP_EL1, and where vectors.S's return path
 * expects it), masks interrupts, restores and erets. Never returns.
 */
__noreturn void arch_return_to_user(const struct pt_regs *r);

/* arm64 keeps no per-task entry stack outside SP_EL1 (arch/arm64/process.c says why). */
void arch_set_kernel_stack(unsigned long stack_top);
#endif
