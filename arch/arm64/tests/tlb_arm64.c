/*
 * The arm64 backend on the real (emulated) CPU: deferred barriers, range or per-page TLBI
 * forms, leaf-only vs all-level forms, break-before-make - proven by counters and memory.
 */
#include <asm/tlbflush.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

#define WORDS (PAGE_SIZE / sizeof(u64))
#define BIG   512 /* pages: one whole leaf table, Linux's MAX_DVM_OPS */

struct a64 {
	phys_addr_t a, b; /* two frames whose every word says which frame and which word */
	unsigned long ceiling;
	phys_addr_t big[BIG]; /* frames of map_big() */
};

static u64 word_of(char frame, unsigned int i)
{
	return ((u64)frame << 56) | 0x7a6700000000ULL | i;
}

static void fill(phys_addr_t pa, char frame)
{
	u64 *p = phys_to_virt(pa);

	for (unsigned int i = 0; i < WORDS; i++)
		p[i] = word_of(frame, i);
}

static int a64_init(struct kunit *test)
{
	static struct a64 t;

	t.a = alloc_frame();
	t.b = alloc_frame();
	if (!t.a || !t.b)
		return -ENOMEM;
	fill(t.a, 'A');
	fill(t.b, 'B');
	t.ceiling = tlb_flush_ceiling;
	tlb_flush_ceiling = arch_default_flush_ceiling();
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	test->priv = &t;
	return 0;
}

static void a64_exit(struct kunit *test)
{
	struct a64 *t = test->priv;

	tlb_flush_ceiling = t->ceiling;
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	free_frame(t->a);
	free_frame(t->b);
}

/* The counters: generic fields in .s, arm64's per-form ones in .s.arch. */
struct counts {
	struct tlb_stats s;
};

static void reset(void)
{
	tlb_stats_reset();
}

static struct counts counts(void)
{
	struct counts c;

	tlb_stats_read(&c.s);
	return c;
}

static u64 invalidations(const struct counts *c)
{
	return c->s.tlbi_page + c->s.tlbi_range + c->s.tlbi_all;
}

/* The generic view is derived from the per-form counts: the derivation must add up. */
static void expect_consistent(struct kunit *test, const struct counts *c)
{
	KUNIT_EXPECT_EQ(test, c->s.arch.vale1is + c->s.arch.vae1is, c->s.tlbi_page);
	KUNIT_EXPECT_EQ(test, c->s.arch.rvale1is + c->s.arch.rvae1is, c->s.tlbi_range);
	KUNIT_EXPECT_EQ(test, c->s.arch.vmalle1is, c->s.tlbi_all);
}

/*
 * Reads the whole page at va through the MMU and says which frame every word came from:
 * 'A' or 'B' if all 512 words are that frame's, 'X' for a mix or anything else, 0 if the
 * read faulted.
 */
static char whole_page(unsigned long va)
{
	static u64 buf[WORDS];
	char frame;

	if (copy_from_kernel_nofault(buf, (const void *)va, PAGE_SIZE))
		return 0;
	frame = (char)(buf[0] >> 56);
	for (unsigned int i = 0; i < WORDS; i++)
		if (buf[i] != word_of(frame, i))
			return 'X';
	return frame == 'A' || frame == 'B' ? frame : 'X';
}

/*
 * The oracle for operation counts, independent of arm64_tlbi_walk_count(): the fewest
 * operations that can cover exactly n pages, by dynamic programming over every size one
 * operation can have - 1 page (per-address form), or (NUM + 1) * 2^(5 * SCALE + 1) pages
 * (range form, the Arm ARM's formula, written out here again). The backend claims its walk
 * is minimal, so its count must equal this. Without FEAT_TLBIRANGE: one per page.
 */
static unsigned long fewest_ops(unsigned long n, bool range)
{
	static u8 best[BIG + 1];
	static bool built;

	if (!range)
		return n;
	if (!built) {
		best[0] = 0;
		for (unsigned long len = 1; len <= BIG; len++) {
			unsigned int b = best[len - 1] + 1U; /* one per-address operation */

			for (unsigned int scale = 0; scale < 4; scale++)
				for (unsigned long num = 0; num < 32; num++) {
					unsigned long size = (num + 1) << (5 * scale + 1);

					if (size <= len && best[len - size] + 1U < b)
						b = best[len - size] + 1U;
				}
			best[len] = (u8)b;
		}
		built = true;
	}
	return n <= BIG ? best[n] : 0;
}

/* What one issued operation covers, in page numbers (VA >> 12). */
struct span {
	unsigned long first, pages;
	unsigned int scale; /* range forms only */
};

/*
 * Decodes an operand as the CPU reads it (the Arm ARM's field layout, not the encoder's
 * helpers): per-address form ASID [63:48], TTL [47:44], VA[55:12] in [43:0]; range form
 * ASID [63:48], TG [47:46], SCALE [45:44], NUM [43:39], TTL [38:37], BaseADDR [36:0],
 * covering (NUM + 1) << (5 * SCALE + 1) pages. Fields we never use must be 0 (ASID, TTL: no
 * hint), and TG must be 01 (4 KiB): with any other TG the CPU may invalidate nothing.
 *
 * The address fields are narrower than a VA, and the CPU widens them by sign extension
 * from their top bit (VA[55], resp. VA[48]): that bit picks TTBR1's half. The test areas
 * are high kernel addresses, so a decoder that didn't extend would find every operation
 * 2^64 - 2^56 (resp. - 2^49) bytes away from its batch.
 */
