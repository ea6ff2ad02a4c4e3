/* Host suite for mm/lazy_mmu.c: the shared conformance cases plus what only the mock can see. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <mock_arch.h>
#include <lib/printf.h>
#include "../kernel/lazy_mmu_cases.h"

static enum lm_hook lm_hook_of(enum mock_hook h)
{
	switch (h) {
	case MOCK_HOOK_ENTER:
		return LM_ENTER;
	case MOCK_HOOK_LEAVE:
		return LM_LEAVE;
	case MOCK_HOOK_FLUSH:
		return LM_FLUSH;
	}
	return LM_SEVERAL_HOOKS;
}

static void lm_arch_before(void)
{
	mock_hook_log_reset();
}

/*
 * The mock recorded every hook call with the state it saw. Beyond "which hook", this checks
 * the contract's fine print: exactly one call, with interrupts disabled, in task context,
 * and after the counts changed (the hook sees the counts and the active flag the caller
 * will see when the helper returns).
 */
static bool lm_arch_check(struct kunit *test, const struct lm_model *m, enum lm_hook expect,
			  enum lm_op op, long step)
{
	unsigned int n = mock_hook_log_len();
	const struct mock_hook_call *c = mock_hook_log(0);
	/* The arch mode follows the task's section, whatever context we are in now. */
	bool entered = m->enable > 0 && m->pause == 0;

	if (mock_lazy_mode_entered != entered || mock_hook_misorder) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "step %ld: %s: the mock arch mode is %s (expected %s), %u misordered "
			   "hook call(s)",
			   step, lm_op_names[op], mock_lazy_mode_entered ? "entered" : "left",
			   entered ? "entered" : "left", mock_hook_misorder);
		return false;
	}
	if (expect == LM_NO_HOOK && n == 0)
		return true;
	if (n == 1 && lm_hook_of(c->hook) == expect && c->enable_count == m->enable &&
	    c->pause_count == m->pause && c->active == lm_model_active(m) && c->irqs_disabled &&
	    !c->in_interrupt)
		return true;
	if (n == 0)
		kunit_fail(test, false, __FILE__, __LINE__,
			   "step %ld: %s: no hook call, expected %s", step, lm_op_names[op],
			   lm_hook_names[expect]);
	else
		kunit_fail(test, false, __FILE__, __LINE__,
			   "step %ld: %s: %u hook call(s), the first %s seeing enable=%u pause=%u "
			   "active=%d irqs_disabled=%d in_interrupt=%d; expected %s seeing "
			   "enable=%d pause=%d active=%d irqs_disabled=1 in_interrupt=0",
			   step, lm_op_names[op], n, mock_hook_name(c->hook), c->enable_count,
			   c->pause_count, c->active, c->irqs_disabled, c->in_interrupt,
			   lm_hook_names[expect], m->enable, m->pause, lm_model_active(m));
	return false;
}

