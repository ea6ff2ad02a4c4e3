/* Exhaustive preemption: a context switch forced at every legal instruction of the helpers. */
#include <kernel/completion.h>
#include <kernel/sched.h>
#include <kernel/step.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_stats.h>

/*
 * The stepped task A is the boot task running a case; the intruder B is a kernel thread.
 * step_run() single-steps one helper call of A's. At every instruction boundary where a
 * tick could arrive (interrupts on), the injected interrupt (force_switch) checks the
 * invariant that the Xen race breaks, and, where preemption is legal (A's preempt count
 * 0), wakes B and asks for a reschedule: the step point's exit (kernel/step.c) then
 * switches to B exactly as a tick's exit would. B runs its own nested and paused sections
 * with its own page-table updates, checks what the switch did to A, and blocks again; A
 * resumes at the very next instruction, still being stepped.
 *
 * The invariants, checked at every switch:
 *  - the arch mode matches the running task's state: every arch_enter (helper's or
 *    switch's) minus every arch_leave since the start is 1 exactly when the running task's
 *    section is active, else 0 - at each of A's points, and at each of B's steps;
 *  - A's batch was completed at the switch: it is empty, and every one of A's pages whose
 *    entry A has cleared reads as a fault (its stale translation was cached beforehand);
 *  - A's counts are exactly one of the two its model allows (before or after the call);
 *  - no batch holds another task's pages: B's never holds A's, A's never holds B's.
 */
#define A_PAGES 4
#define B_PAGES 2

static struct {
	struct task *a, *b;
	unsigned long a_va, b_va;
	phys_addr_t a_frame[A_PAGES], b_frame[B_PAGES];
	struct completion b_go;
	volatile bool b_quit;
	s64 mode_base; /* enters minus leaves when nobody's section was active */
	/* What A's counts may be while stepped: before or after the call, or inside the
	 * section the call opens (map/protect/unmap). */
	struct lazy_mmu_state a_before, a_after, a_inner;
	/* results */
	unsigned long points, legal, visits, failures;
	char first[160];
} ex;

static void fail(const char *fmt, unsigned long a, unsigned long b)
{
	if (!ex.failures++)
		snprintf(ex.first, sizeof(ex.first), fmt, a, b);
}

/* 1 while some task's section has the arch mode on, by the counters. */
static s64 arch_mode(void)
{
	struct tlb_stats s;

	tlb_stats_read(&s);
	return (s64)(s.arch_enter + s.switch_enter) - (s64)(s.arch_leave + s.switch_leave) -
	       ex.mode_base;
}

static bool state_active(const struct lazy_mmu_state *s)
{
	return s->enable_count > 0 && s->pause_count == 0;
}

static bool same_state(const struct lazy_mmu_state *x, const struct lazy_mmu_state *y)
{
	return x->enable_count == y->enable_count && x->pause_count == y->pause_count;
}

static u64 tag(unsigned int task, unsigned int page)
{
	return 0x7a5c000000000000ULL | (u64)task << 8 | page;
}

/* The injected interrupt at each of A's points. */
static void force_switch(void *ctx)
{
	const struct lazy_mmu_state *s = &ex.a->lazy_mmu_state;

	(void)ctx;
	ex.points++;
	if (arch_mode() != state_active(s))
		fail("at A's point: arch mode %lu but A's section active=%lu", arch_mode(),
		     state_active(s));
	if (!same_state(s, &ex.a_before) && !same_state(s, &ex.a_after) &&
	    !same_state(s, &ex.a_inner))
		fail("at A's point: A's counts enable=%lu pause=%lu fit neither model",
		     s->enable_count, s->pause_count);
	if (ex.a->preempt_count)
		return; /* not a legal switch point: the scheduler must not switch here */
	ex.legal++;
	complete(&ex.b_go);
	current->need_resched = true;
}

