/*
 * Lazy MMU conformance cases, shared by the in-kernel suite (tests/kernel/lazy_mmu.c) and the
 * host suite (tests/host/lazy_mmu_test.c): a reference model of the contract table (design
 * section 3) and the scenarios that check the real helpers against it, call by call.
 *
 * The includer defines three functions (prototypes below): how to look at the arch side
 * (the host reads its recording mock, the kernel has only the counters) and where the
 * random test's seed comes from.
 *
 * What each step can see of the code under test, on both sides: the task's counts,
 * is_lazy_mmu_mode_active(), which arch hook ran (the arch_enter/arch_leave/arch_flush
 * counters the generic layer increments at each call), warn_count(), and the interrupt
 * flag (a helper must give it back as it found it).
 */
#pragma once

#include <kunit/test.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/task.h>
#include <lib/printf.h>
#include <lib/prng.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>

/* The four helpers, then the "pseudo-calls" a test makes to change the context around them. */
enum lm_op {
	LM_ENABLE,
	LM_DISABLE,
	LM_PAUSE,
	LM_RESUME,
	LM_IRQ_ENTER, /* pretend to be an interrupt handler: irq_enter() */
	LM_IRQ_EXIT,
	LM_IRQS_OFF, /* the caller masks interrupts: the helpers must leave them masked */
	LM_IRQS_ON,
	LM_NR_OPS,
};

static const char *const lm_op_names[LM_NR_OPS] = {
	"enable()",  "disable()", "pause()",  "resume()",
	"irq_enter", "irq_exit",  "irqs_off", "irqs_on",
};

enum lm_hook {
	LM_NO_HOOK,
	LM_ENTER,
	LM_LEAVE,
	LM_FLUSH,
	LM_SEVERAL_HOOKS, /* only ever observed, never expected: a bug */
};

static const char *const lm_hook_names[] = {
	"(none)", "arch_enter", "arch_leave", "arch_flush", "(several hooks)",
};

/* The rows of the contract table, one per (call, outcome): the random test counts them. */
enum lm_row {
	LM_ROW_NONE, /* a pseudo-call */
	LM_ROW_ENABLE_IRQ,
	LM_ROW_ENABLE_PAUSED,
	LM_ROW_ENABLE_REFUSED,
	LM_ROW_ENABLE_ENTER,
	LM_ROW_ENABLE_NESTED,
	LM_ROW_DISABLE_IRQ,
	LM_ROW_DISABLE_PAUSED,
	LM_ROW_DISABLE_REFUSED,
	LM_ROW_DISABLE_LEAVE,
	LM_ROW_DISABLE_FLUSH,
	LM_ROW_PAUSE_IRQ,
	LM_ROW_PAUSE_REFUSED,
	LM_ROW_PAUSE_LEAVE,
	LM_ROW_PAUSE_NESTED,
	LM_ROW_RESUME_IRQ,
	LM_ROW_RESUME_REFUSED,
	LM_ROW_RESUME_ENTER,
	LM_ROW_RESUME_NESTED,
	LM_NR_ROWS,
};

static const char *const lm_row_names[LM_NR_ROWS] = {
	"pseudo",	 "enable/irq",	   "enable/paused",  "enable/refused",	"enable/enter",
	"enable/nested", "disable/irq",	   "disable/paused", "disable/refused", "disable/leave",
	"disable/flush", "pause/irq",	   "pause/refused",  "pause/leave",	"pause/nested",
	"resume/irq",	 "resume/refused", "resume/enter",   "resume/nested",
};

/* What the model says one call does. */
struct lm_expect {
	enum lm_row row;
	enum lm_hook hook;
	bool misuse; /* the table's "warns once when" column applies */
};

/* The model's state: plain ints, so it can't share a wrap-around with the u8 counts. */
struct lm_model {
	int enable;
	int pause;
	int irq_depth; /* fake interrupt context entered by this test */
	bool irqs_off; /* the caller's interrupt flag */
};

/*
 * Misuse kinds, each warned about once per boot (WARN_ONCE has one flag per call site, for
 * the program's lifetime). So the model remembers which kinds the code has already warned
 * about, across cases: the first misuse of a kind must add exactly one warning, every later
 * one none. This assumes no other code misuses the helpers before these cases run.
 */
enum lm_warn_kind {
	LM_WARN_ENABLE, /* = LM_ENABLE ... LM_RESUME */
	LM_WARN_DISABLE,
	LM_WARN_PAUSE,
	LM_WARN_RESUME,
	LM_WARN_BACKEND_IRQ,
	LM_WARN_BACKEND_BAD,
	LM_NR_WARN_KINDS,
};

static bool lm_warned[LM_NR_WARN_KINDS];

/* --- provided by the including suite --- */

/* Called just before each real call: reset whatever lm_arch_check() looks at. */
static void lm_arch_before(void);
/* Checks the arch side of the call that just ran; reports and returns false on mismatch. */
static bool lm_arch_check(struct kunit *test, const struct lm_model *m, enum lm_hook expect,
			  enum lm_op op, long step);
/* The random test's seed (printed by the caller, with how to reproduce it). */
static u64 lm_random_seed(struct kunit *test);

/* --- the reference model: design section 3's table, transcribed --- */

static bool lm_model_active(const struct lm_model *m)
{
	return m->irq_depth == 0 && m->enable > 0 && m->pause == 0;
}

static struct lm_expect lm_model_call(struct lm_model *m, enum lm_op op)
{
	struct lm_expect e = { LM_ROW_NONE, LM_NO_HOOK, false };

