/* The TLBI operand encodings and the range splitter: pure C, so the host tests it too. */
#pragma once

#include <lib/types.h>

/*
 * Nothing here issues an instruction (that is asm/tlbflush.h): these functions only compute
 * the 64-bit values a TLBI takes, so arch/arm64/tlbi_range.c compiles unchanged into the
 * host unit tests, where every length up to 100,000+ pages is checked against a brute-force
 * expansion of what the operands say (arch/arm64/tests/host/tlbi_range_test.c).
 */

/*
 * Operand of the per-address forms (TLBI VAE1IS, VALE1IS):
 *
 *   63      48 47  44 43                                            0
 *  +----------+------+-----------------------------------------------+
 *  |   ASID   | TTL  |            VA[55:12] (the page number)         |
 *  +----------+------+-----------------------------------------------+
 *
 * ASID: the address space whose non-global entries go - a user mm's; tlbi_va_operand()
 * leaves it 0 and tlbi_asid_operand() is or-ed in. A global entry (every kernel entry,
 * nG = 0) matches whatever the field says, so the kernel's operands keep 0.
 * TTL 0: no hint about the level the entry was cached from (FEAT_TTL), "any level".
 * VA[55:12]: bits 55:48 are the VA's own (all ones for a kernel address): the CPU extends
 * the field from bit 55, which picks TTBR1's half or TTBR0's.
 */
static inline u64 tlbi_va_operand(unsigned long va)
{
	return (va >> 12) & GENMASK(43, 0);
}

/* The ASID field of every operand (bits 63:48), and the whole operand of TLBI ASIDE1IS. */
static inline u64 tlbi_asid_operand(unsigned long asid)
{
	return (u64)(asid & 0xffff) << 48;
}

/*
 * Operand of the range forms (FEAT_TLBIRANGE, ARMv8.4: TLBI RVAE1IS, RVALE1IS):
 *
 *   63      48 47 46 45 44 43   39 38 37 36                           0
 *  +----------+-----+-----+-------+-----+------------------------------+
 *  |   ASID   | TG  |SCALE|  NUM  | TTL |  BaseADDR (VA[48:12] at 4K)  |
 *  +----------+-----+-----+-------+-----+------------------------------+
 *
 *   TG     the granule the entries were made with: 01 = 4 KiB. 00 is reserved, and with a
 *          granule other than the one in use the CPU need not invalidate anything at all
 *          (QEMU then invalidates nothing) - a wrong TG fails silently, as stale entries.
 *   SCALE, NUM  the range is, in the Arm ARM's words,
 *            BaseADDR <= VA < BaseADDR + (NUM + 1) * 2^(5 * SCALE + 1) * granule
 *          so with 4 KiB pages one operation covers (NUM + 1) << (5 * SCALE + 1) pages:
 *            SCALE 0:  2,  4, ...,     64 pages  (steps of 2)
 *            SCALE 1: 64, 128, ...,  2048 pages  (steps of 64)
 *            SCALE 2: 2 Ki ...         64 Ki     (steps of 2 Ki)
 *            SCALE 3: 64 Ki ...         2 Mi     (steps of 64 Ki)
 *          Always an even number of pages: a single page needs the per-address form.
 *   TTL    level hint: 00 = the entries may be from any level. (01/10/11 promise Arm
 *          level 1/2/3 entries and make some BaseADDR values UNPREDICTABLE; we don't hint.)
 *   BaseADDR  the first page, VA[48:12]. No alignment beyond the page is required with a
 *          4 KiB granule (only FEAT_LPA2's 52-bit form counts it in 64 KiB units).
 */
#define TLBI_RANGE_TG_4K     1UL
#define TLBI_RANGE_MAX_NUM   31U
#define TLBI_RANGE_MAX_SCALE 3U

#define TLBI_RANGE_TG_SHIFT    46
#define TLBI_RANGE_SCALE_SHIFT 44
#define TLBI_RANGE_NUM_SHIFT   39
#define TLBI_RANGE_TTL_SHIFT   37

/* How many pages one range operation with this scale and num covers. */
static inline unsigned long tlbi_range_pages(unsigned int scale, unsigned int num)
{
	return (unsigned long)(num + 1) << (5 * scale + 1);
}

/* The most one range operation covers: NUM 31 at SCALE 3, 2^21 pages (8 GiB). */
#define TLBI_RANGE_MAX_PAGES (32UL << 16)

static inline u64 tlbi_range_operand(unsigned long va, unsigned int scale, unsigned int num)
{
	return (TLBI_RANGE_TG_4K << TLBI_RANGE_TG_SHIFT) |
	       ((u64)(scale & 3) << TLBI_RANGE_SCALE_SHIFT) |
	       ((u64)(num & 31) << TLBI_RANGE_NUM_SHIFT) | ((va >> 12) & GENMASK(36, 0));
}

/*
 * Splitting [va, va + pages) into TLBI operations.
 *
 * Without FEAT_TLBIRANGE: one per-address operation per page.
 * With it (the scheme of Linux's __flush_tlb_range_op(), in the order of Linux 5.10-6.8):
 *   1. an odd number of pages starts with one per-address operation for the first page
 *      (range operations only cover even counts), which also handles a single page;
 *   2. the rest, 2 * M pages, is covered by the base-32 digits of M, lowest first: digit d
 *      at position s (d != 0) becomes one range operation with SCALE s, NUM d - 1,
 *      covering d * 32^s * 2 pages. Four digit positions reach 2 * (32^4 - 1) pages.
 *   3. Above that (or for exactly 2^21 pages), the remaining multiple of 2^21 pages is
 *      covered by operations with NUM 31 at SCALE 3, 2^21 pages each.
 * Example, 1001 pages from va: 1 page at va (odd), then M = 500 = 15 * 32 + 20: NUM 19 at
 * SCALE 0 (40 pages, from va + 1 page), then NUM 14 at SCALE 1 (960 pages). Three TLBIs.
 *
 * Below 2^21 pages this needs (pages odd) + (non-zero digits of M) <= 5 operations, which
 * is the fewest that any exact, non-overlapping cover by these operations can use: every
 * range size is even, so an odd count needs a per-page operation, and adding one digit-
 * shaped term to a number raises its count of non-zero base-32 digits by at most one.
 * (Linux 6.9+ goes from SCALE 3 down and leaves the odd page for last: the same count.)
 */
#define TLBI_RANGE_MAX_OPS 5 /* per range of at most TLBI_RANGE_MAX_PAGES pages */

struct arm64_tlbi_op {
	unsigned long va;    /* first page it covers */
	unsigned long pages; /* how many pages, from va */
	u64 operand;	     /* the value the TLBI instruction takes */
	bool range;	     /* a range form (SCALE, NUM below); else a per-address form */
	unsigned int scale;
	unsigned int num;
};

struct arm64_tlbi_walk {
	unsigned long va;    /* next page to cover */
	unsigned long pages; /* pages still to cover */
	bool range;	     /* range forms may be used (the CPU has FEAT_TLBIRANGE) */
};

/* Starts a walk over [va, va + pages); va is rounded down to its page. */
void arm64_tlbi_walk_start(struct arm64_tlbi_walk *w, unsigned long va, unsigned long pages,
			   bool range);
/* Fills *op with the next operation and returns true, or returns false when done. */
bool arm64_tlbi_walk_next(struct arm64_tlbi_walk *w, struct arm64_tlbi_op *op);
/* How many operations a walk over pages would issue (same rules, no operands). */
unsigned long arm64_tlbi_walk_count(unsigned long pages, bool range);
