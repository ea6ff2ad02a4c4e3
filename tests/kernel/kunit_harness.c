/* The KUnit harness tests itself: checks, failure detection, aborts, skips, init/exit, globs. */
#include <kunit/test.h>
#include <lib/string.h>

/*
 * A struct kunit that no runner looks at. Checks made on it print their diagnostic as
 * usual (kunit_fail() always does), so its name says, on that very line, that the failure
 * is wanted: "probe (expected failure, ignore): EXPECTATION FAILED at ...".
 */
#define PROBE_NAME "probe (expected failure, ignore)"

static struct kunit make_probe(void)
{
	struct kunit probe = { .name = PROBE_NAME, .status = KUNIT_SUCCESS };

	return probe;
}

/* Returns v and counts the call: shows how many times a macro evaluated an argument. */
static long count_call(int *calls, long v)
{
	(*calls)++;
	return v;
}

static const void *count_call_ptr(int *calls, const void *p)
{
	(*calls)++;
	return p;
}

/*
 * What the suite's init and exit share with each case, through test->priv as in KUnit.
 * A case that is meant to end early says so here, and exit checks that it did.
 */
struct harness_state {
	bool expect_assert_abort; /* the case ends with a failing KUNIT_ASSERT_* */
	bool expect_skip;	  /* the case ends with kunit_skip() */
	bool ran_past_end;	  /* set by the line after the abort: must stay false */
};

static struct harness_state harness_state;
static int init_calls, exit_calls;

#define SKIP_REASON "expected: this case checks that kunit_skip() reports SKIP"

static int harness_init(struct kunit *test)
{
	init_calls++;
	memset(&harness_state, 0, sizeof(harness_state));
	test->priv = &harness_state;
	return 0;
}

/*
 * Runs after every case, also after one that an assertion or a skip ended: that is where
 * such a case is judged, because nothing after the abort in its body runs.
 */
static void harness_exit(struct kunit *test)
{
	struct harness_state *st = &harness_state;

	exit_calls++;
	if (st->expect_assert_abort) {
		/*
		 * The failed assertion marked the case failed and ended it. That is the
		 * behaviour under test, so once it is confirmed the failure is cleared: the
		 * case passes exactly when the assertion aborted.
		 */
		if (test->status == KUNIT_FAILURE && !st->ran_past_end)
			test->status = KUNIT_SUCCESS;
		else
			kunit_fail(test, false, __FILE__, __LINE__,
				   "a failing KUNIT_ASSERT_EQ did not abort the case (status %d, "
				   "ran past it: %d)",
				   (int)test->status, st->ran_past_end);
	}
	if (st->expect_skip) {
		KUNIT_EXPECT_EQ(test, test->status, KUNIT_SKIPPED);
		KUNIT_EXPECT_EQ(test, strcmp(test->status_comment, SKIP_REASON), 0);
		KUNIT_EXPECT_FALSE(test, st->ran_past_end);
	}
	/* Last, so that clearing the expected assertion failure above can't hide this one. */
	KUNIT_EXPECT_PTR_EQ(test, test->priv, st);
}

static void expect_macros_pass_on_true_facts(struct kunit *test)
{
	int x = 5, y = 5;
	const int *p = &x;

	KUNIT_EXPECT_TRUE(test, x == 5);
	KUNIT_EXPECT_FALSE(test, x == 6);
	KUNIT_EXPECT_EQ(test, x, y);
	KUNIT_EXPECT_NE(test, x, 6);
	KUNIT_EXPECT_LT(test, x, 6);
	KUNIT_EXPECT_LE(test, x, 5);
	KUNIT_EXPECT_LE(test, x, 6);
	KUNIT_EXPECT_GT(test, x, 4);
	KUNIT_EXPECT_GE(test, x, 5);
	KUNIT_EXPECT_GE(test, x, 4);
	KUNIT_EXPECT_PTR_EQ(test, p, &x);
	KUNIT_EXPECT_PTR_NE(test, p, &y);
	KUNIT_EXPECT_NULL(test, NULL);
	KUNIT_EXPECT_NOT_NULL(test, p);
	/* Reached with nothing recorded: a passing check leaves the status alone. */
	KUNIT_EXPECT_EQ(test, test->status, KUNIT_SUCCESS);
}

static void assert_macros_pass_on_true_facts(struct kunit *test)
{
	int x = 5;
	bool reached = false;

	KUNIT_ASSERT_TRUE(test, x == 5);
	KUNIT_ASSERT_FALSE(test, x == 6);
	KUNIT_ASSERT_EQ(test, x, 5);
	KUNIT_ASSERT_NE(test, x, 6);
	KUNIT_ASSERT_LT(test, x, 6);
	KUNIT_ASSERT_LE(test, x, 5);
	KUNIT_ASSERT_GT(test, x, 4);
	KUNIT_ASSERT_GE(test, x, 5);
	KUNIT_ASSERT_PTR_EQ(test, &x, &x);
	KUNIT_ASSERT_PTR_NE(test, &x, NULL);
	KUNIT_ASSERT_NULL(test, NULL);
	KUNIT_ASSERT_NOT_NULL(test, &x);
	reached = true; /* a passing assertion must not end the case */
	KUNIT_EXPECT_TRUE(test, reached);
}

