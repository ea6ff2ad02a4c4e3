/* arm64 single-step details: exclusive sequences stepped over, and the debug state left clean. */
#include <asm/debug-monitors.h>
#include <asm/sysreg.h>
#include <kernel/step.h>
#include <kunit/test.h>

void arm64_step_fetch_add(void *counter);
void arm64_step_cas(void *args);

/*
 * fetch_add: ldxr; add; stxr; cbnz; ret - five instructions. The first three run
 * unstepped (an eret between ldxr and stxr would make the store fail for ever): counted,
 * but no irq points. Points: after cbnz and after ret.
 *
 * cas(args = {word, expected, new}): ldxr; cmp; b.ne 1f; stxr; cbnz; 1: ret. When the
 * word differs from expected, b.ne leaves early: ldxr, cmp, b.ne unstepped, ret stepped.
 */
__asm__(".text\n"
	".globl arm64_step_fetch_add\n"
	"arm64_step_fetch_add:\n"
	"0:	ldxr	x1, [x0]\n"
	"	add	x1, x1, #1\n"
	"	stxr	w2, x1, [x0]\n"
	"	cbnz	w2, 0b\n"
	"	ret\n"
	".globl arm64_step_cas\n"
	"arm64_step_cas:\n"
	"	ldp	x2, x3, [x0, #8]\n"
	"0:	ldxr	x1, [x0]\n"
	"	cmp	x1, x2\n"
	"	b.ne	1f\n"
	"	stxr	w4, x3, [x0]\n"
	"	cbnz	w4, 0b\n"
	"1:	ret\n");

static void exclusive_sequences_are_stepped_over(struct kunit *test)
{
	u64 counter = 41;
	u64 cas[3] = { 7, 8, 9 }; /* word 7, expected 8: fails */
	struct step_result r;

	KUNIT_ASSERT_EQ(test, step_run(arm64_step_fetch_add, &counter, NULL, NULL, &r), 0);
	KUNIT_EXPECT_EQ(test, counter, 42);
	KUNIT_EXPECT_EQ(test, r.steps, 5);
	KUNIT_EXPECT_EQ(test, r.irq_points, 2);

	/* ldp; ldxr, cmp, b.ne (unstepped, left by the branch); ret. */
	KUNIT_ASSERT_EQ(test, step_run(arm64_step_cas, cas, NULL, NULL, &r), 0);
	KUNIT_EXPECT_EQ(test, cas[0], 7);
	KUNIT_EXPECT_EQ(test, r.steps, 5);
	KUNIT_EXPECT_EQ(test, r.irq_points, 2);

	/* Expected 7 now: ldp; ldxr, cmp, b.ne, stxr (unstepped); cbnz; ret. */
	cas[1] = 7;
	KUNIT_ASSERT_EQ(test, step_run(arm64_step_cas, cas, NULL, NULL, &r), 0);
	KUNIT_EXPECT_EQ(test, cas[0], 9);
	KUNIT_EXPECT_EQ(test, r.steps, 7);
	KUNIT_EXPECT_EQ(test, r.irq_points, 3);
}

/* Afterwards: no stepping, no breakpoint, debug exceptions masked as the kernel runs. */
static void debug_state_is_restored(struct kunit *test)
{
	u64 counter = 0;
	struct step_result r;

	KUNIT_ASSERT_EQ(test, step_run(arm64_step_fetch_add, &counter, NULL, NULL, &r), 0);
	KUNIT_EXPECT_EQ(test,
			read_sysreg(mdscr_el1) & (MDSCR_EL1_SS | MDSCR_EL1_KDE | MDSCR_EL1_MDE), 0);
	KUNIT_EXPECT_TRUE(test, read_sysreg(daif) & SPSR_D);
	KUNIT_EXPECT_EQ(test, read_sysreg(dbgbcr0_el1) & DBGBCR_E, 0);
	KUNIT_EXPECT_EQ(test, read_sysreg(dbgbcr1_el1) & DBGBCR_E, 0);
}

static struct kunit_case step_arm64_cases[] = {
	KUNIT_CASE(exclusive_sequences_are_stepped_over),
	KUNIT_CASE(debug_state_is_restored),
	{},
};

static struct kunit_suite step_arm64_suite = {
	.name = "step_arm64",
	.test_cases = step_arm64_cases,
};
kunit_test_suite(step_arm64_suite);