static bool decode(struct kunit *test, const struct arm64_tlbi_record *r, struct span *sp)
{
	u64 x = r->operand;

	if (x >> 48) {
		kunit_fail(test, false, __FILE__, __LINE__, "operand %#llx: ASID not 0",
			   (unsigned long long)x);
		return false;
	}
	if (!r->range) {
		if ((x >> 44) & 15) {
			kunit_fail(test, false, __FILE__, __LINE__, "operand %#llx: TTL not 0",
				   (unsigned long long)x);
			return false;
		}
		sp->first = (unsigned long)((s64)(x << 20) >> 8) >> 12; /* VA[55:12] at 43:0 */
		sp->pages = 1;
		sp->scale = 0;
		return true;
	}
	if (((x >> 46) & 3) != 1 || ((x >> 37) & 3) != 0) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "range operand %#llx: TG not 01 or TTL not 0", (unsigned long long)x);
		return false;
	}
	sp->scale = (unsigned int)(x >> 44) & 3;
	sp->first = (unsigned long)((s64)(x << 27) >> 15) >> 12; /* VA[48:12] at 36:0 */
	sp->pages = (((x >> 39) & 31) + 1) << (5 * sp->scale + 1);
	return true;
}

#define MAX_RECORDS BIG /* a 512-page walk without range forms */

/*
 * Decodes every recorded operation and checks that, together, they cover exactly the pages
 * of ranges[0..nr) (sorted, not adjacent): no page missed, none outside, none twice.
 * Returns how many operations of each SCALE were range forms in *scales (4 entries).
 */
static bool ops_cover_exactly(struct kunit *test, const struct arm64_tlbi_record *rec,
			      unsigned int n, const struct tlb_range *ranges, unsigned int nr,
			      unsigned int *scales)
{
	static struct span sp[MAX_RECORDS];
	unsigned int k = 0;

	KUNIT_ASSERT_LE(test, n, MAX_RECORDS);
	for (unsigned int i = 0; i < n; i++) {
		if (!decode(test, &rec[i], &sp[i]))
			return false;
		if (scales && rec[i].range)
			scales[sp[i].scale]++;
	}
	/* Sort by first page (a handful of entries: insertion sort). */
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && sp[j - 1].first > sp[j].first; j--) {
			struct span tmp = sp[j];

			sp[j] = sp[j - 1];
			sp[j - 1] = tmp;
		}
	for (unsigned int i = 0; i < nr; i++) {
		unsigned long next = ranges[i].start >> 12, end = next + ranges[i].pages;

		while (next < end) {
			if (k == n || sp[k].first != next || sp[k].first + sp[k].pages > end) {
				kunit_fail(test, false, __FILE__, __LINE__,
					   "range %u [%#lx, +%lu pages): page %#lx not covered "
					   "exactly (next op: %s %#lx +%lu)",
					   i, ranges[i].start, ranges[i].pages, next << 12,
					   k == n ? "none" : "at", k == n ? 0 : sp[k].first << 12,
					   k == n ? 0 : sp[k].pages);
				return false;
			}
			next += sp[k++].pages;
		}
	}
	if (k != n) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "%u operations cover pages outside the batch (first at %#lx)", n - k,
			   sp[k].first << 12);
		return false;
	}
	return true;
}

static void feature_and_ceiling_follow_the_cpu(struct kunit *test)
{
	unsigned int tlb = arm64_tlb_feature();
	bool range = tlb >= ID_AA64ISAR0_TLB_RANGE;

	KUNIT_EXPECT_EQ(test, arch_has_range_tlbi(), range);
	KUNIT_EXPECT_EQ(test, arch_has_range_tlbi(), range); /* cached, still the same */
	KUNIT_EXPECT_EQ(test, arch_default_flush_ceiling(), range ? TLBI_RANGE_MAX_PAGES : 512);
	kunit_info(test, "ID_AA64ISAR0_EL1.TLB = %u: range TLBI %s, default ceiling %lu pages", tlb,
		   range ? "yes" : "no", arch_default_flush_ceiling());
}

/* Writes n new entries (empty -> valid) after the first page of va; returns the counts. */
static struct counts make_n(struct kunit *test, unsigned long va, unsigned int n, phys_addr_t pa,
			    bool section)
{
	pte_t *ptep = pte_lookup(&init_mm, va);

	KUNIT_EXPECT_NOT_NULL(test, ptep);
	if (!ptep)
		return counts();
	reset();
	if (section)
		lazy_mmu_mode_enable();
	for (unsigned int i = 1; i <= n; i++)
		pte_update(&init_mm, va + i * PAGE_SIZE, ptep + i, mk_pte(pa, PAGE_KERNEL));
	if (section) {
		struct counts inside = counts();

		/* Batched, nothing is issued yet: the pairs wait in the task's batch. */
		if (lazy_mmu_get_backend() == LAZY_MMU_BATCHED)
			KUNIT_EXPECT_EQ(test, inside.s.barriers, 0);
		KUNIT_EXPECT_EQ(test, inside.s.pte_writes, n);
		lazy_mmu_mode_disable();
	}
	return counts();
}

