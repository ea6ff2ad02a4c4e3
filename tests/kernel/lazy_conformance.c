/*
 * The lazy MMU conformance suite: what every backend must do, checked on real page tables
 * by touching memory and by reading the flush counters. Arch-neutral: both backends run it
 * unchanged.
 */
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/prng.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

#define NR_FRAMES 4
#define NR_OWNED  32 /* one frame per page for multi-page cases: map_owned() */

/* Each case gets frames whose first word is a tag, so a read shows which frame it hit. */
struct conf {
	phys_addr_t frame[NR_FRAMES];
	phys_addr_t owned[NR_OWNED]; /* tagged tag_of(OWNED_TAG + i) */
	unsigned long ceiling;
};

#define OWNED_TAG 100

static u64 tag_of(unsigned int i)
{
	return 0x7a6700000000ULL + i;
}

static int conf_init(struct kunit *test)
{
	static struct conf c;

	for (unsigned int i = 0; i < NR_FRAMES; i++) {
		c.frame[i] = alloc_frame();
		if (!c.frame[i])
			return -ENOMEM;
		*(u64 *)phys_to_virt(c.frame[i]) = tag_of(i);
	}
	for (unsigned int i = 0; i < NR_OWNED; i++) {
		c.owned[i] = alloc_frame();
		if (!c.owned[i])
			return -ENOMEM;
		*(u64 *)phys_to_virt(c.owned[i]) = tag_of(OWNED_TAG + i);
	}
	c.ceiling = tlb_flush_ceiling;
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	test->priv = &c;
	return 0;
}

static void conf_exit(struct kunit *test)
{
	struct conf *c = test->priv;

	tlb_flush_ceiling = c->ceiling;
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	for (unsigned int i = 0; i < NR_FRAMES; i++)
		free_frame(c->frame[i]);
	for (unsigned int i = 0; i < NR_OWNED; i++)
		free_frame(c->owned[i]);
}

/*
 * Maps page i of [va, va + n pages) to the case's own frame owned[i], one page per call (the
 * frames are not contiguous), and reads every page so its translation is cached: a later
 * change that is not invalidated then shows as a stale read.
 */
static void map_owned(struct kunit *test, const struct conf *c, unsigned long va, unsigned int n,
		      pgprot_t prot)
{
	KUNIT_ASSERT_LE(test, n, NR_OWNED);
	for (unsigned int i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + i * PAGE_SIZE, c->owned[i], 1, prot),
				0);
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), tag_of(OWNED_TAG + i));
	}
}

/* Writes every page of [va, va + n pages) (caching writable translations); true if all took. */
static bool all_writable(unsigned long va, unsigned int n)
{
	bool ok = true;

	for (unsigned int i = 0; i < n; i++)
		ok = kunit_can_write(va + i * PAGE_SIZE) && ok;
	return ok;
}

/* True if no page of [va, va + n pages) accepts a write. */
static bool none_writable(unsigned long va, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (kunit_can_write(va + i * PAGE_SIZE))
			return false;
	return true;
}

static struct tlb_stats stats(void)
{
	struct tlb_stats s;

	tlb_stats_read(&s);
	return s;
}

static u64 invalidations(const struct tlb_stats *s)
{
	return s->tlbi_page + s->tlbi_range + s->tlbi_all;
}

static void nested_disable_completes_each_call(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long va = vm_test_area(4);

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, c->frame[0], 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + PAGE_SIZE, c->frame[1], 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(va), tag_of(0));
	KUNIT_EXPECT_EQ(test, kunit_peek(va + PAGE_SIZE), tag_of(1));

	lazy_mmu_mode_enable();
	/* Each call opens and closes a nested section; its disable() flushes. */
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, 2, PAGE_KERNEL_RO), 0);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_FALSE(test, kunit_can_write(va));
	KUNIT_EXPECT_FALSE(test, kunit_can_write(va + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, kunit_peek(va), tag_of(0));

	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_EQ(test, kunit_peek(va), -1);
	KUNIT_EXPECT_EQ(test, kunit_peek(va + PAGE_SIZE), tag_of(1));

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, c->frame[2], 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(va), tag_of(2));
	KUNIT_EXPECT_TRUE(test, kunit_can_write(va));
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.enable_count, 1);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_FALSE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 2), 0);
}