	switch (op) {
	case LM_ENABLE:
		if (m->irq_depth > 0) {
			e.row = LM_ROW_ENABLE_IRQ;
		} else if (m->pause > 0) {
			e.row = LM_ROW_ENABLE_PAUSED;
		} else if (m->enable == 255) {
			e.row = LM_ROW_ENABLE_REFUSED;
			e.misuse = true;
		} else {
			m->enable = m->enable + 1;
			e.row = m->enable == 1 ? LM_ROW_ENABLE_ENTER : LM_ROW_ENABLE_NESTED;
			e.hook = m->enable == 1 ? LM_ENTER : LM_NO_HOOK;
		}
		break;
	case LM_DISABLE:
		if (m->irq_depth > 0) {
			e.row = LM_ROW_DISABLE_IRQ;
		} else if (m->pause > 0) {
			e.row = LM_ROW_DISABLE_PAUSED;
		} else if (m->enable == 0) {
			e.row = LM_ROW_DISABLE_REFUSED;
			e.misuse = true;
		} else {
			m->enable = m->enable - 1;
			e.row = m->enable == 0 ? LM_ROW_DISABLE_LEAVE : LM_ROW_DISABLE_FLUSH;
			e.hook = m->enable == 0 ? LM_LEAVE : LM_FLUSH;
		}
		break;
	case LM_PAUSE:
		if (m->irq_depth > 0) {
			e.row = LM_ROW_PAUSE_IRQ;
		} else if (m->pause == 255) {
			e.row = LM_ROW_PAUSE_REFUSED;
			e.misuse = true;
		} else {
			m->pause = m->pause + 1;
			e.row = m->pause == 1 && m->enable > 0 ? LM_ROW_PAUSE_LEAVE
							       : LM_ROW_PAUSE_NESTED;
			e.hook = e.row == LM_ROW_PAUSE_LEAVE ? LM_LEAVE : LM_NO_HOOK;
		}
		break;
	case LM_RESUME:
		if (m->irq_depth > 0) {
			e.row = LM_ROW_RESUME_IRQ;
		} else if (m->pause == 0) {
			e.row = LM_ROW_RESUME_REFUSED;
			e.misuse = true;
		} else {
			m->pause = m->pause - 1;
			e.row = m->pause == 0 && m->enable > 0 ? LM_ROW_RESUME_ENTER
							       : LM_ROW_RESUME_NESTED;
			e.hook = e.row == LM_ROW_RESUME_ENTER ? LM_ENTER : LM_NO_HOOK;
		}
		break;
	case LM_IRQ_ENTER:
		m->irq_depth++;
		break;
	case LM_IRQ_EXIT:
		m->irq_depth--;
		break;
	case LM_IRQS_OFF:
		m->irqs_off = true;
		break;
	case LM_IRQS_ON:
		m->irqs_off = false;
		break;
	case LM_NR_OPS:
		break;
	}
	return e;
}

/* --- driving and observing the real code --- */

/* Fake interrupt context this file entered and has not left yet. */
static int lm_fake_irqs;
/* What the case found, to give back at its end. */
static bool lm_irqs_were_off;
static enum lazy_mmu_backend lm_backend_was;

static void lm_do(enum lm_op op)
{
	switch (op) {
	case LM_ENABLE:
		lazy_mmu_mode_enable();
		break;
	case LM_DISABLE:
		lazy_mmu_mode_disable();
		break;
	case LM_PAUSE:
		lazy_mmu_mode_pause();
		break;
	case LM_RESUME:
		lazy_mmu_mode_resume();
		break;
	case LM_IRQ_ENTER:
		irq_enter();
		lm_fake_irqs++;
		break;
	case LM_IRQ_EXIT:
		irq_exit();
		lm_fake_irqs--;
		break;
	case LM_IRQS_OFF:
		local_irq_disable();
		break;
	case LM_IRQS_ON:
		local_irq_enable();
		break;
	case LM_NR_OPS:
		break;
	}
}

struct lm_obs {
	u64 enter, leave, flush;
	unsigned long warnings;
};

static void lm_observe(struct lm_obs *o)
{
	struct tlb_stats s;

	tlb_stats_read(&s);
	o->enter = s.arch_enter;
	o->leave = s.arch_leave;
	o->flush = s.arch_flush;
	o->warnings = warn_count();
}

/* Which single hook ran between two observations. */
static enum lm_hook lm_hook_between(const struct lm_obs *a, const struct lm_obs *b)
{
	u64 enter = b->enter - a->enter, leave = b->leave - a->leave, flush = b->flush - a->flush;

	if (enter + leave + flush == 0)
		return LM_NO_HOOK;
	if (enter + leave + flush > 1)
		return LM_SEVERAL_HOOKS;
	return enter ? LM_ENTER : leave ? LM_LEAVE : LM_FLUSH;
}

/* The warnings a misuse of this kind must add now (1 the first time, then 0). */
static unsigned long lm_expect_warning(enum lm_warn_kind kind, bool misuse)
{
	if (!misuse || lm_warned[kind])
		return 0;
	lm_warned[kind] = true;
	return 1;
}

/*
 * One call, on the model and on the real code, and every observable compared. step is only
 * for the message. Returns the model's expectation; on a mismatch the case is failed (not
 * aborted) and *ok is cleared, so a long run can stop at the first difference.
 */