static void new_entries_cost_one_barrier_pair(struct kunit *test)
{
	struct a64 *t = test->priv;
	const unsigned int n = 64;
	unsigned long va = vm_test_area(n + 1);
	struct counts batched, eager, outside;
	bool eager_ok;

	/* Page 0 makes the tables, so only the n leaf writes are counted below. */
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, t->a, 1, PAGE_KERNEL), 0);

	batched = make_n(test, va, n, t->a, true);
	KUNIT_EXPECT_EQ(test, batched.s.barriers, 1);
	KUNIT_EXPECT_EQ(test, batched.s.batches, 1);
	KUNIT_EXPECT_EQ(test, invalidations(&batched), 0);
	for (unsigned int i = 1; i <= n; i++)
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), word_of('A', 0));
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va + PAGE_SIZE, n), 0);

	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	eager = make_n(test, va, n, t->a, true);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	KUNIT_EXPECT_EQ(test, eager.s.barriers, n);
	KUNIT_EXPECT_EQ(test, eager.s.batches, n);
	KUNIT_EXPECT_EQ(test, invalidations(&eager), 0);
	eager_ok = kunit_peek(va + n * PAGE_SIZE) == (s64)word_of('A', 0);
	KUNIT_EXPECT_TRUE(test, eager_ok);
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va + PAGE_SIZE, n), 0);

	/* Batched backend but no section: every update completes at once. */
	outside = make_n(test, va, n, t->a, false);
	KUNIT_EXPECT_EQ(test, outside.s.barriers, n);
	KUNIT_EXPECT_EQ(test, invalidations(&outside), 0);
	kunit_info(test,
		   "%u new entries: batched %llu barrier pair in %llu batch; eager %llu pairs; "
		   "outside a section %llu pairs; 0 TLBIs each",
		   n, (unsigned long long)batched.s.barriers, (unsigned long long)batched.s.batches,
		   (unsigned long long)eager.s.barriers, (unsigned long long)outside.s.barriers);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, n + 1), 0);
}

struct irq_make {
	unsigned long va;
	pte_t *ptep;
	phys_addr_t pa;
	bool ran, in_irq;
	u64 barriers;
	s64 seen;
};

static void make_from_irq(void *arg)
{
	struct irq_make *u = arg;
	struct tlb_stats before, after;

	tlb_stats_read(&before);
	u->ran = true;
	u->in_irq = in_interrupt();
	pte_update(&init_mm, u->va, u->ptep, mk_pte(u->pa, PAGE_KERNEL));
	tlb_stats_read(&after);
	u->barriers = after.barriers - before.barriers;
	u->seen = kunit_peek(u->va);
}

static void interrupt_context_publishes_at_once(struct kunit *test)
{
	struct a64 *t = test->priv;
	unsigned long va = vm_test_area(2);
	struct irq_make u = { .va = va + PAGE_SIZE, .pa = t->b };

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, t->a, 1, PAGE_KERNEL), 0);
	u.ptep = pte_lookup(&init_mm, va) + 1;

	lazy_mmu_mode_enable();
	timer_call_once(make_from_irq, &u);
	timer_wait_ticks(2);
	/* The handler's entry was published by the handler, not queued in our batch. */
	KUNIT_EXPECT_TRUE(test, tlb_batch_empty(&current->tlb_batch));
	lazy_mmu_mode_disable();

	KUNIT_ASSERT_TRUE(test, u.ran);
	KUNIT_EXPECT_TRUE(test, u.in_irq);
	KUNIT_EXPECT_EQ(test, u.barriers, 1);
	KUNIT_EXPECT_EQ(test, u.seen, word_of('B', 0));
	kunit_info(test,
		   "new entry from a timer interrupt inside a section: %llu barrier pair "
		   "issued in the handler",
		   (unsigned long long)u.barriers);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 2), 0);
}

/* Maps BIG fresh frames, page i tagged i, at a fresh area (one whole leaf table). */
static unsigned long map_big(struct kunit *test, struct a64 *t)
{
	unsigned long va = vm_test_area(BIG);

	for (unsigned int i = 0; i < BIG; i++) {
		t->big[i] = alloc_frame();
		KUNIT_ASSERT_NE(test, t->big[i], 0);
		*(u64 *)phys_to_virt(t->big[i]) = i;
		KUNIT_ASSERT_EQ(
		    test, map_pages(&init_mm, va + i * PAGE_SIZE, t->big[i], 1, PAGE_KERNEL), 0);
	}
	return va;
}

static void unmap_big(struct kunit *test, struct a64 *t, unsigned long va)
{
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, BIG), 0);
	for (unsigned int i = 0; i < BIG; i++)
		free_frame(t->big[i]);
}

/* Every page of the big area reads its tag, and is writable or not. */
static bool big_is(struct kunit *test, unsigned long va, bool writable)
{
	for (unsigned int i = 0; i < BIG; i++) {
		unsigned long p = va + i * PAGE_SIZE;

		if (kunit_peek(p) != (s64)i || kunit_can_write(p) != writable) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "page %u: read %lld, write %s (want %s)", i,
				   (long long)kunit_peek(p), kunit_can_write(p) ? "ok" : "faults",
				   writable ? "ok" : "faults");
			return false;
		}
	}
	return true;
}

