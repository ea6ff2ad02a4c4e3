/* arm64 per-CPU register: TPIDR_EL1 holds this CPU's struct cpu pointer. */
#pragma once

#include <lib/types.h>

struct cpu;

/*
 * TPIDR_EL1 is a software thread-ID register with no architectural meaning: each CPU
 * writes its own struct cpu * there (head.S for the boot CPU, arm64_secondary_entry for
 * the others) before any C that could read it.
 *
 * Not volatile, as in Linux (__kern_my_cpu_offset()): the compiler may reuse one read
 * within a stretch of code - the lazy MMU fast paths read it three times - but the asm
 * claims to read the word at the stack pointer, so any compiler barrier ("memory" clobber:
 * barrier(), a lock, preempt_enable(), every context switch) forces a fresh read after it.
 * (A fake memory input on the stack costs no instruction; one on a global needs its
 * address.) That is
 * enough while tasks are bound to their CPU for life (kernel/sched.c): a task resumes on
 * the CPU it left. A scheduler that migrates tasks would have to keep it so (Linux does:
 * its migrations pass through such barriers too).
 */
static inline struct cpu *arch_this_cpu(void)
{
	register const unsigned long sp __asm__("sp");
	struct cpu *c;

	__asm__("mrs %0, tpidr_el1" : "=r"(c) : "Q"(*(const unsigned long *)sp));
	return c;
}
