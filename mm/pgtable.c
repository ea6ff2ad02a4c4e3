/* The generic page-table code: one door for entry writes, a 4-level walker, map/unmap/protect. */
#include <kernel/irq.h>
#include <kernel/spinlock.h>
#include <kernel/task.h>
#include <lib/errno.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#include "internal.h"

struct mm_struct init_mm = {
	.name = "init_mm",
	.page_table_lock = __SPIN_LOCK_UNLOCKED("init_mm.page_table_lock"),
};

static pte_t *table_at(phys_addr_t pa)
{
	return phys_to_virt(pa);
}

/*
 * The batch an update of mm may defer into: the current task's while its lazy MMU section is
 * active and the batched backend is selected; otherwise NULL, and the update completes at
 * once. Interrupt handlers never defer into the task's batch (is_lazy_mmu_mode_active() is
 * false in interrupt context), so an interrupt can't tear a half-queued range.
 */
static struct tlb_batch *deferring_batch(struct mm_struct *mm)
{
	struct tlb_batch *b = &current->tlb_batch;

	if (lazy_mmu_get_backend() != LAZY_MMU_BATCHED || !is_lazy_mmu_mode_active())
		return NULL;
	/*
	 * One batch holds one mm's invalidations (its ASID/PCID and its CPUs): a section that
	 * moves on to another mm's tables - fork writes the parent's and the child's -
	 * completes the first mm's batch before queueing for the next.
	 */
	if (b->queued && tlb_batch_mm(b) != mm)
		tlb_batch_flush(b);
	b->mm = mm;
	return b;
}

/*
 * A make: va (aligned to its level) is about to become valid over an empty entry. The rule
 * (docs/memory.md): no context may make a page valid again while an earlier change of the
 * same page still waits in a batch. The TLB may still hold the translation that earlier
 * change removed; once the new entry is written, nothing would tell a reader which one it
 * gets - and on arm64 two valid translations of one VA at once is exactly what
 * break-before-make forbids.
 *
 *   own:  the batch this update defers into. Only a break-before-make arch must complete
 *         it first; elsewhere the pending invalidation simply lands at the flush, and the
 *         section's own code is not promised its updates before then.
 *   else: not deferring, so this update must take effect at once - and the batch that may
 *         owe an invalidation of va is the current task's: in an interrupt handler, it is
 *         the batch of the task we interrupted (a task's batch is never drained behind its
 *         back, so we invalidate va alone, now). Outside interrupts a non-deferring task's
 *         own batch is always empty (pause, leave and a backend switch drain it).
 *   other CPUs: a batch there may owe an invalidation of va too, and we can't look inside
 *         it; if any batch but ours is pending for mm (tlb_flush_pending), va is invalidated
 *         now, on every CPU. (A task's batch is drained when it is switched out, so only
 *         tasks running right now on other CPUs can have one.)
 * For a run of `pages` makes from va (map_pages()), once for the whole run; invalidating
 * a page nobody owed is harmless, and only one flush is issued either way.
 */
static void complete_earlier_change(struct mm_struct *mm, struct tlb_batch *own, unsigned long va,
				    unsigned long pages, bool nonleaf)
{
	struct tlb_batch *mine = &current->tlb_batch, now;
	bool mine_owes = !own && tlb_batch_mm(mine) == mm && tlb_batch_overlaps(mine, va, pages);

	if (own && arch_has_break_before_make() && tlb_batch_overlaps(own, va, pages)) {
		count_tlb_event(bbm_flushes);
		tlb_batch_flush(own);
		own->mm = mm;
	}
	if (mine_owes || tlb_batch_owed_elsewhere(mine, mm)) {
		tlb_batch_init(&now);
		now.mm = mm;
		for (unsigned long i = 0; i < pages; i++)
			tlb_batch_add(&now, va + i * PAGE_SIZE);
		now.nonleaf = nonleaf;
		count_tlb_event(queued_make_flushes);
		tlb_batch_flush(&now);
	}
}

