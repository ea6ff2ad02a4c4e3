/* x86-64 single-step details: the sti interrupt shadow, and TF surviving pushf/popf and cli/sti. */
#include <asm/debugreg.h>
#include <kernel/step.h>
#include <kunit/test.h>

void x86_step_sti_shadow(void *arg);
void x86_step_flags_roundtrip(void *arg);

/*
 * cli; sti; nop; nop; ret: five instructions, though the CPU traps only four times (after
 * sti it traps only once the next nop has run, as it holds interrupts back). Points (a
 * real interrupt could be taken there): not after cli (IF clear), not after sti (its
 * shadow), after each nop and after ret: three.
 *
 * pushfq; popq: the flags the stepped code sees include TF; pushfq; popfq puts them back
 * and stepping must go on (4 instructions + ret; the result goes to *arg).
 */
__asm__(".text\n"
	".globl x86_step_sti_shadow\n"
	"x86_step_sti_shadow:\n"
	"	cli\n"
	"	sti\n"
	"	nop\n"
	"	nop\n"
	"	ret\n"
	".globl x86_step_flags_roundtrip\n"
	"x86_step_flags_roundtrip:\n"
	"	pushfq\n"
	"	popq (%rdi)\n"
	"	pushfq\n"
	"	popfq\n"
	"	ret\n");

static void sti_shadow_is_no_irq_point(struct kunit *test)
{
	struct step_result r;

	KUNIT_ASSERT_EQ(test, step_run(x86_step_sti_shadow, NULL, NULL, NULL, &r), 0);
	KUNIT_EXPECT_EQ(test, r.steps, 5);
	KUNIT_EXPECT_EQ(test, r.irq_points, 3);
}

static void tf_is_visible_and_survives_popf(struct kunit *test)
{
	unsigned long flags = 0;
	struct step_result r;

	KUNIT_ASSERT_EQ(test, step_run(x86_step_flags_roundtrip, &flags, NULL, NULL, &r), 0);
	KUNIT_EXPECT_TRUE(test, flags & X86_RFLAGS_TF);
	KUNIT_EXPECT_EQ(test, r.steps, 5);
	KUNIT_EXPECT_EQ(test, r.irq_points, 5);
	/* Unstepped, TF is clear again. */
	x86_step_flags_roundtrip(&flags);
	KUNIT_EXPECT_FALSE(test, flags & X86_RFLAGS_TF);
}

static struct kunit_case step_x86_cases[] = {
	KUNIT_CASE(sti_shadow_is_no_irq_point),
	KUNIT_CASE(tf_is_visible_and_survives_popf),
	{},
};

static struct kunit_suite step_x86_suite = {
	.name = "step_x86",
	.test_cases = step_x86_cases,
};
kunit_test_suite(step_x86_suite);