static struct lm_expect lm_step(struct kunit *test, struct lm_model *m, enum lm_op op, long step,
				bool *ok)
{
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;
	struct lm_model before = *m;
	struct lm_obs o0, o1;
	struct lm_expect e;
	enum lm_hook seen;
	unsigned long want_warn;
	bool active;

	lm_arch_before();
	lm_observe(&o0);
	lm_do(op);
	lm_observe(&o1);
	active = is_lazy_mmu_mode_active();
	e = lm_model_call(m, op);
	want_warn = op <= LM_RESUME ? lm_expect_warning((enum lm_warn_kind)op, e.misuse) : 0;
	seen = lm_hook_between(&o0, &o1);

	if (seen != e.hook || s->enable_count != m->enable || s->pause_count != m->pause ||
	    active != lm_model_active(m) || o1.warnings - o0.warnings != want_warn ||
	    irqs_disabled() != m->irqs_off) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "step %ld: %s at enable=%d pause=%d irq_depth=%d (row %s)\n"
			   "expected: %s, enable=%d pause=%d active=%d, %lu warning(s), irqs %s\n"
			   "got:      %s, enable=%u pause=%u active=%d, %lu warning(s), irqs %s",
			   step, lm_op_names[op], before.enable, before.pause, before.irq_depth,
			   lm_row_names[e.row], lm_hook_names[e.hook], m->enable, m->pause,
			   lm_model_active(m), want_warn, m->irqs_off ? "off" : "on",
			   lm_hook_names[seen], s->enable_count, s->pause_count, active,
			   o1.warnings - o0.warnings, irqs_disabled() ? "off" : "on");
		*ok = false;
	}
	if (!lm_arch_check(test, m, e.hook, op, step))
		*ok = false;
	return e;
}

/* Brings the real state (and the model) back to "no section, task context, irqs on". */
static void lm_unwind(struct kunit *test, struct lm_model *m, bool *ok)
{
	while (m->irq_depth > 0)
		lm_step(test, m, LM_IRQ_EXIT, -1, ok);
	if (m->irqs_off)
		lm_step(test, m, LM_IRQS_ON, -1, ok);
	while (m->pause > 0)
		lm_step(test, m, LM_RESUME, -1, ok);
	while (m->enable > 0)
		lm_step(test, m, LM_DISABLE, -1, ok);
}

/* Runs op n times through lm_step. */
static void lm_repeat(struct kunit *test, struct lm_model *m, enum lm_op op, int n, bool *ok)
{
	for (int i = 0; i < n; i++)
		lm_step(test, m, op, i, ok);
}

/* --- suite init/exit --- */

static struct lm_model lm_start_model(void)
{
	struct lm_model m = { 0, 0, 0, irqs_disabled() };

	return m;
}

static int lm_init(struct kunit *test)
{
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;

	lm_fake_irqs = 0;
	lm_irqs_were_off = irqs_disabled();
	lm_backend_was = lazy_mmu_get_backend();
	if (s->enable_count || s->pause_count || in_interrupt()) {
		kunit_info(test, "lazy MMU state not clean before the case: enable=%u pause=%u",
			   s->enable_count, s->pause_count);
		return -1;
	}
	return 0;
}

/* After every case, even an aborted one: undo whatever it left, through the API. */
static void lm_exit(struct kunit *test)
{
	struct lazy_mmu_state *s = &current->lazy_mmu_state;

	(void)test;
	while (lm_fake_irqs > 0) {
		irq_exit();
		lm_fake_irqs--;
	}
	if (lm_irqs_were_off)
		local_irq_disable();
	else
		local_irq_enable();
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	lazy_mmu_set_backend(lm_backend_was);
	while (s->pause_count > 0)
		lazy_mmu_mode_resume();
	while (s->enable_count > 0)
		lazy_mmu_mode_disable();
}

/* --- scripted scenarios: every call with its expected hook and counts, written by hand --- */

struct lm_script_step {
	enum lm_op op;
	enum lm_hook hook;
	int enable, pause; /* after the call */
	bool active;	   /* is_lazy_mmu_mode_active() after the call */
};

/*
 * Runs a script against the real code and the model at once: the hand-written expectation
 * must agree with both, so a script also checks the model.
 */
static void lm_run_script(struct kunit *test, const struct lm_script_step *script, int n)
{
	struct lm_model m = lm_start_model();
	bool ok = true;

	for (int i = 0; i < n; i++) {
		const struct lm_script_step *st = &script[i];
		struct lm_expect e = lm_step(test, &m, st->op, i, &ok);

		if (e.hook != st->hook || m.enable != st->enable || m.pause != st->pause ||
		    lm_model_active(&m) != st->active) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "script step %d (%s): the model says %s enable=%d pause=%d "
				   "active=%d, the script %s enable=%d pause=%d active=%d",
				   i, lm_op_names[st->op], lm_hook_names[e.hook], m.enable, m.pause,
				   lm_model_active(&m), lm_hook_names[st->hook], st->enable,
				   st->pause, st->active);
		}
	}
	lm_unwind(test, &m, &ok);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* design section 3's worked sequence, to the letter. */
static const struct lm_script_step lm_worked_sequence[] = {
	{ LM_ENABLE, LM_ENTER, 1, 0, true },  { LM_ENABLE, LM_NO_HOOK, 2, 0, true },
	{ LM_PAUSE, LM_LEAVE, 2, 1, false },  { LM_RESUME, LM_ENTER, 2, 0, true },
	{ LM_DISABLE, LM_FLUSH, 1, 0, true }, { LM_DISABLE, LM_LEAVE, 0, 0, false },
};