static void paused_updates_take_effect_at_once(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long va = vm_test_area(8);
	struct tlb_stats s;
	pte_t *ptep;

	map_owned(test, c, va, 8, PAGE_KERNEL); /* every translation cached */
	ptep = pte_lookup(&init_mm, va);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_pause();
	KUNIT_EXPECT_FALSE(test, is_lazy_mmu_mode_active());
	tlb_stats_reset();
	for (unsigned int i = 0; i < 4; i++) {
		pte_update(&init_mm, va + i * PAGE_SIZE, ptep + i, __pte(0));
		/* Each change is already in effect: the counters and the memory say so. */
		s = stats();
		KUNIT_EXPECT_EQ(test, invalidations(&s), i + 1);
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), -1);
	}
	kunit_info(test, "paused, depth 2: 4 clears -> %llu invalidations in %llu batches",
		   (unsigned long long)invalidations(&s), (unsigned long long)s.batches);
	lazy_mmu_mode_resume();
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.enable_count, 2);
	/* Batching again, at the same depth: nothing is issued until a disable(). */
	tlb_stats_reset();
	for (unsigned int i = 4; i < 8; i++)
		pte_update(&init_mm, va + i * PAGE_SIZE, ptep + i, __pte(0));
	s = stats();
	KUNIT_EXPECT_EQ(test, invalidations(&s), 0);
	kunit_info(test, "resumed, depth 2: 4 clears -> %llu invalidations before disable()",
		   (unsigned long long)invalidations(&s));
	lazy_mmu_mode_disable();
	s = stats();
	KUNIT_EXPECT_GE(test, invalidations(&s), 1);
	KUNIT_EXPECT_EQ(test, s.batches, 1);
	kunit_info(test, "nested disable(): %llu page + %llu range + %llu full in %llu batch",
		   (unsigned long long)s.tlbi_page, (unsigned long long)s.tlbi_range,
		   (unsigned long long)s.tlbi_all, (unsigned long long)s.batches);
	for (unsigned int i = 4; i < 8; i++)
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), -1);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	lazy_mmu_mode_disable();
	/* Only the entries were cleared: give the tables back by mapping and unmapping. */
	map_owned(test, c, va, 8, PAGE_KERNEL);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 8), 0);
}

/*
 * The proof that the memory checks of this suite can fail: a translation the CPU has
 * cached survives a change of its entry until it is invalidated. QEMU's TCG keeps such
 * entries (so does silicon, mostly); PAGE_KERNEL presets accessed/dirty, so even a write
 * doesn't re-walk.
 */
