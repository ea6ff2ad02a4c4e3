/* arm64 per-CPU register: TPIDR_EL1 holds this CPU's struct cpu pointer. */
#pragma once

#include <lib/types.h>

struct cpu;

/*
 * TPIDR_EL1 is a software thread-ID register with no architectural meaning: each CPU
 * writes its own struct cpu * there (head.S for the boot CPU, arm64_secondary_entry for
 * the others) before any C that could read it. volatile: once tasks can migrate, a value
 * read before a switch must not be reused after it.
 */
static inline struct cpu *arch_this_cpu(void)
{
	struct cpu *c;

	__asm__ __volatile__("mrs %0, tpidr_el1" : "=r"(c));
	return c;
}