/*
 * Writes one entry at any level and performs or queues its maintenance:
 *   - a valid entry replaced by anything different: its translation may be cached, so the
 *     page is invalidated (and, for a table entry, the walk caches too);
 *   - a new valid entry on an arch where the walker may not see plain stores in time
 *     (arm64): a publishing barrier;
 *   - break-before-make: where the arch requires it, a valid entry whose output changes is
 *     first cleared and invalidated;
 *   - a valid entry is never made while an earlier change of the same page still waits in
 *     a batch (complete_earlier_change()).
 * The caller holds mm->page_table_lock (so interrupts are off: nothing else on this CPU
 * can run between the entry store and the batch update).
 */
void entry_update(struct mm_struct *mm, unsigned long va, pte_t *ptep, pte_t pte, int level)
{
	struct tlb_batch *batch, now;
	struct tlb_batch *b = &now;
	pte_t old = READ_ONCE(*ptep);

	if (unlikely(this_cpu()->pt_floor)) {
		/* The benchmark floor: the bare store (see pgtable_floor_begin()). */
		WRITE_ONCE(*ptep, pte);
		count_tlb_event(pte_writes);
		return;
	}
	/* Not deferring: a batch of one on the stack, drained before returning. */
	batch = deferring_batch(mm);
	if (batch) {
		b = batch;
	} else {
		tlb_batch_init(&now);
		now.mm = mm;
	}
	va = ALIGN_DOWN(va, LEVEL_SIZE(level));

	if (arch_pte_needs_bbm(old, pte)) {
		/* Break: the old translation must be gone everywhere before the new one exists. */
		WRITE_ONCE(*ptep, __pte(0));
		count_tlb_event(pte_writes);
		tlb_batch_add(b, va);
		if (level > 0)
			b->nonleaf = true;
		if (batch)
			count_tlb_event(bbm_flushes);
		tlb_batch_flush(b);
		b->mm = mm; /* the flush emptied it; what follows is still mm's */
		old = __pte(0);
	} else if (pte_present(pte) && !pte_present(old)) {
		/*
		 * (A valid old entry whose page is queued kept its frame since the last flush -
		 * a frame change takes the break path above - so a permission change over it
		 * needs no flush.)
		 */
		complete_earlier_change(mm, batch, va, 1, level > 0);
	}

	WRITE_ONCE(*ptep, pte);
	count_tlb_event(pte_writes);
	if (pte_present(old) && pte_val(old) != pte_val(pte)) {
		tlb_batch_add(b, va);
		if (level > 0)
			b->nonleaf = true;
		if (batch)
			tlb_batch_note_pending(batch);
	}
	if (arch_pte_needs_sync(pte))
		tlb_batch_need_sync(b);
	if (!batch)
		tlb_batch_flush(b);
}

void pte_update(struct mm_struct *mm, unsigned long va, pte_t *ptep, pte_t pte)
{
	unsigned long flags;

	if (spin_held_here(&mm->page_table_lock)) {
		entry_update(mm, va, ptep, pte, 0);
		return;
	}
	spin_lock_irqsave(&mm->page_table_lock, flags);
	entry_update(mm, va, ptep, pte, 0);
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
}

/*
 * Table pages the floor unlinked, per CPU (the floor is on for one CPU, interrupts off):
 * not the task's batch, whose own flush at the end of the floor's map/unmap call would run
 * inside the floor. Marked flush_all so that even a list that fills up mid-floor frees
 * nothing before a full flush.
 */
static struct tlb_batch floor_frees[NR_CPUS];

static void floor_free_table(phys_addr_t pa)
{
	struct tlb_batch *f = &floor_frees[this_cpu()->id];

	tlb_batch_need_flush_all(f);
	tlb_batch_free_table(f, pa);
}

void pgtable_floor_begin(void)
{
	WARN_ONCE(!irqs_disabled(), "pgtable_floor_begin() with interrupts on");
	this_cpu()->pt_floor = true;
}

/*
 * The floor skipped every invalidation and barrier, so the TLB may disagree with the tables:
 * one full flush (which also publishes new entries: its dsb on arm64) puts that right, and
 * only after it are the table pages the floor unlinked freed.
 */
