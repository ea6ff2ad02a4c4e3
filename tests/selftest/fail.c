/* Runner self-test: a suite with one deliberately failing case (SELFTEST=1 kernels only). */
#include <kunit/test.h>

/* Runs first, so the report shows that a failure is pinned on its case, not the suite. */
static void passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

/* The runner must report "not ok ... deliberate_failure" and a non-zero exit status. */
static void deliberate_failure(struct kunit *test)
{
	int answer = 41;

	KUNIT_EXPECT_EQ(test, answer, 42);
}

static struct kunit_case selftest_fail_cases[] = {
	KUNIT_CASE(passes),
	KUNIT_CASE(deliberate_failure),
	{},
};

static struct kunit_suite selftest_fail_suite = {
	.name = "selftest_fail",
	.test_cases = selftest_fail_cases,
};
kunit_test_suite(selftest_fail_suite);