static void lazy_mmu_worked_sequence(struct kunit *test)
{
	lm_run_script(test, lm_worked_sequence, ARRAY_SIZE(lm_worked_sequence));
}

/* Pauses nest inside nested sections: only the outermost pause/resume touch the arch. */
static void lazy_mmu_nested_pause_in_nested_enable(struct kunit *test)
{
	static const struct lm_script_step script[] = {
		{ LM_ENABLE, LM_ENTER, 1, 0, true },	{ LM_ENABLE, LM_NO_HOOK, 2, 0, true },
		{ LM_ENABLE, LM_NO_HOOK, 3, 0, true },	{ LM_PAUSE, LM_LEAVE, 3, 1, false },
		{ LM_PAUSE, LM_NO_HOOK, 3, 2, false },	{ LM_PAUSE, LM_NO_HOOK, 3, 3, false },
		{ LM_RESUME, LM_NO_HOOK, 3, 2, false }, { LM_RESUME, LM_NO_HOOK, 3, 1, false },
		{ LM_RESUME, LM_ENTER, 3, 0, true },	{ LM_DISABLE, LM_FLUSH, 2, 0, true },
		{ LM_PAUSE, LM_LEAVE, 2, 1, false },	{ LM_RESUME, LM_ENTER, 2, 0, true },
		{ LM_DISABLE, LM_FLUSH, 1, 0, true },	{ LM_DISABLE, LM_LEAVE, 0, 0, false },
	};

	lm_run_script(test, script, ARRAY_SIZE(script));
}

/*
 * While paused, enable() and disable() do nothing at all - not even count - and a pause
 * outside any section changes no arch state.
 */
static void lazy_mmu_enable_disable_while_paused(struct kunit *test)
{
	static const struct lm_script_step script[] = {
		/* paused outside a section */
		{ LM_PAUSE, LM_NO_HOOK, 0, 1, false },
		{ LM_ENABLE, LM_NO_HOOK, 0, 1, false },
		{ LM_DISABLE, LM_NO_HOOK, 0, 1, false }, /* enable_count 0, yet no warning */
		{ LM_ENABLE, LM_NO_HOOK, 0, 1, false },
		{ LM_RESUME, LM_NO_HOOK, 0, 0, false },
		/* paused inside a section */
		{ LM_ENABLE, LM_ENTER, 1, 0, true },
		{ LM_PAUSE, LM_LEAVE, 1, 1, false },
		{ LM_ENABLE, LM_NO_HOOK, 1, 1, false },
		{ LM_DISABLE, LM_NO_HOOK, 1, 1, false },
		{ LM_DISABLE, LM_NO_HOOK, 1, 1, false },
		{ LM_RESUME, LM_ENTER, 1, 0, true },
		{ LM_DISABLE, LM_LEAVE, 0, 0, false },
	};

	lm_run_script(test, script, ARRAY_SIZE(script));
}

/*
 * In interrupt context all four helpers do nothing and the mode reads as inactive, even
 * while the interrupted task is inside a section; a misuse there isn't even noticed.
 */
static void lazy_mmu_interrupt_context(struct kunit *test)
{
	static const struct lm_script_step script[] = {
		{ LM_IRQ_ENTER, LM_NO_HOOK, 0, 0, false },
		{ LM_ENABLE, LM_NO_HOOK, 0, 0, false },
		{ LM_RESUME, LM_NO_HOOK, 0, 0, false }, /* pause_count 0: no warning here */
		{ LM_DISABLE, LM_NO_HOOK, 0, 0, false },
		{ LM_IRQ_EXIT, LM_NO_HOOK, 0, 0, false },
		{ LM_ENABLE, LM_ENTER, 1, 0, true },
		{ LM_IRQ_ENTER, LM_NO_HOOK, 1, 0, false },
		{ LM_ENABLE, LM_NO_HOOK, 1, 0, false },
		{ LM_DISABLE, LM_NO_HOOK, 1, 0, false },
		{ LM_DISABLE, LM_NO_HOOK, 1, 0, false },
		{ LM_PAUSE, LM_NO_HOOK, 1, 0, false },
		{ LM_RESUME, LM_NO_HOOK, 1, 0, false },
		{ LM_IRQ_ENTER, LM_NO_HOOK, 1, 0, false }, /* a nested interrupt */
		{ LM_DISABLE, LM_NO_HOOK, 1, 0, false },
		{ LM_IRQ_EXIT, LM_NO_HOOK, 1, 0, false },
		{ LM_IRQ_EXIT, LM_NO_HOOK, 1, 0, true }, /* back in the task: active again */
		{ LM_PAUSE, LM_LEAVE, 1, 1, false },
		{ LM_IRQ_ENTER, LM_NO_HOOK, 1, 1, false },
		{ LM_RESUME, LM_NO_HOOK, 1, 1, false },
		{ LM_IRQ_EXIT, LM_NO_HOOK, 1, 1, false },
		{ LM_RESUME, LM_ENTER, 1, 0, true },
		{ LM_DISABLE, LM_LEAVE, 0, 0, false },
	};

	lm_run_script(test, script, ARRAY_SIZE(script));
}

