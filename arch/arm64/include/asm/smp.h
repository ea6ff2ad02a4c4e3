/* arm64 SMP: what a secondary CPU needs before it has a stack (head.S), and the IPI SGI. */
#pragma once

/*
 * struct arm64_boot_block, as head.S reads it with the MMU off: the kernel's root table
 * (for TTBR1_EL1), the top of this CPU's stack, and its struct cpu (for TPIDR_EL1).
 */
#define BOOT_BLOCK_TTBR1 0
#define BOOT_BLOCK_STACK 8
#define BOOT_BLOCK_CPU	 16

/* The SGI that carries cross-calls (SGI 0 is left for a reschedule IPI). */
#define GIC_SGI_CALL 1

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct arm64_boot_block {
	u64 ttbr1;
	u64 stack_top;
	u64 cpu;
} __aligned(64); /* one cache line of its own: cleaned to memory for a CPU with caches off */

extern const char arm64_secondary_entry[];
__noreturn void arm64_secondary_start(void);
#endif
