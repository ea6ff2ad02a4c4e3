/* Host suite for mm/lazy_mmu.c: the shared conformance cases plus what only the mock can see. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <mock_arch.h>
#include <lib/printf.h>
#include "../kernel/lazy_mmu_cases.h"
#include "../model/lazy_mmu_table.h"

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

/* --- the shared transition table (tests/model/lazy_mmu_table.h), which spin checks too --- */

/* What the table's one applicable row says a call does. */
struct lmt_out {
	enum lm_row row;
	enum lm_hook hook;
	int enable, pause; /* after the call */
	bool misuse;
};

/* The table expanded as C: how many rows apply to (op, e, p, irq), the last one in *out. */
static int lmt_lookup(enum lm_op op, int e, int p, bool irq, struct lmt_out *out)
{
	int rows = 0;

#define LMT_E	e
#define LMT_P	p
#define LMT_IRQ irq
#define LMT_MAX UINT8_MAX
#define LMT_ROW(call, outcome, when, e_after, p_after, hook, misuse)                      \
	if (op == LM_##call && (when)) {                                                  \
		rows++;                                                                   \
		*out = (struct lmt_out){ LM_ROW_##call##_##outcome, LM_##hook, (e_after), \
					 (p_after), (misuse) };                           \
	}
	LAZY_MMU_TABLE(LMT_ROW)
#undef LMT_ROW
#undef LMT_MAX
#undef LMT_IRQ
#undef LMT_P
#undef LMT_E
	return rows;
}

/*
 * The table itself, over the whole u8 x u8 state space in and out of interrupt context:
 * exactly one row per call and state, no count leaving 0..255, every row used - and the
 * reference model of lazy_mmu_cases.h (lm_model_call) agreeing with it everywhere, row for
 * row, so the third transcription of design 3 can't drift either.
 */
static void lazy_mmu_host_table_complete(struct kunit *test)
{
	unsigned long used[LM_NR_ROWS] = { 0 }, bad = 0;
	char first[200] = "";

	KUNIT_ASSERT_EQ(test, LAZY_MMU_TABLE_ROWS, LM_NR_ROWS - 1); /* all but LM_ROW_NONE */
	for (int op = LM_ENABLE; op <= LM_RESUME; op++)
		for (int e = 0; e <= UINT8_MAX; e++)
			for (int p = 0; p <= UINT8_MAX; p++)
				for (int irq = 0; irq <= 1; irq++) {
					struct lm_model m = { e, p, irq, false };
					struct lmt_out t = { LM_ROW_NONE, LM_SEVERAL_HOOKS, -1, -1,
							     0 };
					int rows = lmt_lookup((enum lm_op)op, e, p, irq, &t);
					struct lm_expect x = lm_model_call(&m, (enum lm_op)op);

					used[t.row]++;
					if (rows == 1 && t.enable >= 0 && t.enable <= UINT8_MAX &&
					    t.pause >= 0 && t.pause <= UINT8_MAX &&
					    x.row == t.row && x.hook == t.hook &&
					    x.misuse == t.misuse && m.enable == t.enable &&
					    m.pause == t.pause)
						continue;
					if (!bad++)
						snprintf(
						    first, sizeof(first),
						    "%s at enable=%d pause=%d irq=%d: %d row(s) "
						    "apply, "
						    "the table says %s %s enable=%d pause=%d, the "
						    "model %s %s enable=%d pause=%d",
						    lm_op_names[op], e, p, irq, rows,
						    lm_row_names[t.row], lm_hook_names[t.hook],
						    t.enable, t.pause, lm_row_names[x.row],
						    lm_hook_names[x.hook], m.enable, m.pause);
				}
	if (bad)
		kunit_fail(test, false, __FILE__, __LINE__, "%lu disagreement(s); the first: %s",
			   bad, first);
	for (int row = LM_ROW_ENABLE_IRQ; row < LM_NR_ROWS; row++)
		if (!used[row])
			kunit_fail(test, false, __FILE__, __LINE__, "row %s applies nowhere",
				   lm_row_names[row]);
}

