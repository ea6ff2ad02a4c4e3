/* arm64 exception entry: the register frame vectors.S saves, and the C handlers it calls. */
#pragma once

#include <asm/ptrace.h>

/* The vector table's four groups of four (the offset of each entry is 0x80 * index). */
#define VEC_CUR_SP0   0 /* from EL1 while using SP_EL0: we never run like that */
#define VEC_CUR_SPX   4 /* from EL1 using SP_EL1: the kernel's own exceptions */
#define VEC_LOWER_A64 8 /* from EL0 in AArch64: user mode */
#define VEC_LOWER_A32 12
#define VEC_SYNC      0
#define VEC_IRQ	      1
#define VEC_FIQ	      2
#define VEC_SERROR    3

/* Size of the emergency stack that a stack overflow switches to (vectors.S). */
#define EMERGENCY_STACK_SIZE 8192

#ifndef __ASSEMBLY__
#include <lib/types.h>

/* vectors.S: the table VBAR_EL1 points at. */
extern char arm64_vectors[];

/* Called by vectors.S with the frame; returning erets with whatever the frame then holds. */
void arm64_handle_sync(struct pt_regs *f);
void arm64_handle_irq(struct pt_regs *f);
/*
 * From user mode: a system call, an abort, any other synchronous exception; an interrupt.
 * Both return with interrupts masked, to ret_to_user.
 */
void arm64_handle_el0_sync(struct pt_regs *regs);
void arm64_handle_el0_irq(struct pt_regs *regs);

/* vectors.S: sp := frame (the top of the task's kernel stack), then ret_to_user. */
__noreturn void arm64_ret_to_user_from(struct pt_regs *frame);

/* vectors.S: arm64_run_user()'s way to EL0 and back (see there). */
struct nofault_ctx;
void arm64_user_call_enter(struct nofault_ctx *ctx, const struct pt_regs *frame);
__noreturn void arm64_user_call_resume(const struct nofault_ctx *ctx);

/*
 * For tests: runs *in at EL0 on this CPU until its first synchronous exception (svc, an
 * abort, an undefined instruction...) and returns with that exception's frame in *out - no
 * process, no system call, no fault handling. The caller has loaded the mm to run in
 * (arch_switch_mm()). Interrupts stay masked throughout, at EL0 too (in->spsr's DAIF is
 * overridden), so nothing but the code under test runs.
 */
void arm64_run_user(const struct pt_regs *in, struct pt_regs *out);
/* FIQ, SError, and anything from a vector we never expect: always fatal. */
__noreturn void arm64_handle_unexpected(struct pt_regs *f, unsigned long vector);
/* The exception's frame would have gone into the stack guard page, or sp was misaligned:
 * called on the emergency stack, with f->sp the bad stack pointer. */
__noreturn void arm64_handle_bad_stack(struct pt_regs *f, unsigned long vector);

/* The GIC's interrupt for the EL1 virtual timer (traps.c dispatches it). */
void arm64_timer_interrupt(void);
/* Starts this CPU's virtual timer at TIMER_HZ (every CPU, at its bring-up). */
void arm64_timer_start(void);
#endif
