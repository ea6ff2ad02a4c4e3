/*
 * The TLB gather: what a lazy MMU section has deferred. Ranges of pages to invalidate,
 * whether walk caches must go too, whether new valid entries still await their barrier, and
 * page-table pages that may only be freed once the invalidation is complete.
 */
#pragma once

#include <lib/types.h>

struct mm_struct;

#define TLB_BATCH_RANGES 16
#define TLB_BATCH_FREED	 32

struct tlb_range {
	unsigned long start; /* page-aligned VA */
	unsigned long pages;
};

struct tlb_batch {
	struct tlb_range ranges[TLB_BATCH_RANGES];
	unsigned int nr_ranges;
	unsigned long nr_pages; /* pages over all ranges */
	bool flush_all;		/* more ranges than fit: one full flush covers them all */
	bool nonleaf;		/* a table entry was cleared: walk caches must be invalidated too */
	bool sync_pending;	/* a new valid entry waits for its publishing barrier (arm64) */
	phys_addr_t freed[TLB_BATCH_FREED]; /* table pages to free after the flush */
	unsigned int nr_freed;
	/*
	 * Set by everything that queues work here (tlb_batch_add(), tlb_batch_free_table(),
	 * tlb_batch_need_sync(), tlb_batch_need_flush_all()), cleared by tlb_batch_init(): so
	 * clear means empty, in one byte - the lazy MMU fast path's test. (A batch built
	 * by hand in a test may leave it clear; tlb_batch_flush() does not rely on it.)
	 */
	bool queued;
	/* Counted in mm->tlb_flush_pending until its flush (tlb_batch_note_pending()). */
	bool counted;
	/*
	 * Whose translations the ranges name: set by the first update queued (mm/pgtable.c
	 * flushes a batch before it queues another mm's page), NULL while empty; a batch built
	 * by hand with no mm is the kernel's (init_mm). The flush uses it for the ASID/PCID and
	 * for the CPUs to reach (mm_cpumask).
	 */
	struct mm_struct *mm;
};

/* Empties b (a batch on the stack starts here). */
void tlb_batch_init(struct tlb_batch *b);
/* Queues the page at va for invalidation, merging with an adjacent range. */
void tlb_batch_add(struct tlb_batch *b, unsigned long va);
/* True if the page at va awaits invalidation in b. */
bool tlb_batch_contains(const struct tlb_batch *b, unsigned long va);
/* True if any page of [va, va + pages * PAGE_SIZE) awaits invalidation in b. */
bool tlb_batch_overlaps(const struct tlb_batch *b, unsigned long va, unsigned long pages);
bool tlb_batch_empty(const struct tlb_batch *b);

/* New valid entries await their publishing barrier (arm64). */
static inline void tlb_batch_need_sync(struct tlb_batch *b)
{
	b->sync_pending = true;
	b->queued = true;
}

/* Nothing precise is known any more: the flush drops everything. */
static inline void tlb_batch_need_flush_all(struct tlb_batch *b)
{
	b->flush_all = true;
	b->queued = true;
}
/* Queues a page-table page to be freed after the flush (flushes now if the list is full). */
void tlb_batch_free_table(struct tlb_batch *b, phys_addr_t pa);
/*
 * Issues everything b holds (arch_tlb_flush_batch), frees queued tables, empties b. A batch of
 * more than tlb_flush_ceiling pages is handed to the arch as flush_all.
 */
void tlb_batch_flush(struct tlb_batch *b);
/*
 * Drains the current task's batch: what arch_flush_lazy_mmu_mode() and
 * arch_leave_lazy_mmu_mode() do on every arch that batches through struct tlb_batch (the
 * generic defaults in <mm/lazy_mmu.h>).
 */
void tlb_batch_flush_current(void);

/*
 * Batches of more pages than this are flushed with one full flush instead of page by page.
 * Linux's x86 tlb_single_page_flush_ceiling (33) and arm64 MAX_DVM_OPS (512) play this role.
 */
extern unsigned long tlb_flush_ceiling;

/* --- arch contract (arch/<arch>/tlb.c) --- */

/*
 * Issues the maintenance for b, counting every instruction in this CPU's tlb_stats:
 * b->flush_all means one full flush (tlb_batch_flush() has already applied the ceiling),
 * else every page of b->ranges.
 */
void arch_tlb_flush_batch(const struct tlb_batch *b);
/* Drops every translation of this CPU (counted as tlbi_all). */
void arch_flush_tlb_all(void);
/* The arch's default for tlb_flush_ceiling. */
unsigned long arch_default_flush_ceiling(void);
/* True when one instruction can invalidate a range of pages (arm64 FEAT_TLBIRANGE). */
bool arch_has_range_tlbi(void);