/* Every check made false on a probe: each one marks the probe failed, none stops the case. */
static void failing_expectation_is_detected(struct kunit *test)
{
	int x = 5;
	int checks = 0;
	struct kunit probe;

#define EXPECT_PROBE_FAILS(check)                                   \
	do {                                                        \
		probe = make_probe();                               \
		check;                                              \
		checks++;                                           \
		KUNIT_EXPECT_EQ(test, probe.status, KUNIT_FAILURE); \
	} while (0)

	kunit_info(test, "each \"" PROBE_NAME "\" diagnostic below is expected");
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_TRUE(&probe, x == 6));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_FALSE(&probe, x == 5));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_EQ(&probe, x, 6));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_NE(&probe, x, 5));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_LT(&probe, x, 5));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_LE(&probe, x, 4));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_GT(&probe, x, 5));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_GE(&probe, x, 6));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_PTR_EQ(&probe, &x, NULL));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_PTR_NE(&probe, &x, &x));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_NULL(&probe, &x));
	EXPECT_PROBE_FAILS(KUNIT_EXPECT_NOT_NULL(&probe, NULL));
#undef EXPECT_PROBE_FAILS

	/* An expectation never aborts: every line above ran. */
	KUNIT_EXPECT_EQ(test, checks, 12);
	/* The probe's failures stayed on the probe. */
	KUNIT_EXPECT_EQ(test, test->status, KUNIT_SUCCESS);
}

/* Judged by harness_exit(): the case must end at the failing assertion. */
static void failing_assert_aborts_case(struct kunit *test)
{
	struct harness_state *st = &harness_state; /* not priv: that has its own check */

	kunit_info(test, "the ASSERTION FAILED below is expected: exit checks it ended the case");
	st->expect_assert_abort = true;
	KUNIT_ASSERT_EQ(test, 1, 2);
	st->ran_past_end = true;
}

/* Judged by harness_exit(): this case is reported "ok N ... # SKIP <reason>". */
static void skip_reports_skip(struct kunit *test)
{
	struct harness_state *st = &harness_state; /* not priv: that has its own check */

	st->expect_skip = true;
	kunit_skip(test, SKIP_REASON);
	st->ran_past_end = true;
}

/* Defined at the end of the file; declared here so that a case can look itself up. */
static struct kunit_suite kunit_harness_suite;

/* This case's 1-based position in the suite, found by name so that reordering is safe. */
static int case_position(const struct kunit *test)
{
	const struct kunit_case *cases = kunit_harness_suite.test_cases;

	for (int i = 0; cases[i].run_case; i++)
		if (!strcmp(cases[i].name, test->name))
			return i + 1;
	return -1;
}

/*
 * Before the k-th case, init has run k times (once for each case so far, this one
 * included) and exit k - 1 times (after each earlier case, the aborted ones included).
 */
static void init_and_exit_run_around_each_case(struct kunit *test)
{
	int k = case_position(test);

	KUNIT_ASSERT_GT(test, k, 1); /* a later case, so that earlier exits can be counted */
	KUNIT_EXPECT_EQ(test, init_calls, k);
	KUNIT_EXPECT_EQ(test, exit_calls, k - 1);
	/* What init put in test->priv reaches the case (and, checked in exit, the exit). */
	KUNIT_EXPECT_PTR_EQ(test, test->priv, &harness_state);
}

/*
 * Each check evaluates each argument exactly once, on the passing and on the failing path
 * (the failure message prints the saved values, never the expressions again).
 */
static void checks_evaluate_arguments_once(struct kunit *test)
{
	int a = 0, b = 0;
	struct kunit probe = make_probe();

	KUNIT_EXPECT_EQ(test, count_call(&a, 7), count_call(&b, 7));
	KUNIT_EXPECT_NE(test, count_call(&a, 7), count_call(&b, 8));
	KUNIT_EXPECT_LT(test, count_call(&a, 7), count_call(&b, 8));
	KUNIT_EXPECT_LE(test, count_call(&a, 7), count_call(&b, 7));
	KUNIT_EXPECT_GT(test, count_call(&a, 8), count_call(&b, 7));
	KUNIT_EXPECT_GE(test, count_call(&a, 7), count_call(&b, 7));
	KUNIT_EXPECT_TRUE(test, count_call(&a, 1));
	KUNIT_EXPECT_FALSE(test, count_call(&b, 0));
	KUNIT_EXPECT_PTR_EQ(test, count_call_ptr(&a, &a), count_call_ptr(&b, &a));
	KUNIT_EXPECT_PTR_NE(test, count_call_ptr(&a, &a), count_call_ptr(&b, &b));
	KUNIT_EXPECT_NULL(test, count_call_ptr(&a, NULL));
	KUNIT_EXPECT_NOT_NULL(test, count_call_ptr(&b, &b));
	KUNIT_ASSERT_EQ(test, count_call(&a, 3), count_call(&b, 3));
	KUNIT_ASSERT_TRUE(test, count_call(&a, 1));
	KUNIT_ASSERT_NOT_NULL(test, count_call_ptr(&b, &b));
	KUNIT_EXPECT_EQ(test, a, 12);
	KUNIT_EXPECT_EQ(test, b, 12);

	/* The failing path, on the probe. */
	a = b = 0;
	kunit_info(test, "the \"" PROBE_NAME "\" diagnostics below are expected");
	KUNIT_EXPECT_EQ(&probe, count_call(&a, 1), count_call(&b, 2));
	KUNIT_EXPECT_TRUE(&probe, count_call(&a, 0));
	KUNIT_EXPECT_PTR_EQ(&probe, count_call_ptr(&a, &a), count_call_ptr(&b, &b));
	KUNIT_EXPECT_EQ(test, probe.status, KUNIT_FAILURE);
	KUNIT_EXPECT_EQ(test, a, 3);
	KUNIT_EXPECT_EQ(test, b, 2);
}