/* The caller's interrupt flag, on or off, is what it gets back. */
static void lazy_mmu_keeps_caller_irq_flag(struct kunit *test)
{
	static const struct lm_script_step script[] = {
		{ LM_IRQS_OFF, LM_NO_HOOK, 0, 0, false }, { LM_ENABLE, LM_ENTER, 1, 0, true },
		{ LM_PAUSE, LM_LEAVE, 1, 1, false },	  { LM_IRQS_ON, LM_NO_HOOK, 1, 1, false },
		{ LM_RESUME, LM_ENTER, 1, 0, true },	  { LM_ENABLE, LM_NO_HOOK, 2, 0, true },
		{ LM_IRQS_OFF, LM_NO_HOOK, 2, 0, true },  { LM_DISABLE, LM_FLUSH, 1, 0, true },
		{ LM_IRQS_ON, LM_NO_HOOK, 1, 0, true },	  { LM_DISABLE, LM_LEAVE, 0, 0, false },
	};

	lm_run_script(test, script, ARRAY_SIZE(script));
}

/* --- every row of the table --- */

struct lm_row_case {
	int enable, pause; /* before */
	bool irq;
	enum lm_op op;
	enum lm_hook hook;
	int enable_after, pause_after;
	bool misuse;
};

/*
 * Each row reaches its starting state through the API (enable, then pause), makes the call
 * in question and unwinds - every one of those calls checked against the model too.
 */
static void lm_check_row(struct kunit *test, const struct lm_row_case *r, bool *ok)
{
	struct lm_model m = lm_start_model();
	struct lm_expect e;

	lm_repeat(test, &m, LM_ENABLE, r->enable, ok);
	lm_repeat(test, &m, LM_PAUSE, r->pause, ok);
	if (r->irq)
		lm_step(test, &m, LM_IRQ_ENTER, -1, ok);
	e = lm_step(test, &m, r->op, -1, ok);
	if (e.hook != r->hook || m.enable != r->enable_after || m.pause != r->pause_after ||
	    e.misuse != r->misuse)
		kunit_fail(test, false, __FILE__, __LINE__,
			   "row %s at enable=%d pause=%d%s: the model says %s enable=%d pause=%d "
			   "misuse=%d, the table %s enable=%d pause=%d misuse=%d",
			   lm_op_names[r->op], r->enable, r->pause, r->irq ? " (irq)" : "",
			   lm_hook_names[e.hook], m.enable, m.pause, e.misuse,
			   lm_hook_names[r->hook], r->enable_after, r->pause_after, r->misuse);
	lm_unwind(test, &m, ok);
}

static const struct lm_row_case lm_rows[] = {
	/* enable(): enable_count++; 0 -> 1 enters */
	{ 0, 0, false, LM_ENABLE, LM_ENTER, 1, 0, false },
	{ 1, 0, false, LM_ENABLE, LM_NO_HOOK, 2, 0, false },
	{ 254, 0, false, LM_ENABLE, LM_NO_HOOK, 255, 0, false },
	{ 255, 0, false, LM_ENABLE, LM_NO_HOOK, 255, 0, true }, /* refused */
	{ 0, 1, false, LM_ENABLE, LM_NO_HOOK, 0, 1, false },	/* paused */
	{ 3, 2, false, LM_ENABLE, LM_NO_HOOK, 3, 2, false },
	{ 255, 1, false, LM_ENABLE, LM_NO_HOOK, 255, 1, false }, /* paused beats misuse */
	{ 0, 0, true, LM_ENABLE, LM_NO_HOOK, 0, 0, false },	 /* interrupt */
	{ 1, 0, true, LM_ENABLE, LM_NO_HOOK, 1, 0, false },
	/* disable(): --enable_count; 0 leaves, otherwise flushes */
	{ 1, 0, false, LM_DISABLE, LM_LEAVE, 0, 0, false },
	{ 2, 0, false, LM_DISABLE, LM_FLUSH, 1, 0, false },
	{ 255, 0, false, LM_DISABLE, LM_FLUSH, 254, 0, false },
	{ 0, 0, false, LM_DISABLE, LM_NO_HOOK, 0, 0, true },  /* ignored */
	{ 2, 1, false, LM_DISABLE, LM_NO_HOOK, 2, 1, false }, /* paused */
	{ 0, 1, false, LM_DISABLE, LM_NO_HOOK, 0, 1, false }, /* paused beats misuse */
	{ 1, 0, true, LM_DISABLE, LM_NO_HOOK, 1, 0, false },  /* interrupt */
	{ 0, 0, true, LM_DISABLE, LM_NO_HOOK, 0, 0, false },
	/* pause(): pause_count++; 0 -> 1 while enabled leaves */
	{ 0, 0, false, LM_PAUSE, LM_NO_HOOK, 0, 1, false },
	{ 1, 0, false, LM_PAUSE, LM_LEAVE, 1, 1, false },
	{ 1, 1, false, LM_PAUSE, LM_NO_HOOK, 1, 2, false },
	{ 1, 254, false, LM_PAUSE, LM_NO_HOOK, 1, 255, false },
	{ 0, 255, false, LM_PAUSE, LM_NO_HOOK, 0, 255, true }, /* refused */
	{ 2, 255, false, LM_PAUSE, LM_NO_HOOK, 2, 255, true },
	{ 1, 0, true, LM_PAUSE, LM_NO_HOOK, 1, 0, false }, /* interrupt */
	{ 0, 255, true, LM_PAUSE, LM_NO_HOOK, 0, 255, false },
	/* resume(): --pause_count; reaching 0 while enabled enters */
	{ 0, 1, false, LM_RESUME, LM_NO_HOOK, 0, 0, false },
	{ 1, 1, false, LM_RESUME, LM_ENTER, 1, 0, false },
	{ 1, 2, false, LM_RESUME, LM_NO_HOOK, 1, 1, false },
	{ 0, 0, false, LM_RESUME, LM_NO_HOOK, 0, 0, true }, /* ignored */
	{ 2, 0, false, LM_RESUME, LM_NO_HOOK, 2, 0, true },
	{ 1, 1, true, LM_RESUME, LM_NO_HOOK, 1, 1, false }, /* interrupt */
	{ 0, 0, true, LM_RESUME, LM_NO_HOOK, 0, 0, false },
};