static void stale_translations_are_real(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long va = vm_test_area(2), flags;
	s64 stale_read = -1, stale_remap = -1, cached, after;
	unsigned int attempt;
	pte_t *ptep;

	/*
	 * Interrupts stay off from the first read to the last, so no tick runs code whose
	 * translations could evict ours from QEMU's small direct-mapped TLB; even so an
	 * unrelated access can collide with it, so the demonstration gets a few attempts. The
	 * guarantee — the fault right after disable() — is checked on every attempt.
	 */
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + PAGE_SIZE, c->frame[0], 1, PAGE_KERNEL), 0);
	for (attempt = 1; attempt <= 5 && stale_read != (s64)tag_of(0); attempt++) {
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, c->frame[0], 1, PAGE_KERNEL), 0);
		ptep = pte_lookup(&init_mm, va);
		local_irq_save(flags);
		cached = kunit_peek(va); /* now the translation is cached */
		lazy_mmu_mode_enable();
		pte_update(&init_mm, va, ptep, __pte(0));
		stale_read = kunit_peek(va);
		lazy_mmu_mode_disable();
		after = kunit_peek(va);
		local_irq_restore(flags);
		KUNIT_EXPECT_EQ(test, cached, tag_of(0));
		KUNIT_EXPECT_EQ(test, after, -1); /* after disable(): gone */
	}
	kunit_info(test, "entry cleared, not yet flushed: read returned %s (attempt %u)",
		   stale_read == (s64)tag_of(0) ? "the OLD frame (stale TLB entry)" : "a fault",
		   attempt - 1);
	KUNIT_EXPECT_EQ(test, stale_read, tag_of(0));

	/* Pointing a live entry at another frame. */
	ptep = pte_lookup(&init_mm, va + PAGE_SIZE);
	for (attempt = 1; attempt <= 5; attempt++) {
		pte_update(&init_mm, va + PAGE_SIZE, ptep, mk_pte(c->frame[0], PAGE_KERNEL));
		tlb_stats_reset();
		local_irq_save(flags);
		cached = kunit_peek(va + PAGE_SIZE);
		lazy_mmu_mode_enable();
		pte_update(&init_mm, va + PAGE_SIZE, ptep, mk_pte(c->frame[1], PAGE_KERNEL));
		stale_remap = kunit_peek(va + PAGE_SIZE);
		lazy_mmu_mode_disable();
		after = kunit_peek(va + PAGE_SIZE);
		local_irq_restore(flags);
		KUNIT_EXPECT_EQ(test, cached, tag_of(0));
		KUNIT_EXPECT_EQ(test, after, tag_of(1)); /* after disable(): the new frame */
		if (arch_has_break_before_make() || stale_remap == (s64)tag_of(0))
			break;
	}
	if (arch_has_break_before_make()) {
		/* Break-before-make forced the old translation out before the new entry. */
		KUNIT_EXPECT_EQ(test, stale_remap, tag_of(1));
		KUNIT_EXPECT_EQ(test, stats().bbm_flushes, 1);
		kunit_info(test, "remap inside a section: break-before-make flushed first");
	} else {
		KUNIT_EXPECT_EQ(test, stale_remap, tag_of(0));
		kunit_info(test,
			   "remap inside a section: read still hit the OLD frame (attempt %u)",
			   attempt);
	}
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, va, c->frame[2], 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 2), 0);
}

struct irq_update {
	unsigned long va;
	pte_t *ptep;
	bool ran, in_irq, active;
	s64 after;
	u64 invalidations;
};

static void update_from_irq(void *arg)
{
	struct irq_update *u = arg;
	struct tlb_stats before = stats(), after;

	u->ran = true;
	u->in_irq = in_interrupt();
	u->active = is_lazy_mmu_mode_active();
	pte_update(&init_mm, u->va, u->ptep, __pte(0));
	u->after = kunit_peek(u->va);
	after = stats();
	u->invalidations = invalidations(&after) - invalidations(&before);
}

static void interrupt_context_updates_take_effect_at_once(struct kunit *test)
{
	struct conf *c = test->priv;
	struct irq_update u = { 0 };

	u.va = vm_test_area(1);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, u.va, c->frame[0], 1, PAGE_KERNEL), 0);
	u.ptep = pte_lookup(&init_mm, u.va);
	KUNIT_EXPECT_EQ(test, kunit_peek(u.va), tag_of(0));

	lazy_mmu_mode_enable();
	timer_call_once(update_from_irq, &u);
	timer_wait_ticks(2);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	/* The handler's change didn't go into the task's batch. */
	KUNIT_EXPECT_TRUE(test, tlb_batch_empty(&current->tlb_batch));
	lazy_mmu_mode_disable();

	KUNIT_ASSERT_TRUE(test, u.ran);
	KUNIT_EXPECT_TRUE(test, u.in_irq);
	KUNIT_EXPECT_FALSE(test, u.active);
	KUNIT_EXPECT_EQ(test, u.after, -1);
	KUNIT_EXPECT_GE(test, u.invalidations, 1);
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, u.va, c->frame[0], 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, u.va, 1), 0);
}

