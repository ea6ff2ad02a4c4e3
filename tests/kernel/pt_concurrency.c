/*
 * Who may touch a page table, and when (docs/memory.md): an interrupt handler updating a
 * page whose earlier change still waits in the interrupted task's batch, checked by
 * touching memory and by counting what the handler invalidated.
 */
#include <kernel/completion.h>
#include <kernel/irq.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/* Two frames, A and B, whose first word says which one a read hit. */
struct ptc {
	phys_addr_t a, b;
};

#define TAG_A 0x7074634100000000ULL
#define TAG_B 0x7074634200000000ULL

static int ptc_init(struct kunit *test)
{
	static struct ptc c;

	c.a = alloc_frame();
	c.b = alloc_frame();
	if (!c.a || !c.b)
		return -ENOMEM;
	*(u64 *)phys_to_virt(c.a) = TAG_A;
	*(u64 *)phys_to_virt(c.b) = TAG_B;
	test->priv = &c;
	return 0;
}

static void ptc_exit(struct kunit *test)
{
	struct ptc *c = test->priv;

	free_frame(c->a);
	free_frame(c->b);
}

static u64 invalidations(const struct tlb_stats *s)
{
	return s->tlbi_page + s->tlbi_range + s->tlbi_all;
}

/* What the timer handler did and saw. */
struct irq_make {
	unsigned long va;   /* the page it maps */
	phys_addr_t pa;	    /* to this frame */
	bool use_map_pages; /* through map_pages() instead of a bare pte_update() */
	bool ran, in_irq;
	int err;
	s64 read;		/* what a read through va returned right after (-1: fault) */
	bool task_still_queued; /* the task's batch still held va afterwards */
	struct tlb_stats before, after;
};

static void make_from_irq(void *arg)
{
	struct irq_make *m = arg;

	m->ran = true;
	m->in_irq = in_interrupt();
	tlb_stats_read(&m->before);
	if (m->use_map_pages) {
		m->err = map_pages(&init_mm, m->va, m->pa, 1, PAGE_KERNEL);
	} else {
		pte_update(&init_mm, m->va, pte_lookup(&init_mm, m->va),
			   mk_pte(m->pa, PAGE_KERNEL));
		m->err = 0;
	}
	m->read = kunit_peek(m->va);
	tlb_stats_read(&m->after);
	m->task_still_queued = tlb_batch_contains(&current->tlb_batch, m->va);
}

/*
 * The task clears `cleared` inside its section (queued, not flushed; its translation to A
 * was cached just before), then a timer interrupt makes m->va valid. Returns with the
 * section closed and every expectation about the task's side checked.
 */
static void clear_then_interrupt(struct kunit *test, unsigned long cleared, struct irq_make *m)
{
	pte_t *ptep = pte_lookup(&init_mm, cleared);

	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, kunit_peek(cleared), TAG_A); /* cached now */
	lazy_mmu_mode_enable();
	pte_update(&init_mm, cleared, ptep, __pte(0));
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&current->tlb_batch, cleared));
	timer_call_once(make_from_irq, m);
	timer_wait_ticks(2);
	/* The handler neither drained nor joined the task's batch: it is still the task's. */
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&current->tlb_batch, cleared));
	lazy_mmu_mode_disable();
	KUNIT_ASSERT_TRUE(test, m->ran);
	KUNIT_EXPECT_TRUE(test, m->in_irq);
	KUNIT_EXPECT_EQ(test, m->err, 0);
}

/*
 * The reproducer of issue 10. A task maps X to frame A and reads it; in its section it
 * clears X (the invalidation is queued); a timer handler maps X to frame B and reads X.
 * Without the rule the handler reads A - the translation the task's queued invalidation
 * has not removed yet - and on arm64 two valid translations of X coexist, which
 * break-before-make forbids. With it, the handler invalidates X alone, before its make.
 * Five rounds: QEMU could evict a cached translation by accident once, never five times.
 */
static void irq_make_over_queued_page(struct kunit *test, bool use_map_pages)
{
	struct ptc *c = test->priv;

	for (unsigned int round = 0; round < 5; round++) {
		unsigned long x = vm_test_area(1);
		struct irq_make m = { .va = x, .pa = c->b, .use_map_pages = use_map_pages };

		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x, c->a, 1, PAGE_KERNEL), 0);
		/* Keep X's leaf table alive over the clear: its neighbour stays mapped. */
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x + PAGE_SIZE, c->a, 1, PAGE_KERNEL), 0);
		clear_then_interrupt(test, x, &m);

		KUNIT_EXPECT_EQ(test, m.read, TAG_B);
		KUNIT_EXPECT_EQ(test, m.after.queued_make_flushes - m.before.queued_make_flushes,
				1);
		/* One invalidation, of X alone: the task's batch was not drained for it. */
		KUNIT_EXPECT_EQ(test, invalidations(&m.after) - invalidations(&m.before), 1);
		KUNIT_EXPECT_EQ(test, m.after.tlbi_all, m.before.tlbi_all);
		KUNIT_EXPECT_TRUE(test, m.task_still_queued);
		/* After the task's disable(): still B, through the table and through the TLB. */
		KUNIT_EXPECT_EQ(test, kunit_peek(x), TAG_B);
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, x, 2), 0);
	}
}

