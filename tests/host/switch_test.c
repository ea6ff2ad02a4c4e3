/* The lazy MMU context-switch rule against the mock arch: which hooks a switch calls. */
#include <mock_arch.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>

extern bool mock_lazy_mode_entered;
extern unsigned int mock_hook_misorder;

static struct task other = { .name = "other" };

/* What kernel/sched.c's context_switch() does around the register switch. */
static void switch_to(struct task *next)
{
	struct task *prev = current;
	unsigned long flags;

	local_irq_save(flags);
	lazy_mmu_switch_out(prev);
	this_cpu()->current_task = next;
	lazy_mmu_switch_in(next);
	local_irq_restore(flags);
}

static void stats(struct tlb_stats *s)
{
	tlb_stats_read(s);
}

/* Out of a nested section and back: leave then enter, counted apart from the helpers'. */
static void switch_leaves_and_reenters_an_active_section(struct kunit *test)
{
	struct tlb_stats s0, s1;

	other.lazy_mmu_state = (struct lazy_mmu_state){ 0 };
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	stats(&s0);
	switch_to(&other);
	stats(&s1);
	KUNIT_EXPECT_FALSE(test, mock_lazy_mode_entered);
	KUNIT_EXPECT_EQ(test, s1.switch_leave - s0.switch_leave, 1);
	KUNIT_EXPECT_EQ(test, s1.arch_leave - s0.arch_leave, 0);
	KUNIT_EXPECT_EQ(test, s1.switch_enter - s0.switch_enter, 0); /* other is not in one */

	/* The other task's own section enters and leaves the mode on its own. */
	lazy_mmu_mode_enable();
	KUNIT_EXPECT_TRUE(test, mock_lazy_mode_entered);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_FALSE(test, mock_lazy_mode_entered);

	switch_to(&mock_task);
	stats(&s1);
	KUNIT_EXPECT_TRUE(test, mock_lazy_mode_entered);
	KUNIT_EXPECT_EQ(test, s1.switch_enter - s0.switch_enter, 1);
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.enable_count, 2);
	lazy_mmu_mode_disable();
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_FALSE(test, mock_lazy_mode_entered);
	KUNIT_EXPECT_EQ(test, mock_hook_misorder, 0);
}

/* A paused section and no section at all: the switch calls no hook. */
static void switch_leaves_paused_and_idle_tasks_alone(struct kunit *test)
{
	struct tlb_stats s0, s1;

	other.lazy_mmu_state = (struct lazy_mmu_state){ 0 };
	lazy_mmu_mode_enable();
	lazy_mmu_mode_pause();
	stats(&s0);
	switch_to(&other);
	switch_to(&mock_task);
	stats(&s1);
	KUNIT_EXPECT_EQ(test, s1.switch_leave - s0.switch_leave, 0);
	KUNIT_EXPECT_EQ(test, s1.switch_enter - s0.switch_enter, 0);
	KUNIT_EXPECT_FALSE(test, mock_lazy_mode_entered);
	lazy_mmu_mode_resume();
	KUNIT_EXPECT_TRUE(test, mock_lazy_mode_entered);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, mock_hook_misorder, 0);
}

static struct kunit_case switch_cases[] = {
	KUNIT_CASE(switch_leaves_and_reenters_an_active_section),
	KUNIT_CASE(switch_leaves_paused_and_idle_tasks_alone),
	{},
};

static struct kunit_suite switch_suite = {
	.name = "lazy_mmu_switch",
	.test_cases = switch_cases,
};
kunit_test_suite(switch_suite);
