/* Stress: 8 preempted tasks in random nested/paused sections, each checked against its model. */
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/sched.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <lib/prng.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_stats.h>

#define STRESS_TASKS  8
#define STRESS_PAGES  16    /* each task's own VA area */
#define STRESS_FRAMES 12    /* each task's own frames */
#define STRESS_OPS    12500 /* per task: 100,000 in all */
#define STRESS_HZ     4000  /* the tick rate meanwhile (TIMER_HZ is 100) */
#define MAX_DEPTH     6

/*
 * One task's world. Only the task touches it while it runs (the boot task reads it after
 * kthread_stop()), so it needs no lock. The model is what the task believes: which frame
 * each page maps and how, and its own lazy MMU counts.
 */
struct stress {
	unsigned int id;
	struct prng rng;
	unsigned long va;
	phys_addr_t frame[STRESS_FRAMES];
	bool frame_used[STRESS_FRAMES];
	int page_frame[STRESS_PAGES]; /* -1: unmapped */
	bool page_ro[STRESS_PAGES];
	unsigned int enable, pause;
	unsigned long ops, reads, mismatches;
	char first[128]; /* the first mismatch, for the report */
};

static struct stress st[STRESS_TASKS];

static u64 tag(unsigned int task, unsigned int frame)
{
	return 0x5ca1ab1e00000000ULL | (u64)task << 8 | frame;
}

static void mismatch(struct stress *s, const char *what, unsigned int page, s64 got, s64 want)
{
	if (!s->mismatches++)
		snprintf(s->first, sizeof(s->first), "op %lu page %u: %s: got %#llx, want %#llx",
			 s->ops, page, what, (long long)got, (long long)want);
}

static unsigned long page_va(const struct stress *s, unsigned int p)
{
	return s->va + p * PAGE_SIZE;
}

static bool active(const struct stress *s)
{
	return s->enable > 0 && s->pause == 0;
}

/* The page tables always say what the model says, section or not. */
static void check_tables(struct stress *s, unsigned int p)
{
	phys_addr_t pa;
	pgprot_t prot;
	int err = query_page(&init_mm, page_va(s, p), &pa, &prot);

	if (s->page_frame[p] < 0) {
		if (err != -ENOENT)
			mismatch(s, "query_page of an unmapped page", p, err, -ENOENT);
		return;
	}
	if (err)
		mismatch(s, "query_page of a mapped page", p, err, 0);
	else if (pa != s->frame[s->page_frame[p]])
		mismatch(s, "frame", p, (s64)pa, (s64)s->frame[s->page_frame[p]]);
	else if (pgprot_val(prot) != pgprot_val(s->page_ro[p] ? PAGE_KERNEL_RO : PAGE_KERNEL))
		mismatch(s, "protection", p, (s64)pgprot_val(prot), s->page_ro[p]);
}

/* Outside an active section every update is in effect: memory says what the model says. */
static void check_memory(struct stress *s, unsigned int p)
{
	unsigned long va = page_va(s, p);
	s64 v = kunit_peek(va);

	s->reads++;
	if (s->page_frame[p] < 0) {
		if (v != -1)
			mismatch(s, "read through an unmapped page", p, v, -1);
		return;
	}
	if (v != (s64)tag(s->id, (unsigned int)s->page_frame[p]))
		mismatch(s, "read", p, v, (s64)tag(s->id, (unsigned int)s->page_frame[p]));
	if (kunit_can_write(va) != !s->page_ro[p])
		mismatch(s, "writable", p, !s->page_ro[p], s->page_ro[p]);
}

static void check_all(struct stress *s)
{
	for (unsigned int p = 0; p < STRESS_PAGES; p++) {
		check_tables(s, p);
		check_memory(s, p);
	}
}

