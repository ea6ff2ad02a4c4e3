/* x86-64 per-CPU register: GS base points at this CPU's struct cpu (whose first word is self). */
#pragma once

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct cpu;
#endif

/*
 * IA32_GS_BASE (MSR 0xc0000101) is the base %gs-relative accesses add in 64-bit mode. Each
 * CPU points it at its own struct cpu, whose first word (self) is its address: one %gs:0
 * load finds this CPU's data without knowing which CPU we are, and one %gs:OFFSET load
 * reads a field of it (this_cpu_read()). (GS base instead of a GDT segment because 64-bit
 * mode ignores segment bases except those of FS and GS.)
 */
#define MSR_IA32_GS_BASE 0xc0000101

/* struct cpu's entry words for entry.S (include/kernel/cpu.h; checked in arch/x86_64/user.c). */
#define CPU_ENTRY_STACK	  8
#define CPU_ENTRY_SCRATCH 16

#ifndef __ASSEMBLY__

/* volatile: once tasks can migrate, a value read before a switch must not be reused after. */
static inline struct cpu *arch_this_cpu(void)
{
	struct cpu *c;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/*
 * One 8-byte field of this CPU's struct cpu in one instruction (current, the lazy MMU fast
 * paths' word): the load can't be split from the CPU it reads, where "this_cpu()->field"
 * is two loads. volatile for the same reason as arch_this_cpu().
 */
#define this_cpu_read(field)                                                           \
	({                                                                             \
		__typeof__(cpus[0].field) v__;                                         \
		_Static_assert(sizeof(v__) == 8, "this_cpu_read: 8-byte fields only"); \
		__asm__ __volatile__("movq %%gs:%c1, %0"                               \
				     : "=r"(v__)                                       \
				     : "i"(__builtin_offsetof(struct cpu, field)));    \
		v__;                                                                   \
	})

/*
 * Adds n to a u64 field of this CPU's struct cpu: one addq to a %gs-relative address. No
 * lock prefix is needed - only this CPU writes its counters, and a single instruction
 * can't be split by an interrupt, a preemption or a migration (it resolves the CPU as it
 * executes) - and other CPUs' relaxed 8-byte loads of it are never torn. Linux's
 * this_cpu_add() on x86 is the same instruction.
 */
#define this_cpu_add(field, n)                                                                    \
	do {                                                                                      \
		_Static_assert(sizeof(cpus[0].field) == 8, "this_cpu_add: u64 fields only");      \
		__asm__ __volatile__("addq %1, %%gs:%c0"                                          \
				     :                                                            \
				     : "i"(__builtin_offsetof(struct cpu, field)), "er"((u64)(n)) \
				     : "memory", "cc");                                           \
	} while (0)
#endif
