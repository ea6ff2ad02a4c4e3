/* arm64 cache maintenance by address: one inline per instruction, and the line sizes. */
#pragma once

#include <lib/types.h>
#include <asm/sysreg.h>

/*
 * CTR_EL0, the cache type register:
 *   bits  3:0  IminLine  log2 of the number of 4-byte words in the smallest I-cache line
 *   bits 19:16 DminLine  the same for the smallest data-cache line
 *   bit  28    IDC       cleaning the D-cache to the point of unification isn't needed for
 *                        instruction/data coherence
 *   bit  29    DIC       invalidating the I-cache isn't needed for it either
 */
#define CTR_EL0_IDC BIT(28)
#define CTR_EL0_DIC BIT(29)

static inline unsigned long arm64_dcache_line_size(u64 ctr)
{
	return 4UL << ((ctr >> 16) & 0xf);
}

static inline unsigned long arm64_icache_line_size(u64 ctr)
{
	return 4UL << (ctr & 0xf);
}

/* DC CVAU: write the data-cache line holding va back to the point of unification, where
 * instruction fetches and data accesses meet. */
static inline void dc_cvau(unsigned long va)
{
	__asm__ __volatile__("dc cvau, %0" : : "r"(va) : "memory");
}

/* DC CIVAC: write the data-cache line holding va back to the point of coherency (main
 * memory, where a CPU with its caches off reads) and invalidate it. */
static inline void dc_civac(unsigned long va)
{
	__asm__ __volatile__("dc civac, %0" : : "r"(va) : "memory");
}

/* IC IVAU: invalidate the instruction-cache line holding va, to the point of unification,
 * on every CPU of the inner shareable domain. */
static inline void ic_ivau(unsigned long va)
{
	__asm__ __volatile__("ic ivau, %0" : : "r"(va) : "memory");
}
