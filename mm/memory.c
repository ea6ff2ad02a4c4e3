/*
 * The page-table loops of user address spaces, where Linux opens its lazy MMU sections:
 *
 *   zap_range_locked()         munmap, MAP_FIXED, exit  (Linux: zap_pte_range())
 *   change_protection_locked() mprotect                 (Linux: change_pte_range())
 *   dup_mm()                   fork, copy-on-write      (Linux: copy_pte_range())
 *
 * Each runs its whole loop in one section, so its invalidations leave as one batch at
 * lazy_mmu_mode_disable(), and each frees what it unmapped only after that flush (the
 * mmu_gather rule: a CPU may still hold a translation of the frame until then). And the
 * fault handler, which fills pages in on demand and breaks copy-on-write.
 */
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <kernel/task.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>
#include <mm/user.h>
#include <kernel/uapi.h>
#include "internal.h"
#include "user_internal.h"

struct user_fault_stats user_fault_stats;

/* ------------------------------------------------------------------ the gather */

/*
 * Frames unmapped inside a section wait here for its flush (Linux's mmu_gather batches of
 * pages). Up to GATHER_LIST_FRAMES pages of addresses, taken from the frame allocator as
 * needed, so one munmap of 4096 pages is one flush; when the list can't grow, the section's
 * batch is flushed early and the frames go, and gathering starts again.
 */
#define GATHER_LIST_FRAMES 8
#define GATHER_PER_FRAME   (PAGE_SIZE / sizeof(phys_addr_t))

struct mmu_gather {
	phys_addr_t *lists[GATHER_LIST_FRAMES];
	unsigned int nr_lists;
	unsigned long nr;     /* frames gathered */
	phys_addr_t local[8]; /* used while no list frame could be had */
	unsigned int nr_local;
};

static void gather_release(struct mmu_gather *g)
{
	for (unsigned long i = 0; i < g->nr; i++)
		frame_put(g->lists[i / GATHER_PER_FRAME][i % GATHER_PER_FRAME]);
	for (unsigned int i = 0; i < g->nr_local; i++)
		frame_put(g->local[i]);
	g->nr = 0;
	g->nr_local = 0;
}

/* Everything gathered so far: flush the section's batch now, then free. */
static void gather_flush(struct mmu_gather *g)
{
	tlb_batch_flush(&current->tlb_batch);
	gather_release(g);
}

static void gather_add(struct mmu_gather *g, phys_addr_t pa)
{
	unsigned long cap = g->nr_lists * GATHER_PER_FRAME;

	if (g->nr == cap && g->nr_lists < GATHER_LIST_FRAMES) {
		phys_addr_t list = alloc_frame();

		if (list) {
			g->lists[g->nr_lists++] = phys_to_virt(list);
			cap += GATHER_PER_FRAME;
		}
	}
	if (g->nr < cap) {
		g->lists[g->nr / GATHER_PER_FRAME][g->nr % GATHER_PER_FRAME] = pa;
		g->nr++;
		return;
	}
	if (g->nr_local == ARRAY_SIZE(g->local))
		gather_flush(g);
	g->local[g->nr_local++] = pa;
}

/* After the section's flush: free the frames, then the lists. */
static void gather_finish(struct mmu_gather *g)
{
	gather_release(g);
	for (unsigned int i = 0; i < g->nr_lists; i++)
		free_frame(virt_to_phys(g->lists[i]));
	g->nr_lists = 0;
}

/* ------------------------------------------------------------------ tracing */

/*
 * With the lazy MMU trace on (console `trace on`, `demo fork`), each user section adds one
 * line saying what it did and what its flush cost: the counters of every CPU before and
 * after. Nothing is read while the trace is off.
 */
struct section_trace {
	bool on;
	struct tlb_stats before;
};

static void section_begin(struct section_trace *t)
{
	t->on = lazy_mmu_trace_enabled();
	if (t->on)
		tlb_stats_read(&t->before);
}

static void section_end(const struct section_trace *t, const char *linux_name, const char *what,
			struct mm_struct *mm, unsigned long entries)
{
	struct tlb_stats after;

