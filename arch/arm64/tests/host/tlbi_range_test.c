/* Host suite for the arm64 range-TLBI splitter: every length against a brute-force expansion. */
#include <stdlib.h>
#include <string.h>

#include <asm/tlbi_range.h>
#include <kunit/test.h>

/*
 * Everything here is checked against the operand bits, decoded with the Arm ARM's formulas
 * written out again below - never with the encoder's own helpers - so a wrong shift or
 * mask in asm/tlbi_range.h can't hide behind itself.
 */
#define PAGE_BYTES	4096ULL
#define EVERY_LENGTH	131072UL /* every length 1..this is checked (the brief: >= 100,000) */
#define BITMAP_LENGTHS	100000UL /* ...and expanded page by page into a bitmap up to this */
#define MARGIN_PAGES	64UL	 /* bitmap pages on either side of the range: must stay clear */
#define MAX_OPS_TRACKED 64	 /* more operations than any range walk needs (<= 5, or 1/page) */

struct decoded {
	u64 first; /* page number of the first page covered (VA >> 12) */
	u64 pages;
	unsigned int asid, ttl, tg, scale, num;
};

/*
 * Per-address form:  ASID [63:48], TTL [47:44], VA[55:12] in [43:0].
 * Range form:        ASID [63:48], TG [47:46], SCALE [45:44], NUM [43:39], TTL [38:37],
 *                    BaseADDR [36:0] = VA[48:12] with a 4 KiB granule;
 *                    it covers (NUM + 1) * 2^(5 * SCALE + 1) pages from BaseADDR.
 */
static struct decoded decode(u64 x, bool range)
{
	struct decoded d = { 0 };

	d.asid = (unsigned int)(x >> 48);
	if (range) {
		d.tg = (unsigned int)(x >> 46) & 3;
		d.scale = (unsigned int)(x >> 44) & 3;
		d.num = (unsigned int)(x >> 39) & 31;
		d.ttl = (unsigned int)(x >> 37) & 3;
		d.first = x & ((1ULL << 37) - 1);
		d.pages = (u64)(d.num + 1) * (1ULL << (5 * d.scale + 1));
	} else {
		d.ttl = (unsigned int)(x >> 44) & 15;
		d.first = x & ((1ULL << 44) - 1);
		d.pages = 1;
	}
	return d;
}

/*
 * The fewest operations any exact, non-overlapping cover of n pages can use, by dynamic
 * programming over every operation size there is (1 page, and every (num, scale)): the
 * oracle the splitter's count is compared with. best[n] for n <= EVERY_LENGTH.
 */
static unsigned char *min_ops_table(void)
{
	unsigned long sizes[1 + 4 * 32], nr = 0;
	unsigned char *best = malloc(EVERY_LENGTH + 1);

	if (!best)
		return NULL;
	sizes[nr++] = 1;
	for (unsigned int scale = 0; scale < 4; scale++)
		for (unsigned int num = 0; num < 32; num++)
			sizes[nr++] = (num + 1UL) << (5 * scale + 1);
	best[0] = 0;
	for (unsigned long n = 1; n <= EVERY_LENGTH; n++) {
		unsigned int b = 255;

		for (unsigned long i = 0; i < nr; i++)
			if (sizes[i] <= n && best[n - sizes[i]] + 1U < b)
				b = best[n - sizes[i]] + 1U;
		best[n] = (unsigned char)b;
	}
	return best;
}

/* (len odd) + the non-zero base-32 digits of len / 2, plus one op per 2^21 pages beyond. */
static unsigned long formula_ops(unsigned long len)
{
	unsigned long m = len >> 1, n = len & 1;

	for (unsigned int s = 0; s < 4; s++, m >>= 5)
		n += (m & 31) != 0;
	return n + m; /* m is now len / 2^21: whole 2^21-page operations */
}

/*
 * Walks [start page, + len) and checks every operation on its own and the sequence as a
 * whole. With bitmap, also expands each decoded operation page by page into bitmap (bit i
 * = page start - MARGIN_PAGES + i), failing on a page set twice; the caller then checks
 * the bitmap holds exactly the range. Returns the number of operations (0 on failure).
 */