/* LAZYMMU_SEED=<number> (decimal or 0x...) replays a run; otherwise a fresh seed each time. */
static u64 lm_random_seed(struct kunit *test)
{
	const char *env = getenv("LAZYMMU_SEED");
	u64 seed;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (u64)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (u64)getpid();
	kunit_info(test, "seed %#llx (replay: LAZYMMU_SEED=%#llx build/host/unit_tests)",
		   (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

/*
 * The worked sequence once more, looking straight at the recorded hook calls: the order,
 * and what each hook saw of the generic layer while it ran.
 */
static void lazy_mmu_host_hook_log(struct kunit *test)
{
	static const struct {
		enum mock_hook hook;
		u8 enable, pause;
		bool active;
	} want[] = {
		{ MOCK_HOOK_ENTER, 1, 0, true },  /* enable() */
		{ MOCK_HOOK_LEAVE, 2, 1, false }, /* pause(): already paused inside the hook */
		{ MOCK_HOOK_ENTER, 2, 0, true },  /* resume() */
		{ MOCK_HOOK_FLUSH, 1, 0, true },  /* inner disable(): still active */
		{ MOCK_HOOK_LEAVE, 0, 0, false }, /* outer disable() */
	};

	mock_hook_log_reset();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_pause();
	lazy_mmu_mode_resume();
	lazy_mmu_mode_disable();
	lazy_mmu_mode_disable();

	KUNIT_ASSERT_EQ(test, mock_hook_log_len(), ARRAY_SIZE(want));
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		const struct mock_hook_call *c = mock_hook_log(i);

		KUNIT_EXPECT_EQ(test, c->hook, want[i].hook);
		KUNIT_EXPECT_EQ(test, c->enable_count, want[i].enable);
		KUNIT_EXPECT_EQ(test, c->pause_count, want[i].pause);
		KUNIT_EXPECT_EQ(test, c->active, want[i].active);
		KUNIT_EXPECT_TRUE(test, c->irqs_disabled);
		KUNIT_EXPECT_FALSE(test, c->in_interrupt);
	}
	KUNIT_EXPECT_TRUE(test, mock_irqs_on);
}

/* The generic layer counts each hook call once, on the CPU that made it. */
static void lazy_mmu_host_counts_hooks(struct kunit *test)
{
	struct tlb_stats s;

	tlb_stats_reset();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_disable();
	lazy_mmu_mode_pause();
	lazy_mmu_mode_resume();
	lazy_mmu_mode_disable();
	tlb_stats_read(&s);
	KUNIT_EXPECT_EQ(test, s.arch_enter, 2);
	KUNIT_EXPECT_EQ(test, s.arch_leave, 2);
	KUNIT_EXPECT_EQ(test, s.arch_flush, 1);
	KUNIT_EXPECT_EQ(test, s.tlbi_page + s.tlbi_all + s.barriers, 0);
	KUNIT_EXPECT_EQ(test, cpus[0].tlb_stats.arch_enter, 2);
	tlb_stats_reset();
	tlb_stats_read(&s);
	KUNIT_EXPECT_EQ(test, s.arch_enter + s.arch_leave + s.arch_flush, 0);
}

/* What the simulated interrupts saw (see lm_interrupt_here()). */
static struct {
	unsigned long windows;	  /* interrupts simulated */
	unsigned long in_section; /* ... while the task was in an active section */
	unsigned long bad;	  /* ... that found a half-done transition or changed something */
	char first_bad[160];
} lm_windows;

/*
 * An interrupt, simulated at a moment a real one could arrive. It checks what a scheduler
 * tick would rely on before switching the task out - the arch mode agrees with the task's
 * counts - and then does what a handler may do: call every helper, which must change
 * nothing and call no hook.
 */
static void lm_interrupt_here(void)
{
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;
	struct lazy_mmu_state before = *s;
	bool section = s->enable_count > 0 && s->pause_count == 0;
	unsigned int hooks = mock_hook_log_len();

	lm_windows.windows++;
	lm_windows.in_section += section;
	irq_enter();
	if (mock_lazy_mode_entered != section || is_lazy_mmu_mode_active())
		goto bad;
	lazy_mmu_mode_disable();
	lazy_mmu_mode_pause();
	lazy_mmu_mode_resume();
	lazy_mmu_mode_enable();
	if (s->enable_count != before.enable_count || s->pause_count != before.pause_count ||
	    mock_hook_log_len() != hooks || mock_lazy_mode_entered != section)
		goto bad;
	irq_exit();
	return;
bad:
	if (!lm_windows.bad++)
		snprintf(
		    lm_windows.first_bad, sizeof(lm_windows.first_bad),
		    "window %lu: enable=%u pause=%u, arch mode %s, %u hook call(s) in the handler",
		    lm_windows.windows, s->enable_count, s->pause_count,
		    mock_lazy_mode_entered ? "entered" : "left", mock_hook_log_len() - hooks);
	irq_exit();
}

/*
 * Preemption safety by construction: interrupts (and so the scheduler's tick) can only
 * arrive where interrupts are enabled, and the helpers enable them only when a transition
 * is complete. Here an interrupt is simulated at every such point of a long random run.
 */
static void lazy_mmu_host_interrupt_at_every_window(struct kunit *test)
{
	struct lm_model m = lm_start_model();
	struct prng r;
	bool ok = true;
	long step;

	memset(&lm_windows, 0, sizeof(lm_windows));
	mock_irq_window_fn = lm_interrupt_here;
	lm_run_script(test, lm_worked_sequence, ARRAY_SIZE(lm_worked_sequence));
	prng_seed(&r, 0x5eed);
	for (step = 0; step < 20000 && ok; step++)
		lm_step(test, &m, lm_pick(&r, &lm_mixes[step / 2000 % ARRAY_SIZE(lm_mixes)], &m),
			step, &ok);
	lm_unwind(test, &m, &ok);
	mock_irq_window_fn = NULL;

	kunit_info(test, "%lu simulated interrupts, %lu inside an active section",
		   lm_windows.windows, lm_windows.in_section);
	if (lm_windows.bad)
		kunit_fail(test, false, __FILE__, __LINE__, "%lu bad window(s); the first: %s",
			   lm_windows.bad, lm_windows.first_bad);
	KUNIT_EXPECT_GT(test, lm_windows.in_section, 1000);
	KUNIT_EXPECT_TRUE(test, ok);
}

static struct kunit_case lazy_mmu_host_cases[] = {
	LAZY_MMU_COMMON_CASES,
	KUNIT_CASE(lazy_mmu_host_hook_log),
	KUNIT_CASE(lazy_mmu_host_counts_hooks),
	KUNIT_CASE(lazy_mmu_host_interrupt_at_every_window),
	{},
};

static struct kunit_suite lazy_mmu_host_suite = {
	.name = "lazy_mmu_host",
	.init = lm_init,
	.exit = lm_exit,
	.test_cases = lazy_mmu_host_cases,
};
kunit_test_suite(lazy_mmu_host_suite);