static void irq_pte_update_over_queued_page(struct kunit *test)
{
	irq_make_over_queued_page(test, false);
}

static void irq_map_pages_over_queued_page(struct kunit *test)
{
	irq_make_over_queued_page(test, true);
}

/*
 * The rule costs nothing where it isn't needed: a handler making a page the task has NOT
 * queued (its neighbour is queued) invalidates nothing for it.
 */
static void irq_make_beside_queued_page_flushes_nothing(struct kunit *test)
{
	struct ptc *c = test->priv;
	unsigned long x = vm_test_area(2);
	struct irq_make m = { .va = x + PAGE_SIZE, .pa = c->b };

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x, c->a, 1, PAGE_KERNEL), 0);
	clear_then_interrupt(test, x, &m);
	KUNIT_EXPECT_EQ(test, m.read, TAG_B);
	KUNIT_EXPECT_EQ(test, m.after.queued_make_flushes, m.before.queued_make_flushes);
	KUNIT_EXPECT_EQ(test, invalidations(&m.after), invalidations(&m.before));
	KUNIT_EXPECT_EQ(test, kunit_peek(x), -1);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, x + PAGE_SIZE, 1), 0);
}

/*
 * The same rule in the task's own section, through map_pages()'s run of makes: X's clear
 * is queued in the outer section when map_pages() makes X again. On a break-before-make
 * arch the run must complete the queued break first (one bbm flush); everywhere, X reads
 * the new frame once map_pages() returns (its nested disable() flushed).
 */
static void map_pages_over_own_queued_page(struct kunit *test)
{
	struct ptc *c = test->priv;
	unsigned long x = vm_test_area(2);
	struct tlb_stats before, after;

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x, c->a, 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x + PAGE_SIZE, c->a, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(x), TAG_A);
	lazy_mmu_mode_enable();
	pte_update(&init_mm, x, pte_lookup(&init_mm, x), __pte(0));
	tlb_stats_read(&before);
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, x, c->b, 1, PAGE_KERNEL), 0);
	tlb_stats_read(&after);
	KUNIT_EXPECT_EQ(test, kunit_peek(x), TAG_B);
	KUNIT_EXPECT_EQ(test, after.bbm_flushes - before.bbm_flushes,
			arch_has_break_before_make() ? 1 : 0);
	KUNIT_EXPECT_EQ(test, after.queued_make_flushes, before.queued_make_flushes);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, kunit_peek(x), TAG_B);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, x, 2), 0);
}

/*
 * init_mm.tlb_flush_pending counts a task's batch from its first deferred invalidation to its
 * flush - what another CPU's make asks before trusting that no batch owes its page. A new
 * entry alone (nothing to invalidate) is not counted; a nested disable() ends the count.
 */
static void pending_count_follows_the_batch(struct kunit *test)
{
	struct ptc *c = test->priv;
	unsigned long x = vm_test_area(2);
	long base = __atomic_load_n(&init_mm.tlb_flush_pending, __ATOMIC_RELAXED);
	pte_t *ptep;

	KUNIT_ASSERT_EQ(test, base, 0);
	/* Each page to a frame the case owns (A and B need not be neighbours). */
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x, c->a, 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x + PAGE_SIZE, c->b, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&init_mm, x);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	pte_update(&init_mm, x, ptep, __pte(0));
	KUNIT_EXPECT_EQ(test, init_mm.tlb_flush_pending, 1);
	KUNIT_EXPECT_FALSE(test, tlb_batch_owed_elsewhere(&current->tlb_batch, &init_mm));
	pte_update(&init_mm, x + PAGE_SIZE, ptep + 1, __pte(0));
	KUNIT_EXPECT_EQ(test, init_mm.tlb_flush_pending, 1); /* one batch, counted once */
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, init_mm.tlb_flush_pending, 0);
	pte_update(&init_mm, x, ptep, mk_pte(c->b, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, init_mm.tlb_flush_pending, 0);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, kunit_peek(x), TAG_B);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, x, 1), 0);
}

/*
 * The benchmark's floor skips every invalidation, but not the mmu_gather rule: a table page
 * its unmap unlinks stays allocated until pgtable_floor_end()'s full flush, and only then
 * is it freed. (And inside the floor nothing is invalidated: that is what it measures.)
 */
