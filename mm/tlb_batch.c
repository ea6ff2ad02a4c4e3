/* The TLB gather: accumulate invalidation ranges and doomed page tables, then flush once. */
#include <kernel/panic.h>
#include <lib/string.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#include <kernel/cpu.h>
#include <kernel/task.h>

unsigned long tlb_flush_ceiling;

static unsigned long range_end(const struct tlb_range *r)
{
	return r->start + r->pages * PAGE_SIZE;
}

bool tlb_batch_empty(const struct tlb_batch *b)
{
	return b->nr_ranges == 0 && !b->flush_all && !b->sync_pending && b->nr_freed == 0;
}

bool tlb_batch_contains(const struct tlb_batch *b, unsigned long va)
{
	va &= PAGE_MASK;
	/* After an overflow every address counts as pending: nothing is known precisely. */
	if (b->flush_all)
		return true;
	for (unsigned int i = 0; i < b->nr_ranges; i++)
		if (va >= b->ranges[i].start && va < range_end(&b->ranges[i]))
			return true;
	return false;
}

bool tlb_batch_overlaps(const struct tlb_batch *b, unsigned long va, unsigned long pages)
{
	unsigned long end = (va & PAGE_MASK) + pages * PAGE_SIZE;

	va &= PAGE_MASK;
	if (b->flush_all)
		return true;
	for (unsigned int i = 0; i < b->nr_ranges; i++)
		if (va < range_end(&b->ranges[i]) && b->ranges[i].start < end)
			return true;
	return false;
}

void tlb_batch_add(struct tlb_batch *b, unsigned long va)
{
	va &= PAGE_MASK;
	b->queued = true;
	if (b->flush_all || tlb_batch_contains(b, va))
		return; /* already covered: a page is invalidated once per flush */

	/* Map, protect and unmap walk upwards, so the last range is almost always the one. */
	for (unsigned int i = b->nr_ranges; i-- > 0;) {
		struct tlb_range *r = &b->ranges[i];

		if (va == range_end(r)) {
			r->pages++;
			b->nr_pages++;
			return;
		}
		if (va + PAGE_SIZE == r->start) {
			r->start = va;
			r->pages++;
			b->nr_pages++;
			return;
		}
	}
	if (b->nr_ranges == TLB_BATCH_RANGES) {
		/* Too scattered to track: one full flush will cover this page and all others. */
		tlb_batch_need_flush_all(b);
		return;
	}
	b->ranges[b->nr_ranges].start = va;
	b->ranges[b->nr_ranges].pages = 1;
	b->nr_ranges++;
	b->nr_pages++;
}

void tlb_batch_init(struct tlb_batch *b)
{
	b->nr_ranges = 0;
	b->nr_pages = 0;
	b->flush_all = false;
	b->nonleaf = false;
	b->sync_pending = false;
	b->nr_freed = 0;
	b->queued = false;
	b->counted = false;
	b->mm = NULL;
}

void tlb_batch_flush(struct tlb_batch *b)
{
	bool counted = b->counted;
	struct mm_struct *mm = tlb_batch_mm(b);

	if (tlb_batch_empty(b))
		return;
	/*
	 * The ceiling is policy, so it is decided here, once for every arch: past it one full
	 * flush costs less than the pages one by one (and, on arm64 without range TLBIs, spares
	 * every other CPU a storm of broadcast operations). The arch only sees flush_all.
	 */
	if (b->nr_pages > tlb_flush_ceiling)
		b->flush_all = true;
	if (b->nr_ranges || b->flush_all || b->sync_pending) {
		b->mm = mm; /* the arch always sees whose */
		arch_tlb_flush_batch(b);
		count_tlb_event(batches);
	}
	/*
	 * Only now, with every walker's view of the cleared table entries invalidated, may the
	 * table pages be reused: a walk that started before the flush could still be reading
	 * them (Linux's mmu_gather rule).
	 */
	for (unsigned int i = 0; i < b->nr_freed; i++)
		frame_put(b->freed[i]);
	tlb_batch_init(b);
	/* Every CPU has dropped what this batch owed: release orders the flush before it. */
	if (counted)
		__atomic_fetch_sub(&mm->tlb_flush_pending, 1, __ATOMIC_RELEASE);
}

void tlb_batch_free_table(struct tlb_batch *b, phys_addr_t pa)
{
	/* List full: complete the flush (which frees the earlier pages), then queue this one. */
	if (b->nr_freed == TLB_BATCH_FREED)
		tlb_batch_flush(b);
	b->freed[b->nr_freed++] = pa;
	b->queued = true;
}

void tlb_batch_flush_current(void)
{
	tlb_batch_flush(&current->tlb_batch);
}
