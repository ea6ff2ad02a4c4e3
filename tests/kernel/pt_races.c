/*
 * The races of issue 10, provoked at every instruction: a page-table or frame call is
 * single-stepped (<kernel/step.h>) and, at each instruction where interrupts are enabled,
 * an interrupt handler makes its own conflicting update - then the final state is checked.
 * Without page_table_lock (check-then-act in unmap/protect) or frame_lock (the bitmaps),
 * some point lands inside a check-then-act window and the check below fails.
 */
#include <kernel/irq.h>
#include <kernel/step.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/mm.h>

#define TAG_A 0x7261636541000000ULL
#define TAG_B 0x7261636542000000ULL

/*
 * Every point among the first and the last EDGE; between them, evenly spaced points so
 * that one case costs at most about MAX_RUNS re-runs. A correct kernel has few points in
 * these calls (their check-then-act runs with interrupts masked), so it is checked at every
 * one. A broken one has thousands - these calls zero or poison a 4 KiB frame - and its
 * windows are where the lock would be, at the start (take the lock, find and claim) and
 * the end (release, count), which the edges cover exhaustively.
 */
#define EDGE	 150UL
#define MAX_RUNS 360UL

struct race {
	unsigned long va; /* the stepped call's page; its neighbour va + PAGE_SIZE */
	phys_addr_t a, b; /* frames tagged TAG_A / TAG_B */
	int task_err, irq_err;
	phys_addr_t task_frame, irq_frame;
};

static struct race r;

static int race_init(struct kunit *test)
{
	r.va = vm_test_area(2);
	r.a = alloc_frame();
	r.b = alloc_frame();
	if (!r.va || !r.a || !r.b)
		return -ENOMEM;
	*(u64 *)phys_to_virt(r.a) = TAG_A;
	*(u64 *)phys_to_virt(r.b) = TAG_B;
	(void)test;
	return 0;
}

static void race_exit(struct kunit *test)
{
	(void)test;
	free_frame(r.a);
	free_frame(r.b);
}

/* The next point to inject at after k, for a call with n points. */
static unsigned long next_point(unsigned long k, unsigned long n)
{
	unsigned long middle = n > 2 * EDGE ? n - 2 * EDGE : 0;
	unsigned long stride =
	    middle > MAX_RUNS - 2 * EDGE ? middle / (MAX_RUNS - 2 * EDGE) + 1 : 1;

	if (k + 1 < EDGE || k + 1 >= n - MIN(n, EDGE))
		return k + 1;
	return MIN(k + stride, n - MIN(n, EDGE));
}

/*
 * Runs setup, the stepped fn with the handler at point k, and check, for every k chosen by
 * next_point(); reports how many points there were and how many were injected at.
 */
static void at_every_point(struct kunit *test, const char *what, void (*setup)(void),
			   void (*fn)(void *), void (*handler)(void *),
			   bool (*check)(struct kunit *test, unsigned long k))
{
	struct step_result res;
	unsigned long n, runs = 0;

	setup();
	KUNIT_ASSERT_EQ(test, step_run(fn, NULL, NULL, NULL, &res), 0);
	n = res.irq_points;
	KUNIT_ASSERT_TRUE(test, check(test, ~0UL)); /* the run without an interrupt */
	KUNIT_ASSERT_GT(test, n, 0);
	for (unsigned long k = 0; k < n; k = next_point(k, n), runs++) {
		setup();
		KUNIT_ASSERT_EQ(test, step_run_at(fn, NULL, k, handler, NULL, &res), 0);
		KUNIT_ASSERT_TRUE(test, check(test, k));
	}
	kunit_info(
	    test, "%s: %lu steps, %lu interrupt points, injected at %lu%s", what, res.steps, n,
	    runs, runs == n ? " (every one)" : " (the first and last ones all, the middle spaced)");
}

/* --- unmap_pages() pruning an emptied table vs a handler mapping into that table --- */

