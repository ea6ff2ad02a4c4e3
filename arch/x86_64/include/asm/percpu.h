/* x86-64 per-CPU register: GS base points at this CPU's slot holding its struct cpu pointer. */
#pragma once

#include <lib/types.h>

struct cpu;

/*
 * IA32_GS_BASE (MSR 0xc0000101) is the base %gs-relative accesses add in 64-bit mode. Each
 * CPU points it at its own x86_percpu_slot, whose first word is its struct cpu *: one
 * %gs:0 load finds this CPU's data without knowing which CPU we are. (GS base instead of
 * a GDT segment because 64-bit mode ignores segment bases except those of FS and GS.)
 */
#define MSR_IA32_GS_BASE 0xc0000101

struct x86_percpu_slot {
	struct cpu *self;
};

/* volatile: once tasks can migrate, a value read before a switch must not be reused after. */
static inline struct cpu *arch_this_cpu(void)
{
	struct cpu *c;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(c));
	return c;
}
