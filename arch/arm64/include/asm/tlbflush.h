/* arm64 TLB maintenance: one wrapper per TLBI instruction, the feature check, per-form counts. */
#pragma once

#include <lib/types.h>
#include <asm/sysreg.h>
#include <asm/tlbi_range.h> /* the operands: tlbi_va_operand(), tlbi_range_operand() */

/*
 * The "is" forms are broadcast by the hardware to every CPU in the inner shareable domain:
 * no CPU ever needs an IPI to drop a translation. Tests read this to know that ipis_sent
 * must stay 0 however many CPUs are online.
 */
#define ARCH_TLB_SHOOTDOWN_IPIS 0

/* No shootdown ever arrives (broadcast TLBIs need none): nothing to wait for. */
static inline void arch_wait_for_tlb_shootdown(void)
{
}

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
 * The per-page and range forms take a whole operand (asm/tlbi_range.h): the page or range,
 * and in bits 63:48 the ASID whose non-global entries go. Global entries (the kernel's)
 * match whatever the ASID field says, so the kernel's operands carry ASID 0.
 */

/* TLBI VAE1IS: every CPU drops the translation of one page (leaf and walk-cache entries). */
static inline void tlbi_vae1is(u64 arg)
{
	__asm__ __volatile__("tlbi vae1is, %0" : : "r"(arg) : "memory");
}

/* TLBI VALE1IS: every CPU drops the leaf translation of one page only. */
static inline void tlbi_vale1is(u64 arg)
{
	__asm__ __volatile__("tlbi vale1is, %0" : : "r"(arg) : "memory");
}

/*
 * TLBI VALE1: THIS CPU alone drops the leaf translation of one page. Never the real path
 * (other CPUs keep theirs); the SMP demonstration uses it to show why the "is" forms exist.
 */
static inline void tlbi_vale1(u64 arg)
{
	__asm__ __volatile__("tlbi vale1, %0" : : "r"(arg) : "memory");
}

/*
 * TLBI ASIDE1IS: every CPU drops every non-global entry tagged with the ASID in bits 63:48
 * of arg (tlbi_asid_operand()): a whole user address space, and nothing of any other - nor
 * of the kernel, whose entries are global.
 */
static inline void tlbi_aside1is(u64 arg)
{
	__asm__ __volatile__("tlbi aside1is, %0" : : "r"(arg) : "memory");
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
 * TLBI RVAE1IS / RVALE1IS: every CPU drops the translations of a range of pages (leaf and
 * walk-cache entries / leaf only). The kernel is built for plain ARMv8.0 (-march=armv8-a),
 * where the assembler doesn't know these names, so they are spelled as the generic system
 * instruction they are: SYS #op1, Cn, Cm, #op2 with op1=0, CRn=8, CRm=2 and op2=1
 * (RVAE1IS) or op2=5 (RVALE1IS) - the encodings 0xd5088220 / 0xd50882a0 with x0, the same
 * bits "tlbi rvae1is, x0" assembles to under ".arch armv8.4-a". Only issue them when
 * arch_has_range_tlbi(): on a CPU without the feature they are undefined instructions.
 * arg is a tlbi_range_operand() (asm/tlbi_range.h).
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

/* Reads the ID register every time; arch_has_range_tlbi() (arch/arm64/tlb.c) caches it. */
static inline bool arm64_has_range_tlbi(void)
{
	return arm64_tlb_feature() >= ID_AA64ISAR0_TLB_RANGE;
}

/*
 * For tests: a record of the TLBI operations the backend issues (arch/arm64/tlb.c), each with
 * the operand exactly as the instruction took it, so a test can decode what every issued
 * operation really covers without trusting the encoder. Recording is off until a test calls
 * arm64_tlbi_record_to(buf, cap); it stops with arm64_tlbi_record_to(NULL, 0). One test at a
 * time, with interrupts masked around what it records (the record is not locked: one writer).
 */
struct arm64_tlbi_record {
	u64 operand;	 /* a tlbi_va_operand() or tlbi_range_operand() value, | the ASID field */
	bool range;	 /* rvae1is/rvale1is; else vae1is/vale1is */
	bool nonleaf;	 /* the all-level form (vae1is/rvae1is) */
	bool whole_asid; /* aside1is: operand is only the ASID field */
};

void arm64_tlbi_record_to(struct arm64_tlbi_record *buf, unsigned int cap);
/* Operations issued since recording started; only the first cap are kept in buf. */
unsigned int arm64_tlbi_recorded(void);