static void prune_setup(void)
{
	(void)map_pages(&init_mm, r.va, r.a, 1, PAGE_KERNEL);
}

static void prune_task(void *arg)
{
	(void)arg;
	r.task_err = unmap_pages(&init_mm, r.va, 1);
}

static void prune_irq(void *arg)
{
	(void)arg;
	r.irq_err = map_pages(&init_mm, r.va + PAGE_SIZE, r.b, 1, PAGE_KERNEL);
}

/*
 * Whenever the handler ran, its page must be mapped and read B: a prune that decided "this
 * table is empty" before the handler's map and unlinked it after would lose the mapping
 * (and free a table with a valid entry in it).
 */
static bool prune_check(struct kunit *test, unsigned long k)
{
	phys_addr_t pa;
	pgprot_t prot;
	bool ok = true;

	KUNIT_EXPECT_EQ(test, r.task_err, 0);
	ok &= r.task_err == 0;
	ok &= query_page(&init_mm, r.va, &pa, &prot) == -ENOENT && kunit_peek(r.va) == -1;
	if (k != ~0UL) {
		ok &= r.irq_err == 0;
		ok &= query_page(&init_mm, r.va + PAGE_SIZE, &pa, &prot) == 0 && pa == r.b;
		ok &= kunit_peek(r.va + PAGE_SIZE) == (s64)TAG_B;
		if (!ok)
			kunit_info(test, "interrupt at point %lu: irq map %d, page %s", k,
				   r.irq_err,
				   kunit_peek(r.va + PAGE_SIZE) == (s64)TAG_B ? "mapped" : "LOST");
		if (r.irq_err == 0)
			(void)unmap_pages(&init_mm, r.va + PAGE_SIZE, 1);
	}
	return ok;
}

static void unmap_prune_vs_irq_map(struct kunit *test)
{
	unsigned long before = frames_free();

	at_every_point(test, "unmap_pages", prune_setup, prune_task, prune_irq, prune_check);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
}

/* --- protect_pages() checking "all mapped" vs a handler unmapping one of them --- */

static void protect_setup(void)
{
	(void)map_pages(&init_mm, r.va, r.a, 1, PAGE_KERNEL);
	(void)map_pages(&init_mm, r.va + PAGE_SIZE, r.a, 1, PAGE_KERNEL);
}

static void protect_task(void *arg)
{
	(void)arg;
	r.task_err = protect_pages(&init_mm, r.va, 2, PAGE_KERNEL_RO);
}

static void protect_irq(void *arg)
{
	(void)arg;
	r.irq_err = unmap_pages(&init_mm, r.va + PAGE_SIZE, 1);
}

/*
 * The handler's unmap always wins in the end, so the second page must end unmapped: a
 * protect that counted both pages mapped before the handler ran and rewrote them after
 * would "protect" an empty entry into a mapping of frame 0. The first page is read-only
 * exactly when protect_pages() said it succeeded.
 */
static bool protect_check(struct kunit *test, unsigned long k)
{
	phys_addr_t pa;
	pgprot_t prot;
	bool ok = true, second_gone;

	ok &= r.task_err == 0 || (k != ~0UL && r.task_err == -ENOENT);
	ok &= query_page(&init_mm, r.va, &pa, &prot) == 0 && pa == r.a;
	ok &= kunit_can_write(r.va) == (r.task_err != 0);
	second_gone = query_page(&init_mm, r.va + PAGE_SIZE, &pa, &prot) == -ENOENT;
	if (k != ~0UL) {
		ok &= r.irq_err == 0 && second_gone;
		if (!ok)
			kunit_info(test,
				   "interrupt at point %lu: protect %d, irq unmap %d, "
				   "second page %s",
				   k, r.task_err, r.irq_err,
				   second_gone ? "unmapped" : "MAPPED AGAIN");
	} else {
		ok &= !second_gone;
		(void)unmap_pages(&init_mm, r.va + PAGE_SIZE, 1);
	}
	if (!second_gone && k != ~0UL)
		(void)unmap_pages(&init_mm, r.va + PAGE_SIZE, 1);
	(void)unmap_pages(&init_mm, r.va, 1);
	KUNIT_EXPECT_TRUE(test, ok);
	return ok;
}

