/* The x86-64 TLB backend: a batch is drained with one invlpg per page, or one full flush. */
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <kernel/cpu.h>
#include <mm/pte.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/*
 * Linux's tlb_single_page_flush_ceiling: past 33 pages one CR3 reload is cheaper on Intel
 * silicon than the invlpgs, even counting the refills of the entries it threw away. Under
 * TCG the break-even is lower (~14-27 pages, see docs/x86_64.md); the knob is
 * tlb_flush_ceiling.
 */
unsigned long arch_default_flush_ceiling(void)
{
	return 33;
}

bool arch_has_range_tlbi(void)
{
	return false;
}

/*
 * Our kernel mappings are non-global, so a CR3 reload would do; x86_flush_tlb_all()
 * toggles CR4.PGE instead, which also drops global entries, so the flush stays right if
 * kernel mappings ever become global. (QEMU drops globals on any CR3 write anyway, so no
 * test here could tell the two apart.)
 */
void arch_flush_tlb_all(void)
{
	x86_flush_tlb_all();
	count_tlb_event(tlbi_all);
}

/* This CPU's share of a batch's flush. */
static void flush_local(const struct tlb_batch *b)
{
	/*
	 * No barrier before the invalidation: x86 stores are seen by the page walker in
	 * program order, and invlpg is serializing for the entry it drops. b->sync_pending is
	 * never set here (arch_pte_needs_sync() is false), and b->nonleaf needs nothing extra:
	 * invlpg also drops every paging-structure-cache entry (SDM vol. 3, 4.10.4.1).
	 */
	if (b->flush_all) {
		arch_flush_tlb_all();
		return;
	}
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		unsigned long va = b->ranges[i].start;

		for (unsigned long n = 0; n < b->ranges[i].pages; n++, va += PAGE_SIZE) {
			invlpg(va);
			count_tlb_event(tlbi_page);
		}
	}
}

/*
 * The batch's flush on every CPU: the other online CPUs get their shootdown first, then
 * this CPU invalidates while they do, then we wait for them (asm/shootdown.h).
 */
void arch_tlb_flush_batch(const struct tlb_batch *b)
{
	struct x86_shootdown sd;

	x86_shootdown_begin(&sd, b);
	flush_local(b);
	x86_shootdown_end(&sd);
}