static void lazy_mmu_table_rows(struct kunit *test)
{
	bool ok = true;

	for (unsigned int i = 0; i < ARRAY_SIZE(lm_rows); i++)
		lm_check_row(test, &lm_rows[i], &ok);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* Every call from every corner of the state space (both counts at 0, 1, 2, 254 and 255). */
static void lazy_mmu_table_boundaries(struct kunit *test)
{
	static const int corners[] = { 0, 1, 2, 254, 255 };
	bool ok = true;
	long calls = 0;

	for (unsigned int e = 0; e < ARRAY_SIZE(corners); e++)
		for (unsigned int p = 0; p < ARRAY_SIZE(corners); p++)
			for (int irq = 0; irq <= 1; irq++)
				for (int op = LM_ENABLE; op <= LM_RESUME; op++) {
					struct lm_model m = lm_start_model();

					lm_repeat(test, &m, LM_ENABLE, corners[e], &ok);
					lm_repeat(test, &m, LM_PAUSE, corners[p], &ok);
					if (irq)
						lm_step(test, &m, LM_IRQ_ENTER, -1, &ok);
					lm_step(test, &m, (enum lm_op)op, -1, &ok);
					lm_unwind(test, &m, &ok);
					calls++;
					if (!ok)
						goto out;
				}
out:
	kunit_info(test, "%ld corner calls checked", calls);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * Misuse: each kind warns at most once per boot (exactly once the first time), and leaves
 * the state as it was - in particular nothing wraps at 255.
 */
static void lazy_mmu_misuse(struct kunit *test)
{
	unsigned long w0 = warn_count(), newly = 0;
	struct lm_model m = lm_start_model();
	bool ok = true;

	for (int k = LM_WARN_ENABLE; k <= LM_WARN_RESUME; k++)
		newly += !lm_warned[k];

	/* underflows: disable and resume at 0, twice each */
	lm_repeat(test, &m, LM_DISABLE, 2, &ok);
	lm_repeat(test, &m, LM_RESUME, 2, &ok);
	lm_step(test, &m, LM_ENABLE, -1, &ok);
	lm_repeat(test, &m, LM_RESUME, 2, &ok); /* inside a section: still refused */
	lm_step(test, &m, LM_DISABLE, -1, &ok);

	/* overflow of enable_count: 255 is the top, the 256th enable() is refused */
	lm_repeat(test, &m, LM_ENABLE, 255, &ok);
	lm_repeat(test, &m, LM_ENABLE, 3, &ok);
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.enable_count, 255);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	/* and the section still ends where it should: 254 flushes, then one leave */
	lm_repeat(test, &m, LM_DISABLE, 255, &ok);

	/* overflow of pause_count, inside a section and outside */
	lm_repeat(test, &m, LM_PAUSE, 255, &ok);
	lm_repeat(test, &m, LM_PAUSE, 2, &ok);
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.pause_count, 255);
	lm_repeat(test, &m, LM_RESUME, 255, &ok);
	lm_step(test, &m, LM_ENABLE, -1, &ok);
	lm_repeat(test, &m, LM_PAUSE, 256, &ok);
	KUNIT_EXPECT_FALSE(test, is_lazy_mmu_mode_active());
	lm_repeat(test, &m, LM_RESUME, 255, &ok); /* the last one re-enters */
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	lm_unwind(test, &m, &ok);

	for (int k = LM_WARN_ENABLE; k <= LM_WARN_RESUME; k++)
		KUNIT_EXPECT_TRUE(test, lm_warned[k]);
	KUNIT_EXPECT_EQ(test, warn_count() - w0, newly);
	kunit_info(test, "%lu new warning(s) (one per misuse kind not yet warned about)", newly);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* --- backend switching --- */

static enum lm_hook lm_set_backend_seen(enum lazy_mmu_backend b, unsigned long *warnings)
{
	struct lm_obs o0, o1;

	lm_arch_before();
	lm_observe(&o0);
	lazy_mmu_set_backend(b);
	lm_observe(&o1);
	*warnings = o1.warnings - o0.warnings;
	return lm_hook_between(&o0, &o1);
}

/* Switching flushes an active section (and nothing else), and is refused from interrupts. */
static void lazy_mmu_backend_switch(struct kunit *test)
{
	struct lm_model m = lm_start_model();
	unsigned long warnings;
	char trace[80];
	bool ok = true;

	/* outside a section: nothing to flush */
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_BATCHED, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_EAGER, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, lazy_mmu_get_backend(), LAZY_MMU_EAGER);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_BATCHED, &warnings), LM_NO_HOOK);

	/* in an active section: one flush, the section stays open */
	lm_step(test, &m, LM_ENABLE, -1, &ok);
	lazy_mmu_trace_to(trace, sizeof(trace));
	lazy_mmu_set_trace(true);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_EAGER, &warnings), LM_FLUSH);
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	KUNIT_EXPECT_EQ(test,
			strcmp(trace, "lazy_mmu:   set_backend(eager) -> arch_flush   enable=1 "
				      "pause=0\n"),
			0);
	KUNIT_EXPECT_EQ(test, lazy_mmu_get_backend(), LAZY_MMU_EAGER);
	KUNIT_EXPECT_TRUE(test, is_lazy_mmu_mode_active());
	KUNIT_EXPECT_EQ(test, current->lazy_mmu_state.enable_count, 1);
	/* to the same backend: nothing */
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_EAGER, &warnings), LM_NO_HOOK);

	/* paused: the arch mode is already left, nothing queued */
	lm_step(test, &m, LM_PAUSE, -1, &ok);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_BATCHED, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, lazy_mmu_get_backend(), LAZY_MMU_BATCHED);
	lm_step(test, &m, LM_RESUME, -1, &ok);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_EAGER, &warnings), LM_FLUSH);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_BATCHED, &warnings), LM_FLUSH);

	/* from an interrupt handler: refused with one warning (the first time) */
	lm_step(test, &m, LM_IRQ_ENTER, -1, &ok);
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen(LAZY_MMU_EAGER, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, warnings, lm_expect_warning(LM_WARN_BACKEND_IRQ, true));
	KUNIT_EXPECT_EQ(test, lazy_mmu_get_backend(), LAZY_MMU_BATCHED);
	lm_step(test, &m, LM_IRQ_EXIT, -1, &ok);

	/*
	 * Not a backend: refused with one warning (the first time). 2 was LAZY_MMU_FLOOR, the
	 * benchmark's unsafe mode: it is no backend any more (pgtable_floor_begin()).
	 */
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen((enum lazy_mmu_backend)2, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, warnings, lm_expect_warning(LM_WARN_BACKEND_BAD, true));
	KUNIT_EXPECT_EQ(test, lm_set_backend_seen((enum lazy_mmu_backend)7, &warnings), LM_NO_HOOK);
	KUNIT_EXPECT_EQ(test, warnings, 0);
	KUNIT_EXPECT_EQ(test, lazy_mmu_get_backend(), LAZY_MMU_BATCHED);

	lm_step(test, &m, LM_DISABLE, -1, &ok);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* --- the trace --- */

