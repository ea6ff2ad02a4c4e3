/* Runner self-test: a kernel thread that overflows its stack (SELFTEST=1 kernels only). */
#include <kernel/boot_info.h>
#include <kernel/sched.h>
#include <kunit/test.h>

static void only_when_selected(struct kunit *test)
{
	char glob[64];

	if (!cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)))
		kunit_skip(test, "runs only with kunit.filter_glob=selftest_kthread_overflow");
}

/*
 * Each level keeps 256 bytes live across the call (so it is no tail call and the buffer
 * can't be optimized away): a 16 KiB stack is gone after about 60 levels.
 */
static __attribute__((noinline)) int recurse(int n)
{
	volatile char pad[256];

	pad[0] = (char)n;
	pad[255] = (char)n;
	if (n == 0)
		return pad[0];
	return recurse(n - 1) + pad[255];
}

static int overflow(void *data)
{
	(void)data;
	return recurse(1 << 20);
}

/*
 * The kernel thread "deep" recurses into the guard page below its stack. The arch's
 * exception handler must report a stack overflow naming the task ("task deep ran into the
 * guard page below its stack": x86-64 from the #DF on its IST stack, arm64 from the
 * emergency stack its entry check switches to), panic() names this test, and the kernel
 * exits with status 2. If the overflow went unnoticed, kthread_stop() returns and the case
 * passes - and the runner's self-check, which wants a crash, fails.
 */
static void deliberate_kthread_overflow(struct kunit *test)
{
	struct task *t;

	only_when_selected(test);
	t = kthread_run(overflow, NULL, "deep");
	KUNIT_ASSERT_NOT_NULL(test, t);
	kunit_info(test, "task deep recurses without end: the report below is this test's purpose");
	kunit_info(test, "task deep returned %d: its overflow was not caught", kthread_stop(t));
}

static struct kunit_case selftest_kthread_overflow_cases[] = {
	KUNIT_CASE(deliberate_kthread_overflow),
	{},
};

static struct kunit_suite selftest_kthread_overflow_suite = {
	.name = "selftest_kthread_overflow",
	.test_cases = selftest_kthread_overflow_cases,
};
kunit_test_suite(selftest_kthread_overflow_suite);