/* The task's counts are its model's, and its batch holds only its own pages. */
static void check_state(struct stress *s)
{
	const struct task *t = current;
	const struct tlb_batch *b = &t->tlb_batch;

	if (t->lazy_mmu_state.enable_count != s->enable)
		mismatch(s, "enable_count", 0, t->lazy_mmu_state.enable_count, s->enable);
	if (t->lazy_mmu_state.pause_count != s->pause)
		mismatch(s, "pause_count", 0, t->lazy_mmu_state.pause_count, s->pause);
	if (is_lazy_mmu_mode_active() != active(s))
		mismatch(s, "is_lazy_mmu_mode_active", 0, is_lazy_mmu_mode_active(), active(s));
	for (unsigned int i = 0; i < b->nr_ranges; i++) {
		unsigned long start = b->ranges[i].start,
			      end = start + b->ranges[i].pages * PAGE_SIZE;

		if (start < s->va || end > page_va(s, STRESS_PAGES))
			mismatch(s, "batch holds a page outside the task's area", 0, (s64)start,
				 (s64)s->va);
	}
}

static int free_frame_index(struct stress *s)
{
	unsigned int start = (unsigned int)prng_below(&s->rng, STRESS_FRAMES);

	for (unsigned int i = 0; i < STRESS_FRAMES; i++) {
		unsigned int f = (start + i) % STRESS_FRAMES;

		if (!s->frame_used[f])
			return (int)f;
	}
	return -1;
}

/* A random page that is mapped (want_mapped) or not; -1 if there is none. */
static int pick_page(struct stress *s, bool want_mapped)
{
	unsigned int start = (unsigned int)prng_below(&s->rng, STRESS_PAGES);

	for (unsigned int i = 0; i < STRESS_PAGES; i++) {
		unsigned int p = (start + i) % STRESS_PAGES;

		if ((s->page_frame[p] >= 0) == want_mapped)
			return (int)p;
	}
	return -1;
}

static void unmap_in_model(struct stress *s, unsigned int p)
{
	s->frame_used[s->page_frame[p]] = false;
	s->page_frame[p] = -1;
}

static void one_op(struct stress *s)
{
	unsigned int r = (unsigned int)prng_below(&s->rng, 1000);
	int p, f, err;

	if (r < 100) {
		if (s->enable < MAX_DEPTH && s->pause == 0) {
			lazy_mmu_mode_enable();
			s->enable++;
		}
	} else if (r < 200) {
		if (s->enable > 0 && s->pause == 0) {
			lazy_mmu_mode_disable();
			s->enable--;
			check_all(s); /* after any disable() every update is in effect */
		}
	} else if (r < 240) {
		if (s->pause < MAX_DEPTH) {
			lazy_mmu_mode_pause();
			s->pause++;
			check_all(s); /* paused: in effect at once */
		}
	} else if (r < 280) {
		if (s->pause > 0) {
			lazy_mmu_mode_resume();
			s->pause--;
		}
	} else if (r < 480) {
		p = pick_page(s, false);
		f = free_frame_index(s);
		if (p >= 0 && f >= 0) {
			bool ro = prng_below(&s->rng, 2);

			err = map_pages(&init_mm, page_va(s, (unsigned int)p), s->frame[f], 1,
					ro ? PAGE_KERNEL_RO : PAGE_KERNEL);
			if (err)
				mismatch(s, "map_pages", (unsigned int)p, err, 0);
			s->frame_used[f] = true;
			s->page_frame[p] = f;
			s->page_ro[p] = ro;
			check_tables(s, (unsigned int)p);
		}
	} else if (r < 630) {
		p = pick_page(s, true);
		if (p >= 0) {
			err = unmap_pages(&init_mm, page_va(s, (unsigned int)p), 1);
			if (err)
				mismatch(s, "unmap_pages", (unsigned int)p, err, 0);
			unmap_in_model(s, (unsigned int)p);
			check_tables(s, (unsigned int)p);
		}
	} else if (r < 780) {
		p = pick_page(s, true);
		if (p >= 0) {
			bool ro = prng_below(&s->rng, 2);

			err = protect_pages(&init_mm, page_va(s, (unsigned int)p), 1,
					    ro ? PAGE_KERNEL_RO : PAGE_KERNEL);
			if (err)
				mismatch(s, "protect_pages", (unsigned int)p, err, 0);
			s->page_ro[p] = ro;
			check_tables(s, (unsigned int)p);
		}
	} else if (r < 880) {
		/* The one door directly, as a caller batching across calls would use it. */
		p = pick_page(s, true);
		if (p >= 0) {
			unsigned long va = page_va(s, (unsigned int)p);

			pte_update(&init_mm, va, pte_lookup(&init_mm, va), __pte(0));
			unmap_in_model(s, (unsigned int)p);
			check_tables(s, (unsigned int)p);
		}
	} else if (r < 999) {
		p = (int)prng_below(&s->rng, STRESS_PAGES);
		check_tables(s, (unsigned int)p);
		if (!active(s))
			check_memory(s, (unsigned int)p);
	} else {
		yield(); /* rarely: the switches are meant to be preemptions */
	}
	check_state(s);
	s->ops++;
}