static void protect_512_pages(struct kunit *test)
{
	struct a64 *t = test->priv;
	unsigned long va = map_big(test, t);
	bool range = arch_has_range_tlbi();
	static struct arm64_tlbi_record rec[MAX_RECORDS];
	struct counts c;

	/* One protect_pages(): its own section, one batch of 512 pages. */
	reset();
	arm64_tlbi_record_to(rec, MAX_RECORDS);
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, BIG, PAGE_KERNEL_RO), 0);
	arm64_tlbi_record_to(NULL, 0);
	c = counts();
	if (range) {
		struct tlb_range whole = { .start = va, .pages = BIG };

		KUNIT_EXPECT_EQ(test, arm64_tlbi_recorded(), 0); /* stopped: forgets the count */
		KUNIT_EXPECT_TRUE(test, ops_cover_exactly(test, rec, (unsigned int)c.s.tlbi_range,
							  &whole, 1, NULL));
	}
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, c.s.batches, 1);
	KUNIT_EXPECT_EQ(test, c.s.barriers, 0); /* the TLBI sequence's own dsb/isb suffice */
	KUNIT_EXPECT_EQ(test, c.s.arch.vae1is + c.s.arch.rvae1is,
			0); /* no table freed: leaf forms only */
	if (range) {
		/* 512 = (7 + 1) << (5 * 1 + 1): one rvale1is with SCALE 1, NUM 7. */
		KUNIT_EXPECT_EQ(test, fewest_ops(BIG, true), 1);
		KUNIT_EXPECT_EQ(test, c.s.tlbi_range, 1);
		KUNIT_EXPECT_EQ(test, c.s.tlbi_page + c.s.tlbi_all, 0);
	} else {
		/* The default ceiling is 512: still page by page. */
		KUNIT_EXPECT_EQ(test, c.s.tlbi_page, BIG);
		KUNIT_EXPECT_EQ(test, c.s.tlbi_range + c.s.tlbi_all, 0);
	}
	big_is(test, va, false);
	kunit_info(test, "protect 512 pages: %llu vale1is + %llu rvale1is + %llu vmalle1is",
		   (unsigned long long)c.s.arch.vale1is, (unsigned long long)c.s.arch.rvale1is,
		   (unsigned long long)c.s.arch.vmalle1is);

	/* One page above the ceiling: one full flush instead. */
	tlb_flush_ceiling = BIG - 1;
	reset();
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, BIG, PAGE_KERNEL), 0);
	c = counts();
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_all, 1);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_page + c.s.tlbi_range, 0);
	big_is(test, va, true);
	kunit_info(test, "with the ceiling at 511: %llu vmalle1is, nothing else",
		   (unsigned long long)c.s.arch.vmalle1is);
	tlb_flush_ceiling = arch_default_flush_ceiling();

	/* Eager: one per-page TLBI (and its dsb/isb) as each entry changes. */
	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	reset();
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, BIG, PAGE_KERNEL_RO), 0);
	c = counts();
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_page, BIG);
	KUNIT_EXPECT_EQ(test, c.s.batches, BIG);
	big_is(test, va, false);
	kunit_info(test, "eager: %llu vale1is in %llu batches",
		   (unsigned long long)c.s.arch.vale1is, (unsigned long long)c.s.batches);
	unmap_big(test, t, va);
}

/*
 * Sub-ranges of every awkward size: as few operations as any exact cover can use (counted by
 * an oracle of our own), each decoded back into the pages it covers, and every page of the
 * range read-only afterwards although its writable translation was cached.
 */
static void odd_ranges_cost_what_the_encoder_says(struct kunit *test)
{
	static const unsigned int lens[] = { 1, 2, 3, 7, 8, 63, 64, 65, 66, 127, 129, 333, 511 };
	static struct arm64_tlbi_record rec[MAX_RECORDS];
	struct a64 *t = test->priv;
	unsigned int n;
	unsigned long va = map_big(test, t);
	bool range = arch_has_range_tlbi();

	for (unsigned int i = 0; i < ARRAY_SIZE(lens); i++) {
		/* Start on an odd page where there is room, so base addresses vary too. */
		unsigned long first = lens[i] < BIG ? 1 : 0, expect = fewest_ops(lens[i], range);
		struct tlb_range r = { .start = va + first * PAGE_SIZE, .pages = lens[i] };
		bool all_ro = true;
		struct counts c;

		/* Every page writable, and its writable translation cached. */
		for (unsigned long p = 0; p < lens[i]; p++)
			KUNIT_EXPECT_TRUE(test, kunit_can_write(r.start + p * PAGE_SIZE));
		reset();
		arm64_tlbi_record_to(rec, MAX_RECORDS);
		KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, r.start, lens[i], PAGE_KERNEL_RO), 0);
		n = arm64_tlbi_recorded();
		arm64_tlbi_record_to(NULL, 0);
		c = counts();
		expect_consistent(test, &c);
		KUNIT_EXPECT_EQ(test, c.s.tlbi_page + c.s.tlbi_range, expect);
		/* A range form covers an even count: exactly the odd page goes per address. */
		KUNIT_EXPECT_EQ(test, c.s.tlbi_page, range ? (u64)(lens[i] & 1) : lens[i]);
		KUNIT_EXPECT_EQ(test, c.s.tlbi_all, 0);
		KUNIT_EXPECT_EQ(test, n, expect);
		if (n <= MAX_RECORDS)
			KUNIT_EXPECT_TRUE(test, ops_cover_exactly(test, rec, n, &r, 1, NULL));
		/* Every page of the range took the change; the one after it did not. */
		for (unsigned long p = 0; p < lens[i]; p++)
			all_ro = all_ro && !kunit_can_write(r.start + p * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, all_ro);
		if (first + lens[i] < BIG)
			KUNIT_EXPECT_TRUE(test,
					  kunit_can_write(va + (first + lens[i]) * PAGE_SIZE));
		kunit_info(test, "%3u pages: %llu per-page + %llu range TLBIs", lens[i],
			   (unsigned long long)c.s.tlbi_page, (unsigned long long)c.s.tlbi_range);
		/* Back to writable before the next length (one more batch, not counted). */
		KUNIT_ASSERT_EQ(
		    test, protect_pages(&init_mm, va + first * PAGE_SIZE, lens[i], PAGE_KERNEL), 0);
	}
	big_is(test, va, true);
	unmap_big(test, t, va);
}