static unsigned long check_walk(struct kunit *test, u64 start, unsigned long len, bool range,
				u64 *bitmap)
{
	struct arm64_tlbi_walk w;
	struct arm64_tlbi_op op;
	u64 next = start; /* page number the next operation must begin at */
	unsigned long n = 0;

	arm64_tlbi_walk_start(&w, start * PAGE_BYTES, len, range);
	while (arm64_tlbi_walk_next(&w, &op)) {
		struct decoded d = decode(op.operand, op.range);

		n++;
		/* Architectural limits, on the values before they were packed into bits. */
		if (op.range && (op.scale > 3 || op.num > 31 || d.scale != op.scale ||
				 d.num != op.num || d.tg != 1 || d.ttl != 0 || d.asid != 0)) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "len %lu op %lu: scale %u num %u -> bits TG %u SCALE %u NUM %u "
				   "TTL %u ASID %u",
				   len, n, op.scale, op.num, d.tg, d.scale, d.num, d.ttl, d.asid);
			return 0;
		}
		if (!op.range && (d.ttl != 0 || d.asid != 0 || op.pages != 1)) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "len %lu op %lu: bad per-page op", len, n);
			return 0;
		}
		if (op.range && !range) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "len %lu: a range op without FEAT_TLBIRANGE", len);
			return 0;
		}
		/* What the bits say is what the walker says, and it continues the last op. */
		if (d.first != next || d.pages != op.pages || op.va != next * PAGE_BYTES) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "len %lu op %lu: covers pages %#llx+%llu (op says %#lx+%lu), "
				   "expected to start at %#llx",
				   len, n, (unsigned long long)d.first, (unsigned long long)d.pages,
				   op.va >> 12, op.pages, (unsigned long long)next);
			return 0;
		}
		if (bitmap) {
			for (u64 p = d.first - start + MARGIN_PAGES, end = p + d.pages; p < end;) {
				u64 bits = MIN(64 - (p & 63), end - p);
				u64 mask = (bits == 64 ? ~0ULL : ((1ULL << bits) - 1)) << (p & 63);

				if (bitmap[p / 64] & mask) {
					kunit_fail(test, false, __FILE__, __LINE__,
						   "len %lu: page %llu covered twice", len,
						   (unsigned long long)(p - MARGIN_PAGES));
					return 0;
				}
				bitmap[p / 64] |= mask;
				p += bits;
			}
		}
		next += d.pages;
		if (n > (range ? MAX_OPS_TRACKED : len)) {
			kunit_fail(test, false, __FILE__, __LINE__, "len %lu: runaway walk", len);
			return 0;
		}
	}
	if (next != start + len) {
		kunit_fail(test, false, __FILE__, __LINE__, "len %lu: covered %llu pages", len,
			   (unsigned long long)(next - start));
		return 0;
	}
	return n;
}

/* The bitmap holds exactly pages [MARGIN, MARGIN + len): all set, nothing around. Clears it. */
static bool bitmap_is_exactly(u64 *bitmap, unsigned long len)
{
	unsigned long words = (MARGIN_PAGES + len + MARGIN_PAGES + 63) / 64;
	bool ok = true;

	for (unsigned long i = 0; i < words; i++) {
		/* The bits of word i that lie inside [MARGIN, MARGIN + len). */
		u64 lo = i * 64, want = 0;
		u64 from = MAX(lo, (u64)MARGIN_PAGES), to = MIN(lo + 64, (u64)MARGIN_PAGES + len);

		if (from < to)
			want = (to - from == 64 ? ~0ULL : ((1ULL << (to - from)) - 1))
			       << (from - lo);
		if (bitmap[i] != want)
			ok = false;
		bitmap[i] = 0;
	}
	return ok;
}