void pgtable_floor_end(void)
{
	struct tlb_batch *f = &floor_frees[this_cpu()->id];

	this_cpu()->pt_floor = false;
	tlb_batch_need_flush_all(f);
	tlb_batch_flush(f);
}

/*
 * A page-table page that is no longer linked may be reused only after the invalidation of
 * the entry that linked it: at once when the update completed eagerly, else at the flush.
 */
static void free_table_after_flush(struct mm_struct *mm, phys_addr_t pa)
{
	struct tlb_batch *batch = deferring_batch(mm);

	if (unlikely(this_cpu()->pt_floor)) {
		floor_free_table(pa);
		return;
	}
	if (batch) {
		tlb_batch_free_table(batch, pa); /* may flush first, when its list is full */
		batch->mm = mm;
	} else
		free_frame(pa);
}

/* The leaf slot for va; with alloc, missing tables are created (-ENOMEM when out of frames). */
pte_t *walk(struct mm_struct *mm, unsigned long va, bool alloc, int *err)
{
	pte_t *table = table_at(mm->pgd);

	for (int level = PGTABLE_LEVELS - 1; level > 0; level--) {
		pte_t *slot = &table[pt_index(va, level)];
		pte_t e = READ_ONCE(*slot);

		if (pte_none(e)) {
			phys_addr_t pa;

			if (!alloc)
				return NULL;
			pa = alloc_frame();
			if (!pa) {
				*err = -ENOMEM;
				return NULL;
			}
			/* alloc_frame() zeroed it: the walker finds only empty entries below. */
			e = mk_table_entry(pa);
			entry_update(mm, va, slot, e, level);
		}
		table = table_at(pte_table_pa(e));
	}
	return &table[pt_index(va, 0)];
}

pte_t *pte_lookup(struct mm_struct *mm, unsigned long va)
{
	return walk(mm, va, false, NULL);
}

static bool table_empty(const pte_t *table)
{
	for (unsigned int i = 0; i < PTRS_PER_TABLE; i++)
		if (!pte_none(READ_ONCE(table[i])))
			return false;
	return true;
}

/*
 * An arch whose root entries of the kernel half are shared by every address space (x86-64:
 * each mm's root holds copies of init_mm's, made once) keeps the tables they point at for
 * ever: unlinking one from init_mm would leave every copy pointing at a freed page.
 */
#ifndef arch_pgd_entry_pinned
static inline bool arch_pgd_entry_pinned(unsigned long va)
{
	(void)va;
	return false;
}
#endif

/*
 * Unlinks and frees every table below `table` (an entry array at `level`, covering VAs from
 * `base`) that is empty and lies in [start, end). The caller decides about `table` itself.
 */
static void prune(struct mm_struct *mm, pte_t *table, int level, unsigned long base,
		  unsigned long start, unsigned long end)
{
	unsigned long size = LEVEL_SIZE(level);
	unsigned long first = start > base ? (start - base) / size : 0;

	for (unsigned long i = first; i < PTRS_PER_TABLE; i++) {
		unsigned long va = base + i * size;
		pte_t e = READ_ONCE(table[i]);
		pte_t *child;

		if (va >= end)
			break;
		if (level == 0 || pte_none(e))
			continue;
		child = table_at(pte_table_pa(e));
		prune(mm, child, level - 1, va, start, end);
		if (level == PGTABLE_LEVELS - 1 && arch_pgd_entry_pinned(va))
			continue;
		if (table_empty(child)) {
			entry_update(mm, va, &table[i], __pte(0), level);
			free_table_after_flush(mm, pte_table_pa(e));
		}
	}
}

/*
 * Nobody can hold a translation of an mm that no CPU has loaded, nor be walking its tables:
 * so no invalidation, no barrier per entry (mm_publish() issues one for all), no lock
 * needed beyond the caller's.
 */
