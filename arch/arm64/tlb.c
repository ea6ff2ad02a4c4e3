/* The arm64 TLB backend: one barrier pair or one TLBI sequence per batch. */
#include <asm/barrier.h>
#include <asm/tlbflush.h>
#include <kernel/task.h>
#include <mm/lazy_mmu.h>
#include <mm/pte.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/* Linux's MAX_DVM_OPS: past 512 per-page TLBIs, one vmalle1is is cheaper. */
unsigned long arch_default_flush_ceiling(void)
{
	return 512;
}

bool arch_has_range_tlbi(void)
{
	return false;
}

void arch_flush_tlb_all(void)
{
	dsb(ishst);
	tlbi_vmalle1is();
	count_tlb_event(tlbi_all);
	dsb(ish);
	isb();
}

void arch_tlb_flush_batch(const struct tlb_batch *b)
{
	if (!b->flush_all && b->nr_pages == 0) {
		/* Only new valid entries: publish them to the walker, no TLBI needed. */
		dsb(ishst);
		isb();
		count_tlb_event(barriers);
		return;
	}
	if (b->flush_all || b->nr_pages > tlb_flush_ceiling) {
		arch_flush_tlb_all();
		return;
	}
	/* The entry stores must reach every walker before the TLBIs that depend on them. */
	dsb(ishst);
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		unsigned long va = b->ranges[i].start;

		for (unsigned long n = 0; n < b->ranges[i].pages; n++, va += PAGE_SIZE) {
			/* vale1is drops the leaf only; a freed table needs the walk caches too. */
			if (b->nonleaf)
				tlbi_vae1is(va);
			else
				tlbi_vale1is(va);
			count_tlb_event(tlbi_page);
		}
	}
	/* Wait until every CPU has completed the TLBIs, then refetch through the new tables. */
	dsb(ish);
	isb();
}

void arch_flush_lazy_mmu_mode(void)
{
	tlb_batch_flush(&current->tlb_batch);
}

void arch_leave_lazy_mmu_mode(void)
{
	tlb_batch_flush(&current->tlb_batch);
}