static int stress_task(void *data)
{
	struct stress *s = data;

	while (s->ops < STRESS_OPS)
		one_op(s);
	/* Close every section, then take everything down: the boot task checks the frames. */
	while (s->pause) {
		lazy_mmu_mode_resume();
		s->pause--;
	}
	while (s->enable) {
		lazy_mmu_mode_disable();
		s->enable--;
	}
	check_all(s);
	for (unsigned int p = 0; p < STRESS_PAGES; p++) {
		if (s->page_frame[p] >= 0) {
			if (unmap_pages(&init_mm, page_va(s, p), 1))
				mismatch(s, "final unmap_pages", p, 0, 0);
			unmap_in_model(s, p);
		}
	}
	/*
	 * A page cleared through pte_update() leaves its table to whoever unmaps last: one
	 * unmap_pages() over the emptied area prunes it (map one page to have one to unmap).
	 */
	if (map_pages(&init_mm, s->va, s->frame[0], 1, PAGE_KERNEL) ||
	    unmap_pages(&init_mm, s->va, 1))
		mismatch(s, "final map/unmap", 0, 0, 0);
	check_all(s);
	return 0;
}

static u64 parse_u64(const char *str)
{
	u64 v = 0;

	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		for (str += 2; *str; str++) {
			unsigned int d = *str >= 'a'   ? *str - 'a' + 10
					 : *str >= 'A' ? *str - 'A' + 10
						       : *str - '0';
			v = v * 16 + d;
		}
		return v;
	}
	for (; *str >= '0' && *str <= '9'; str++)
		v = v * 10 + (*str - '0');
	return v;
}

static struct task *tasks[STRESS_TASKS];

/* Whatever an aborted case left: the rate back, tasks stopped, frames returned. */
static void stress_exit(struct kunit *test)
{
	(void)test;
	timer_set_hz(TIMER_HZ);
	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		if (tasks[i])
			kthread_stop(tasks[i]);
		tasks[i] = NULL;
		for (unsigned int f = 0; f < STRESS_FRAMES; f++) {
			if (st[i].frame[f])
				free_frame(st[i].frame[f]);
			st[i].frame[f] = 0;
		}
	}
}

/*
 * STRESS_TASKS tasks, each in its own VA area with its own frames, do random nested and
 * paused sections and random map/protect/unmap/pte_update, with the tick at STRESS_HZ so
 * that they are preempted everywhere - inside sections, between a pte_update and its
 * flush, inside pause. Each checks every step against its own model: the tables always,
 * memory (reads and writes through the mappings) whenever its section is not active, its
 * own counts, and that its batch holds only its own pages. Replay with sched.seed=<seed>.
 */