pte_t *walk_unloaded(struct mm_struct *mm, unsigned long va, int *err)
{
	pte_t *table = table_at(mm->pgd);

	for (int level = PGTABLE_LEVELS - 1; level > 0; level--) {
		pte_t *slot = &table[pt_index(va, level)];
		pte_t e = READ_ONCE(*slot);

		if (pte_none(e)) {
			phys_addr_t pa = alloc_frame();

			if (!pa) {
				*err = -ENOMEM;
				return NULL;
			}
			e = mk_table_entry(pa);
			WRITE_ONCE(*slot, e);
			count_tlb_event(pte_writes);
		}
		table = table_at(pte_table_pa(e));
	}
	return &table[pt_index(va, 0)];
}

/* walk_leaves() below one table entry array at `level`, covering VAs from `base`. */
static int walk_leaves_below(struct mm_struct *mm, pte_t *table, int level, unsigned long base,
			     unsigned long start, unsigned long end, leaf_fn fn, void *arg)
{
	unsigned long size = LEVEL_SIZE(level);
	unsigned long first = start > base ? (start - base) / size : 0;

	for (unsigned long i = first; i < PTRS_PER_TABLE; i++) {
		unsigned long va = base + i * size;
		pte_t e = READ_ONCE(table[i]);
		int ret;

		if (va >= end)
			break;
		if (pte_none(e))
			continue;
		if (level == 0)
			ret = fn(mm, va, &table[i], arg);
		else
			ret = walk_leaves_below(mm, table_at(pte_table_pa(e)), level - 1, va, start,
						end, fn, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int walk_leaves(struct mm_struct *mm, unsigned long start, unsigned long end, leaf_fn fn, void *arg)
{
	return walk_leaves_below(mm, table_at(mm->pgd), PGTABLE_LEVELS - 1, 0, start, end, fn, arg);
}

/* Valid user-supplied range: page aligned, non-empty, inside the low canonical half. */

/*
* The VA bits above those the tables translate (bits 63:48), all 0 in the low half and all
 * 1 in the high half: where a range lies in the 64-bit space, which the walk's indexes
 * (bits 47:12) can't tell.
 */
static unsigned long half_base(unsigned long va)
{
	return va & ~(LEVEL_SIZE(PGTABLE_LEVELS) - 1);
}

/*
 * How much of each half the tables translate. An arch may translate less than 2^48
 * (<asm/pgtable.h>: VA_HALF_BITS; x86-64: 47, the rest is not canonical - the CPU refuses
 * it, and a walk would wrongly index it like its low 48 bits).
 */
#ifdef VA_HALF_BITS
#define VA_HALF_SIZE (1UL << VA_HALF_BITS)
#else
#define VA_HALF_SIZE LEVEL_SIZE(PGTABLE_LEVELS)
#endif

/*
 * Valid range: page aligned, non-empty, inside one half: [0, VA_HALF_SIZE) or
 * [2^64 - VA_HALF_SIZE, 2^64). The last leaf table's span of the high half (the top 2 MiB)
 * is excluded: the walks step a leaf table at a time, and the step past it would wrap to 0.
 */
static bool range_ok(unsigned long va, unsigned long npages)
{
	unsigned long end;

	if (va < VA_HALF_SIZE)
		end = VA_HALF_SIZE;
	else if (va >= 0 - VA_HALF_SIZE)
		end = 0 - LEVEL_SIZE(1);
	else
		return false; /* between the halves: no table translates it */
	return IS_ALIGNED(va, PAGE_SIZE) && npages > 0 && va < end &&
	       npages <= (end - va) / PAGE_SIZE;
}

/* Counts the pages in [va, va + npages) that have an entry (pte_none() false). */
static unsigned long count_mapped(struct mm_struct *mm, unsigned long va, unsigned long npages)
{
	unsigned long n = 0, end = va + npages * PAGE_SIZE;

	while (va < end) {
		/* One walk per leaf table, then step through its entries. */
		unsigned long next = MIN(ALIGN_DOWN(va, LEVEL_SIZE(1)) + LEVEL_SIZE(1), end);
		pte_t *ptep = pte_lookup(mm, va);

		for (; va < next; va += PAGE_SIZE, ptep = ptep ? ptep + 1 : NULL)
			if (ptep && !pte_none(READ_ONCE(*ptep)))
				n++;
	}
	return n;
}

/* Clears the leaf entries of [va, va + npages) that exist, then frees emptied tables. */
static void clear_range(struct mm_struct *mm, unsigned long va, unsigned long npages)
{
	unsigned long start = va, end = va + npages * PAGE_SIZE;

	while (va < end) {
		unsigned long next = MIN(ALIGN_DOWN(va, LEVEL_SIZE(1)) + LEVEL_SIZE(1), end);
		pte_t *ptep = pte_lookup(mm, va);

		for (; va < next; va += PAGE_SIZE, ptep = ptep ? ptep + 1 : NULL)
			if (ptep && !pte_none(READ_ONCE(*ptep)))
				entry_update(mm, va, ptep, __pte(0), 0);
	}
	prune_range(mm, start, end);
}

void prune_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	prune(mm, table_at(mm->pgd), PGTABLE_LEVELS - 1, half_base(start), start, end);
}

/*
 * n makes at once, for map_pages(): every entry of ptep[0..n) is empty (checked under the
 * lock) and becomes valid, pages of consecutive frames, inside this call's own section.
 * The bookkeeping entry_update() does per entry is done once here, as Linux's set_ptes()
 * does for a run of entries:
 *   - the make rule (complete_earlier_change()) once for the whole run;
 *   - no invalidation (nothing was valid), one publishing mark for all (arm64), one counter
 *     add for all the stores.
 * Only while deferring into our own batch, or for the floor (batch NULL, no maintenance):
 * eagerly, each make must complete on its own, as entry_update() does it.
 */
static void make_ptes(struct mm_struct *mm, struct tlb_batch *batch, unsigned long va, pte_t *ptep,
		      phys_addr_t pa, pgprot_t prot, unsigned long n)
{
	if (batch)
		complete_earlier_change(mm, batch, va, n, false);
	if (batch && arch_pte_needs_sync(mk_pte(pa, prot)))
		tlb_batch_need_sync(batch);
	for (unsigned long i = 0; i < n; i++, pa += PAGE_SIZE)
		WRITE_ONCE(ptep[i], mk_pte(pa, prot));
	count_tlb_events(pte_writes, n);
}

/*
 * map_pages(), unmap_pages() and protect_pages() each hold mm->page_table_lock, with
 * interrupts off, from their check of the range to the end of their section's flush:
 *
 *  - check-then-act: "is every page of the range mapped?" (count_mapped()) and "is this
 *    table empty?" (prune()) are only true while nobody else can change the tables;
 *  - interrupt handlers update page tables too (they take the same lock), so a handler
 *    that ran between a check and its act on this CPU would make the check a lie. Masking
 *    interrupts for the walk is what makes the lock safe to take in a handler at all (a
 *    handler spinning on a lock its own CPU holds would wait forever);
 *  - the flush at lazy_mmu_mode_disable() happens under the lock, as Linux leaves its
 *    lazy section before pte_unmap_unlock(): once the lock is dropped, the next holder
 *    finds the tables and every TLB in agreement for this call's pages.
 *
 * The cost is interrupt latency: one call of 4096 pages keeps the tick waiting for its
 * walk (tens of microseconds under TCG). A long walk could drop the lock between leaf
 * tables; these calls promise all-or-nothing, so they don't.
 */
int map_pages(struct mm_struct *mm, unsigned long va, phys_addr_t pa, unsigned long npages,
	      pgprot_t prot)
{
	unsigned long start = va, end = va + npages * PAGE_SIZE, flags;
	struct tlb_batch *batch;
	bool floor;
	int err = 0;

	if (!range_ok(va, npages) || !IS_ALIGNED(pa, PAGE_SIZE))
		return -EINVAL;
	spin_lock_irqsave(&mm->page_table_lock, flags);
	if (count_mapped(mm, va, npages)) {
		spin_unlock_irqrestore(&mm->page_table_lock, flags);
		return -EEXIST; /* overlapping: nothing is changed */
	}

	lazy_mmu_mode_enable();
	/* Fixed for the whole walk: the lock keeps interrupts (and so any switch) out. */
	batch = deferring_batch(mm);
	floor = this_cpu()->pt_floor;
	while (va < end && !err) {
		unsigned long next = MIN(ALIGN_DOWN(va, LEVEL_SIZE(1)) + LEVEL_SIZE(1), end);
		unsigned long n = (next - va) / PAGE_SIZE;
		pte_t *ptep = walk(mm, va, true, &err);

		if (!ptep)
			break;
		if (batch || floor) {
			make_ptes(mm, floor ? NULL : batch, va, ptep, pa, prot, n);
		} else {
			for (unsigned long i = 0; i < n; i++)
				entry_update(mm, va + i * PAGE_SIZE, ptep + i,
					     mk_pte(pa + i * PAGE_SIZE, prot), 0);
		}
		va = next;
		pa += n * PAGE_SIZE;
	}
	if (err) {
		/* Out of frames part-way: undo the pages mapped so far and every table made. */
		clear_range(mm, start, npages);
	}
	lazy_mmu_mode_disable();
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return err;
}

int unmap_pages(struct mm_struct *mm, unsigned long va, unsigned long npages)
{
	unsigned long flags;

	if (!range_ok(va, npages))
		return -EINVAL;
	spin_lock_irqsave(&mm->page_table_lock, flags);
	if (count_mapped(mm, va, npages) != npages) {
		spin_unlock_irqrestore(&mm->page_table_lock, flags);
		return -ENOENT; /* a hole in the range: nothing is changed */
	}

	lazy_mmu_mode_enable();
	clear_range(mm, va, npages);
	lazy_mmu_mode_disable();
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return 0;
}

int protect_pages(struct mm_struct *mm, unsigned long va, unsigned long npages, pgprot_t prot)
{
	unsigned long end = va + npages * PAGE_SIZE, flags;

	if (!range_ok(va, npages))
		return -EINVAL;
	spin_lock_irqsave(&mm->page_table_lock, flags);
	if (count_mapped(mm, va, npages) != npages) {
		spin_unlock_irqrestore(&mm->page_table_lock, flags);
		return -ENOENT;
	}

	lazy_mmu_mode_enable();
	while (va < end) {
		unsigned long next = MIN(ALIGN_DOWN(va, LEVEL_SIZE(1)) + LEVEL_SIZE(1), end);
		pte_t *ptep = pte_lookup(mm, va);

		for (; va < next; va += PAGE_SIZE, ptep++)
			entry_update(mm, va, ptep, mk_pte(pte_pa(READ_ONCE(*ptep)), prot), 0);
	}
	lazy_mmu_mode_disable();
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return 0;
}

/* Under the lock: an unmap elsewhere could free a table this walk is reading. */
int query_page(struct mm_struct *mm, unsigned long va, phys_addr_t *pa, pgprot_t *prot)
{
	unsigned long flags;
	pte_t *ptep;
	pte_t pte = __pte(0);

	spin_lock_irqsave(&mm->page_table_lock, flags);
	ptep = pte_lookup(mm, va);
	if (ptep)
		pte = READ_ONCE(*ptep);
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	if (pte_none(pte))
		return -ENOENT;
	*pa = pte_pa(pte) + (va & ~PAGE_MASK);
	*prot = pte_pgprot(pte);
	return 0;
}

/* Hands out test areas; the lock makes "read next, advance it" one step on every CPU. */
static DEFINE_SPINLOCK(test_area_lock);

unsigned long vm_test_area(unsigned long npages)
{
	static unsigned long next = VM_TEST_START; /* protected by test_area_lock */
	unsigned long va, end, flags;

	/*
	 * Each area starts on its own leaf table (2 MiB) with an unmapped gap before the next,
	 * so tests see their own tables come and go and an overrun faults. An area that does
	 * not fit leaves `next` alone, so a smaller request may still succeed.
	 */
	spin_lock_irqsave(&test_area_lock, flags);
	va = next;
	end = ALIGN_UP(va + (npages + 1) * PAGE_SIZE, LEVEL_SIZE(1));
	if (npages >= (VM_TEST_END - va) / PAGE_SIZE || end > VM_TEST_END || end < va)
		va = 0;
	else
		next = end;
	spin_unlock_irqrestore(&test_area_lock, flags);
	return va;
}