static void floor_frees_tables_only_after_its_flush(struct kunit *test)
{
	struct ptc *c = test->priv;
	unsigned long x = vm_test_area(1), flags, inside, after_end;
	struct tlb_stats before, during;
	long before_frames;

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, x, c->a, 1, PAGE_KERNEL), 0);
	before_frames = (long)frames_free();
	local_irq_save(flags);
	tlb_stats_read(&before);
	pgtable_floor_begin();
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, x, 1), 0); /* empties its leaf table */
	inside = frames_free();
	tlb_stats_read(&during);
	pgtable_floor_end();
	after_end = frames_free();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, (long)inside, before_frames);
	KUNIT_EXPECT_GT(test, (long)after_end, before_frames);
	KUNIT_EXPECT_EQ(test, during.tlbi_page + during.tlbi_range + during.tlbi_all,
			before.tlbi_page + before.tlbi_range + before.tlbi_all);
	KUNIT_EXPECT_EQ(test, kunit_peek(x), -1);
}

/* A kernel thread on another CPU that clears X in its section and holds it queued. */
struct remote_clear {
	unsigned long x;
	struct completion queued;
	bool go; /* spun on, not waited for: a task switched out would have its batch drained */
};

static int clear_and_hold(void *arg)
{
	struct remote_clear *r = arg;

	lazy_mmu_mode_enable();
	pte_update(&init_mm, r->x, pte_lookup(&init_mm, r->x), __pte(0));
	complete(&r->queued);
	/* Still inside the section: its batch owes X's invalidation to every CPU. */
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		cpu_relax();
	lazy_mmu_mode_disable();
	return 0;
}

/* Reads X on the CPU this runs on (a cross-call: interrupt context there). */
struct remote_read {
	unsigned long va;
	s64 got;
};

static void read_here(void *arg)
{
	struct remote_read *rr = arg;

	rr->got = kunit_peek(rr->va);
}

static s64 read_on(unsigned int cpu, unsigned long va)
{
	struct remote_read rr = { va, -2 };

	if (smp_call_function_single(cpu, read_here, &rr, true))
		return -2;
	return rr.got;
}

/*
 * The rule across CPUs: a batch on CPU 1 owes X's invalidation when CPU 0 makes X valid
 * again. CPU 0 can't look into that batch, only see that some batch is pending, so it
 * invalidates X everywhere before its make. Without that, CPU 0 and CPU 2 - which both
 * cached X -> A - read the old frame through X after map_pages() returned. The thread
 * spins inside its section rather than sleeping: a task switched out has its batch
 * drained by the switch rule, and there would be nothing left owed.
 */
static void make_over_a_page_queued_on_another_cpu(struct kunit *test)
{
	struct ptc *c = test->priv;
	struct remote_clear r;
	struct tlb_stats before, after;
	struct task *t;
	unsigned int observer = num_online_cpus() > 2 ? 2 : 0;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs 2 CPUs, %u online (the smp4 configurations run it)",
			   num_online_cpus());
	r.x = vm_test_area(2);
	init_completion(&r.queued);
	r.go = false;
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, r.x, c->a, 1, PAGE_KERNEL), 0);
	/* The neighbour keeps the leaf table alive; a frame the case owns. */
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, r.x + PAGE_SIZE, c->b, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(r.x), TAG_A);	      /* cached on CPU 0 */
	KUNIT_EXPECT_EQ(test, read_on(observer, r.x), TAG_A); /* and on the observer */
	t = kthread_run_on_cpu(clear_and_hold, &r, 1, "clearer");
	KUNIT_ASSERT_NOT_NULL(test, t);
	wait_for_completion(&r.queued);
	tlb_stats_read(&before);
	KUNIT_EXPECT_TRUE(test, tlb_batch_owed_elsewhere(&current->tlb_batch, &init_mm));
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, r.x, c->b, 1, PAGE_KERNEL), 0);
	tlb_stats_read(&after);
	KUNIT_EXPECT_EQ(test, kunit_peek(r.x), TAG_B);
	KUNIT_EXPECT_EQ(test, read_on(observer, r.x), TAG_B);
	KUNIT_EXPECT_EQ(test, after.queued_make_flushes - before.queued_make_flushes, 1);
	__atomic_store_n(&r.go, true, __ATOMIC_RELEASE);
	KUNIT_EXPECT_EQ(test, kthread_stop(t), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(r.x), TAG_B);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, r.x, 2), 0);
}

static struct kunit_case pt_concurrency_cases[] = {
	KUNIT_CASE(make_over_a_page_queued_on_another_cpu),
	KUNIT_CASE(floor_frees_tables_only_after_its_flush),
	KUNIT_CASE(pending_count_follows_the_batch),
	KUNIT_CASE(map_pages_over_own_queued_page),
	KUNIT_CASE(irq_pte_update_over_queued_page),
	KUNIT_CASE(irq_map_pages_over_queued_page),
	KUNIT_CASE(irq_make_beside_queued_page_flushes_nothing),
	{},
};

static struct kunit_suite pt_concurrency_suite = {
	.name = "pt_concurrency",
	.init = ptc_init,
	.exit = ptc_exit,
	.test_cases = pt_concurrency_cases,
};
kunit_test_suite(pt_concurrency_suite);