/* What B checks about A, switched out. */
static void check_a(void)
{
	const struct task *a = ex.a;

	if (!tlb_batch_empty(&a->tlb_batch))
		fail("A switched out with %lu pages in its batch (sync_pending %lu)",
		     a->tlb_batch.nr_pages, a->tlb_batch.sync_pending);
	for (unsigned int p = 0; p < A_PAGES; p++) {
		unsigned long va = ex.a_va + p * PAGE_SIZE;
		pte_t *ptep = pte_lookup(&init_mm, va);
		bool mapped = ptep && pte_val(READ_ONCE(*ptep)) != 0;
		s64 v = kunit_peek(va);

		if (!mapped && v != -1)
			fail("A's page %lu is cleared but still reads %#lx", p, (unsigned long)v);
		for (unsigned int q = 0; q < B_PAGES; q++)
			if (tlb_batch_contains(&a->tlb_batch, ex.b_va + q * PAGE_SIZE))
				fail("A's batch holds B's page %lu%lu", q, 0);
	}
	if (arch_mode() != 0)
		fail("B runs outside a section but the arch mode is %lu (%lu)", arch_mode(), 0);
}

/* B's own round: a nested section with a pause, its own updates, each step checked. */
static void b_round(void)
{
	unsigned long x = ex.b_va, y = ex.b_va + PAGE_SIZE;

	if (map_pages(&init_mm, x, ex.b_frame[0], 1, PAGE_KERNEL) ||
	    map_pages(&init_mm, y, ex.b_frame[1], 1, PAGE_KERNEL))
		fail("B: map_pages failed%lu%lu", 0, 0);
	(void)kunit_peek(x); /* cache both translations */
	(void)kunit_peek(y);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	if (arch_mode() != 1)
		fail("B in its section: arch mode %lu (%lu)", arch_mode(), 1);
	pte_update(&init_mm, x, pte_lookup(&init_mm, x), __pte(0));
	if (!tlb_batch_contains(&current->tlb_batch, x))
		fail("B's clear of its page was not queued in B's batch%lu%lu", 0, 0);
	for (unsigned int p = 0; p < A_PAGES; p++)
		if (tlb_batch_contains(&current->tlb_batch, ex.a_va + p * PAGE_SIZE))
			fail("B's batch holds A's page %lu%lu", p, 0);
	lazy_mmu_mode_pause();
	if (arch_mode() != 0 || kunit_peek(x) != -1)
		fail("B paused: arch mode %lu, its cleared page reads %lu", arch_mode(),
		     (unsigned long)kunit_peek(x));
	pte_update(&init_mm, y, pte_lookup(&init_mm, y), __pte(0));
	if (kunit_peek(y) != -1)
		fail("B paused: its update was not immediate%lu%lu", 0, 0);
	lazy_mmu_mode_resume();
	lazy_mmu_mode_disable();
	lazy_mmu_mode_disable();
	if (arch_mode() != 0)
		fail("B after its section: arch mode %lu (%lu)", arch_mode(), 0);
}

static int intruder(void *data)
{
	(void)data;
	for (;;) {
		wait_for_completion(&ex.b_go);
		if (ex.b_quit)
			return 0;
		/*
		 * Not preemptible meanwhile: a real tick that ended B's slice mid-round would
		 * resume A early, and the switch count below would no longer be exact.
		 */
		preempt_disable();
		ex.visits++;
		check_a();
		b_round();
		check_a();
		preempt_enable();
	}
}

/* ------------------------------------------------------------------ A's stepped calls */

static unsigned long a_page(unsigned int p)
{
	return ex.a_va + p * PAGE_SIZE;
}

/* Clears A's page p inside A's section (queued), its translation cached first. */
static void a_queue_clear(unsigned int p)
{
	(void)kunit_peek(a_page(p));
	pte_update(&init_mm, a_page(p), pte_lookup(&init_mm, a_page(p)), __pte(0));
}

static void call_enable(void *arg)
{
	(void)arg;
	lazy_mmu_mode_enable();
}

static void call_disable(void *arg)
{
	(void)arg;
	lazy_mmu_mode_disable();
}

static void call_pause(void *arg)
{
	(void)arg;
	lazy_mmu_mode_pause();
}

static void call_resume(void *arg)
{
	(void)arg;
	lazy_mmu_mode_resume();
}

static void call_pte_update(void *arg)
{
	(void)arg;
	pte_update(&init_mm, a_page(1), pte_lookup(&init_mm, a_page(1)), __pte(0));
}