	if (!t->on)
		return;
	tlb_stats_read(&after);
	lazy_mmu_trace_note("user: %-17s %s %s: %lu entries; flush: batches=%llu tlbi_page=%llu "
			    "tlbi_range=%llu tlbi_all=%llu ipis=%llu",
			    linux_name, mm->name, what, entries,
			    (unsigned long long)(after.batches - t->before.batches),
			    (unsigned long long)(after.tlbi_page - t->before.tlbi_page),
			    (unsigned long long)(after.tlbi_range - t->before.tlbi_range),
			    (unsigned long long)(after.tlbi_all - t->before.tlbi_all),
			    (unsigned long long)(after.ipis_sent - t->before.ipis_sent));
}

/* ------------------------------------------------------------------ zap and mprotect */

static int zap_one(struct mm_struct *mm, unsigned long va, pte_t *ptep, void *arg)
{
	phys_addr_t pa = pte_pa(READ_ONCE(*ptep));

	entry_update(mm, va, ptep, __pte(0), 0);
	gather_add(arg, pa);
	return 0;
}

void zap_range_locked(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_gather g = { .nr = 0 };
	struct section_trace t;
	unsigned long entries;

	section_begin(&t);
	lazy_mmu_mode_enable();
	walk_leaves(mm, start, end, zap_one, &g);
	prune_range(mm, start, end);
	lazy_mmu_mode_disable(); /* the flush: only now may the frames be reused */
	entries = g.nr + g.nr_local;
	gather_finish(&g);
	section_end(&t, "zap_pte_range", "unmap", mm, entries);
}

/*
 * The entry a present page of vma should have: the VMA's protection, except that a page
 * still shared copy-on-write stays read-only until its write fault copies it.
 */
static pte_t user_pte(const struct vm_area *vma, phys_addr_t pa)
{
	unsigned int prot = vma->prot;

	if ((prot & PROT_WRITE) && frame_sharers(pa) > 1)
		prot &= ~PROT_WRITE;
	return mk_pte(pa, vm_get_page_prot(prot));
}

static int protect_one(struct mm_struct *mm, unsigned long va, pte_t *ptep, void *arg)
{
	const struct vm_area *vma = vma_find(&mm->vmas, va);

	entry_update(mm, va, ptep, user_pte(vma, pte_pa(READ_ONCE(*ptep))), 0);
	(*(unsigned long *)arg)++;
	return 0;
}

void change_protection_locked(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct section_trace t;
	unsigned long entries = 0;

	section_begin(&t);
	lazy_mmu_mode_enable();
	walk_leaves(mm, start, end, protect_one, &entries);
	lazy_mmu_mode_disable();
	section_end(&t, "change_pte_range", "mprotect", mm, entries);
}

void exit_mmap(struct mm_struct *mm)
{
	unsigned long flags;

	spin_lock_irqsave(&mm->page_table_lock, flags);
	zap_range_locked(mm, 0, TASK_SIZE);
	vm_uncommit(vma_pages(&mm->vmas));
	mm->vmas.nr = 0;
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
}

static int count_one(struct mm_struct *mm, unsigned long va, pte_t *ptep, void *arg)
{
	(void)mm, (void)va, (void)ptep;
	(*(unsigned long *)arg)++;
	return 0;
}

unsigned long mm_user_pages(struct mm_struct *mm)
{
	unsigned long n = 0, flags;

	spin_lock_irqsave(&mm->page_table_lock, flags);
	walk_leaves(mm, 0, TASK_SIZE, count_one, &n);
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return n;
}

/* ------------------------------------------------------------------ faults */

static bool vma_allows(const struct vm_area *vma, unsigned int access)
{
	if (access & FAULT_WRITE)
		return vma->prot & PROT_WRITE;
	if (access & FAULT_EXEC)
		return vma->prot & PROT_EXEC;
	/* Reads: both arches let any accessible page be read (x86 has no write-only). */
	return vma->prot != PROT_NONE;
}

/*
 * The page at va made ready for access, under the lock; returns its entry's slot. Three
 * cases, as Linux's handle_pte_fault():
 *   - no entry: a demand-zero page (do_anonymous_page());
 *   - a write to a page shared copy-on-write: copy it to a frame of our own (wp_page_copy())
 *     - or, when nobody shares it any more, just make it writable (wp_page_reuse());
 *   - otherwise the entry is brought in line with the VMA (a stale TLB entry, or a page
 *     that became writable since), which costs at most one invalidation.
 * Not inside a lazy MMU section: every update here completes before the access retries.
 */