struct irq_remap {
	unsigned long va;
	pte_t *ptep;
	phys_addr_t pa;
	bool ran, queued; /* queued: the task's batch held va when the handler ran */
	s64 seen;
	bool writable;
};

static void remap_from_irq(void *arg)
{
	struct irq_remap *u = arg;

	u->ran = true;
	u->queued = tlb_batch_contains(&current->tlb_batch, u->va);
	pte_update(&init_mm, u->va, u->ptep, mk_pte(u->pa, PAGE_KERNEL));
	u->seen = kunit_peek(u->va);
	u->writable = kunit_can_write(u->va);
}

/*
 * The handler changes a page the interrupted task has a change queued for: the task made
 * page 0 read-only in its section (queued, not yet invalidated, the writable translation
 * still cached), then the handler points the page at another frame, read-write. The
 * handler's update must take effect at once, over the task's queued one: it reads the new
 * frame (not the old one through the stale translation), and may write it.
 * (A handler making a page valid over a queued *clear* is pt_concurrency's
 * irq_pte_update_over_queued_page.)
 */
static void interrupt_remap_over_a_queued_protect(struct kunit *test)
{
	struct conf *c = test->priv;
	struct irq_remap u = { .pa = c->frame[1] };
	unsigned long va = vm_test_area(2);

	map_owned(test, c, va, 2, PAGE_KERNEL);
	KUNIT_EXPECT_TRUE(test, all_writable(va, 2));
	u.va = va;
	u.ptep = pte_lookup(&init_mm, va);
	KUNIT_ASSERT_NOT_NULL(test, u.ptep);

	lazy_mmu_mode_enable();
	pte_update(&init_mm, va, u.ptep, mk_pte(c->owned[0], PAGE_KERNEL_RO));
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&current->tlb_batch, va));
	timer_call_once(remap_from_irq, &u);
	timer_wait_ticks(2);
	lazy_mmu_mode_disable();

	KUNIT_ASSERT_TRUE(test, u.ran);
	KUNIT_EXPECT_TRUE(test, u.queued);
	KUNIT_EXPECT_EQ(test, u.seen, tag_of(1));
	KUNIT_EXPECT_TRUE(test, u.writable);
	/* The handler's entry stands after the task's flush. */
	KUNIT_EXPECT_EQ(test, kunit_peek(va), tag_of(1));
	KUNIT_EXPECT_TRUE(test, kunit_can_write(va));
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 2), 0);
}

/*
 * Changes the protection of n live entries (page i keeps its frame owned[i], so no
 * break-before-make is involved) inside one section of our own; returns the counts from
 * before the flush.
 */
static struct tlb_stats change_n(struct kunit *test, const struct conf *c, unsigned long va,
				 unsigned long n, pgprot_t prot)
{
	struct tlb_stats inside;

	tlb_stats_reset();
	lazy_mmu_mode_enable();
	for (unsigned long i = 0; i < n; i++) {
		pte_t *ptep = pte_lookup(&init_mm, va + i * PAGE_SIZE);

		KUNIT_ASSERT_NOT_NULL(test, ptep);
		pte_update(&init_mm, va + i * PAGE_SIZE, ptep, mk_pte(c->owned[i], prot));
	}
	inside = stats();
	lazy_mmu_mode_disable();
	return inside;
}

/*
 * Up to the ceiling a batch is invalidated page by page (or by range), one page more and it
 * is one full flush - and either way every change is in effect afterwards: each round makes
 * writable pages read-only after their writable translations were cached (a write re-walks
 * only on a miss), so a missing or short invalidation shows as a write that still works.
 */