/* What the worked sequence and a few no-ops print, to the character (see docs/lazy-mmu.md). */
static const char lm_expected_trace[] =
    "lazy_mmu: enable()        -> arch_enter   enable=1 pause=0\n"
    "lazy_mmu:   enable()      -> (none)       enable=2 pause=0\n"
    "lazy_mmu:     pause()     -> arch_leave   enable=2 pause=1\n"
    "lazy_mmu:     resume()    -> arch_enter   enable=2 pause=0\n"
    "lazy_mmu:   disable()     -> arch_flush   enable=1 pause=0\n"
    "lazy_mmu: disable()       -> arch_leave   enable=0 pause=0\n"
    "lazy_mmu: pause()         -> (none)       enable=0 pause=1\n"
    "lazy_mmu:   enable()      -> (no-op: paused) enable=0 pause=1\n"
    "lazy_mmu: resume()        -> (none)       enable=0 pause=0\n"
    "lazy_mmu: disable()       -> (refused: enable_count 0) enable=0 pause=0\n"
    "lazy_mmu: enable()        -> arch_enter   enable=1 pause=0\n"
    "lazy_mmu:   disable()     -> (no-op: interrupt) enable=1 pause=0\n"
    "lazy_mmu: disable()       -> arch_leave   enable=0 pause=0\n";

static const struct lm_script_step lm_trace_script[] = {
	{ LM_ENABLE, LM_ENTER, 1, 0, true },	 { LM_ENABLE, LM_NO_HOOK, 2, 0, true },
	{ LM_PAUSE, LM_LEAVE, 2, 1, false },	 { LM_RESUME, LM_ENTER, 2, 0, true },
	{ LM_DISABLE, LM_FLUSH, 1, 0, true },	 { LM_DISABLE, LM_LEAVE, 0, 0, false },
	{ LM_PAUSE, LM_NO_HOOK, 0, 1, false },	 { LM_ENABLE, LM_NO_HOOK, 0, 1, false },
	{ LM_RESUME, LM_NO_HOOK, 0, 0, false },	 { LM_DISABLE, LM_NO_HOOK, 0, 0, false },
	{ LM_ENABLE, LM_ENTER, 1, 0, true },	 { LM_IRQ_ENTER, LM_NO_HOOK, 1, 0, false },
	{ LM_DISABLE, LM_NO_HOOK, 1, 0, false }, { LM_IRQ_EXIT, LM_NO_HOOK, 1, 0, true },
	{ LM_DISABLE, LM_LEAVE, 0, 0, false },
};

static char lm_trace_buf[2048];

/* Prints text line by line as diagnostics (one kunit_info() holds 512 characters). */
static void lm_print_lines(struct kunit *test, const char *prefix, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		kunit_info(test, "%s%.*s", prefix, len, text);
		text += len + (nl ? 1 : 0);
	}
}

static void lazy_mmu_trace_text(struct kunit *test)
{
	lazy_mmu_trace_to(lm_trace_buf, sizeof(lm_trace_buf));
	lazy_mmu_set_trace(true);
	lm_run_script(test, lm_trace_script, ARRAY_SIZE(lm_trace_script));
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	if (strcmp(lm_trace_buf, lm_expected_trace) != 0) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "the trace differs from the expected text");
		lm_print_lines(test, "got:      ", lm_trace_buf);
		lm_print_lines(test, "expected: ", lm_expected_trace);
	}
}

