/* arm64 exception entry: the register frame vectors.S saves, and the C handlers it calls. */
#pragma once

/*
 * The frame, at the stack pointer when a C handler runs (offsets for vectors.S; traps.c
 * checks them against the struct):
 *
 *   0    x0 ... x30   (31 registers, 8 bytes each)
 *   248  sp           the interrupted stack pointer
 *   256  elr          ELR_EL1: where eret resumes (the faulting instruction for an abort)
 *   264  spsr         SPSR_EL1: the interrupted PSTATE (DAIF, NZCV, EL and SP selection)
 *   272  esr          ESR_EL1: why (exception class and syndrome) - read before any C runs
 *   280  far          FAR_EL1: the faulting address, for the classes that set it
 *   288  (size, a multiple of 16 as SP alignment requires)
 */
#define FRAME_X(n) ((n)*8)
#define FRAME_SP   248
#define FRAME_ELR  256
#define FRAME_SPSR 264
#define FRAME_ESR  272
#define FRAME_FAR  280
#define FRAME_SIZE 288

/* The vector table's four groups of four (the offset of each entry is 0x80 * index). */
#define VEC_CUR_SP0   0 /* from EL1 while using SP_EL0: we never run like that */
#define VEC_CUR_SPX   4 /* from EL1 using SP_EL1: the kernel's own exceptions */
#define VEC_LOWER_A64 8 /* from EL0 in AArch64: there is no EL0 */
#define VEC_LOWER_A32 12
#define VEC_SYNC      0
#define VEC_IRQ	      1
#define VEC_FIQ	      2
#define VEC_SERROR    3

/* Size of the emergency stack that a stack overflow switches to (vectors.S). */
#define EMERGENCY_STACK_SIZE 8192

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct arm64_frame {
	u64 x[31];
	u64 sp;
	u64 elr;
	u64 spsr;
	u64 esr;
	u64 far;
};

/* vectors.S: the table VBAR_EL1 points at. */
extern char arm64_vectors[];

/* Called by vectors.S with the frame; returning erets with whatever the frame then holds. */
void arm64_handle_sync(struct arm64_frame *f);
void arm64_handle_irq(struct arm64_frame *f);
/* FIQ, SError, and anything from a vector we never expect: always fatal. */
__noreturn void arm64_handle_unexpected(struct arm64_frame *f, unsigned long vector);
/* The exception's frame would have gone into the stack guard page, or sp was misaligned:
 * called on the emergency stack, with f->sp the bad stack pointer. */
__noreturn void arm64_handle_bad_stack(struct arm64_frame *f, unsigned long vector);

/* The GIC's interrupt for the EL1 virtual timer (traps.c dispatches it). */
void arm64_timer_interrupt(void);
/* Starts this CPU's virtual timer at TIMER_HZ (every CPU, at its bring-up). */
void arm64_timer_start(void);
#endif
