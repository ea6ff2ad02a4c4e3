/* The x86-64 TLB backend: a batch is drained with one invlpg per page, or one full flush. */
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <kernel/cpu.h>
#include <mm/mm.h>
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
 * The full flush: the CR4.PGE toggle, which drops global entries too (our kernel mappings
 * are global) under every PCID. (QEMU drops globals on any CR3 write anyway, so no test
 * here could tell it from a CR3 reload.)
 */
void arch_flush_tlb_all(void)
{
	x86_flush_tlb_all();
	count_tlb_event(tlbi_all);
}

static void invlpg_ranges(const struct tlb_batch *b)
{
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		unsigned long va = b->ranges[i].start;

		for (unsigned long n = 0; n < b->ranges[i].pages; n++, va += PAGE_SIZE) {
			invlpg(va);
			count_tlb_event(tlbi_page);
		}
	}
}

/*
 * This CPU's share of a kernel batch. No barrier before the invalidation: x86 stores are
 * seen by the page walker in program order, and invlpg is serializing for the entry it
 * drops. b->sync_pending is never set here (arch_pte_needs_sync() is false). invlpg drops a
 * global translation whatever PCID is loaded, and every paging-structure-cache entry of the
 * current PCID (SDM vol. 3, 4.10.4.1) - which covers an unlinked table only without PCIDs:
 * with them, other PCIDs' walk caches may still point into it, and only the full flush
 * reaches those.
 */
static void flush_local_kernel(const struct tlb_batch *b)
{
	if (b->flush_all || (b->nonleaf && x86_pcid_on)) {
		arch_flush_tlb_all();
		return;
	}
	invlpg_ranges(b);
}

/*
 * This CPU's share of a user mm's batch, flush number gen (asm/shootdown.h). Loaded here:
 * invlpg (or a reload of CR3 for flush_all) acts on its PCID, and its slot has caught up if
 * it had every earlier flush. Not loaded, but cached under a PCID of its own, with INVPCID:
 * the same pages by PCID, if that completes the slot; otherwise nothing - the slot is
 * behind, and its next load flushes it whole. Without PCIDs nothing of it is cached here.
 */
static void flush_local_user(const struct tlb_batch *b, struct mm_struct *mm, u64 gen)
{
	struct x86_tlb_state *st = &x86_tlb_state[this_cpu()->id];
	int slot;

	if (st->loaded_mm == mm) {
		if (b->flush_all) {
			x86_flush_tlb_current();
			count_tlb_event(tlbi_all);
			if (st->loaded_slot >= 0)
				x86_pcid_flushed_all(&st->pcid, (unsigned int)st->loaded_slot, gen);
			return;
		}
		invlpg_ranges(b);
		if (st->loaded_slot >= 0)
			x86_pcid_flushed_one(&st->pcid, (unsigned int)st->loaded_slot, gen);
		return;
	}
	if (!x86_invpcid_on)
		return;
	slot = x86_pcid_find(&st->pcid, mm->id);
	if (slot < 0 || st->pcid.slot[slot].tlb_gen + 1 != gen)
		return;
	if (b->flush_all) {
		invpcid(INVPCID_TYPE_SINGLE, x86_pcid_of_slot((unsigned int)slot), 0);
		count_tlb_event(tlbi_all);
		x86_pcid_flushed_all(&st->pcid, (unsigned int)slot, gen);
		return;
	}
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		unsigned long va = b->ranges[i].start;

		for (unsigned long n = b->ranges[i].pages; n > 0; n--, va += PAGE_SIZE) {
			invpcid(INVPCID_TYPE_ADDR, x86_pcid_of_slot((unsigned int)slot), va);
			count_tlb_event(tlbi_page);
		}
	}
	x86_pcid_flushed_one(&st->pcid, (unsigned int)slot, gen);
}

/*
 * The batch's flush on every CPU that may hold its translations: the others get their
 * shootdown first, then this CPU invalidates while they do, then we wait for them
 * (asm/shootdown.h).
 */
void arch_tlb_flush_batch(const struct tlb_batch *b)
{
	struct mm_struct *mm = tlb_batch_mm(b);
	struct x86_shootdown sd;

	x86_shootdown_begin(&sd, b);
	if (mm == &init_mm)
		flush_local_kernel(b);
	else
		flush_local_user(b, mm, sd.tlb_gen);
	x86_shootdown_end(&sd);
}
