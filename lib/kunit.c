/* The KUnit-compatible test runner: runs registered suites and prints KTAP v1. */
#include <kunit/test.h>
#include <kernel/printk.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <stdarg.h>

/* Bracketing symbols of the .kunit_suites section (linker script, or the host build). */
extern struct kunit_suite *const __start_kunit_suites[];
extern struct kunit_suite *const __stop_kunit_suites[];

void (*kunit_post_case)(struct kunit *test);

static char current_test[128];

/*
 * The linker places every registered suite pointer between the two symbols. Counting by
 * address keeps the loops honest C: the symbols are distinct objects as far as the
 * compiler (and cppcheck) know, so they are never compared as pointers.
 */
static size_t nr_suites(void)
{
	return ((uintptr_t)__stop_kunit_suites - (uintptr_t)__start_kunit_suites) /
	       sizeof(__start_kunit_suites[0]);
}

const char *kunit_current_test(void)
{
	return current_test[0] ? current_test : NULL;
}

/* Prints a possibly multi-line message as KTAP diagnostics ("# " before every line). */
static void print_diag(const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		printk("    # %.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

void kunit_fail(struct kunit *test, bool abort, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "%s: %s FAILED at %s:%d\n", test->name,
		     abort ? "ASSERTION" : "EXPECTATION", file, line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	print_diag(msg);
	test->status = KUNIT_FAILURE;
	if (abort)
		kunit_abort(test);
}

__noreturn void kunit_abort(struct kunit *test)
{
	__builtin_longjmp(test->abort_buf, 1);
}

void kunit_info(struct kunit *test, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)test;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_diag(msg);
}

__noreturn void kunit_skip(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test->status_comment, sizeof(test->status_comment), fmt, ap);
	va_end(ap);
	/* A case that already failed stays failed; a skip must not hide a failure. */
	if (test->status != KUNIT_FAILURE)
		test->status = KUNIT_SKIPPED;
	kunit_abort(test);
}

/*
 * __builtin_setjmp/__builtin_longjmp are GCC's own non-local jump, needing no libc: an
 * assertion jumps back here. Kept out of line so that the jump buffer's frame is this one.
 */
static __attribute__((noinline)) void run_protected(struct kunit *test, void (*fn)(struct kunit *))
{
	if (__builtin_setjmp(test->abort_buf) == 0)
		fn(test);
}

static const struct kunit_suite *running_suite;
static const struct kunit_case *running_case;

/* test->priv stays the suite's: init may set it for the case and exit to use, as in KUnit. */
static void run_init(struct kunit *test)
{
	if (running_suite->init(test) != 0)
		kunit_fail(test, true, __FILE__, __LINE__, "suite init failed");
}

static void run_case_body(struct kunit *test)
{
	running_case->run_case(test);
}

static int count_cases(const struct kunit_suite *suite)
{
	int n = 0;

	for (const struct kunit_case *c = suite->test_cases; c->run_case; c++)
		n++;
	return n;
}

/* Runs one suite; returns true if no case failed. */
static bool run_suite(struct kunit_suite *suite, int index)
{
	int nr, i = 0, failed = 0, skipped = 0;

	/* As Linux's .suite_init: may build the case list (one case per user program). */
	if (suite->suite_init && suite->suite_init(suite)) {
		printk("not ok %d %s # suite_init failed\n", index, suite->name);
		return false;
	}
	nr = count_cases(suite);

	printk("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suite->name, nr);
	running_suite = suite;
	for (struct kunit_case *c = suite->test_cases; c->run_case; c++) {
		struct kunit test = { .name = c->name, .status = KUNIT_SUCCESS };

		i++;
		running_case = c;
		snprintf(current_test, sizeof(current_test), "%s.%s", suite->name, c->name);
		/* Names the case before it runs, so a hang or crash can be pinned on it. */
		printk("    # running: %s\n", c->name);
		if (suite->init)
			run_protected(&test, run_init);
		if (test.status == KUNIT_SUCCESS)
			run_protected(&test, run_case_body);
		if (suite->exit)
			run_protected(&test, suite->exit);
		if (kunit_post_case)
			run_protected(&test, kunit_post_case);

		if (test.status == KUNIT_FAILURE) {
			failed++;
			printk("    not ok %d %s\n", i, c->name);
		} else if (test.status == KUNIT_SKIPPED) {
			skipped++;
			printk("    ok %d %s # SKIP %s\n", i, c->name, test.status_comment);
		} else {
			printk("    ok %d %s\n", i, c->name);
		}
	}
	current_test[0] = '\0';
	running_case = NULL;
	running_suite = NULL;

	if (failed)
		printk("not ok %d %s\n", index, suite->name);
	else if (nr > 0 && skipped == nr)
		printk("ok %d %s # SKIP all cases skipped\n", index, suite->name);
	else
		printk("ok %d %s\n", index, suite->name);
	return failed == 0;
}

int kunit_run_all(const char *glob)
{
	int nr = 0, index = 0, failed = 0;

	for (size_t i = 0; i < nr_suites(); i++)
		if (!glob || glob_match(glob, __start_kunit_suites[i]->name))
			nr++;

	printk("KTAP version 1\n1..%d\n", nr);
	for (size_t i = 0; i < nr_suites(); i++) {
		struct kunit_suite *s = __start_kunit_suites[i];

		if (glob && !glob_match(glob, s->name))
			continue;
		if (!run_suite(s, ++index))
			failed++;
	}
	return failed;
}
