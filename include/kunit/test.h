/*
 * A KUnit-compatible subset (lib/kunit.c): the same structs, macros and KTAP output as
 * Linux's KUnit, so a test reads the same here and there and kunit.py can parse the log.
 */
#pragma once

#include <lib/types.h>

enum kunit_status {
	KUNIT_SUCCESS,
	KUNIT_FAILURE,
	KUNIT_SKIPPED,
};

struct kunit {
	const char *name; /* the running case */
	enum kunit_status status;
	char status_comment[128]; /* the SKIP reason */
	void *priv;		  /* for the suite's init/exit */
	void *abort_buf[5];	  /* __builtin_setjmp buffer: KUNIT_ASSERT_* and kunit_skip() */
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*init)(struct kunit *test);  /* before each case; non-zero fails the case */
	void (*exit)(struct kunit *test); /* after each case, even an aborted one */
	struct kunit_case *test_cases;	  /* ends with an empty entry */
	/* Once, before the cases are counted; non-zero fails the whole suite. */
	int (*suite_init)(struct kunit_suite *suite);
};

#define KUNIT_CASE(fn)                      \
	{                                   \
		.run_case = fn, .name = #fn \
	}

/* Registers a suite: every suite in the image runs at boot, in link order. */
#define kunit_test_suite(suite)                                                      \
	static struct kunit_suite *const __kunit_suite_ptr_##suite __used __section( \
	    "kunit_suites") = &(suite)

/* Runs every suite whose name matches glob (NULL: all). Returns the number that failed. */
int kunit_run_all(const char *glob);

/* The running "suite.case", or NULL between tests: crash reports name it. */
const char *kunit_current_test(void);

void kunit_fail(struct kunit *test, bool abort, const char *file, int line, const char *fmt, ...)
    __printf(5, 6);
__noreturn void kunit_abort(struct kunit *test);
void kunit_info(struct kunit *test, const char *fmt, ...) __printf(2, 3);
/* Marks the case skipped with a reason and ends it. */
__noreturn void kunit_skip(struct kunit *test, const char *fmt, ...) __printf(2, 3);

/*
 * Binary checks compare both sides in their common type (the type of a + b), so comparing a
 * u64 with a literal neither warns nor changes meaning; each side is evaluated once.
 */
#define KUNIT_BINARY_CHECK(test, abort, a, op, b)                                                  \
	do {                                                                                       \
		__typeof__((a) + (b)) __ka = (a), __kb = (b);                                      \
		if (!(__ka op __kb))                                                               \
			kunit_fail(test, abort, __FILE__, __LINE__,                                \
				   "Expected %s %s %s, but\n%s == %lld (0x%llx)\n"                 \
				   "%s == %lld (0x%llx)",                                          \
				   #a, #op, #b, #a, (long long)__ka, (unsigned long long)__ka, #b, \
				   (long long)__kb, (unsigned long long)__kb);                     \
	} while (0)

#define KUNIT_BOOL_CHECK(test, abort, cond, expect)                                                \
	do {                                                                                       \
		if ((bool)(cond) != (expect))                                                      \
			kunit_fail(test, abort, __FILE__, __LINE__, "Expected %s to be %s", #cond, \
				   (expect) ? "true" : "false");                                   \
	} while (0)

#define KUNIT_PTR_CHECK(test, abort, a, op, b)                                                    \
	do {                                                                                      \
		const void *__kpa = (a), *__kpb = (b);                                            \
		if (!(__kpa op __kpb))                                                            \
			kunit_fail(test, abort, __FILE__, __LINE__,                               \
				   "Expected %s %s %s, but\n%s == %p\n%s == %p", #a, #op, #b, #a, \
				   __kpa, #b, __kpb);                                             \
	} while (0)

#define KUNIT_EXPECT_TRUE(test, c)	KUNIT_BOOL_CHECK(test, false, c, true)
#define KUNIT_EXPECT_FALSE(test, c)	KUNIT_BOOL_CHECK(test, false, c, false)
#define KUNIT_EXPECT_EQ(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, ==, b)
#define KUNIT_EXPECT_NE(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, !=, b)
#define KUNIT_EXPECT_LT(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, <, b)
#define KUNIT_EXPECT_LE(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, <=, b)
#define KUNIT_EXPECT_GT(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, >, b)
#define KUNIT_EXPECT_GE(test, a, b)	KUNIT_BINARY_CHECK(test, false, a, >=, b)
#define KUNIT_EXPECT_PTR_EQ(test, a, b) KUNIT_PTR_CHECK(test, false, a, ==, b)
#define KUNIT_EXPECT_PTR_NE(test, a, b) KUNIT_PTR_CHECK(test, false, a, !=, b)
#define KUNIT_EXPECT_NULL(test, p)	KUNIT_PTR_CHECK(test, false, p, ==, NULL)
#define KUNIT_EXPECT_NOT_NULL(test, p)	KUNIT_PTR_CHECK(test, false, p, !=, NULL)

#define KUNIT_ASSERT_TRUE(test, c)	KUNIT_BOOL_CHECK(test, true, c, true)
#define KUNIT_ASSERT_FALSE(test, c)	KUNIT_BOOL_CHECK(test, true, c, false)
#define KUNIT_ASSERT_EQ(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, ==, b)
#define KUNIT_ASSERT_NE(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, !=, b)
#define KUNIT_ASSERT_LT(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, <, b)
#define KUNIT_ASSERT_LE(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, <=, b)
#define KUNIT_ASSERT_GT(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, >, b)
#define KUNIT_ASSERT_GE(test, a, b)	KUNIT_BINARY_CHECK(test, true, a, >=, b)
#define KUNIT_ASSERT_PTR_EQ(test, a, b) KUNIT_PTR_CHECK(test, true, a, ==, b)
#define KUNIT_ASSERT_PTR_NE(test, a, b) KUNIT_PTR_CHECK(test, true, a, !=, b)
#define KUNIT_ASSERT_NULL(test, p)	KUNIT_PTR_CHECK(test, true, p, ==, NULL)
#define KUNIT_ASSERT_NOT_NULL(test, p)	KUNIT_PTR_CHECK(test, true, p, !=, NULL)

/*
 * Called after every case (if set). The kernel uses it to check that the case left no lazy
 * MMU section open, and to repair the state so that one broken case can't poison the next.
 */
extern void (*kunit_post_case)(struct kunit *test);