/* A full buffer truncates (and stays a terminated string); tracing off adds nothing. */
static void lazy_mmu_trace_capture_limits(struct kunit *test)
{
	char small[24];

	lazy_mmu_trace_to(small, sizeof(small));
	lazy_mmu_mode_enable(); /* tracing is off: nothing captured */
	KUNIT_EXPECT_EQ(test, small[0], '\0');
	lazy_mmu_set_trace(true);
	lazy_mmu_mode_disable();
	lazy_mmu_mode_pause();
	lazy_mmu_mode_resume();
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	KUNIT_EXPECT_EQ(test, strlen(small), sizeof(small) - 1);
	KUNIT_EXPECT_EQ(test, memcmp(small, "lazy_mmu: disable()", 19), 0);
}

/* --- the random, model-based test --- */

struct lm_mix {
	const char *name;
	u8 weight[LM_NR_OPS]; /* enable, disable, pause, resume, irq in/out, irqs off/on */
};

/*
 * Uniform random calls would keep both counts near zero forever. Phases of a few hundred
 * calls each lean one way, so runs climb to 255 (and bump into it), unwind to 0 (and go
 * below), and spend time paused and in interrupt context.
 */
static const struct lm_mix lm_mixes[] = {
	{ "uniform", { 20, 20, 20, 20, 2, 6, 3, 3 } },
	{ "enable-heavy", { 70, 12, 0, 15, 1, 4, 1, 1 } },
	{ "pause-heavy", { 12, 2, 70, 12, 1, 4, 1, 1 } },
	{ "unwind", { 5, 45, 5, 45, 0, 4, 1, 1 } },
};

static enum lm_op lm_pick(struct prng *r, const struct lm_mix *mix, const struct lm_model *m)
{
	unsigned int total = 0, x;
	int op;

	for (op = 0; op < LM_NR_OPS; op++)
		total += mix->weight[op];
	x = (unsigned int)prng_below(r, total);
	for (op = 0; op < LM_NR_OPS - 1 && x >= mix->weight[op]; op++)
		x -= mix->weight[op];
	/* keep the fake interrupt nesting between 0 and 2 (and mostly 0) */
	if (op == LM_IRQ_EXIT && m->irq_depth == 0)
		op = LM_IRQS_ON;
	else if (op == LM_IRQ_ENTER && m->irq_depth == 2)
		op = LM_IRQ_EXIT;
	return (enum lm_op)op;
}

#define LM_RANDOM_CALLS 100000

static void lazy_mmu_random_vs_model(struct kunit *test)
{
	u64 seed = lm_random_seed(test);
	unsigned long rows[LM_NR_ROWS] = { 0 };
	struct lm_model m = lm_start_model();
	int max_enable = 0, max_pause = 0;
	const struct lm_mix *mix = &lm_mixes[0];
	long phase_left = 0, step;
	struct prng r;
	bool ok = true;

	prng_seed(&r, seed);
	for (step = 0; step < LM_RANDOM_CALLS && ok; step++) {
		struct lm_expect e;

		if (phase_left-- <= 0) {
			mix = &lm_mixes[prng_below(&r, ARRAY_SIZE(lm_mixes))];
			phase_left = 256 + (long)prng_below(&r, 1792);
		}
		e = lm_step(test, &m, lm_pick(&r, mix, &m), step, &ok);
		rows[e.row]++;
		max_enable = MAX(max_enable, m.enable);
		max_pause = MAX(max_pause, m.pause);
	}
	if (!ok)
		kunit_info(test, "stopped at the first mismatch, step %ld of seed %#llx", step - 1,
			   (unsigned long long)seed);
	lm_unwind(test, &m, &ok);

	kunit_info(test, "%ld calls; deepest enable=%d pause=%d", step, max_enable, max_pause);
	for (int row = LM_ROW_ENABLE_IRQ; row < LM_NR_ROWS; row += 5) {
		char line[160];
		int n = 0;

		for (int j = row; j < MIN(row + 5, LM_NR_ROWS); j++)
			n += snprintf(line + n, sizeof(line) - n, " %s %lu", lm_row_names[j],
				      rows[j]);
		kunit_info(test, "rows:%s", line);
	}
	/* Every row of the table must have been exercised, or the run proved little. */
	for (int row = LM_ROW_ENABLE_IRQ; row < LM_NR_ROWS; row++)
		if (ok && rows[row] == 0)
			kunit_fail(test, false, __FILE__, __LINE__, "row %s never exercised",
				   lm_row_names[row]);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* The cases both suites run, in this order. */
#define LAZY_MMU_COMMON_CASES                                                                   \
	KUNIT_CASE(lazy_mmu_worked_sequence), KUNIT_CASE(lazy_mmu_table_rows),                  \
	    KUNIT_CASE(lazy_mmu_table_boundaries),                                              \
	    KUNIT_CASE(lazy_mmu_nested_pause_in_nested_enable),                                 \
	    KUNIT_CASE(lazy_mmu_enable_disable_while_paused),                                   \
	    KUNIT_CASE(lazy_mmu_interrupt_context), KUNIT_CASE(lazy_mmu_keeps_caller_irq_flag), \
	    KUNIT_CASE(lazy_mmu_misuse), KUNIT_CASE(lazy_mmu_backend_switch),                   \
	    KUNIT_CASE(lazy_mmu_trace_text), KUNIT_CASE(lazy_mmu_trace_capture_limits),         \
	    KUNIT_CASE(lazy_mmu_random_vs_model)