/*
 * The binary checks compare in C's common type of the two sides (the type of a + b), so a
 * check says exactly what "a op b" would say in C, surprises included:
 *  - an unsigned 64-bit side turns a negative literal into a huge value: (u64)0 < -1 is
 *    true, and ~0ULL == -1 is true;
 *  - the same holds for unsigned int against int: 1u < -1;
 *  - unsigned types narrower than int are promoted to int first, so a u8 of 255 is greater
 *    than -1, as everyone expects.
 * To compare as signed numbers, cast the unsigned side to a signed type yourself.
 */
static void mixed_sign_compares_like_c(struct kunit *test)
{
	u64 zero = 0, all_ones = ~0ULL;
	unsigned int one = 1;
	u8 byte = 255;

	KUNIT_EXPECT_EQ(test, all_ones, -1);
	KUNIT_EXPECT_LT(test, zero, -1);
	KUNIT_EXPECT_EQ(test, zero < (u64)-1, true); /* the same question asked in plain C */
	KUNIT_EXPECT_LT(test, one, -1);
	KUNIT_EXPECT_GT(test, byte, -1);
	KUNIT_EXPECT_GT(test, (s64)zero, -1); /* signed on purpose: the "natural" answer */
	KUNIT_EXPECT_EQ(test, (s64)all_ones, -1);
	/* Large values survive: the comparison is never done in a narrower type. */
	KUNIT_EXPECT_NE(test, all_ones, 0xffffffffULL);
	KUNIT_EXPECT_GT(test, all_ones, 0x7fffffffffffffffULL);
}

static void glob_match_cases(struct kunit *test)
{
	static const struct {
		const char *pattern, *s;
		bool match;
	} cases[] = {
		{ "", "", true },
		{ "", "a", false },
		{ "*", "", true },
		{ "*", "anything", true },
		{ "**", "x", true },
		{ "abc", "abc", true },
		{ "abc", "abcd", false },
		{ "abcd", "abc", false },
		{ "a?c", "abc", true },
		{ "a?c", "ac", false },
		{ "?", "", false },
		{ "a*c", "ac", true },
		{ "a*c", "abbbc", true },
		{ "a*c", "abcb", false },
		{ "*ab", "aab", true },	      /* the '*' must give back a character */
		{ "a*b*c", "aXbYbZc", true }, /* ... and retry after a false start */
		{ "a*b*c", "aXbYbZ", false },
		{ "tlb*", "tlb_x86", true },
		{ "*_x86", "tlb_x86", true },
		{ "*_x86", "tlb_arm64", false },
		{ "[ab]", "[ab]", true }, /* no character classes: brackets are literal */
		{ "[ab]", "a", false },
		{ "Printf", "printf", false }, /* case matters */
		{ "selftest_*", "selftest_fail", true },
		{ "selftest_fail", "selftest_fault", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool got = glob_match(cases[i].pattern, cases[i].s);

		if (got != cases[i].match)
			kunit_fail(test, false, __FILE__, __LINE__,
				   "glob_match(\"%s\", \"%s\") returned %s", cases[i].pattern,
				   cases[i].s, got ? "true" : "false");
	}
}

static struct kunit_case kunit_harness_cases[] = {
	KUNIT_CASE(expect_macros_pass_on_true_facts),
	KUNIT_CASE(assert_macros_pass_on_true_facts),
	KUNIT_CASE(failing_expectation_is_detected),
	KUNIT_CASE(failing_assert_aborts_case),
	KUNIT_CASE(skip_reports_skip),
	KUNIT_CASE(init_and_exit_run_around_each_case),
	KUNIT_CASE(checks_evaluate_arguments_once),
	KUNIT_CASE(mixed_sign_compares_like_c),
	KUNIT_CASE(glob_match_cases),
	{},
};

static struct kunit_suite kunit_harness_suite = {
	.name = "kunit_harness",
	.init = harness_init,
	.exit = harness_exit,
	.test_cases = kunit_harness_cases,
};
kunit_test_suite(kunit_harness_suite);
