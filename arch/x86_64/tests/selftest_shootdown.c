/* Runner self-test: a shootdown a CPU never acknowledges must panic with a report (x86-64). */
#ifdef LAZYMMU_SELFTEST
#include <asm/shootdown.h>
#include <kernel/boot_info.h>
#include <kernel/smp.h>
#include <kunit/test.h>
#include <mm/mm.h>

/*
 * A real protect while the last CPU ignores its shootdown NMIs: the initiator must not hang.
 * After x86_shootdown_timeout_ms (shortened here to 300 ms) it names the silent CPU and the
 * batch, then panics, and panic() names this test. The runner's self-check (config
 * x86_64-pvh-smp4) wants exactly that crash, blamed on deliberate_silent_cpu.
 */
static void deliberate_silent_cpu(struct kunit *test)
{
	char glob[64];
	unsigned long va;
	phys_addr_t pa;

	if (!cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)))
		kunit_skip(test, "runs only with kunit.filter_glob=selftest_shootdown");
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs a second CPU (x86_64-pvh-smp4)");
	va = vm_test_area(1);
	pa = alloc_frame();
	KUNIT_ASSERT_TRUE(test, va && pa);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	x86_shootdown_timeout_ms = 300;
	x86_shootdown_deaf_cpu = (int)num_online_cpus() - 1;
	kunit_info(test, "CPU %d ignores shootdowns: the report and panic below are the purpose",
		   x86_shootdown_deaf_cpu);
	protect_pages(&init_mm, va, 1, PAGE_KERNEL_RO);
	/* Not reached; if it were, the case passes and the runner's self-check fails. */
	kunit_info(test, "the shootdown returned without CPU %d", x86_shootdown_deaf_cpu);
}

static struct kunit_case selftest_shootdown_cases[] = {
	KUNIT_CASE(deliberate_silent_cpu),
	{},
};

static struct kunit_suite selftest_shootdown_suite = {
	.name = "selftest_shootdown",
	.test_cases = selftest_shootdown_cases,
};
kunit_test_suite(selftest_shootdown_suite);
#endif
