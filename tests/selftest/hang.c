/* Runner self-test: a case that never returns (SELFTEST=1 kernels only). */
#include <kernel/irq.h>
#include <kernel/boot_info.h>
#include <kunit/test.h>

/*
 * Only when asked for by name: the self-test kernel booted without a filter then still
 * finishes (this case skips) instead of hanging.
 */
static void only_when_selected(struct kunit *test)
{
	char glob[64];

	if (!cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)))
		kunit_skip(test, "runs only with kunit.filter_glob=selftest_hang");
}

/*
 * Spins forever with interrupts masked, so not even the timer tick gets in: the kernel
 * prints nothing more and never exits, and only the runner's timeout can end the boot.
 * (With interrupts on it would hang just the same, the ticks running underneath; one
 * variant is enough.) The runner must close the suite with
 * "not ok ... deliberate_hang # TIMEOUT".
 */
static void deliberate_hang(struct kunit *test)
{
	only_when_selected(test);
	local_irq_disable();
	for (;;)
		barrier(); /* an infinite loop the compiler must keep as written */
}

static struct kunit_case selftest_hang_cases[] = {
	KUNIT_CASE(deliberate_hang),
	{},
};

static struct kunit_suite selftest_hang_suite = {
	.name = "selftest_hang",
	.test_cases = selftest_hang_cases,
};
kunit_test_suite(selftest_hang_suite);
