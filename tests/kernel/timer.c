/* The periodic timer interrupt: ticks advance, and one-shot callbacks run in interrupt context. */
#include <kernel/arch.h>
#include <kernel/irq.h>
#include <kernel/timer.h>
#include <kunit/test.h>

/*
 * An upper bound for busy loops that wait for a tick: far more iterations than one tick
 * (10 ms) takes even under TCG, so reaching it means the interrupt never came, and the
 * case fails after a second or two instead of hanging.
 */
#define SPIN_LIMIT (1UL << 28)

/* What a timer_call_once() callback saw. Static: a callback must never outlive its probe. */
struct once_probe {
	int runs;
	bool in_interrupt;
	bool irqs_disabled;
	void *arg;
	u64 tick;
};

static struct once_probe probe;

static void record_once(void *arg)
{
	probe.runs++;
	probe.in_interrupt = in_interrupt();
	probe.irqs_disabled = irqs_disabled();
	probe.arg = arg;
	probe.tick = timer_ticks();
}

static void reset_probe(void)
{
	probe = (struct once_probe){ 0 };
}

/* Cancels a callback that never ran, so it can't fire into a later case. */
static void cancel_once(void)
{
	timer_call_once(NULL, NULL);
}

static void ticks_advance_while_waiting(struct kunit *test)
{
	u64 start = timer_ticks();

	KUNIT_ASSERT_FALSE(test, irqs_disabled()); /* the suites run with interrupts on */
	timer_wait_ticks(3);
	KUNIT_EXPECT_GE(test, timer_ticks(), start + 3);
}

/* The tick interrupts running code too, not only a CPU halted in timer_wait_ticks(). */
static void ticks_advance_while_busy(struct kunit *test)
{
	u64 start = timer_ticks();
	unsigned long spins = 0;

	while (timer_ticks() == start && spins < SPIN_LIMIT)
		spins++;
	KUNIT_EXPECT_GT(test, timer_ticks(), start);
}

/*
 * With interrupts masked no tick is taken, however long we spin; once unmasked they come
 * again. The spin lasts three tick periods by the cycle counter.
 */
static void masked_irqs_hold_off_ticks(struct kunit *test)
{
	u64 hz = arch_cycles_hz(), start, end, c0;
	unsigned long flags, spins = 0;

	if (!hz)
		kunit_skip(test, "arch_cycles_hz() is 0: no clock to time the spin");
	local_irq_save(flags);
	start = timer_ticks();
	c0 = arch_cycles();
	while (arch_cycles() - c0 < 3 * hz / TIMER_HZ && spins < SPIN_LIMIT)
		spins++;
	end = timer_ticks();
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, end, start);
	timer_wait_ticks(1);
	KUNIT_EXPECT_GT(test, timer_ticks(), end);
}

static void call_once_runs_in_interrupt(struct kunit *test)
{
	static int cookie;

	reset_probe();
	KUNIT_EXPECT_FALSE(test, in_interrupt()); /* a test case runs in task context */
	timer_call_once(record_once, &cookie);
	timer_wait_ticks(2);
	cancel_once();

	KUNIT_ASSERT_EQ(test, probe.runs, 1);
	KUNIT_EXPECT_TRUE(test, probe.in_interrupt);
	KUNIT_EXPECT_PTR_EQ(test, probe.arg, &cookie);
	/* Interrupts don't nest: every handler runs with them masked. */
	KUNIT_EXPECT_TRUE(test, probe.irqs_disabled);
	/* The handler counted its tick before calling back. */
	KUNIT_EXPECT_GT(test, probe.tick, 0);
	/* Back in task context, with interrupts on again. */
	KUNIT_EXPECT_FALSE(test, in_interrupt());
	KUNIT_EXPECT_FALSE(test, irqs_disabled());
}

static void call_once_runs_exactly_once(struct kunit *test)
{
	reset_probe();
	timer_call_once(record_once, NULL);
	timer_wait_ticks(5);
	cancel_once();

	KUNIT_EXPECT_EQ(test, probe.runs, 1);
	KUNIT_EXPECT_NULL(test, probe.arg);
}

/* A callback may arm the next one: the tick drops the old one before calling it. */
static int chain_left;

static void rearm_self(void *arg)
{
	record_once(arg);
	if (--chain_left > 0)
		timer_call_once(rearm_self, arg);
}

static void call_once_can_rearm_itself(struct kunit *test)
{
	reset_probe();
	chain_left = 3;
	timer_call_once(rearm_self, &chain_left);
	timer_wait_ticks(6);
	cancel_once();

	KUNIT_EXPECT_EQ(test, probe.runs, 3);
	KUNIT_EXPECT_EQ(test, chain_left, 0);
	KUNIT_EXPECT_TRUE(test, probe.in_interrupt);
	KUNIT_EXPECT_PTR_EQ(test, probe.arg, &chain_left);
}

static struct kunit_case timer_cases[] = {
	KUNIT_CASE(ticks_advance_while_waiting),
	KUNIT_CASE(ticks_advance_while_busy),
	KUNIT_CASE(masked_irqs_hold_off_ticks),
	KUNIT_CASE(call_once_runs_in_interrupt),
	KUNIT_CASE(call_once_runs_exactly_once),
	KUNIT_CASE(call_once_can_rearm_itself),
	{},
};

static struct kunit_suite timer_suite = {
	.name = "timer",
	.test_cases = timer_cases,
};
kunit_test_suite(timer_suite);