/*
 * mm/lazy_mmu.c against the table: from every corner state (counts 0, 1, 2, 3, 254, 255;
 * task and interrupt context) each helper must change the counts, call the hook and warn
 * exactly as the one applicable row says. Changing the code's transitions without the
 * table (or the table without the code) fails here; the model is held to the same table.
 */
static void lazy_mmu_host_table_vs_code(struct kunit *test)
{
	static const int corners[] = { 0, 1, 2, 3, 254, 255 };
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;
	unsigned long used[LM_NR_ROWS] = { 0 };
	long calls = 0;
	bool ok = true;

	for (unsigned int ei = 0; ei < ARRAY_SIZE(corners) && ok; ei++)
		for (unsigned int pi = 0; pi < ARRAY_SIZE(corners) && ok; pi++)
			for (int irq = 0; irq <= 1 && ok; irq++)
				for (int op = LM_ENABLE; op <= LM_RESUME && ok; op++) {
					int e = corners[ei], p = corners[pi];
					struct lm_model m = lm_start_model();
					struct lmt_out t;
					struct lm_obs o0, o1;
					unsigned long warned, want_warn;
					enum lm_hook seen;

					lm_repeat(test, &m, LM_ENABLE, e, &ok);
					lm_repeat(test, &m, LM_PAUSE, p, &ok);
					if (irq)
						lm_step(test, &m, LM_IRQ_ENTER, -1, &ok);
					if (lmt_lookup((enum lm_op)op, e, p, irq, &t) != 1) {
						kunit_fail(
						    test, false, __FILE__, __LINE__,
						    "no single row for %s at enable=%d pause=%d",
						    lm_op_names[op], e, p);
						ok = false;
						break;
					}
					lm_arch_before();
					lm_observe(&o0);
					lm_do((enum lm_op)op);
					lm_observe(&o1);
					seen = lm_hook_between(&o0, &o1);
					warned = o1.warnings - o0.warnings;
					want_warn =
					    lm_expect_warning((enum lm_warn_kind)op, t.misuse);
					(void)lm_model_call(
					    &m, (enum lm_op)op); /* keeps lm_unwind right */
					if (seen != t.hook || s->enable_count != t.enable ||
					    s->pause_count != t.pause || warned != want_warn) {
						kunit_fail(test, false, __FILE__, __LINE__,
							   "%s at enable=%d pause=%d irq=%d: row "
							   "%s says %s "
							   "enable=%d pause=%d warnings=%lu, the "
							   "code did %s "
							   "enable=%u pause=%u warnings=%lu",
							   lm_op_names[op], e, p, irq,
							   lm_row_names[t.row],
							   lm_hook_names[t.hook], t.enable, t.pause,
							   want_warn, lm_hook_names[seen],
							   s->enable_count, s->pause_count, warned);
						ok = false;
					}
					used[t.row]++;
					calls++;
					lm_unwind(test, &m, &ok);
				}
	kunit_info(test, "%ld calls from corner states, each as its table row says", calls);
	for (int row = LM_ROW_ENABLE_IRQ; row < LM_NR_ROWS && ok; row++)
		if (!used[row])
			kunit_fail(test, false, __FILE__, __LINE__, "row %s never exercised",
				   lm_row_names[row]);
	KUNIT_EXPECT_TRUE(test, ok);
}

static struct kunit_case lazy_mmu_host_cases[] = {
	LAZY_MMU_COMMON_CASES,
	KUNIT_CASE(lazy_mmu_host_hook_log),
	KUNIT_CASE(lazy_mmu_host_counts_hooks),
	KUNIT_CASE(lazy_mmu_host_interrupt_at_every_window),
	KUNIT_CASE(lazy_mmu_host_table_complete),
	KUNIT_CASE(lazy_mmu_host_table_vs_code),
	{},
};

static struct kunit_suite lazy_mmu_host_suite = {
	.name = "lazy_mmu_host",
	.init = lm_init,
	.exit = lm_exit,
	.test_cases = lazy_mmu_host_cases,
};
kunit_test_suite(lazy_mmu_host_suite);