static void batch_counts_follow_the_ceiling(struct kunit *test)
{
	struct conf *c = test->priv;
	const unsigned long ceiling = 16;
	unsigned long va = vm_test_area(ceiling + 1);
	struct tlb_stats in, out;
	bool range = arch_has_range_tlbi();

	tlb_flush_ceiling = ceiling;
	map_owned(test, c, va, ceiling + 1, PAGE_KERNEL);

	/* At the ceiling: page-by-page (or by range), never a full flush. */
	KUNIT_EXPECT_TRUE(test, all_writable(va, ceiling + 1));
	in = change_n(test, c, va, ceiling, PAGE_KERNEL_RO);
	out = stats();
	KUNIT_EXPECT_EQ(test, in.pte_writes, ceiling);
	KUNIT_EXPECT_EQ(test, invalidations(&in), 0);
	KUNIT_EXPECT_EQ(test, out.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, out.batches, 1);
	if (range) {
		/* 16 pages = (7 + 1) << 1: exactly one range operation (SCALE 0, NUM 7). */
		KUNIT_EXPECT_EQ(test, out.tlbi_range, 1);
		KUNIT_EXPECT_EQ(test, out.tlbi_page, 0);
	} else {
		KUNIT_EXPECT_EQ(test, out.tlbi_page, ceiling);
		KUNIT_EXPECT_EQ(test, out.tlbi_range, 0);
	}
	KUNIT_EXPECT_TRUE(test, none_writable(va, ceiling));
	KUNIT_EXPECT_TRUE(test, kunit_can_write(va + ceiling * PAGE_SIZE)); /* not in the batch */
	kunit_info(test, "%lu changes: %llu page + %llu range + %llu full invalidations", ceiling,
		   (unsigned long long)out.tlbi_page, (unsigned long long)out.tlbi_range,
		   (unsigned long long)out.tlbi_all);

	/* One above: exactly one full flush and nothing else. */
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, ceiling + 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, all_writable(va, ceiling + 1));
	in = change_n(test, c, va, ceiling + 1, PAGE_KERNEL_RO);
	out = stats();
	KUNIT_EXPECT_EQ(test, invalidations(&in), 0);
	KUNIT_EXPECT_EQ(test, out.tlbi_all, 1);
	KUNIT_EXPECT_EQ(test, out.tlbi_page + out.tlbi_range, 0);
	KUNIT_EXPECT_EQ(test, out.batches, 1);
	KUNIT_EXPECT_TRUE(test, none_writable(va, ceiling + 1));

	/* Eager: every change is invalidated as it happens, one page at a time. */
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, ceiling + 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, all_writable(va, ceiling + 1));
	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	in = change_n(test, c, va, ceiling + 1, PAGE_KERNEL_RO);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	KUNIT_EXPECT_EQ(test, in.tlbi_page, ceiling + 1);
	KUNIT_EXPECT_EQ(test, in.tlbi_range + in.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, in.batches, ceiling + 1);
	KUNIT_EXPECT_TRUE(test, none_writable(va, ceiling + 1));
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, ceiling + 1), 0);
}

/*
 * Writes new entries (empty -> valid) for pages 1..31 of va, page i on owned[i], in one
 * section of our own; returns the counts. Page 0 is mapped already, so its tables exist and
 * only the 31 leaf writes are counted.
 */
static struct tlb_stats make_31(struct kunit *test, const struct conf *c, unsigned long va)
{
	pte_t *ptep = pte_lookup(&init_mm, va);

	KUNIT_ASSERT_NOT_NULL(test, ptep);
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	for (unsigned int i = 1; i < 32; i++)
		pte_update(&init_mm, va + i * PAGE_SIZE, ptep + i,
			   mk_pte(c->owned[i], PAGE_KERNEL));
	lazy_mmu_mode_disable();
	return stats();
}

static bool all_read_their_tags(unsigned long va)
{
	for (unsigned int i = 0; i < 32; i++)
		if (kunit_peek(va + i * PAGE_SIZE) != (s64)tag_of(OWNED_TAG + i))
			return false;
	return true;
}