/* One page per call: A's frames need not be contiguous. */
static void call_map(void *arg)
{
	for (unsigned int p = 0; p < A_PAGES; p++)
		*(int *)arg |= map_pages(&init_mm, a_page(p), ex.a_frame[p], 1, PAGE_KERNEL);
}

static void call_protect(void *arg)
{
	*(int *)arg = protect_pages(&init_mm, a_page(0), A_PAGES, PAGE_KERNEL_RO);
}

static void call_unmap(void *arg)
{
	*(int *)arg = unmap_pages(&init_mm, a_page(0), A_PAGES);
}

/*
 * One stepped call. enable/pause: how deep A is before it (entered unstepped); queue: A has
 * cleared page 0 inside its section beforehand, so the batch holds work at every point.
 * after: A's counts once the call returned.
 */
struct stepped_call {
	const char *name;
	void (*fn)(void *);
	u8 enable, pause;
	bool queue;
	struct lazy_mmu_state after;
};

static const struct stepped_call calls[] = {
	{ "enable (0 -> 1)", call_enable, 0, 0, false, { 1, 0 } },
	{ "enable (nested)", call_enable, 1, 0, true, { 2, 0 } },
	{ "disable (nested, queued work)", call_disable, 2, 0, true, { 1, 0 } },
	{ "disable (nested, nothing queued)", call_disable, 2, 0, false, { 1, 0 } },
	{ "disable (1 -> 0)", call_disable, 1, 0, true, { 0, 0 } },
	{ "pause", call_pause, 2, 0, true, { 2, 1 } },
	{ "resume", call_resume, 2, 1, false, { 2, 0 } },
	{ "pte_update (in a section)", call_pte_update, 1, 0, true, { 1, 0 } },
	{ "map_pages", call_map, 0, 0, false, { 0, 0 } },
	{ "protect_pages", call_protect, 0, 0, false, { 0, 0 } },
	{ "unmap_pages", call_unmap, 0, 0, false, { 0, 0 } },
};

static bool a_mapped(unsigned int p)
{
	phys_addr_t pa;
	pgprot_t prot;

	return query_page(&init_mm, a_page(p), &pa, &prot) == 0;
}

static void a_unmap_all(struct kunit *test)
{
	for (unsigned int p = 0; p < A_PAGES; p++)
		if (a_mapped(p))
			KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, a_page(p), 1), 0);
}

static void a_map_all(struct kunit *test)
{
	a_unmap_all(test);
	for (unsigned int p = 0; p < A_PAGES; p++)
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, a_page(p), ex.a_frame[p], 1, PAGE_KERNEL),
				0);
}

static void a_close(void)
{
	while (current->lazy_mmu_state.pause_count)
		lazy_mmu_mode_resume();
	while (current->lazy_mmu_state.enable_count)
		lazy_mmu_mode_disable();
}

/*
 * Unmaps what is mapped in [va, va + n pages), then prunes the area's table: entries
 * cleared with pte_update() leave it behind, and only an unmap_pages() frees it (mapping
 * one page just to unmap it makes sure there is one).
 */
static void release_area(unsigned long va, unsigned int n, phys_addr_t frame)
{
	phys_addr_t pa;
	pgprot_t prot;

	if (!va || !frame)
		return;
	for (unsigned int p = 0; p < n; p++)
		if (query_page(&init_mm, va + p * PAGE_SIZE, &pa, &prot) == 0)
			unmap_pages(&init_mm, va + p * PAGE_SIZE, 1);
	if (map_pages(&init_mm, va, frame, 1, PAGE_KERNEL) == 0)
		unmap_pages(&init_mm, va, 1);
}

static void step_exit(struct kunit *test)
{
	(void)test;
	a_close();
	if (ex.b) {
		ex.b_quit = true;
		complete(&ex.b_go);
		kthread_stop(ex.b);
		ex.b = NULL;
	}
	release_area(ex.a_va, A_PAGES, ex.a_frame[0]);
	release_area(ex.b_va, B_PAGES, ex.b_frame[0]);
	for (unsigned int i = 0; i < A_PAGES; i++)
		if (ex.a_frame[i])
			free_frame(ex.a_frame[i]);
	for (unsigned int i = 0; i < B_PAGES; i++)
		if (ex.b_frame[i])
			free_frame(ex.b_frame[i]);
	memset((void *)&ex, 0, sizeof(ex));
}