static void operand_bits_match_the_arm_arm(struct kunit *test)
{
	/* TG 01 at 46, SCALE 1 at 44, NUM 7 at 39, BaseADDR 0x400000001 (VA 0x4000_0000_1000). */
	KUNIT_EXPECT_EQ(test, tlbi_range_operand(0x400000001000UL, 1, 7), 0x538400000001ULL);
	/* The limits: SCALE 3, NUM 31, and the last page below 2^48 (VA[48] = 0). */
	KUNIT_EXPECT_EQ(test, tlbi_range_operand(0xfffffffff000UL, 3, 31), 0x7f8fffffffffULL);
	KUNIT_EXPECT_EQ(test, tlbi_range_pages(0, 0), 2);
	KUNIT_EXPECT_EQ(test, tlbi_range_pages(0, 31), 64);
	KUNIT_EXPECT_EQ(test, tlbi_range_pages(1, 0), 64);
	KUNIT_EXPECT_EQ(test, tlbi_range_pages(3, 31), 1UL << 21);
	KUNIT_EXPECT_EQ(test, TLBI_RANGE_MAX_PAGES, 1UL << 21);
	/* Per-address: VA[55:12] at bit 0 (VA[63:56] dropped), ASID and TTL 0. */
	KUNIT_EXPECT_EQ(test, tlbi_va_operand(0x400000001000UL), 0x400000001ULL);
	KUNIT_EXPECT_EQ(test, tlbi_va_operand(0xffff000000001000UL), 0xff000000001ULL);
}

/* The worked example of asm/tlbi_range.h and docs/arm64.md, operation by operation. */
static void worked_example_1001_pages(struct kunit *test)
{
	const unsigned long va = 0x400000000000UL;
	struct arm64_tlbi_walk w;
	struct arm64_tlbi_op op;

	arm64_tlbi_walk_start(&w, va, 1001, true);
	KUNIT_ASSERT_TRUE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_FALSE(test, op.range);
	KUNIT_EXPECT_EQ(test, op.va, va);
	KUNIT_EXPECT_EQ(test, op.operand, 0x400000000ULL);
	KUNIT_ASSERT_TRUE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_TRUE(test, op.range);
	KUNIT_EXPECT_EQ(test, op.scale, 0);
	KUNIT_EXPECT_EQ(test, op.num, 19);
	KUNIT_EXPECT_EQ(test, op.pages, 40);
	KUNIT_EXPECT_EQ(test, op.va, va + 4096);
	KUNIT_EXPECT_EQ(test, op.operand, 0x498400000001ULL); /* as docs/arm64.md shows */
	KUNIT_ASSERT_TRUE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_TRUE(test, op.range);
	KUNIT_EXPECT_EQ(test, op.scale, 1);
	KUNIT_EXPECT_EQ(test, op.num, 14);
	KUNIT_EXPECT_EQ(test, op.pages, 960);
	KUNIT_EXPECT_EQ(test, op.va, va + 41 * 4096);
	KUNIT_EXPECT_EQ(test, op.operand, 0x570400000029ULL);
	KUNIT_EXPECT_FALSE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_EQ(test, arm64_tlbi_walk_count(1001, true), 3);
	KUNIT_EXPECT_EQ(test, arm64_tlbi_walk_count(1001, false), 1001);
	/* A single page is always a per-address operation; two pages one range operation. */
	arm64_tlbi_walk_start(&w, va, 1, true);
	KUNIT_ASSERT_TRUE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_FALSE(test, op.range);
	KUNIT_EXPECT_FALSE(test, arm64_tlbi_walk_next(&w, &op));
	arm64_tlbi_walk_start(&w, va, 2, true);
	KUNIT_ASSERT_TRUE(test, arm64_tlbi_walk_next(&w, &op));
	KUNIT_EXPECT_TRUE(test, op.range);
	KUNIT_EXPECT_EQ(test, op.pages, 2);
	KUNIT_EXPECT_FALSE(test, arm64_tlbi_walk_next(&w, &op));
	/* Nothing to do for nothing. */
	arm64_tlbi_walk_start(&w, va, 0, true);
	KUNIT_EXPECT_FALSE(test, arm64_tlbi_walk_next(&w, &op));
}

/*
 * Every length 1..EVERY_LENGTH, from several starts: exact cover, limits, and the fewest
 * operations possible. Up to BITMAP_LENGTHS (from page 0) also expanded page by page.
 */
