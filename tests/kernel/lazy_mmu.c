/* In-kernel lazy MMU suite: the shared conformance cases on real tasks, plus a real interrupt. */
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/timer.h>
#include "lazy_mmu_cases.h"

/* The kernel sees the arch side only through the counters, which lm_step() already reads. */
static void lm_arch_before(void)
{
}

static bool lm_arch_check(struct kunit *test, const struct lm_model *m, enum lm_hook expect,
			  enum lm_op op, long step)
{
	(void)test, (void)m, (void)expect, (void)op, (void)step;
	return true;
}

/* "123", "0x7b": enough of strtoull for a command-line seed. */
static u64 lm_parse_u64(const char *s)
{
	unsigned int base = 10;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	return v;
}

/* lazy_mmu.seed=<n> on the kernel command line replays a run; otherwise the cycle counter. */
static u64 lm_random_seed(struct kunit *test)
{
	char arg[24];
	u64 seed;

	if (cmdline_get(&boot_info, "lazy_mmu.seed", arg, sizeof(arg)))
		seed = lm_parse_u64(arg);
	else
		seed = arch_cycles() * 0x9e3779b97f4a7c15ULL;
	kunit_info(test, "seed %#llx (boot with lazy_mmu.seed=%#llx to replay)",
		   (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

/* What the timer interrupt handler saw and did, filled in by lm_probe_in_irq(). */
struct lm_irq_probe {
	bool ran;
	bool in_interrupt;
	bool active;	   /* is_lazy_mmu_mode_active() on entry */
	bool active_after; /* ... and after the four calls */
	struct lazy_mmu_state before, after;
	struct lm_obs o0, o1;
};

/*
 * Runs inside the real timer interrupt, while the interrupted task sits in an active
 * section. Each call below would change the task's state in task context - disable() would
 * end the section, resume() at pause_count 0 would warn - and here must do nothing at all.
 */
static void lm_probe_in_irq(void *arg)
{
	struct lm_irq_probe *p = arg;

	p->in_interrupt = in_interrupt();
	p->active = is_lazy_mmu_mode_active();
	p->before = current->lazy_mmu_state;
	lm_observe(&p->o0);
	lazy_mmu_mode_disable();
	lazy_mmu_mode_pause();
	lazy_mmu_mode_resume();
	lazy_mmu_mode_resume();
	lazy_mmu_mode_enable();
	lm_observe(&p->o1);
	p->after = current->lazy_mmu_state;
	p->active_after = is_lazy_mmu_mode_active();
	WRITE_ONCE(p->ran, true);
}

static void lazy_mmu_in_timer_interrupt(struct kunit *test)
{
	static char trace[1024];
	struct lm_irq_probe p = { 0 };
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;

	if (irqs_disabled())
		kunit_skip(test, "interrupts are masked: no timer tick would arrive");

	lazy_mmu_mode_enable();
	KUNIT_ASSERT_TRUE(test, is_lazy_mmu_mode_active());
	/* Only the handler's calls land in the trace: the task just sleeps until they ran. */
	lazy_mmu_trace_to(trace, sizeof(trace));
	lazy_mmu_set_trace(true);
	timer_call_once(lm_probe_in_irq, &p);
	timer_wait_ticks(2);
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	/* p lives on this stack: disarm, so a late tick can never write to it. */
	timer_call_once(NULL, NULL);
	if (!READ_ONCE(p.ran))
		kunit_fail(test, true, __FILE__, __LINE__, "no timer tick ran the probe");

	KUNIT_EXPECT_TRUE(test, p.in_interrupt);
	KUNIT_EXPECT_FALSE(test, p.active);
	KUNIT_EXPECT_FALSE(test, p.active_after);
	KUNIT_EXPECT_EQ(test, p.before.enable_count, 1);
	KUNIT_EXPECT_EQ(test, p.before.pause_count, 0);
	KUNIT_EXPECT_EQ(test, p.after.enable_count, 1);
	KUNIT_EXPECT_EQ(test, p.after.pause_count, 0);
	KUNIT_EXPECT_EQ(test, lm_hook_between(&p.o0, &p.o1), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, p.o1.warnings - p.o0.warnings, 0);
	/* back in the task: its section is exactly as it left it */
	KUNIT_EXPECT_EQ(test, s->enable_count, 1);
	KUNIT_EXPECT_EQ(test, s->pause_count, 0);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	lm_print_lines(test, "in the handler: ", trace);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_FALSE(test, is_lazy_mmu_mode_active());
}

/* Teaching: the worked sequence, traced live as this kernel executes it. */
static void lazy_mmu_trace_demo(struct kunit *test)
{
	kunit_info(test, "design section 3's worked sequence, as this kernel runs it:");
	lazy_mmu_set_trace(true);
	lm_run_script(test, lm_worked_sequence, ARRAY_SIZE(lm_worked_sequence));
	lazy_mmu_set_trace(false);
}

static struct kunit_case lazy_mmu_cases[] = {
	KUNIT_CASE(lazy_mmu_trace_demo),
	LAZY_MMU_COMMON_CASES,
	KUNIT_CASE(lazy_mmu_in_timer_interrupt),
	{},
};

static struct kunit_suite lazy_mmu_suite = {
	.name = "lazy_mmu",
	.init = lm_init,
	.exit = lm_exit,
	.test_cases = lazy_mmu_cases,
};
kunit_test_suite(lazy_mmu_suite);
