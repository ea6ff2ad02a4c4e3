/* The generic half of single-stepping: counts steps and runs a test's callback at irq points. */
#include <kernel/step.h>
#include <kernel/cpu.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <lib/errno.h>

/*
 * One step_run() in progress. Per CPU, and touched only by that CPU: by step_run() before
 * it arms stepping and after it is disarmed, and in between only by step_trap(), which the
 * arch calls from the trap handler with interrupts masked. The arming and disarming are
 * exceptions (or instructions that make the next one trap), so compiler barriers around
 * them are all the ordering needed.
 *
 * When a scheduler can switch tasks from a step point (see step_point_exit()), a stepped
 * task that is switched out keeps this CPU's state: another task's step_run() then gets
 * -EBUSY until the stepped one has finished, rather than mixing counts. A stepped task
 * must stay on its CPU until step_run() returns (this state and the arch's are per CPU).
 */
struct step_state {
	bool active;	  /* step_run() is running on this CPU */
	bool entered;	  /* fn was called: every later retired instruction is fn's */
	bool done;	  /* the trap at arch_step_return disarmed stepping */
	unsigned long fn; /* fn's address: the trap after the harness's own call lands there */
	void (*at_point)(void *ctx);
	void *ctx;
	bool every;	    /* at_point at every irq point ... */
	unsigned long only; /* ... or only at this one */
	unsigned long steps;
	unsigned long irq_points;
	unsigned long traps; /* every trap since boot, the harness's own included */
};

static struct step_state step_states[NR_CPUS];

static struct step_state *this_step_state(void)
{
	return &step_states[this_cpu()->id];
}

unsigned long step_traps_taken(void)
{
	return READ_ONCE(this_step_state()->traps);
}

/*
 * The way back from an injected interrupt, and the ONE place that makes a step point a
 * preemption point: a real interrupt leaves through irq_exit() and then the scheduler's
 * irq_exit_maybe_preempt(), and so does this, so that a switch can happen at every
 * instruction boundary a real tick could have hit (the sched_exhaustive suite forces one).
 * It runs on the stepped task's stack, in the trap handler, with the stepped context's flags (TF, or SPSR.SS and PSTATE.D) saved in the trap frame, so
 * switching away and back later resumes the stepping exactly where it was.
 */
static void step_point_exit(void)
{
	irq_exit();
	irq_exit_maybe_preempt(true); /* a step point is one where interrupts are on */
}

static void step_point(struct step_state *s)
{
	irq_enter();
	s->at_point(s->ctx);
	step_point_exit();
}

enum step_action step_trap(unsigned long pc, bool retired, bool irqs_on)
{
	struct step_state *s = this_step_state();
	unsigned long point;

	s->traps++;
	if (!s->active || s->done)
		return STEP_STRAY;
	/*
	 * Until fn's first instruction is reached, the traps are the harness's own: its call
	 * of fn (and on arm64 the trap that starts the stepping). The trap after that call
	 * lands on fn itself.
	 */
	if (!s->entered) {
		s->entered = pc == s->fn;
		return STEP_CONTINUE;
	}
	if (!retired)
		return STEP_CONTINUE;
	s->steps++;
	if (irqs_on) {
		point = s->irq_points++;
		if (s->at_point && (s->every || s->only == point))
			step_point(s);
	}
	/* The instruction just retired was fn's return to arch_step_call(): the end. */
	if (pc == (unsigned long)arch_step_return) {
		s->done = true;
		return STEP_DONE;
	}
	return STEP_CONTINUE;
}

static int step_run_points(void (*fn)(void *), void *arg, bool every, unsigned long k,
			   void (*at_point)(void *ctx), void *ctx, struct step_result *res)
{
	struct step_state *s = this_step_state();
	unsigned long flags;

	if (WARN_ONCE(!fn || !res, "step_run(): fn and res are required"))
		return -EINVAL;
	/* Masked: an interrupt handler calling step_run() must not race the check. */
	local_irq_save(flags);
	if (s->active) {
		local_irq_restore(flags);
		return -EBUSY;
	}
	s->active = true;
	s->entered = false;
	s->done = false;
	s->fn = (unsigned long)fn;
	s->at_point = at_point;
	s->ctx = ctx;
	s->every = every;
	s->only = k;
	s->steps = 0;
	s->irq_points = 0;
	local_irq_restore(flags);

	barrier();
	arch_step_call(fn, arg);
	barrier();

	/* Only the trap at arch_step_return disarms: anything else is a harness bug. */
	if (!s->done)
		panic("step_run(): fn returned but stepping was not disarmed at its return");
	res->steps = s->steps;
	res->irq_points = s->irq_points;
	WRITE_ONCE(s->active, false);
	return 0;
}

int step_run(void (*fn)(void *), void *arg, void (*at_point)(void *ctx), void *ctx,
	     struct step_result *res)
{
	return step_run_points(fn, arg, true, 0, at_point, ctx, res);
}

void step_count_unstepped(unsigned long n)
{
	struct step_state *s = this_step_state();

	if (s->active && s->entered && !s->done)
		s->steps += n;
}

int step_run_at(void (*fn)(void *), void *arg, unsigned long k, void (*at_point)(void *ctx),
		void *ctx, struct step_result *res)
{
	return step_run_points(fn, arg, false, k, at_point, ctx, res);
}