static void every_length_is_covered_exactly_and_minimally(struct kunit *test)
{
	/* Page numbers: 0, the test window, an odd page, and 1 GiB below the top of 2^48. */
	static const u64 starts[] = { 0, 0x400000000ULL, 0x400000007ULL, 0xfffc0000ULL };
	unsigned char *best = min_ops_table();
	u64 *bitmap = calloc((MARGIN_PAGES * 2 + BITMAP_LENGTHS + 63) / 64, sizeof(u64));
	unsigned long failures = 0, max_ops = 0, expanded = 0;

	KUNIT_ASSERT_NOT_NULL(test, best);
	KUNIT_ASSERT_NOT_NULL(test, bitmap);
	for (unsigned int s = 0; s < ARRAY_SIZE(starts) && failures < 5; s++) {
		for (unsigned long len = 1; len <= EVERY_LENGTH && failures < 5; len++) {
			bool expand = s == 0 && len <= BITMAP_LENGTHS;
			unsigned long n =
			    check_walk(test, starts[s], len, true, expand ? bitmap : NULL);

			if (n == 0) {
				failures++;
				continue;
			}
			if (expand) {
				expanded++;
				if (!bitmap_is_exactly(bitmap, len)) {
					kunit_fail(test, false, __FILE__, __LINE__,
						   "len %lu: the expanded pages are not exactly "
						   "the range",
						   len);
					failures++;
				}
			}
			if (n != best[len] || n != arm64_tlbi_walk_count(len, true) ||
			    n != formula_ops(len)) {
				kunit_fail(test, false, __FILE__, __LINE__,
					   "len %lu: %lu ops, the fewest possible is %u", len, n,
					   best[len]);
				failures++;
			}
			max_ops = MAX(max_ops, n);
		}
	}
	KUNIT_EXPECT_EQ(test, failures, 0);
	KUNIT_EXPECT_LE(test, max_ops, TLBI_RANGE_MAX_OPS);
	kunit_info(test,
		   "%lu lengths x %zu starts checked (%lu expanded page by page), at most %lu "
		   "ops per range",
		   EVERY_LENGTH, ARRAY_SIZE(starts), expanded, max_ops);
	free(best);
	free(bitmap);
}

/* Around and beyond the largest single operation (2^21 pages): still exact, still few. */
static void large_ranges_use_the_largest_operations(struct kunit *test)
{
	const unsigned long top = TLBI_RANGE_MAX_PAGES;
	const unsigned long lens[] = { top - 1, top,	     top + 1, top + 2,	   2 * top - 1,
				       2 * top, 3 * top + 5, top - 2, top / 2 + 1, 5 * top + 64 };
	u64 x = 0x9e3779b97f4a7c15ULL;

	for (unsigned int i = 0; i < ARRAY_SIZE(lens); i++) {
		unsigned long n = check_walk(test, 0x400000000ULL, lens[i], true, NULL);

		KUNIT_EXPECT_EQ(test, n, formula_ops(lens[i]));
		if (lens[i] <= top)
			KUNIT_EXPECT_LE(test, n, TLBI_RANGE_MAX_OPS);
	}
	KUNIT_EXPECT_EQ(test, arm64_tlbi_walk_count(top, true), 1);
	KUNIT_EXPECT_EQ(test, arm64_tlbi_walk_count(top - 1, true), 5);
	/* A sample of lengths up to 2^24 pages (64 GiB). */
	for (unsigned int i = 0; i < 2000; i++) {
		unsigned long len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + (unsigned long)(x % (1UL << 24));
		KUNIT_EXPECT_EQ(test, check_walk(test, 0x400000003ULL, len, true, NULL),
				formula_ops(len));
	}
}

/* Without FEAT_TLBIRANGE: one per-address operation per page, in order. */
static void without_range_tlbi_every_page_is_one_operation(struct kunit *test)
{
	for (unsigned long len = 1; len <= 2048; len++) {
		unsigned long n = check_walk(test, 0x400000007ULL, len, false, NULL);

		if (n != len) {
			KUNIT_EXPECT_EQ(test, n, len);
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, arm64_tlbi_walk_count(512, false), 512);
}

static struct kunit_case tlbi_range_cases[] = {
	KUNIT_CASE(operand_bits_match_the_arm_arm),
	KUNIT_CASE(worked_example_1001_pages),
	KUNIT_CASE(every_length_is_covered_exactly_and_minimally),
	KUNIT_CASE(large_ranges_use_the_largest_operations),
	KUNIT_CASE(without_range_tlbi_every_page_is_one_operation),
	{},
};

static struct kunit_suite tlbi_range_suite = {
	.name = "arm64_tlbi_range",
	.test_cases = tlbi_range_cases,
};
kunit_test_suite(tlbi_range_suite);