static void unmap_that_frees_a_table_uses_all_level_forms(struct kunit *test)
{
	struct a64 *t = test->priv;
	const unsigned int n = 16;
	unsigned long va, keeper, free_before;
	bool range = arch_has_range_tlbi();
	struct counts c;

	/*
	 * A keeper page in the same 1 GiB keeps the level-1 table above our leaf table alive,
	 * so the unmap frees exactly one table: its entry's page is va, inside the range.
	 * (Were the 1 GiB table freed too, its entry would add a page of its own.)
	 */
	do {
		va = vm_test_area(n);
		keeper = vm_test_area(1);
	} while (ALIGN_DOWN(va, LEVEL_SIZE(2)) != ALIGN_DOWN(keeper, LEVEL_SIZE(2)));
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, keeper, t->a, 1, PAGE_KERNEL), 0);
	free_before = frames_free();
	/* n pages of frame A's alias; the area has a leaf table of its own. */
	for (unsigned int i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + i * PAGE_SIZE, t->a, 1, PAGE_KERNEL),
				0);

	/* A hole in the middle: the leaf table stays, only leaves changed. */
	for (unsigned int i = 0; i < n; i++) /* every translation cached */
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), word_of('A', 0));
	reset();
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va + 4 * PAGE_SIZE, 4), 0);
	c = counts();
	for (unsigned int i = 4; i < 8; i++)
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), -1);
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, c.s.arch.vae1is + c.s.arch.rvae1is, 0);
	KUNIT_EXPECT_EQ(test, c.s.arch.vale1is + c.s.arch.rvale1is, range ? 1 : 4);
	kunit_info(test, "unmap 4 of %u pages (table kept): %llu vale1is + %llu rvale1is", n,
		   (unsigned long long)c.s.arch.vale1is, (unsigned long long)c.s.arch.rvale1is);
	for (unsigned int i = 4; i < 8; i++) /* frame A again, one page per call */
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + i * PAGE_SIZE, t->a, 1, PAGE_KERNEL),
				0);

	/* Everything: the leaf table is unlinked, so walk caches must go too. */
	for (unsigned int i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), word_of('A', 0));
	reset();
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, n), 0);
	c = counts();
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, c.s.arch.vale1is + c.s.arch.rvale1is, 0);
	KUNIT_EXPECT_EQ(test, c.s.arch.vae1is + c.s.arch.rvae1is, range ? 1 : n);
	KUNIT_EXPECT_EQ(test, c.s.batches, 1);
	KUNIT_EXPECT_NULL(test, pte_lookup(&init_mm, va));
	KUNIT_EXPECT_EQ(test, frames_free(), free_before); /* the table came back after it */
	for (unsigned int i = 0; i < n; i++)		   /* cached a moment ago, gone now */
		KUNIT_EXPECT_EQ(test, kunit_peek(va + i * PAGE_SIZE), -1);
	kunit_info(test, "unmap all %u pages (leaf table freed): %llu vae1is + %llu rvae1is", n,
		   (unsigned long long)c.s.arch.vae1is, (unsigned long long)c.s.arch.rvae1is);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, keeper, 1), 0);
}

/*
 * Break-before-make: a live page pointed at another frame inside a section. The generic
 * pte_update() clears the entry and flushes the batch (counted as bbm_flushes) before it
 * writes the new one, so no CPU can hold both translations at once.
 */
static void remap_of_a_live_page_breaks_first(struct kunit *test)
{
	struct a64 *t = test->priv;
	unsigned long va = vm_test_area(2);
	struct counts in, out;
	pte_t *ptep;
	char inside;

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, t->a, 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + PAGE_SIZE, t->b, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&init_mm, va);
	KUNIT_EXPECT_EQ(test, whole_page(va), 'A'); /* caches the translation */

	reset();
	lazy_mmu_mode_enable();
	/* Something else already queued: the neighbour becomes read-only. */
	pte_update(&init_mm, va + PAGE_SIZE, ptep + 1, mk_pte(t->b, PAGE_KERNEL_RO));
	pte_update(&init_mm, va, ptep, mk_pte(t->b, PAGE_KERNEL));
	in = counts();
	/*
	 * Read inside the section, before the make's deferred publishing pair: the old
	 * translation is gone, so the walk finds the new entry (under TCG at once; silicon
	 * could take a spurious translation fault here and return 0, never 'A' or 'X').
	 */
	inside = whole_page(va);
	lazy_mmu_mode_disable();
	out = counts();

	expect_consistent(test, &out);
	KUNIT_EXPECT_EQ(test, in.s.bbm_flushes, 1);
	KUNIT_EXPECT_EQ(test, in.s.batches, 1); /* the forced flush, inside */
	/* The break of va merged with the queued neighbour: one range of 2 pages. */
	KUNIT_EXPECT_EQ(test, invalidations(&in), arch_has_range_tlbi() ? 1 : 2);
	KUNIT_EXPECT_EQ(test, in.s.barriers, 0);  /* the make's pair is deferred... */
	KUNIT_EXPECT_EQ(test, out.s.barriers, 1); /* ...to the end of the section */
	KUNIT_EXPECT_EQ(test, out.s.batches, 2);
	KUNIT_EXPECT_EQ(test, in.s.pte_writes, 3); /* neighbour, break, make */
	KUNIT_EXPECT_EQ(test, inside, 'B');
	KUNIT_EXPECT_EQ(test, whole_page(va), 'B');
	KUNIT_EXPECT_FALSE(test, kunit_can_write(va + PAGE_SIZE));
	kunit_info(test,
		   "remap in a section: bbm_flushes %llu, %llu page + %llu range TLBIs before "
		   "the make, page read inside the section: all 512 words from frame %c",
		   (unsigned long long)in.s.bbm_flushes, (unsigned long long)in.s.tlbi_page,
		   (unsigned long long)in.s.tlbi_range, inside ? inside : '0');

	/* Eager: the same break (one TLBI) and make (one pair), nothing counted as forced. */
	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	reset();
	pte_update(&init_mm, va, ptep, mk_pte(t->a, PAGE_KERNEL));
	out = counts();
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	KUNIT_EXPECT_EQ(test, out.s.bbm_flushes, 0);
	KUNIT_EXPECT_EQ(test, out.s.tlbi_page, 1);
	KUNIT_EXPECT_EQ(test, out.s.barriers, 1);
	KUNIT_EXPECT_EQ(test, out.s.pte_writes, 2);
	KUNIT_EXPECT_EQ(test, whole_page(va), 'A');
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 2), 0);
}