static void new_entries_need_no_invalidation(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long va = vm_test_area(32);
	struct tlb_stats s;
	bool sync = arch_pte_needs_sync(mk_pte(c->frame[0], PAGE_KERNEL));

	map_owned(test, c, va, 1, PAGE_KERNEL); /* the tables */
	s = make_31(test, c, va);
	KUNIT_EXPECT_EQ(test, s.pte_writes, 31);
	KUNIT_EXPECT_EQ(test, invalidations(&s), 0);
	/* One publishing barrier for the whole batch where the arch needs one, else none. */
	KUNIT_EXPECT_EQ(test, s.barriers, sync ? 1 : 0);
	KUNIT_EXPECT_EQ(test, s.batches, sync ? 1 : 0);
	KUNIT_EXPECT_TRUE(test, all_read_their_tags(va));

	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va + PAGE_SIZE, 31), 0);
	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	s = make_31(test, c, va);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	KUNIT_EXPECT_EQ(test, s.pte_writes, 31);
	KUNIT_EXPECT_EQ(test, invalidations(&s), 0);
	KUNIT_EXPECT_EQ(test, s.barriers, sync ? 31 : 0);
	KUNIT_EXPECT_TRUE(test, all_read_their_tags(va));
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 32), 0);
}

/*
 * The random model test. PAGES virtual pages, each unmapped or mapped to one of the tagged
 * frames with one of three protections. Random operations run through both the public calls
 * (each its own nested section) and raw pte_update() (deferred while a section is active),
 * inside random enable/disable/pause/resume nesting. Whenever the contract says every
 * earlier update has taken effect — after any disable(), after any pause(), after a public
 * call, or after any update while no section is active — every page is read and written
 * through the MMU and compared with the model.
 */
#define PAGES 24

enum model_prot { M_NONE, M_RW, M_RO, M_NOACCESS };

struct model {
	enum model_prot prot[PAGES];
	unsigned int frame[PAGES];
};

static pgprot_t prot_of(enum model_prot p)
{
	return p == M_RW ? PAGE_KERNEL : p == M_RO ? PAGE_KERNEL_RO : PAGE_NONE;
}

static bool check_all(struct kunit *test, const struct conf *c, const struct model *m,
		      unsigned long va, unsigned long step)
{
	for (unsigned int i = 0; i < PAGES; i++) {
		unsigned long p = va + i * PAGE_SIZE;
		bool readable = m->prot[i] == M_RW || m->prot[i] == M_RO;
		s64 want = readable ? (s64)tag_of(m->frame[i]) : -1, got = kunit_peek(p);
		bool w = kunit_can_write(p);

		(void)c;
		if (got != want || w != (m->prot[i] == M_RW)) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "step %lu page %u: read %lld (want %lld), write %s (want %s)",
				   step, i, (long long)got, (long long)want, w ? "ok" : "faults",
				   m->prot[i] == M_RW ? "ok" : "faults");
			return false;
		}
	}
	return true;
}

