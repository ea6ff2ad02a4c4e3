/* arm64's per-form TLBI counters: the one source of truth for tlbi_page/_range/_all. */
#pragma once

#include <lib/types.h>

/*
 * How often each TLBI form was issued, counted in arch/arm64/tlb.c right where each
 * instruction is issued (count_tlb_event(arch.vae1is), ...). The generic struct tlb_stats
 * merges vae1is with vale1is (tlbi_page) and rvae1is with rvale1is (tlbi_range); these tell
 * a leaf-only flush from one that also drops walk-cache entries (needed after a page table
 * was unlinked). The generic fields are derived from these on read, never counted twice.
 */
struct arch_tlb_stats {
	u64 vale1is;   /* per page, leaf entries only */
	u64 vae1is;    /* per page, leaf and walk-cache entries */
	u64 rvale1is;  /* range, leaf entries only */
	u64 rvae1is;   /* range, leaf and walk-cache entries */
	u64 vmalle1is; /* everything: the kernel's full flush */
	u64 aside1is;  /* everything of one ASID: a user mm's full flush */
};

/*
 * tlbi_page = vale1is + vae1is, tlbi_range = rvale1is + rvae1is, tlbi_all = vmalle1is +
 * aside1is (a full flush of the batch's address space, whichever it was).
 */
#define arch_tlb_stats_derive(s)                                          \
	do {                                                              \
		(s)->tlbi_page = (s)->arch.vale1is + (s)->arch.vae1is;    \
		(s)->tlbi_range = (s)->arch.rvale1is + (s)->arch.rvae1is; \
		(s)->tlbi_all = (s)->arch.vmalle1is + (s)->arch.aside1is; \
	} while (0)
