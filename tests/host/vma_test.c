/* Host tests of mm/vma.c: the VMA list against a page-by-page model. */
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/prng.h>
#include <mm/vma.h>
#include <string.h>

#define P	    4096UL
#define MODEL_PAGES 256
#define NO_VMA	    0xffu

/* The oracle: one prot per page (NO_VMA: unmapped) over [0, MODEL_PAGES * P). */
static unsigned char model[MODEL_PAGES];

/* The list must be sorted, disjoint, merged, and say exactly what the model says. */
static void check_against_model(struct kunit *test, const struct vma_list *l)
{
	for (unsigned int i = 0; i < l->nr; i++) {
		KUNIT_ASSERT_LT(test, l->area[i].start, l->area[i].end);
		if (i) {
			KUNIT_ASSERT_LE(test, l->area[i - 1].end, l->area[i].start);
			KUNIT_ASSERT_FALSE(test, l->area[i - 1].end == l->area[i].start &&
						     l->area[i - 1].prot == l->area[i].prot);
		}
	}
	for (unsigned long pg = 0; pg < MODEL_PAGES; pg++) {
		const struct vm_area *a = vma_find(l, pg * P + 123);

		if (model[pg] == NO_VMA)
			KUNIT_ASSERT_NULL(test, a);
		else {
			KUNIT_ASSERT_NOT_NULL(test, a);
			KUNIT_ASSERT_EQ(test, a->prot, model[pg]);
		}
	}
}

static void vma_split_and_merge(struct kunit *test)
{
	struct vma_list l = { .nr = 0 };

	KUNIT_ASSERT_EQ(test, vma_map(&l, 10 * P, 20 * P, 3), 0);
	KUNIT_EXPECT_EQ(test, l.nr, 1);
	/* Protecting the middle splits one area into three... */
	KUNIT_ASSERT_EQ(test, vma_protect(&l, 12 * P, 14 * P, 1), 0);
	KUNIT_EXPECT_EQ(test, l.nr, 3);
	KUNIT_EXPECT_EQ(test, vma_find(&l, 13 * P)->prot, 1);
	KUNIT_EXPECT_EQ(test, vma_find(&l, 14 * P)->prot, 3);
	/* ...and protecting it back merges them again. */
	KUNIT_ASSERT_EQ(test, vma_protect(&l, 12 * P, 14 * P, 3), 0);
	KUNIT_EXPECT_EQ(test, l.nr, 1);
	/* Unmapping the middle leaves two; a hole is not covered. */
	KUNIT_ASSERT_EQ(test, vma_unmap(&l, 15 * P, 16 * P), 0);
	KUNIT_EXPECT_EQ(test, l.nr, 2);
	KUNIT_EXPECT_FALSE(test, vma_covered(&l, 10 * P, 20 * P));
	KUNIT_EXPECT_TRUE(test, vma_covered(&l, 10 * P, 15 * P));
	KUNIT_EXPECT_TRUE(test, vma_covered(&l, 16 * P, 20 * P));
	KUNIT_EXPECT_NULL(test, vma_find(&l, 15 * P));
	/* The lowest gap that fits. */
	KUNIT_EXPECT_EQ(test, vma_find_gap(&l, P, 10 * P, 100 * P), 15 * P);
	KUNIT_EXPECT_EQ(test, vma_find_gap(&l, 2 * P, 10 * P, 100 * P), 20 * P);
	KUNIT_EXPECT_EQ(test, vma_find_gap(&l, 2 * P, 10 * P, 21 * P), 0);
}

static void vma_full_list_changes_nothing(struct kunit *test)
{
	struct vma_list l = { .nr = 0 }, before;

	/* MM_MAX_VMAS separate areas, alternating prot so nothing merges. */
	for (unsigned long i = 0; i < MM_MAX_VMAS; i++)
		KUNIT_ASSERT_EQ(test, vma_map(&l, 8 * i * P, (8 * i + 4) * P, 1 + (i & 1)), 0);
	KUNIT_ASSERT_EQ(test, l.nr, MM_MAX_VMAS);
	before = l;
	KUNIT_EXPECT_EQ(test, vma_map(&l, 1000 * P, 1001 * P, 3), -ENOMEM);
	/* Unmapping or protecting the middle of an area needs one more. */
	KUNIT_EXPECT_EQ(test, vma_unmap(&l, 9 * P, 10 * P), -ENOMEM);
	KUNIT_EXPECT_EQ(test, vma_protect(&l, P, 2 * P, 3), -ENOMEM);
	KUNIT_EXPECT_EQ(test, memcmp(&l, &before, sizeof(l)), 0);
	/* Unmapping a whole area still works, and frees a slot. */
	KUNIT_EXPECT_EQ(test, vma_unmap(&l, 0, 4 * P), 0);
	KUNIT_EXPECT_EQ(test, l.nr, MM_MAX_VMAS - 1);
}

/* Thousands of random operations, each checked page by page against the model. */
static void vma_random_against_model(struct kunit *test)
{
	struct vma_list l = { .nr = 0 };
	struct prng r;

	prng_seed(&r, 0x5eed);
	memset(model, NO_VMA, sizeof(model));
	for (int step = 0; step < 20000; step++) {
		unsigned long a = prng_below(&r, MODEL_PAGES), n = 1 + prng_below(&r, 16);
		unsigned int prot = (unsigned int)prng_below(&r, 8), op = prng_below(&r, 3);
		unsigned long b = MIN(a + n, (unsigned long)MODEL_PAGES);
		struct vma_list before = l;
		bool covered = true;
		int err;

		for (unsigned long pg = a; pg < b; pg++)
			covered &= model[pg] != NO_VMA;
		KUNIT_ASSERT_EQ(test, vma_covered(&l, a * P, b * P), covered);
		if (op == 0)
			err = vma_map(&l, a * P, b * P, prot);
		else if (op == 1)
			err = vma_unmap(&l, a * P, b * P);
		else
			err = vma_protect(&l, a * P, b * P, prot);
		if (err) {
			KUNIT_ASSERT_EQ(test, err, -ENOMEM);
			KUNIT_ASSERT_EQ(test, memcmp(&l, &before, sizeof(l)), 0);
			continue;
		}
		for (unsigned long pg = a; pg < b; pg++) {
			if (op == 0)
				model[pg] = (unsigned char)prot;
			else if (op == 1)
				model[pg] = NO_VMA;
			else if (model[pg] != NO_VMA)
				model[pg] = (unsigned char)prot;
		}
		check_against_model(test, &l);
	}
}

static struct kunit_case vma_cases[] = {
	KUNIT_CASE(vma_split_and_merge),
	KUNIT_CASE(vma_full_list_changes_nothing),
	KUNIT_CASE(vma_random_against_model),
	{},
};

static struct kunit_suite vma_suite = {
	.name = "vma",
	.test_cases = vma_cases,
};
kunit_test_suite(vma_suite);