static void stress_tasks_agree_with_their_models(struct kunit *test)
{
	unsigned long frames = frames_free(), ops = 0, mismatches = 0, reads = 0;
	struct sched_stats s0, s1;
	struct tlb_stats t0, t1;
	char arg[24];
	u64 seed, c0, c1, k0, k1;

	if (cmdline_get(&boot_info, "sched.seed", arg, sizeof(arg)))
		seed = parse_u64(arg);
	else
		seed = arch_cycles() * 0x9e3779b97f4a7c15ULL;
	kunit_info(test, "seed %#llx (boot with sched.seed=%#llx to replay the choices)",
		   (unsigned long long)seed, (unsigned long long)seed);

	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		struct stress *s = &st[i];

		memset(s, 0, sizeof(*s));
		s->id = i;
		prng_seed(&s->rng, seed + i * 0x9e3779b97f4a7c15ULL);
		s->va = vm_test_area(STRESS_PAGES);
		KUNIT_ASSERT_NE(test, s->va, 0);
		for (unsigned int p = 0; p < STRESS_PAGES; p++)
			s->page_frame[p] = -1;
		for (unsigned int f = 0; f < STRESS_FRAMES; f++) {
			s->frame[f] = alloc_frame();
			KUNIT_ASSERT_NE(test, s->frame[f], 0);
			*(u64 *)phys_to_virt(s->frame[f]) = tag(i, f);
		}
	}
	/* A rate that is no rate is refused and changes nothing. */
	timer_set_hz(0);
	KUNIT_EXPECT_EQ(test, timer_hz(), TIMER_HZ);
	sched_stats_read(&s0);
	tlb_stats_read(&t0);
	c0 = arch_cycles();
	timer_set_hz(STRESS_HZ);
	k0 = timer_ticks();
	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "stress%u", i);
		tasks[i] = kthread_run(stress_task, &st[i], name);
		KUNIT_ASSERT_NOT_NULL(test, tasks[i]);
	}
	/* kthread_stop() waits for each to finish its run (they don't stop early). */
	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		kthread_stop(tasks[i]);
		tasks[i] = NULL;
	}
	k1 = timer_ticks();
	KUNIT_EXPECT_EQ(test, timer_hz(), STRESS_HZ);
	timer_set_hz(TIMER_HZ);
	c1 = arch_cycles();
	sched_stats_read(&s1);
	tlb_stats_read(&t1);

	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		ops += st[i].ops;
		reads += st[i].reads;
		mismatches += st[i].mismatches;
		if (st[i].mismatches)
			kunit_info(test, "stress%u: %lu mismatches, first: %s", i, st[i].mismatches,
				   st[i].first);
	}
	kunit_info(test, "%lu ops, %lu reads through mappings, %lu mismatches in %llu ms", ops,
		   reads, mismatches, (unsigned long long)((c1 - c0) * 1000 / arch_cycles_hz()));
	kunit_info(test,
		   "%llu ticks at %u Hz, %llu switches (%llu preemptions); switch_leave %llu, "
		   "switch_enter %llu",
		   (unsigned long long)(k1 - k0), STRESS_HZ,
		   (unsigned long long)(s1.switches - s0.switches),
		   (unsigned long long)(s1.preemptions - s0.preemptions),
		   (unsigned long long)(t1.switch_leave - t0.switch_leave),
		   (unsigned long long)(t1.switch_enter - t0.switch_enter));
	KUNIT_EXPECT_EQ(test, mismatches, 0);
	KUNIT_EXPECT_GE(test, ops, 100000);
	/*
	 * The raised rate took effect: far more ticks than TIMER_HZ would give. (Fewer than
	 * STRESS_HZ would: a tick that comes due while interrupts are masked - inside the
	 * page-table lock, mostly - is taken once when they come back, however long it was.)
	 */
	KUNIT_EXPECT_GT(test, k1 - k0, 4 * (c1 - c0) * TIMER_HZ / arch_cycles_hz());
	/* Preempted inside active sections, and resumed in them, many times over. */
	KUNIT_EXPECT_GT(test, t1.switch_leave - t0.switch_leave, 10);
	KUNIT_EXPECT_GT(test, t1.switch_enter - t0.switch_enter, 10);

	for (unsigned int i = 0; i < STRESS_TASKS; i++) {
		for (unsigned int f = 0; f < STRESS_FRAMES; f++) {
			free_frame(st[i].frame[f]);
			st[i].frame[f] = 0;
		}
	}
	KUNIT_EXPECT_EQ(test, frames_free(), frames); /* tables and stacks all came back */
}

static struct kunit_case sched_stress_cases[] = {
	KUNIT_CASE(stress_tasks_agree_with_their_models),
	{},
};

static struct kunit_suite sched_stress_suite = {
	.name = "sched_stress",
	.test_cases = sched_stress_cases,
	.exit = stress_exit,
};
kunit_test_suite(sched_stress_suite);
