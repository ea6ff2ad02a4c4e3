/* The arm64 TLB backend: a batch costs one barrier pair, or one TLBI sequence (range/page/all). */
#include <asm/barrier.h>
#include <asm/mmu.h>
#include <asm/tlbflush.h>
#include <kernel/cpu.h>
#include <mm/mm.h>
#include <mm/pte.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/*
 * The flush ceiling: batches of more pages than tlb_flush_ceiling get one vmalle1is.
 *
 * Without FEAT_TLBIRANGE every page costs one broadcast TLBI, each a message to every CPU
 * (a "DVM operation"); Linux caps a range at MAX_DVM_OPS = PTRS_PER_PTE = 512 of them and
 * flushes everything instead. (Linux falls back at pages >= 512; tlb_flush_ceiling means
 * "more than", so ours does 512 per-page TLBIs and falls back from 513 - one page apart.)
 *
 * With FEAT_TLBIRANGE a range of up to 2^21 pages (8 GiB) costs at most 5 operations
 * (asm/tlbi_range.h), so the DVM argument is gone, and a full flush would only throw away
 * every other translation (kernel text, stacks, the linear map) for each CPU to walk
 * again. Linux's __flush_tlb_range_limit_excess() therefore flushes everything only beyond
 * MAX_TLBI_RANGE_PAGES = 2^21 pages, and so do we: TLBI_RANGE_MAX_PAGES. Under QEMU 7.2
 * this is not the fastest choice - it turns a range TLBI longer than its software TLB
 * (8+ or 16+ pages, as QEMU has sized it) into a full flush and then clears its jump
 * cache page by page, so a 512-page range TLBI is slower there than vmalle1is (see
 * docs/arm64.md) - but we model silicon, not TCG; tlb_flush_ceiling stays the knob that
 * tests and benchmarks set.
 */
#define ARM64_MAX_DVM_OPS 512UL

unsigned long arch_default_flush_ceiling(void)
{
	return arch_has_range_tlbi() ? TLBI_RANGE_MAX_PAGES : ARM64_MAX_DVM_OPS;
}

/* ID registers never change: one read of ID_AA64ISAR0_EL1.TLB is the answer for good. */
bool arch_has_range_tlbi(void)
{
	static int has_range = -1; /* not read yet */
	int v = READ_ONCE(has_range);

	if (v < 0) {
		v = arm64_has_range_tlbi();
		WRITE_ONCE(has_range, v);
	}
	return v;
}

/*
 * Publishes new valid entries, when nothing needs invalidating (see arch_pte_needs_sync()
 * in asm/pgtable.h): "dsb ishst" waits until the entry stores are visible to every
 * page-table walker, "isb" throws away what this CPU fetched (and translated) before, so
 * the next instruction that touches the new mapping walks to it instead of faulting on the
 * old, invalid entry. Inside a lazy MMU section pte_update() only sets
 * b->sync_pending; this pair is then issued once per batch instead of once per entry.
 */
static void publish_new_entries(void)
{
	dsb(ishst);
	isb();
	count_tlb_event(barriers);
}

/* The test record (asm/tlbflush.h): written by issue() only, read by the test that set it. */
static struct arm64_tlbi_record *record_buf;
static unsigned int record_cap, record_len;

void arm64_tlbi_record_to(struct arm64_tlbi_record *buf, unsigned int cap)
{
	record_buf = cap ? buf : NULL;
	record_cap = cap;
	record_len = 0;
}

unsigned int arm64_tlbi_recorded(void)
{
	return record_len;
}

static void record(u64 operand, bool range, bool nonleaf, bool whole_asid)
{
	if (likely(!record_buf))
		return;
	if (record_len < record_cap)
		record_buf[record_len] = (struct arm64_tlbi_record){ .operand = operand,
								     .range = range,
								     .nonleaf = nonleaf,
								     .whole_asid = whole_asid };
	record_len++;
}

/*
 * One operation of a walk over a range, for the address space tagged asid (0: the kernel's,
 * whose entries are global and match any ASID). nonleaf: a table entry was cleared in this
 * batch, so walk-cache entries (which remember the tables above a leaf) must go too: the
 * "all levels" forms vae1is/rvae1is. Otherwise only leaves changed and the "last level"
 * forms vale1is/rvale1is leave the still-valid walk caches alone.
 */
