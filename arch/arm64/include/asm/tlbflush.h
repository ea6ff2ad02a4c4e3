/* arm64 TLB maintenance: one wrapper per TLBI instruction, and the operand encodings they take. */
#pragma once

#include <lib/types.h>
#include <asm/sysreg.h>

/*
 * These issue the instruction and nothing else. A correct sequence around them is the
 * caller's business (mm/ and the lazy MMU backend):
 *
 *	dsb(ishst);	the new entries are visible to every walker before any TLB drops the old
 *	tlbi ...;	one or more invalidations
 *	dsb(ish);	wait until every CPU's TLB has completed them
 *	isb();		and refetch, so that nothing translated before the barrier runs on
 *
 * Suffixes: "is" broadcasts to every CPU in the inner shareable domain (no IPI needed);
 * without it only this CPU's TLB is affected. An "l" ("last level", vale1is) only drops
 * entries cached from a leaf descriptor, not walk-cache entries for the tables above it:
 * right when only a leaf changed, wrong when a table was unlinked.
 */

/*
 * Operand of the per-address forms:
 *
 *   63      48 47  44 43                                            0
 *  +----------+------+-----------------------------------------------+
 *  |   ASID   | TTL  |            VA[55:12] (the page number)         |
 *  +----------+------+-----------------------------------------------+
 *
 * ASID 0: our mappings are global (nG = 0), and a global entry matches every ASID.
 * TTL 0: no hint about the level the entry was cached from (FEAT_TTL), "any level".
 */
static inline u64 tlbi_va_operand(unsigned long va)
{
	return (va >> 12) & GENMASK(43, 0);
}

/* TLBI VAE1IS: every CPU drops the translation of va (leaf and walk-cache entries). */
static inline void tlbi_vae1is(unsigned long va)
{
	__asm__ __volatile__("tlbi vae1is, %0" : : "r"(tlbi_va_operand(va)) : "memory");
}

/* TLBI VALE1IS: every CPU drops the leaf translation of va only. */
static inline void tlbi_vale1is(unsigned long va)
{
	__asm__ __volatile__("tlbi vale1is, %0" : : "r"(tlbi_va_operand(va)) : "memory");
}

/* TLBI VMALLE1IS: every CPU drops every EL1&0 translation (of the current VMID). */
static inline void tlbi_vmalle1is(void)
{
	__asm__ __volatile__("tlbi vmalle1is" : : : "memory");
}

/* TLBI VMALLE1: this CPU alone drops every EL1&0 translation. */
static inline void tlbi_vmalle1(void)
{
	__asm__ __volatile__("tlbi vmalle1" : : : "memory");
}

/*
 * Operand of the range forms (FEAT_TLBIRANGE, ARMv8.4):
 *
 *   63      48 47 46 45 44 43   39 38 37 36                           0
 *  +----------+-----+-----+-------+-----+------------------------------+
 *  |   ASID   | TG  |SCALE|  NUM  | TTL |  BaseADDR (VA[48:12] at 4K)  |
 *  +----------+-----+-----+-------+-----+------------------------------+
 *
 *   TG     translation granule of the entries: 01 = 4 KiB (00 is reserved)
 *   SCALE, NUM  the range covers (NUM + 1) << (5 * SCALE + 1) pages from BaseADDR:
 *          2..64 pages in steps of 2 at SCALE 0, up to 32 << 16 pages at SCALE 3
 *   TTL    level hint: 00 = entries of any level
 */
#define TLBI_RANGE_TG_4K     1UL
#define TLBI_RANGE_MAX_NUM   31
#define TLBI_RANGE_MAX_SCALE 3

/* How many pages one range operation with this scale and num covers. */
static inline unsigned long tlbi_range_pages(unsigned int scale, unsigned int num)
{
	return (unsigned long)(num + 1) << (5 * scale + 1);
}

static inline u64 tlbi_range_operand(unsigned long va, unsigned int scale, unsigned int num)
{
	return (TLBI_RANGE_TG_4K << 46) | ((u64)(scale & 3) << 44) | ((u64)(num & 31) << 39) |
	       ((va >> 12) & GENMASK(36, 0));
}

/*
 * TLBI RVAE1IS / RVALE1IS: every CPU drops the translations of a range of pages (leaf and
 * walk-cache entries / leaf only). The kernel is built for plain ARMv8.0 (-march=armv8-a),
 * where the assembler doesn't know these names, so they are spelled as the generic system
 * instruction they are: SYS #op1, Cn, Cm, #op2 with op1=0, CRn=8, CRm=2 and op2=1
 * (RVAE1IS) or op2=5 (RVALE1IS) - the encodings 0xd5088220 / 0xd50882a0 with x0, the same
 * bits "tlbi rvae1is, x0" assembles to under ".arch armv8.4-a". Only issue them when
 * arm64_has_range_tlbi(): on a CPU without the feature they are undefined instructions.
 */
static inline void tlbi_rvae1is(u64 arg)
{
	__asm__ __volatile__("sys #0, c8, c2, #1, %0" : : "r"(arg) : "memory");
}

static inline void tlbi_rvale1is(u64 arg)
{
	__asm__ __volatile__("sys #0, c8, c2, #5, %0" : : "r"(arg) : "memory");
}

/*
 * ID_AA64ISAR0_EL1.TLB, bits 59:56: 0 = neither, 1 = FEAT_TLBIOS (outer shareable
 * forms), 2 = FEAT_TLBIOS and FEAT_TLBIRANGE. QEMU's -cpu max has 2, cortex-a72 has 0.
 */
#define ID_AA64ISAR0_TLB_SHIFT 56
#define ID_AA64ISAR0_TLB_RANGE 2

static inline unsigned int arm64_tlb_feature(void)
{
	return (read_sysreg(id_aa64isar0_el1) >> ID_AA64ISAR0_TLB_SHIFT) & 0xf;
}

static inline bool arm64_has_range_tlbi(void)
{
	return arm64_tlb_feature() >= ID_AA64ISAR0_TLB_RANGE;
}