static void random_sequences_match_the_model(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long va = vm_test_area(PAGES), checks = 0;
	const unsigned long steps = 4000;
	const u64 seed = 0x1a2b3c4d ^ timer_ticks();
	struct model m = { 0 };
	struct prng r;

	prng_seed(&r, seed);
	kunit_info(test, "seed %#llx, %lu steps over %d pages", (unsigned long long)seed, steps,
		   PAGES);
	for (unsigned long step = 0; step < steps; step++) {
		struct lazy_mmu_state *st = &current->lazy_mmu_state;
		unsigned int i = prng_below(&r, PAGES), f = prng_below(&r, NR_FRAMES);
		unsigned long p = va + i * PAGE_SIZE;
		enum model_prot np = (enum model_prot)(1 + prng_below(&r, 3));
		bool settled = false;
		pte_t *ptep;

		switch (prng_below(&r, 10)) {
		case 0: /* public map or unmap: its own nested section, complete on return */
			if (m.prot[i] == M_NONE) {
				KUNIT_ASSERT_EQ(
				    test, map_pages(&init_mm, p, c->frame[f], 1, prot_of(np)), 0);
				m.prot[i] = np;
				m.frame[i] = f;
			} else {
				KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, p, 1), 0);
				m.prot[i] = M_NONE;
			}
			settled = true;
			break;
		case 1: /* public protect */
			if (m.prot[i] != M_NONE) {
				KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, p, 1, prot_of(np)),
						0);
				m.prot[i] = np;
				settled = true;
			}
			break;
		case 2:
		case 3:
		case 4: /* raw update: protect, point elsewhere, or clear — deferred if active */
			ptep = pte_lookup(&init_mm, p);
			if (m.prot[i] == M_NONE || !ptep)
				break;
			if (np == M_NOACCESS && prng_below(&r, 2)) {
				pte_update(&init_mm, p, ptep, __pte(0));
				m.prot[i] = M_NONE;
			} else {
				pte_update(&init_mm, p, ptep, mk_pte(c->frame[f], prot_of(np)));
				m.prot[i] = np;
				m.frame[i] = f;
			}
			settled = !is_lazy_mmu_mode_active();
			break;
		case 5:
		case 6:
			if (st->enable_count < 4)
				lazy_mmu_mode_enable();
			break;
		case 7:
			if (st->enable_count > 0 && st->pause_count == 0) {
				lazy_mmu_mode_disable();
				settled = true;
			}
			break;
		case 8:
			if (st->pause_count < 2) {
				lazy_mmu_mode_pause();
				settled = true;
			}
			break;
		case 9:
			if (st->pause_count > 0)
				lazy_mmu_mode_resume();
			break;
		}
		if (settled) {
			checks++;
			if (!check_all(test, c, &m, va, step))
				break;
		}
	}
	while (current->lazy_mmu_state.pause_count)
		lazy_mmu_mode_resume();
	while (current->lazy_mmu_state.enable_count)
		lazy_mmu_mode_disable();
	KUNIT_EXPECT_TRUE(test, check_all(test, c, &m, va, steps));
	kunit_info(test, "%lu full checks of all %d pages", checks, PAGES);
	/* Give everything back: map the holes, then unmap the whole range (frees the tables). */
	for (unsigned int i = 0; i < PAGES; i++)
		if (m.prot[i] == M_NONE)
			KUNIT_EXPECT_EQ(
			    test,
			    map_pages(&init_mm, va + i * PAGE_SIZE, c->frame[0], 1, PAGE_KERNEL),
			    0);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, PAGES), 0);
}

/*
 * One fixed sequence of operations over [va, va + 32 pages), page i on owned[i], every
 * translation cached (read, and written) just before it starts:
 *   pages  0- 1  protected PAGE_NONE while paused      -> fault
 *   pages  4-11  protected read-only (nested call)     -> read owned[i], refuse writes
 *   pages 16-19  unmapped (nested call)                -> fault
 *   pages 24-31  pointed at frame[i % 4] (raw updates) -> read frame[i % 4], take writes
 *   the rest     untouched                             -> read owned[i], take writes
 * Returns the counters of the sequence alone.
 */
static struct tlb_stats fixed_sequence(struct kunit *test, const struct conf *c, unsigned long va)
{
	map_owned(test, c, va, 32, PAGE_KERNEL);
	KUNIT_EXPECT_TRUE(test, all_writable(va, 32));
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va + 4 * PAGE_SIZE, 8, PAGE_KERNEL_RO), 0);
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va + 16 * PAGE_SIZE, 4), 0);
	for (unsigned int i = 24; i < 32; i++)
		pte_update(&init_mm, va + i * PAGE_SIZE, pte_lookup(&init_mm, va + i * PAGE_SIZE),
			   mk_pte(c->frame[i % NR_FRAMES], PAGE_KERNEL));
	lazy_mmu_mode_pause();
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, 2, PAGE_NONE), 0);
	lazy_mmu_mode_resume();
	lazy_mmu_mode_disable();
	return stats();
}

/* Reads and writes every page of a fixed_sequence() area; false (and a message) on a mismatch. */
static bool sequence_took_effect(struct kunit *test, const struct conf *c, unsigned long va)
{
	for (unsigned int i = 0; i < 32; i++) {
		unsigned long p = va + i * PAGE_SIZE;
		bool gone = i < 2 || (i >= 16 && i < 20), ro = i >= 4 && i < 12;
		s64 want = gone ? -1 : (s64)tag_of(i >= 24 ? i % NR_FRAMES : OWNED_TAG + i);
		s64 got = kunit_peek(p);
		bool w = kunit_can_write(p);

		if (got != want || w != (!gone && !ro)) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "page %u: read %lld (want %lld), write %s (want %s)", i,
				   (long long)got, (long long)want, w ? "ok" : "faults",
				   !gone && !ro ? "ok" : "faults");
			(void)c;
			return false;
		}
	}
	return true;
}