static void clear_then_make_flushes_before_the_make(struct kunit *test)
{
	struct a64 *t = test->priv;
	unsigned long va = vm_test_area(3);
	struct counts cleared, made, out;
	pte_t *ptep;
	char stale, inside;

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, t->a, 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + 2 * PAGE_SIZE, t->a, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&init_mm, va);
	KUNIT_EXPECT_EQ(test, whole_page(va), 'A');

	reset();
	lazy_mmu_mode_enable();
	pte_update(&init_mm, va, ptep, __pte(0));
	cleared = counts();
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&current->tlb_batch, va));
	stale = whole_page(va); /* the break is queued: the TLB still has frame A */
	/* A new entry elsewhere (page 1 was never mapped) is no reason to flush. */
	pte_update(&init_mm, va + PAGE_SIZE, ptep + 1, mk_pte(t->b, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, counts().s.bbm_flushes, 0);
	/* The make of va itself: its break must complete first. */
	pte_update(&init_mm, va, ptep, mk_pte(t->b, PAGE_KERNEL));
	made = counts();
	inside = whole_page(va);
	KUNIT_EXPECT_FALSE(test, tlb_batch_contains(&current->tlb_batch, va));
	lazy_mmu_mode_disable();
	out = counts();

	KUNIT_EXPECT_EQ(test, invalidations(&cleared), 0);
	KUNIT_EXPECT_EQ(test, stale, 'A');
	KUNIT_EXPECT_EQ(test, made.s.bbm_flushes, 1);
	KUNIT_EXPECT_EQ(test, invalidations(&made), 1); /* exactly the queued break of va */
	KUNIT_EXPECT_EQ(test, made.s.batches, 1);
	KUNIT_EXPECT_EQ(test, inside, 'B');
	KUNIT_EXPECT_EQ(test, out.s.barriers, 1); /* the make's (and page 1's) pair, once */
	KUNIT_EXPECT_EQ(test, invalidations(&out), 1);
	KUNIT_EXPECT_EQ(test, whole_page(va), 'B');
	KUNIT_EXPECT_EQ(test, whole_page(va + PAGE_SIZE), 'B');
	kunit_info(test,
		   "clear then make in one section: read after the clear saw frame %c (stale), "
		   "the make forced %llu flush of %llu TLBI, then frame %c",
		   stale ? stale : '0', (unsigned long long)made.s.bbm_flushes,
		   (unsigned long long)invalidations(&made), inside ? inside : '0');
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 3), 0);
}

/*
 * Invalidation covers the batch's pages and, where the CPU is precise, nothing else. The
 * pages next to the range are cleared with a bare store (no TLBI: legal,
 * the old translation just lingers), then the range is cleared with a batch: every page in
 * the range must fault afterwards. Whether the neighbours still read (their stale entries
 * survived) shows how precise the CPU was; QEMU 7.2 flushes everything for a range TLBI of
 * 8+ pages, which the architecture allows, so that part is reported, not asserted.
 */
static void invalidation_covers_the_range(struct kunit *test)
{
	static const unsigned int lens[] = { 1,	 2,  3,	 4,  5,	 6,  7,	 8,  9, 10,
					     11, 12, 13, 14, 15, 16, 17, 32, 64 };
	struct a64 *t = test->priv;
	char report[400];
	size_t used = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(lens); i++) {
		const unsigned int n = lens[i];
		unsigned long va = vm_test_area(n + 2);
		bool before_stale, after_stale, gone = true;
		pte_t *ptep;

		/* [neighbour][n pages][neighbour], all frame A, all read once (cached). */
		for (unsigned int p = 0; p < n + 2; p++) {
			KUNIT_ASSERT_EQ(
			    test, map_pages(&init_mm, va + p * PAGE_SIZE, t->a, 1, PAGE_KERNEL), 0);
			KUNIT_EXPECT_EQ(test, kunit_peek(va + p * PAGE_SIZE), word_of('A', 0));
		}
		ptep = pte_lookup(&init_mm, va);
		/* Bare stores on purpose: no maintenance, the old translations just linger. */
		WRITE_ONCE(ptep[0], __pte(0));
		WRITE_ONCE(ptep[n + 1], __pte(0));

		lazy_mmu_mode_enable();
		for (unsigned int p = 1; p <= n; p++)
			pte_update(&init_mm, va + p * PAGE_SIZE, ptep + p, __pte(0));
		lazy_mmu_mode_disable();

		for (unsigned int p = 1; p <= n; p++)
			gone = gone && kunit_peek(va + p * PAGE_SIZE) == -1;
		KUNIT_EXPECT_TRUE(test, gone);
		before_stale = kunit_peek(va) == (s64)word_of('A', 0);
		after_stale = kunit_peek(va + (n + 1) * PAGE_SIZE) == (s64)word_of('A', 0);
		used += snprintf(report + used, sizeof(report) - used, " %u:%c%c", n,
				 before_stale ? 's' : '-', after_stale ? 's' : '-');
		/* Drop the neighbours' stale entries, then give the tables back. */
		arch_flush_tlb_all();
		for (unsigned int p = 0; p < n + 2; p++)
			KUNIT_ASSERT_EQ(
			    test, map_pages(&init_mm, va + p * PAGE_SIZE, t->a, 1, PAGE_KERNEL), 0);
		KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, n + 2), 0);
	}
	kunit_info(test, "pages:neighbours before/after still cached (s) or dropped (-):%s",
		   report);
}