static void protect_count_vs_irq_unmap(struct kunit *test)
{
	unsigned long before = frames_free();

	at_every_point(test, "protect_pages", protect_setup, protect_task, protect_irq,
		       protect_check);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
}

/* --- the frame allocator: alloc vs alloc, free vs free --- */

static unsigned long frames_before;

static void alloc_setup(void)
{
	frames_before = frames_free();
	r.task_frame = r.irq_frame = 0;
}

static void alloc_task(void *arg)
{
	(void)arg;
	r.task_frame = alloc_frame();
}

static void alloc_irq(void *arg)
{
	(void)arg;
	r.irq_frame = alloc_frame();
}

/* Two allocations get two different frames, and the count drops by exactly two. */
static bool alloc_check(struct kunit *test, unsigned long k)
{
	unsigned long taken = k == ~0UL ? 1 : 2;
	bool ok = r.task_frame && (k == ~0UL || (r.irq_frame && r.irq_frame != r.task_frame)) &&
		  frames_free() == frames_before - taken;

	if (!ok)
		kunit_info(test, "interrupt at point %lu: frames %#llx and %#llx, %lu taken", k,
			   (unsigned long long)r.task_frame, (unsigned long long)r.irq_frame,
			   frames_before - frames_free());
	if (r.task_frame)
		free_frame(r.task_frame);
	if (r.irq_frame && r.irq_frame != r.task_frame)
		free_frame(r.irq_frame);
	KUNIT_EXPECT_TRUE(test, ok);
	return ok;
}

static void alloc_vs_irq_alloc(struct kunit *test)
{
	unsigned long before = frames_free();

	at_every_point(test, "alloc_frame", alloc_setup, alloc_task, alloc_irq, alloc_check);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
}

static void free_setup(void)
{
	r.task_frame = alloc_frame();
	r.irq_frame = alloc_frame();
	frames_before = frames_free();
}

static void free_task(void *arg)
{
	(void)arg;
	r.task_err = free_frame(r.task_frame);
}

static void free_irq(void *arg)
{
	(void)arg;
	r.irq_err = free_frame(r.irq_frame);
}

/* Two frees give back two frames: an update of the count lost in between shows here. */
static bool free_check(struct kunit *test, unsigned long k)
{
	bool ok = r.task_err == 0 && frames_free() == frames_before + (k == ~0UL ? 1 : 2);

	if (k == ~0UL)
		ok &= free_frame(r.irq_frame) == 0;
	else
		ok &= r.irq_err == 0;
	if (!ok)
		kunit_info(test, "interrupt at point %lu: frees %d/%d, count %lu -> %lu", k,
			   r.task_err, r.irq_err, frames_before, frames_free());
	KUNIT_EXPECT_TRUE(test, ok);
	return ok;
}

static void free_vs_irq_free(struct kunit *test)
{
	unsigned long before = frames_free();

	at_every_point(test, "free_frame", free_setup, free_task, free_irq, free_check);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
}

static struct kunit_case pt_races_cases[] = {
	KUNIT_CASE(unmap_prune_vs_irq_map),
	KUNIT_CASE(protect_count_vs_irq_unmap),
	KUNIT_CASE(alloc_vs_irq_alloc),
	KUNIT_CASE(free_vs_irq_free),
	{},
};

static struct kunit_suite pt_races_suite = {
	.name = "pt_races",
	.init = race_init,
	.exit = race_exit,
	.test_cases = pt_races_cases,
};
kunit_test_suite(pt_races_suite);
