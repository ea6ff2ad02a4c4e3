/* x86-64 single-step support: RFLAGS.TF, the debug status register DR6, and the #DB hook. */
#pragma once

/*
 * RFLAGS.TF (trap flag): while set, the CPU raises #DB (vector 1) after each instruction.
 * Plain numbers: step.S uses them too.
 */
#define X86_RFLAGS_TF 0x100

/*
 * DR6, the debug status register: which condition raised a #DB. BS (bit 14) = single
 * step. The CPU never clears DR6; a handler must, or the next #DB inherits stale bits.
 * 0xffff0ff0 is its reset value (reserved bits read as 1, no condition recorded).
 */
#define X86_DR6_BS    0x4000
#define X86_DR6_RESET 0xffff0ff0

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct pt_regs;

static inline unsigned long read_dr6(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(unsigned long v)
{
	__asm__ __volatile__("mov %0, %%dr6" : : "r"(v) : "memory");
}

/* arch/x86_64/step.c: handles a #DB; false when it is not a step_run() single step. */
bool x86_step_trap(struct pt_regs *f);
#endif
