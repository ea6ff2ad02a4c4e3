/*
 * The user_programs suite (design section 12): every program of user/tests/ is one case, run as a
 * process whose parent is the case; it passes when the program exits with status 0. After
 * each, nothing may be left behind: no process, no committed page, no frame.
 */
#include <kernel/process.h>
#include <kernel/uapi.h>
#include <kernel/user_programs.h>
#include <kunit/test.h>
#include <mm/mm.h>
#include <mm/user.h>

#define MAX_PROGRAM_CASES 64

static struct kunit_case program_cases[MAX_PROGRAM_CASES + 1];

static void run_user_program(struct kunit *test)
{
	unsigned long free_before, committed = vm_committed_pages();
	int pid, status = -1, st;

	drop_lazy_mms();
	free_before = frames_free();
	pid = process_spawn(test->name, -1);
	KUNIT_ASSERT_GT(test, pid, 0);
	KUNIT_ASSERT_EQ(test, process_wait(pid, &status), pid);
	/* Orphans of the program came to us: reap them all, as init would. */
	while (process_wait(-1, &st) > 0)
		;
	KUNIT_EXPECT_TRUE(test, WIFEXITED(status));
	KUNIT_EXPECT_EQ(test, status, 0);
	if (WIFSIGNALED(status))
		kunit_info(test, "%s died of signal %d", test->name, WTERMSIG(status));
	KUNIT_EXPECT_EQ(test, nr_processes(), 0);
	KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed);
	drop_lazy_mms();
	KUNIT_EXPECT_EQ(test, frames_free(), free_before);
}

/* One case per test program, in the table's order. */
static int build_program_cases(struct kunit_suite *suite)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_user_programs && n < MAX_PROGRAM_CASES; i++)
		if (user_programs[i].test)
			program_cases[n++] =
			    (struct kunit_case){ run_user_program, user_programs[i].name };
	program_cases[n] = (struct kunit_case){ 0 };
	suite->test_cases = program_cases;
	return n ? 0 : -1; /* no programs at all means the build lost them */
}

static struct kunit_suite user_programs_suite = {
	.name = "user_programs",
	.test_cases = program_cases,
	.suite_init = build_program_cases,
};
kunit_test_suite(user_programs_suite);
