/* arm64 software step: MDSCR_EL1, the OS lock, SPSR.SS and the step exception's syndrome. */
#pragma once

/*
 * MDSCR_EL1, the monitor debug system control register (only what stepping needs):
 *   bit  0 SS   software step enabled
 *   bit 13 KDE  debug exceptions (other than BRK) may be taken at the EL they come from:
 *               without it a kernel (EL1) can't step itself
 */
#define MDSCR_EL1_SS  0x1
#define MDSCR_EL1_KDE 0x2000
#define MDSCR_EL1_MDE 0x8000 /* bit 15: hardware breakpoints and watchpoints enabled */

/*
 * DBGBCR<n>_EL1, a hardware breakpoint's control (DBGBVR<n>_EL1 holds its address):
 *   bit  0    E    enabled
 *   bits 2:1  PMC  01 with HMC = 0 and SSC = 00: matches at EL1 only
 *   bits 8:5  BAS  1111: the whole A64 instruction
 *   bits 23:20 BT  0000: unlinked instruction address match
 */
#define DBGBCR_E	0x1
#define DBGBCR_PMC_EL1	(0x1 << 1)
#define DBGBCR_BAS_A64	(0xf << 5)
#define DBGBCR_EL1_ADDR (DBGBCR_E | DBGBCR_PMC_EL1 | DBGBCR_BAS_A64)

/*
 * SPSR_EL1.SS (bit 21): the PSTATE.SS that eret restores. With MDSCR_EL1.SS set and debug
 * exceptions enabled at the target (KDE, PSTATE.D clear, OS lock unlocked), eret with SS=1
 * lets exactly one instruction execute, then the step exception is taken (EC 0x33 from EL1)
 * before the next; eret with SS=0 takes it at once, with nothing executed.
 */
#define SPSR_SS 0x200000

/* The software step syndrome: ISV = 0 when the exception came with nothing stepped. */
#define ESR_SS_ISV (1UL << 24)

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct pt_regs;

/* arch/arm64/step.c: handles a software step exception; false when no step_run() owns it. */
bool arm64_step_trap(struct pt_regs *f);
/* ... and the breakpoint that ends a stepped-over exclusive sequence; false if none is. */
bool arm64_step_breakpoint(struct pt_regs *f);
#endif