static pte_t *fault_locked(struct mm_struct *mm, unsigned long va, unsigned int access, int *err)
{
	const struct vm_area *vma = vma_find(&mm->vmas, va);
	pte_t *ptep, pte;
	phys_addr_t pa, copy;

	*err = 0;
	if (!vma || !vma_allows(vma, access)) {
		*err = -EFAULT;
		return NULL;
	}
	va &= PAGE_MASK;
	ptep = walk(mm, va, true, err);
	if (!ptep)
		return NULL;
	pte = READ_ONCE(*ptep);
	if (pte_none(pte)) {
		pa = alloc_frame(); /* zeroed */
		if (!pa) {
			*err = -ENOMEM;
			return NULL;
		}
		entry_update(mm, va, ptep, mk_pte(pa, vm_get_page_prot(vma->prot)), 0);
		__atomic_fetch_add(&user_fault_stats.demand_zero, 1, __ATOMIC_RELAXED);
		return ptep;
	}
	pa = pte_pa(pte);
	if ((access & FAULT_WRITE) && frame_sharers(pa) > 1) {
		copy = alloc_frame();
		if (!copy) {
			*err = -ENOMEM;
			return NULL;
		}
		memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE);
		/* A new frame under a valid entry: break-before-make where the arch needs it. */
		entry_update(mm, va, ptep, mk_pte(copy, vm_get_page_prot(vma->prot)), 0);
		/* entry_update() completed its flush (no section is open): the old frame is free. */
		frame_put(pa);
		__atomic_fetch_add(&user_fault_stats.cow_copies, 1, __ATOMIC_RELAXED);
		lazy_mmu_trace_note(
		    "user: %-17s %s write fault at %#lx: copy-on-write, a new frame",
		    "wp_page_copy", mm->name, va);
		return ptep;
	}
	if ((access & FAULT_WRITE) && pte_val(pte) != pte_val(user_pte(vma, pa))) {
		__atomic_fetch_add(&user_fault_stats.cow_reuses, 1, __ATOMIC_RELAXED);
		lazy_mmu_trace_note("user: %-17s %s write fault at %#lx: no other owner, made "
				    "writable in place",
				    "wp_page_reuse", mm->name, va);
	}
	entry_update(mm, va, ptep, user_pte(vma, pa), 0);
	return ptep;
}

int handle_mm_fault(struct mm_struct *mm, unsigned long addr, unsigned int access)
{
	unsigned long flags;
	int err;

	if (addr >= TASK_SIZE)
		return -EFAULT;
	WARN_ONCE(is_lazy_mmu_mode_active(), "user fault inside a lazy MMU section");
	spin_lock_irqsave(&mm->page_table_lock, flags);
	fault_locked(mm, addr, access, &err);
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return err;
}

/* ------------------------------------------------------------------ copying user memory */

/*
 * Through the linear map, page by page, under the lock: the kernel never dereferences a user
 * address, so it can't fault on one, and the copy works for any mm, loaded or not. Each page
 * is made ready as the user's own access would (a write breaks copy-on-write first).
 */
static int copy_user(struct mm_struct *mm, unsigned long uaddr, void *kbuf, size_t n, bool to_user)
{
	unsigned char *k = kbuf;

	if (uaddr >= TASK_SIZE || n > TASK_SIZE - uaddr)
		return -EFAULT;
	while (n) {
		size_t off = uaddr & ~PAGE_MASK, chunk = MIN(n, PAGE_SIZE - off);
		unsigned long flags;
		unsigned char *page;
		pte_t *ptep;
		int err;

		spin_lock_irqsave(&mm->page_table_lock, flags);
		ptep = fault_locked(mm, uaddr, to_user ? FAULT_WRITE : FAULT_READ, &err);
		if (!ptep) {
			spin_unlock_irqrestore(&mm->page_table_lock, flags);
			return -EFAULT;
		}
		page = phys_to_virt(pte_pa(READ_ONCE(*ptep)));
		if (to_user)
			memcpy(page + off, k, chunk);
		else
			memcpy(k, page + off, chunk);
		spin_unlock_irqrestore(&mm->page_table_lock, flags);
		uaddr += chunk;
		k += chunk;
		n -= chunk;
	}
	return 0;
}

int copy_from_user_mm(struct mm_struct *mm, void *dst, unsigned long src, size_t n)
{
	return copy_user(mm, src, dst, n, false);
}