static void issue(const struct arm64_tlbi_op *op, bool nonleaf, unsigned long asid)
{
	u64 arg = op->operand | tlbi_asid_operand(asid);

	if (op->range) {
		if (nonleaf) {
			tlbi_rvae1is(arg);
			count_tlb_event(arch.rvae1is);
		} else {
			tlbi_rvale1is(arg);
			count_tlb_event(arch.rvale1is);
		}
	} else {
		if (nonleaf) {
			tlbi_vae1is(arg);
			count_tlb_event(arch.vae1is);
		} else {
			tlbi_vale1is(arg);
			count_tlb_event(arch.vale1is);
		}
	}
	record(arg, op->range, nonleaf, false);
}

/*
 * The barriers around every TLBI sequence, full flush or not:
 *
 *  dsb ishst  before the first TLBI. The entry stores this batch made (clears, changes)
 *	must be visible to every walker before any TLB drops the old translation. A TLBI is
 *	not ordered after earlier stores by itself: if it completed while a store still sat
 *	in the store buffer, a walk in between (any CPU's, speculative or not) would read the
 *	OLD entry and cache it again - after the invalidation meant to remove it. A compiler
 *	barrier there (the "LK anti-pattern": store, barrier(), tlbi) only orders what the
 *	compiler emits; the CPU may still reorder. "st": only stores need to be waited for;
 *	"ish": every CPU's walker. It also publishes any new valid entries of the batch, so
 *	a batch with invalidations needs no separate publishing pair.
 *  dsb ish    after the last TLBI. A broadcast TLBI is only guaranteed complete - on every
 *	CPU, including accesses already in flight with the old translation - once the
 *	issuing CPU has executed a DSB. Before it, any CPU may still use the old entry.
 *  isb        last. Instructions after the sequence may already have been fetched, and
 *	their addresses translated, with the old entries; the ISB refetches them so that
 *	nothing after this point runs on a translation the sequence removed.
 */
void arch_flush_tlb_all(void)
{
	dsb(ishst);
	tlbi_vmalle1is();
	count_tlb_event(arch.vmalle1is); /* tlbi_all is derived from it */
	dsb(ish);
	isb();
}

/*
 * A user address space's full flush: every non-global entry of its ASID, on every CPU, and
 * nothing else - the kernel's global entries and other processes' stay. The same barriers
 * as arch_flush_tlb_all(), for the same reasons.
 */
static void flush_asid(unsigned long asid)
{
	dsb(ishst);
	tlbi_aside1is(tlbi_asid_operand(asid));
	count_tlb_event(arch.aside1is); /* tlbi_all is derived from it */
	record(tlbi_asid_operand(asid), false, false, true);
	dsb(ish);
	isb();
}

/*
 * b->mm says whose translations the batch names: init_mm's are global (ASID 0 in every
 * operand, vmalle1is for everything); a user mm's carry its ASID (aside1is for everything).
 * The ASID is read from the mm's context whatever its generation: a number handed to
 * another mm since a rollover can only be cached, under that number, by CPUs that have not
 * switched since (the rollover made each flush before its next switch), so the only
 * entries with this number an operation can meet are this mm's - or, at worst, a newer
 * owner's, which it then drops for nothing.
 */
void arch_tlb_flush_batch(const struct tlb_batch *b)
{
	bool range = arch_has_range_tlbi();
	struct mm_struct *mm = tlb_batch_mm(b);
	unsigned long asid = arm64_mm_asid(mm);

	if (!b->flush_all && b->nr_pages == 0) {
		/* Only new valid entries: nothing was cached, nothing to invalidate. */
		publish_new_entries();
		return;
	}
	if (b->flush_all) {
		if (mm == &init_mm)
			arch_flush_tlb_all();
		else
			flush_asid(asid);
		return;
	}
	dsb(ishst); /* stores before TLBIs: see arch_flush_tlb_all() */
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		struct arm64_tlbi_walk w;
		struct arm64_tlbi_op op;

		/* Range forms where the CPU has them (a few per range), else one per page. */
		arm64_tlbi_walk_start(&w, b->ranges[i].start, b->ranges[i].pages, range);
		while (arm64_tlbi_walk_next(&w, &op))
			issue(&op, b->nonleaf, asid);
	}
	dsb(ish); /* every CPU has completed the TLBIs */
	isb();	  /* and this one refetches through the new tables */
}
