/* Runner self-test: a case that dereferences an unmapped address (SELFTEST=1 kernels only). */
#include <asm/pgtable.h>
#include <kernel/boot_info.h>
#include <kunit/test.h>

/*
 * Only when asked for by name: the self-test kernel booted without a filter then still
 * finishes (this case skips) instead of crashing.
 */
static void only_when_selected(struct kunit *test)
{
	char glob[64];

	if (!cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)))
		kunit_skip(test, "runs only with kunit.filter_glob=selftest_fault");
}

/*
 * A plain load from the test VA window, which nothing maps, outside any nofault helper:
 * the arch's exception handler finds no fixup, prints its report (vector or ESR, the
 * faulting address, registers), panic() names this test, and the kernel exits with
 * status 2. The runner must blame deliberate_fault for the crash.
 */
static void deliberate_fault(struct kunit *test)
{
	volatile u64 *unmapped = (volatile u64 *)VM_TEST_START;

	only_when_selected(test);
	kunit_info(test, "reading %p: the exception report below is this test's purpose",
		   (void *)unmapped);
	(void)*unmapped;
	/*
	 * Not reached. If it were, the fault went unnoticed: the case then passes on purpose,
	 * so the runner's self-check (which wants this boot to crash) fails, rather than
	 * mistaking an ordinary test failure for the crash it is looking for.
	 */
	kunit_info(test, "the load from %p did not fault", (void *)unmapped);
}

static struct kunit_case selftest_fault_cases[] = {
	KUNIT_CASE(deliberate_fault),
	{},
};

static struct kunit_suite selftest_fault_suite = {
	.name = "selftest_fault",
	.test_cases = selftest_fault_cases,
};
kunit_test_suite(selftest_fault_suite);