/* Maps page va to frame pa, reads it (caching the translation), then clears the entry with
 * a bare store: no invalidation, so the cached translation lingers until someone issues one.
 */
static void map_cache_and_clear(struct kunit *test, unsigned long va, phys_addr_t pa, char tag)
{
	pte_t *ptep;

	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(va), word_of(tag, 0));
	ptep = pte_lookup(&init_mm, va);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	WRITE_ONCE(*ptep, __pte(0));
}

/* Flushes a hand-made batch of ranges with interrupts masked, recording every operation. */
static unsigned int flush_recorded(const struct tlb_range *ranges, unsigned int nr,
				   struct arm64_tlbi_record *rec)
{
	struct tlb_batch b;
	unsigned long flags;
	unsigned int n;

	tlb_batch_init(&b);
	for (unsigned int i = 0; i < nr; i++) {
		b.ranges[i] = ranges[i];
		b.nr_pages += ranges[i].pages;
	}
	b.nr_ranges = nr;
	local_irq_save(flags);
	arm64_tlbi_record_to(rec, MAX_RECORDS);
	tlb_batch_flush(&b);
	n = arm64_tlbi_recorded();
	arm64_tlbi_record_to(NULL, 0);
	local_irq_restore(flags);
	return n;
}

/*
 * Small ranges, 1 to 7 pages, seven of them in one batch: every page of every range is mapped,
 * cached and cleared without maintenance, and must fault after the flush. Below 8 pages QEMU
 * invalidates a range TLBI exactly as asked (longer ones it turns into a full flush), so here
 * a read really shows whether each issued operation reached its pages. Both CPUs: per-page
 * forms on cortex-a72, one per-address plus one range form per odd range on -cpu max.
 */
static void every_page_of_every_small_range_is_invalidated(struct kunit *test)
{
	enum { NR = 7 };
	static struct arm64_tlbi_record rec[MAX_RECORDS];
	struct a64 *t = test->priv;
	struct tlb_range r[NR];
	unsigned long va = vm_test_area(NR * (NR + 1)), stale = 0;
	bool range = arch_has_range_tlbi();
	unsigned int n, pages = 0, ops = 0;
	struct counts c;

	/* Range i: i + 1 pages, then a gap of one unmapped page. */
	for (unsigned int i = 0, at = 0; i < NR; at += i + 2, i++) {
		r[i].start = va + at * PAGE_SIZE;
		r[i].pages = i + 1;
		pages += i + 1;
		ops += fewest_ops(i + 1, range);
		for (unsigned int p = 0; p <= i; p++)
			map_cache_and_clear(test, r[i].start + p * PAGE_SIZE, t->a, 'A');
	}
	reset();
	n = flush_recorded(r, NR, rec);
	c = counts();
	for (unsigned int i = 0; i < NR; i++)
		for (unsigned int p = 0; p < r[i].pages; p++)
			if (kunit_peek(r[i].start + p * PAGE_SIZE) != -1)
				stale++;
	KUNIT_EXPECT_EQ(test, stale, 0);
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, n, ops);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_page + c.s.tlbi_range, ops);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_page, range ? 4 : pages); /* 1, 3, 5, 7: one page each */
	KUNIT_EXPECT_EQ(test, c.s.tlbi_all, 0);
	KUNIT_EXPECT_TRUE(test, ops_cover_exactly(test, rec, n, r, NR, NULL));
	kunit_info(test, "%u ranges of 1-7 pages: %u operations, %lu pages still readable", NR, n,
		   stale);
	/* The entries are empty: map and unmap once more to give the tables back. */
	for (unsigned int i = 0; i < NR; i++) {
		KUNIT_EXPECT_EQ(test, map_pages(&init_mm, r[i].start, t->a, 1, PAGE_KERNEL), 0);
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, r[i].start, 1), 0);
	}
}

/*
 * One range of 1 + 2 + 64 + 2048 + 65536 pages: one per-page operation and one range
 * operation of each SCALE, 0 to 3, all executed by the CPU; a second range of 1001 pages
 * (1 + 40 + 960: SCALE 0 and 1) in the same batch. What each issued operation covers is
 * decoded from its operand, and together they must cover exactly the batch's pages - the
 * only honest check for long ranges, which QEMU turns into full flushes. The first and last
 * page of every operation's span are also mapped, cached and cleared without maintenance,
 * and must fault after the flush.
 */