int copy_to_user_mm(struct mm_struct *mm, unsigned long dst, const void *src, size_t n)
{
	return copy_user(mm, dst, (void *)src, n, true);
}

/* ------------------------------------------------------------------ fork */

struct dup_ctx {
	struct mm_struct *child;
	int err;
	unsigned long entries;
};

/*
 * One present (or PROT_NONE) page of the parent: shared with the child, both read-only if
 * the VMA is writable. The parent's entry goes through the one door and so into this
 * section's batch (its old writable translation may be cached); the child's is a plain
 * store into tables no CPU has loaded. A frame whose share count is full is copied instead.
 */
static int dup_one(struct mm_struct *mm, unsigned long va, pte_t *ptep, void *arg)
{
	struct dup_ctx *c = arg;
	const struct vm_area *vma = vma_find(&mm->vmas, va);
	unsigned int prot = vma->prot & ~PROT_WRITE;
	pte_t pte = READ_ONCE(*ptep), *cptep;
	phys_addr_t pa = pte_pa(pte);

	cptep = walk_unloaded(c->child, va, &c->err);
	if (!cptep)
		return c->err;
	c->entries++;
	if (frame_get(pa)) {
		phys_addr_t copy = alloc_frame();

		if (!copy)
			return c->err = -ENOMEM;
		memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE);
		WRITE_ONCE(*cptep, mk_pte(copy, vm_get_page_prot(vma->prot)));
		count_tlb_event(pte_writes);
		return 0;
	}
	WRITE_ONCE(*cptep, mk_pte(pa, vm_get_page_prot(prot)));
	count_tlb_event(pte_writes);
	if (pte_val(pte) != pte_val(mk_pte(pa, vm_get_page_prot(prot))))
		entry_update(mm, va, ptep, mk_pte(pa, vm_get_page_prot(prot)), 0);
	return 0;
}

int dup_mm(struct mm_struct *child, struct mm_struct *parent)
{
	struct dup_ctx c = { .child = child, .err = 0, .entries = 0 };
	struct section_trace t;
	unsigned long flags;
	char what[32];
	int err;

	spin_lock_irqsave(&parent->page_table_lock, flags);
	err = vm_commit(vma_pages(&parent->vmas));
	if (err) {
		spin_unlock_irqrestore(&parent->page_table_lock, flags);
		return err;
	}
	/* The child's lock too: mm_user_pages() or a test may look at it meanwhile. */
	spin_lock(&child->page_table_lock);
	child->vmas = parent->vmas;
	child->mmap_base = parent->mmap_base;
	section_begin(&t);
	lazy_mmu_mode_enable();
	err = walk_leaves(parent, 0, TASK_SIZE, dup_one, &c);
	lazy_mmu_mode_disable(); /* one flush for every entry the parent lost write access to */
	snprintf(what, sizeof(what), "fork -> %s", child->name);
	section_end(&t, "copy_pte_range", what, parent, c.entries);
	spin_unlock(&child->page_table_lock);
	spin_unlock_irqrestore(&parent->page_table_lock, flags);
	if (!err)
		mm_publish(child);
	return err; /* on error the caller's mmput(child) frees what was copied */
}

/* ------------------------------------------------------------------ the program loader */

void *mm_populate_page(struct mm_struct *mm, unsigned long va, unsigned int prot)
{
	unsigned long flags;
	phys_addr_t pa;
	pte_t *ptep;
	int err = 0;

	spin_lock_irqsave(&mm->page_table_lock, flags);
	ptep = walk_unloaded(mm, va, &err);
	pa = ptep && pte_none(READ_ONCE(*ptep)) ? alloc_frame() : 0;
	if (pa) {
		WRITE_ONCE(*ptep, mk_pte(pa, vm_get_page_prot(prot)));
		count_tlb_event(pte_writes);
	}
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return pa ? phys_to_virt(pa) : NULL;
}

/*
 * The plain stores into an unloaded mm's tables must be complete before any CPU's walker
 * reads them: one publishing barrier for all (arm64: dsb ishst; x86: stores are seen in
 * order, nothing). It goes through the batch so that the arch and the counters see it.
 */
void mm_publish(struct mm_struct *mm)
{
	struct tlb_batch b;

	tlb_batch_init(&b);
	b.mm = mm;
	tlb_batch_need_sync(&b);
	tlb_batch_flush(&b);
}
