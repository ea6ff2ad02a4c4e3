/* Single-stepping a C function: every instruction it retires is a point where tests may act. */
#pragma once

#include <lib/types.h>

/*
 * What one step_run() saw. steps: instructions retired by fn and its callees (fn's final
 * return included; an instruction that faulted and was fixed up does not retire and is not
 * counted). irq_points: the steps after which a real interrupt could have been taken
 * (interrupts enabled in the stepped code, and not in an interrupt shadow).
 */
struct step_result {
	unsigned long steps;
	unsigned long irq_points;
};

/*
 * Runs fn(arg) single-stepped on this CPU and fills res. After every instruction of fn that
 * leaves interrupts enabled, at_point(ctx) runs in interrupt context (between irq_enter()
 * and the step point's exit, on this CPU, interrupts masked): exactly as if an interrupt
 * had arrived right there. at_point may be NULL (only count). fn runs with the caller's
 * interrupt mask. Returns 0, -EINVAL (fn or res NULL) or -EBUSY (a step_run() is already
 * running on this CPU: at_point can't start another one).
 *
 * at_point runs inside the trap handler: it must return (no KUNIT_ASSERT_*, which would
 * longjmp out of the handler and leave the stepped code stranded; use KUNIT_EXPECT_* and
 * check afterwards).
 *
 * For short functions: every instruction is an exception round trip. Not for a
 * call_nofault() armed *outside* step_run() whose fn faults inside the stepped code (the
 * unwind would jump over step_run()'s end). Real interrupts may arrive while fn is stepped:
 * their handlers are not stepped and do not change the counts. docs/testing.md has the
 * details per arch.
 */
int step_run(void (*fn)(void *), void *arg, void (*at_point)(void *ctx), void *ctx,
	     struct step_result *res);

/*
 * The same, but at_point runs only at the k-th irq point (counted from 0); every point is
 * still counted. It ran iff k < res->irq_points. A test that knows N points from a first
 * run injects at each k = 0..N-1 in turn, resetting its state in between.
 */
int step_run_at(void (*fn)(void *), void *arg, unsigned long k, void (*at_point)(void *ctx),
		void *ctx, struct step_result *res);

/* Step traps taken on this CPU since boot, including the harness's own: none may come
 * outside step_run() (tests check that stepping is really off afterwards). */
unsigned long step_traps_taken(void);

/* --- called by the arch trap handler --- */

enum step_action {
	STEP_CONTINUE, /* keep stepping: re-arm for one more instruction */
	STEP_DONE,     /* fn has returned: disarm, the caller of arch_step_call() resumes */
	STEP_STRAY,    /* no step_run() is running: an unexpected exception, report it */
};

/*
 * One single-step trap, interrupts masked. pc: where the stepped code resumes. retired:
 * an instruction completed since the last trap (arm64 also traps, with nothing retired, on
 * return from an exception that the stepped instruction raised). irqs_on: a real interrupt
 * could be taken at pc.
 */
enum step_action step_trap(unsigned long pc, bool retired, bool irqs_on);

/*
 * n instructions of the stepped code that the arch ran without stepping them (arm64: the
 * inside of a load/store-exclusive sequence, see arch/arm64/step.c): counted as steps,
 * never as irq points.
 */
void step_count_unstepped(unsigned long n);

/* --- arch contract (arch/<arch>/step.S) --- */

/*
 * Arms single-stepping for the current context, calls fn(arg), and returns once the trap
 * at arch_step_return (the instruction after the call of fn) has disarmed it. Only
 * step_run() calls it, with the step state set up.
 */
void arch_step_call(void (*fn)(void *), void *arg);
extern const char arch_step_return[];