static void a_switch_at_every_legal_point_of_every_helper(struct kunit *test)
{
	unsigned long frames = frames_free();
	struct sched_stats s0, s1;

	memset((void *)&ex, 0, sizeof(ex));
	init_completion(&ex.b_go);
	ex.a = current;
	ex.a_va = vm_test_area(A_PAGES);
	ex.b_va = vm_test_area(B_PAGES);
	KUNIT_ASSERT_NE(test, ex.a_va, 0);
	KUNIT_ASSERT_NE(test, ex.b_va, 0);
	for (unsigned int i = 0; i < A_PAGES; i++) {
		ex.a_frame[i] = alloc_frame();
		KUNIT_ASSERT_NE(test, ex.a_frame[i], 0);
		*(u64 *)phys_to_virt(ex.a_frame[i]) = tag(0, i);
	}
	for (unsigned int i = 0; i < B_PAGES; i++) {
		ex.b_frame[i] = alloc_frame();
		KUNIT_ASSERT_NE(test, ex.b_frame[i], 0);
		*(u64 *)phys_to_virt(ex.b_frame[i]) = tag(1, i);
	}
	ex.b = kthread_run(intruder, NULL, "B");
	KUNIT_ASSERT_NOT_NULL(test, ex.b);
	ex.mode_base = 0;
	ex.mode_base = arch_mode();

	for (unsigned int c = 0; c < ARRAY_SIZE(calls); c++) {
		const struct stepped_call *sc = &calls[c];
		unsigned long points0 = ex.points, legal0 = ex.legal, visits0 = ex.visits;
		unsigned long failures0 = ex.failures;
		struct step_result r;
		int ret = 0;

		if (sc->fn == call_map)
			a_unmap_all(test);
		else
			a_map_all(test);
		for (unsigned int i = 0; i < sc->enable; i++)
			lazy_mmu_mode_enable();
		if (sc->queue)
			a_queue_clear(0);
		for (unsigned int i = 0; i < sc->pause; i++)
			lazy_mmu_mode_pause();
		ex.a_before = current->lazy_mmu_state;
		ex.a_after = sc->after;
		ex.a_inner = ex.a_before;
		if (sc->fn == call_map || sc->fn == call_protect || sc->fn == call_unmap)
			ex.a_inner.enable_count++;
		sched_stats_read(&s0);
		KUNIT_ASSERT_EQ(test, step_run(sc->fn, &ret, force_switch, NULL, &r), 0);
		sched_stats_read(&s1);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_TRUE(test, same_state(&current->lazy_mmu_state, &sc->after));
		/* Every legal point switched to B and back, and only those. */
		KUNIT_EXPECT_EQ(test, ex.points - points0, r.irq_points);
		KUNIT_EXPECT_EQ(test, ex.visits - visits0, ex.legal - legal0);
		KUNIT_EXPECT_EQ(test, s1.switches - s0.switches, 2 * (ex.legal - legal0));
		kunit_info(test, "%-32s %4lu instructions, %3lu irq points, %3lu switches to B",
			   sc->name, r.steps, r.irq_points, ex.legal - legal0);
		if (ex.failures != failures0)
			kunit_info(test, "  %lu invariant failures, first: %s",
				   ex.failures - failures0, ex.first);
		/* After A's own disable()s, everything A did is in effect. */
		a_close();
		if (sc->queue)
			KUNIT_EXPECT_EQ(test, kunit_peek(a_page(0)), -1);
		KUNIT_EXPECT_EQ(test, arch_mode(), 0);
	}
	KUNIT_EXPECT_EQ(test, ex.failures, 0);
	KUNIT_EXPECT_GT(test, ex.legal, 0);
	step_exit(test);
	KUNIT_EXPECT_EQ(test, frames_free(), frames);
}

static struct kunit_case sched_step_cases[] = {
	KUNIT_CASE(a_switch_at_every_legal_point_of_every_helper),
	{},
};

static struct kunit_suite sched_step_suite = {
	.name = "sched_exhaustive",
	.test_cases = sched_step_cases,
	.exit = step_exit,
};
kunit_test_suite(sched_step_suite);