/*
 * Batched and eager must end in the same tables AND the same memory: every change visible
 * through the MMU although each page's old translation was cached, so a flush that was
 * skipped (or fell short) shows as a stale read or write. The counters show that the
 * batched run really issued invalidations, in fewer batches and no more of them than the
 * eager one (fewer where ranges merge); the eager one, one per changed live entry
 * (8 + 4 + 8 + 2), each in its own batch.
 */
static void lazy_and_eager_build_identical_tables(struct kunit *test)
{
	struct conf *c = test->priv;
	unsigned long lazy_va = vm_test_area(32), eager_va = vm_test_area(32);
	struct tlb_stats lazy, eager;

	lazy = fixed_sequence(test, c, lazy_va);
	KUNIT_EXPECT_TRUE(test, sequence_took_effect(test, c, lazy_va));
	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	eager = fixed_sequence(test, c, eager_va);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	KUNIT_EXPECT_TRUE(test, sequence_took_effect(test, c, eager_va));

	KUNIT_EXPECT_EQ(test, eager.tlbi_page, 8 + 4 + 8 + 2);
	KUNIT_EXPECT_EQ(test, eager.tlbi_range + eager.tlbi_all, 0);
	KUNIT_EXPECT_GE(test, eager.batches, 8 + 4 + 8 + 2);
	KUNIT_EXPECT_GE(test, invalidations(&lazy), 1);
	KUNIT_EXPECT_LE(test, invalidations(&lazy), invalidations(&eager));
	KUNIT_EXPECT_LT(test, lazy.batches, eager.batches);
	kunit_info(test, "batched: %llu invalidations in %llu batches; eager: %llu in %llu",
		   (unsigned long long)invalidations(&lazy), (unsigned long long)lazy.batches,
		   (unsigned long long)invalidations(&eager), (unsigned long long)eager.batches);
	for (unsigned int i = 0; i < 32; i++) {
		phys_addr_t pa1 = 0, pa2 = 0;
		pgprot_t p1 = __pgprot(0), p2 = __pgprot(0);
		int r1 = query_page(&init_mm, lazy_va + i * PAGE_SIZE, &pa1, &p1);
		int r2 = query_page(&init_mm, eager_va + i * PAGE_SIZE, &pa2, &p2);

		KUNIT_EXPECT_EQ(test, r1, r2);
		KUNIT_EXPECT_EQ(test, pa1, pa2);
		KUNIT_EXPECT_EQ(test, pgprot_val(p1), pgprot_val(p2));
	}
	for (unsigned long v = lazy_va; v != 0; v = v == lazy_va ? eager_va : 0) {
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, v, 16), 0);
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, v + 20 * PAGE_SIZE, 12), 0);
	}
}

static struct kunit_case conformance_cases[] = { KUNIT_CASE(nested_disable_completes_each_call),
						 KUNIT_CASE(paused_updates_take_effect_at_once),
						 KUNIT_CASE(stale_translations_are_real),
						 KUNIT_CASE(
						     interrupt_context_updates_take_effect_at_once),
						 KUNIT_CASE(interrupt_remap_over_a_queued_protect),
						 KUNIT_CASE(batch_counts_follow_the_ceiling),
						 KUNIT_CASE(new_entries_need_no_invalidation),
						 KUNIT_CASE(random_sequences_match_the_model),
						 KUNIT_CASE(lazy_and_eager_build_identical_tables),
						 {} };

static struct kunit_suite conformance_suite = {
	.name = "lazy_mmu_conformance",
	.init = conf_init,
	.exit = conf_exit,
	.test_cases = conformance_cases,
};
kunit_test_suite(conformance_suite);
