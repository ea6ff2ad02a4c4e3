/*
 * Processes from the kernel's side (kernel/process.c): many in turn and many at once, on
 * every CPU; a fault that kills exactly one process, with SIGSEGV as its status; and the
 * lazy-TLB rule - a CPU keeps a dead process's tables loaded, and so its root and mm, until
 * it loads another mm.
 */
#include <kernel/process.h>
#include <kernel/smp.h>
#include <kernel/uapi.h>
#include <kunit/test.h>
#include <mm/user.h>

/* More than 256 processes one after the other: an 8-bit ASID space rolls over. */
static void many_processes_in_turn(struct kunit *test)
{
	unsigned long committed = vm_committed_pages();

	for (int i = 0; i < 300; i++) {
		int status = -1, pid = process_spawn("true", -1);

		KUNIT_ASSERT_GT(test, pid, 0);
		KUNIT_ASSERT_EQ(test, process_wait(pid, &status), pid);
		KUNIT_ASSERT_EQ(test, status, 0);
	}
	KUNIT_EXPECT_EQ(test, nr_processes(), 0);
	KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed);
}

/* NR_PROCS processes alive at once (round robin over the CPUs), then one more is refused. */
static void process_table_fills_and_empties(struct kunit *test)
{
	int pids[NR_PROCS], status, n = 0;

	for (; n < NR_PROCS; n++) {
		pids[n] = process_spawn("true", -1);
		KUNIT_ASSERT_GT(test, pids[n], 0);
	}
	/* Some may have exited already, but none is reaped: every slot is taken. */
	KUNIT_EXPECT_EQ(test, process_spawn("true", -1), -EAGAIN);
	for (int i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, process_wait(pids[i], &status), pids[i]);
		KUNIT_EXPECT_EQ(test, status, 0);
	}
	KUNIT_EXPECT_EQ(test, process_wait(-1, &status), -ECHILD);
	KUNIT_EXPECT_EQ(test, nr_processes(), 0);
}

/* A NULL write kills that process with SIGSEGV; its sibling, started alongside, is fine. */
static void a_fault_kills_only_its_process(struct kunit *test)
{
	int segv = process_spawn("segv", -1), ok = process_spawn("true", -1), status = -1;

	KUNIT_ASSERT_GT(test, segv, 0);
	KUNIT_ASSERT_GT(test, ok, 0);
	KUNIT_ASSERT_EQ(test, process_wait(segv, &status), segv);
	KUNIT_EXPECT_TRUE(test, WIFSIGNALED(status));
	KUNIT_EXPECT_EQ(test, WTERMSIG(status), SIGSEGV);
	KUNIT_ASSERT_EQ(test, process_wait(ok, &status), ok);
	KUNIT_EXPECT_TRUE(test, WIFEXITED(status));
	KUNIT_EXPECT_EQ(test, WEXITSTATUS(status), 0);
	KUNIT_EXPECT_EQ(test, process_spawn("nosuch", -1), -ENOENT);
}

/*
 * Lazy TLB: the process ran on this CPU and exited; this kernel thread then borrowed its
 * tables, so the root and the mm stay allocated (the CPU's reference) until the CPU is made
 * to load the kernel's: exactly the mm's two frames come back then.
 */
static void a_dead_process_tables_stay_until_the_cpu_moves_on(struct kunit *test)
{
	unsigned long before, after;
	int pid, status;

	drop_lazy_mms();
	pid = process_spawn("true", (int)smp_processor_id());
	KUNIT_ASSERT_GT(test, pid, 0);
	KUNIT_ASSERT_EQ(test, process_wait(pid, &status), pid);
	KUNIT_EXPECT_TRUE(test, this_cpu()->active_mm != &init_mm);
	before = frames_free();
	drop_lazy_mms();
	after = frames_free();
	KUNIT_EXPECT_TRUE(test, this_cpu()->active_mm == &init_mm);
	KUNIT_EXPECT_EQ(test, after - before, 2); /* the root table and the mm_struct */
}

static struct kunit_case process_cases[] = {
	KUNIT_CASE(many_processes_in_turn),
	KUNIT_CASE(process_table_fills_and_empties),
	KUNIT_CASE(a_fault_kills_only_its_process),
	KUNIT_CASE(a_dead_process_tables_stay_until_the_cpu_moves_on),
	{},
};

static struct kunit_suite process_suite = {
	.name = "process",
	.test_cases = process_cases,
};
kunit_test_suite(process_suite);
