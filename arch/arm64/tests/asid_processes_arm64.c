/*
 * ASID rollover with real processes (issue 13: "a test forces an ASID rollover with many
 * processes"). The allocator is capped at a handful of ASIDs (arm64_asid_set_limit()), so a
 * stream of processes - each its own address space, each started and run at EL0 - uses up
 * the generation again and again. Every rollover makes each CPU flush its own TLB at its next
 * switch (no IPIs); the processes must not notice: each one checks its own memory
 * (user/tests/fork_cow, address_space_reuse) and exits 0.
 */
#include <kernel/process.h>
#include <kernel/uapi.h>
#include <kunit/test.h>
#include <mm/tlb_stats.h>
#include <asm/mmu.h>

static void processes_roll_the_asids_over(struct kunit *test)
{
	unsigned long limit = arm64_asid_set_limit(NR_CPUS + 2);
	struct arm64_asid_stats s0, s1;
	struct tlb_stats t0, t1;
	int pids[8], status;

	arm64_asid_stats(&s0);
	tlb_stats_read(&t0);
	/* 40 short processes in batches of 8 at once, over every CPU, then fork_cow twice. */
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 8; i++) {
			pids[i] = process_spawn("true", -1);
			KUNIT_ASSERT_GT(test, pids[i], 0);
		}
		for (int i = 0; i < 8; i++) {
			KUNIT_ASSERT_EQ(test, process_wait(pids[i], &status), pids[i]);
			KUNIT_EXPECT_EQ(test, status, 0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int pid = process_spawn("fork_cow", -1);

		KUNIT_ASSERT_GT(test, pid, 0);
		KUNIT_ASSERT_EQ(test, process_wait(pid, &status), pid);
		KUNIT_EXPECT_EQ(test, status, 0);
		while (process_wait(-1, &status) > 0)
			;
	}
	arm64_asid_stats(&s1);
	tlb_stats_read(&t1);
	kunit_info(test, "%llu rollovers, %llu local flushes for %d processes and more (limit %lu)",
		   (unsigned long long)(s1.rollovers - s0.rollovers),
		   (unsigned long long)(s1.local_flushes - s0.local_flushes), 40, limit);
	KUNIT_EXPECT_GE(test, s1.rollovers - s0.rollovers, 4);
	KUNIT_EXPECT_EQ(test, s1.generation - s0.generation, s1.rollovers - s0.rollovers);
	/* Rollovers cost local flushes at switches, never an IPI (arm64 sends none at all). */
	KUNIT_EXPECT_GE(test, s1.local_flushes - s0.local_flushes, s1.rollovers - s0.rollovers);
	KUNIT_EXPECT_EQ(test, t1.ipis_sent - t0.ipis_sent, 0);
	KUNIT_EXPECT_EQ(test, nr_processes(), 0);
}

/* Even after a failed assertion: the whole ASID space again for the suites that follow. */
static void asid_processes_exit(struct kunit *test)
{
	(void)test;
	arm64_asid_set_limit(0);
}

static struct kunit_case asid_processes_cases[] = {
	KUNIT_CASE(processes_roll_the_asids_over),
	{},
};

static struct kunit_suite asid_processes_suite = {
	.name = "asid_processes_arm64",
	.test_cases = asid_processes_cases,
	.exit = asid_processes_exit,
};
kunit_test_suite(asid_processes_suite);