static void range_forms_of_every_scale(struct kunit *test)
{
	static const unsigned long cuts[] = { 0, 1, 3, 67, 2115, 67651 }; /* the op boundaries */
	static struct arm64_tlbi_record rec[MAX_RECORDS];
	struct a64 *t = test->priv;
	const unsigned long pages = 1 + 2 + 64 + 2048 + 65536;
	struct tlb_range r[2];
	unsigned int scales[4] = { 0 }, n;
	unsigned long stale = 0;
	struct counts c;

	if (!arch_has_range_tlbi())
		kunit_skip(test, "no FEAT_TLBIRANGE on this CPU (ID_AA64ISAR0_EL1.TLB = %u)",
			   arm64_tlb_feature());
	KUNIT_ASSERT_EQ(test, cuts[ARRAY_SIZE(cuts) - 1], pages);
	r[0].start = vm_test_area(pages);
	r[0].pages = pages;
	r[1].start = vm_test_area(1001);
	r[1].pages = 1001;
	KUNIT_ASSERT_NE(test, r[0].start, 0);
	KUNIT_ASSERT_NE(test, r[1].start, 0);
	for (unsigned int i = 0; i + 1 < ARRAY_SIZE(cuts); i++) {
		map_cache_and_clear(test, r[0].start + cuts[i] * PAGE_SIZE, t->a, 'A');
		if (cuts[i + 1] - 1 != cuts[i])
			map_cache_and_clear(test, r[0].start + (cuts[i + 1] - 1) * PAGE_SIZE, t->b,
					    'B');
	}
	map_cache_and_clear(test, r[1].start, t->a, 'A');
	map_cache_and_clear(test, r[1].start + 1000 * PAGE_SIZE, t->b, 'B');

	reset();
	n = flush_recorded(r, 2, rec);
	c = counts();
	expect_consistent(test, &c);
	KUNIT_EXPECT_EQ(test, n, 8);
	KUNIT_EXPECT_EQ(test, c.s.arch.vale1is, 2);
	KUNIT_EXPECT_EQ(test, c.s.arch.rvale1is, 6);
	KUNIT_EXPECT_EQ(test, c.s.tlbi_all, 0);
	KUNIT_EXPECT_TRUE(test, ops_cover_exactly(test, rec, n, r, 2, scales));
	/* Every SCALE was really issued: 0 and 1 twice (both ranges), 2 and 3 once. */
	KUNIT_EXPECT_EQ(test, scales[0], 2);
	KUNIT_EXPECT_EQ(test, scales[1], 2);
	KUNIT_EXPECT_EQ(test, scales[2], 1);
	KUNIT_EXPECT_EQ(test, scales[3], 1);
	for (unsigned int i = 0; i + 1 < ARRAY_SIZE(cuts); i++)
		stale += (kunit_peek(r[0].start + cuts[i] * PAGE_SIZE) != -1) +
			 (kunit_peek(r[0].start + (cuts[i + 1] - 1) * PAGE_SIZE) != -1);
	stale += (kunit_peek(r[1].start) != -1) + (kunit_peek(r[1].start + 1000 * PAGE_SIZE) != -1);
	KUNIT_EXPECT_EQ(test, stale, 0);
	kunit_info(test,
		   "%lu + 1001 pages: %llu vale1is + %llu rvale1is (SCALE 0: %u, 1: %u, 2: %u, "
		   "3: %u), decoded: exact cover",
		   pages, (unsigned long long)c.s.arch.vale1is,
		   (unsigned long long)c.s.arch.rvale1is, scales[0], scales[1], scales[2],
		   scales[3]);
	for (unsigned int i = 0; i + 1 < ARRAY_SIZE(cuts); i++) {
		unsigned long a = r[0].start + cuts[i] * PAGE_SIZE,
			      z = r[0].start + (cuts[i + 1] - 1) * PAGE_SIZE;

		KUNIT_EXPECT_EQ(test, map_pages(&init_mm, a, t->a, 1, PAGE_KERNEL), 0);
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, a, 1), 0);
		if (z != a) {
			KUNIT_EXPECT_EQ(test, map_pages(&init_mm, z, t->b, 1, PAGE_KERNEL), 0);
			KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, z, 1), 0);
		}
	}
	for (unsigned long off = 0; off <= 1000; off += 1000) {
		KUNIT_EXPECT_EQ(
		    test, map_pages(&init_mm, r[1].start + off * PAGE_SIZE, t->a, 1, PAGE_KERNEL),
		    0);
		KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, r[1].start + off * PAGE_SIZE, 1), 0);
	}
}

static struct kunit_case tlb_arm64_cases[] = {
	KUNIT_CASE(feature_and_ceiling_follow_the_cpu),
	KUNIT_CASE(new_entries_cost_one_barrier_pair),
	KUNIT_CASE(interrupt_context_publishes_at_once),
	KUNIT_CASE(protect_512_pages),
	KUNIT_CASE(odd_ranges_cost_what_the_encoder_says),
	KUNIT_CASE(unmap_that_frees_a_table_uses_all_level_forms),
	KUNIT_CASE(remap_of_a_live_page_breaks_first),
	KUNIT_CASE(clear_then_make_flushes_before_the_make),
	KUNIT_CASE(invalidation_covers_the_range),
	KUNIT_CASE(every_page_of_every_small_range_is_invalidated),
	KUNIT_CASE(range_forms_of_every_scale),
	{},
};

static struct kunit_suite tlb_arm64_suite = {
	.name = "tlb_arm64",
	.init = a64_init,
	.exit = a64_exit,
	.test_cases = tlb_arm64_cases,
};
kunit_test_suite(tlb_arm64_suite);
