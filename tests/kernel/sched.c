/* Kernel threads, preemption, msleep, completions, and the lazy MMU state across a switch. */
#include <kernel/arch.h>
#include <kernel/completion.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_stats.h>
#include <asm/processor.h>

/*
 * Tasks started by a case. A case that fails an assertion ends early, so .exit stops
 * whatever is still running: every task here returns once kthread_should_stop() is true,
 * and all the data they touch is static (a case's locals are gone when it ends).
 */
#define MAX_TASKS 8
static struct task *live[MAX_TASKS];

static struct task *start(int (*fn)(void *), void *data, const char *name)
{
	struct task *t = kthread_run(fn, data, name);

	for (unsigned int i = 0; t && i < MAX_TASKS; i++) {
		if (!live[i]) {
			live[i] = t;
			return t;
		}
	}
	return t;
}

static int stop(struct task *t)
{
	for (unsigned int i = 0; i < MAX_TASKS; i++)
		if (live[i] == t)
			live[i] = NULL;
	return kthread_stop(t);
}

/* Busy waits end at a deadline far beyond what they need, so a broken scheduler fails fast. */
static u64 deadline_ms(u64 ms)
{
	return arch_cycles() + arch_cycles_hz() / 1000 * ms;
}

static bool before(u64 deadline)
{
	return arch_cycles() < deadline;
}

static void sched_exit(struct kunit *test)
{
	if (current->preempt_count) {
		kunit_fail(test, false, __FILE__, __LINE__, "case left preempt_count %u",
			   current->preempt_count);
		current->preempt_count = 0;
	}
	for (unsigned int i = 0; i < MAX_TASKS; i++)
		if (live[i])
			stop(live[i]);
}

/* ------------------------------------------------------------------ creation and exit */

static struct {
	struct task *self;
	unsigned long sp;
	unsigned int cpu;
} ran;

static int record_and_return(void *data)
{
	unsigned long local;

	ran.self = current;
	ran.sp = (unsigned long)&local;
	ran.cpu = this_cpu()->id;
	return (int)(long)data;
}

/* A new task runs fn on its own stack, above an unmapped guard page, and gives back fn's value. */
static void kthread_runs_on_its_own_stack(struct kunit *test)
{
	unsigned long frames = frames_free();
	struct sched_stats s0, s1;
	phys_addr_t pa;
	pgprot_t prot;
	unsigned long guard, top;
	struct task *t;

	memset(&ran, 0, sizeof(ran));
	sched_stats_read(&s0);
	preempt_disable(); /* so it can't run before we have looked at it */
	t = start(record_and_return, (void *)42L, "answer");
	KUNIT_ASSERT_NOT_NULL(test, t); /* (on failure .exit lowers the count again) */
	KUNIT_EXPECT_EQ(test, strcmp(t->name, "answer"), 0);
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, t->stack_guard, &pa, &prot), -ENOENT);
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, t->stack_top - PAGE_SIZE, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, t->stack_top - t->stack_guard, PAGE_SIZE + KSTACK_SIZE);
	guard = t->stack_guard;
	top = t->stack_top;
	KUNIT_EXPECT_EQ(test, t->preempt_count, 1); /* it will start holding the run-queue lock */
	sched_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, s1.tasks, s0.tasks + 1);

	KUNIT_EXPECT_NULL(test, ran.self); /* created, queued, not run */
	preempt_enable();
	KUNIT_EXPECT_EQ(test, stop(t), 42);
	KUNIT_EXPECT_PTR_EQ(test, ran.self, t);
	KUNIT_EXPECT_GT(test, ran.sp, guard + PAGE_SIZE);
	KUNIT_EXPECT_LT(test, ran.sp, top);
	KUNIT_EXPECT_EQ(test, ran.cpu, 0);

	/* Freed: the task frame, its stack frames and its stack mapping. */
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, top - PAGE_SIZE, &pa, &prot), -ENOENT);
	sched_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, s1.tasks, s0.tasks);
	KUNIT_EXPECT_EQ(test, frames_free(), frames);
}

static int count_until_stopped(void *data)
{
	volatile unsigned long *n = data;

	while (!kthread_should_stop()) {
		(*n)++;
		yield();
	}
	return (int)*n;
}

static int sleep_until_stopped(void *data)
{
	(void)data;
	while (!kthread_should_stop())
		msleep(30);
	return 7;
}

static volatile unsigned long loops;

/* kthread_stop() asks, waits for the exit, and returns the value - for a busy and a sleeping task. */
static void kthread_stop_asks_and_waits(struct kunit *test)
{
	u64 end = deadline_ms(2000);
	struct task *t;
	int ret;

	loops = 0;
	t = start(count_until_stopped, (void *)&loops, "counter");
	KUNIT_ASSERT_NOT_NULL(test, t);
	while (loops < 5 && before(end))
		yield(); /* each yield lets the counter run once */
	KUNIT_EXPECT_GE(test, loops, 5);
	ret = stop(t);
	KUNIT_EXPECT_EQ(test, ret, (int)loops);

	t = start(sleep_until_stopped, NULL, "sleeper");
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* Until it sleeps (a fixed wait failed once on a host too busy to run its vCPU). */
	end = deadline_ms(2000);
	while (READ_ONCE(t->state) != TASK_SLEEPING && before(end))
		msleep(5);
	KUNIT_EXPECT_EQ(test, t->state, TASK_SLEEPING);
	KUNIT_EXPECT_EQ(test, stop(t), 7);
}

static void kthread_run_on_cpu_binds_or_refuses(struct kunit *test)
{
	unsigned long frames = frames_free();
	struct task *t;

	memset(&ran, 0, sizeof(ran));
	t = kthread_run_on_cpu(record_and_return, (void *)3L, 0, "on-cpu0");
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, t->cpu, 0);
	KUNIT_EXPECT_EQ(test, kthread_stop(t), 3);
	KUNIT_EXPECT_EQ(test, ran.cpu, 0);

	/* NR_CPUS is the first CPU that does not exist; nothing is allocated for it. */
	KUNIT_EXPECT_NULL(test, kthread_run_on_cpu(record_and_return, NULL, NR_CPUS, "nowhere"));
	KUNIT_EXPECT_NULL(test, kthread_run_on_cpu(record_and_return, NULL, ~0U, "nowhere"));
	KUNIT_EXPECT_EQ(test, frames_free(), frames);
}

static unsigned long leak_va;

/* Returns inside a nested section with a clear still queued: kthread_exit() must close it. */
static int return_inside_a_section(void *data)
{
	(void)data;
	(void)kunit_peek(leak_va);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	pte_update(&init_mm, leak_va, pte_lookup(&init_mm, leak_va), __pte(0));
	return 9;
}

static void a_thread_returning_inside_a_section_is_cleaned_up(struct kunit *test)
{
	unsigned long warnings = warn_count();
	phys_addr_t frame = alloc_frame();
	struct tlb_stats s0, s1;

	KUNIT_ASSERT_NE(test, frame, 0);
	leak_va = vm_test_area(2);
	KUNIT_ASSERT_NE(test, leak_va, 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, leak_va, frame, 1, PAGE_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, leak_va + PAGE_SIZE, frame, 1, PAGE_KERNEL), 0);
	tlb_stats_read(&s0);
	KUNIT_EXPECT_EQ(test, stop(start(return_inside_a_section, NULL, "leaky")), 9);
	tlb_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, warn_count(), warnings + 1);
	KUNIT_EXPECT_EQ(test, kunit_peek(leak_va), -1); /* its queued clear took effect */
	/* Its stack's map/unmap count one enter and leave per page; the closing adds one leave. */
	KUNIT_EXPECT_EQ(test, (s1.arch_leave - s0.arch_leave) - (s1.arch_enter - s0.arch_enter), 0);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, leak_va + PAGE_SIZE, 1), 0);
	free_frame(frame);
}

static struct {
	bool ran;
	struct task *created;
	u64 slept_ticks;
} from_irq;

static void sleep_and_spawn_from_irq(void *arg)
{
	u64 t0 = timer_ticks();

	(void)arg;
	msleep(10); /* refused: returns at once */
	from_irq.slept_ticks = timer_ticks() - t0;
	from_irq.created = kthread_run(record_and_return, NULL, "from-irq");
	from_irq.ran = true;
}

/* In interrupt context msleep() and kthread_run() are refused with a warning. */
static void msleep_and_kthread_run_refuse_interrupt_context(struct kunit *test)
{
	unsigned long frames = frames_free();

	memset(&from_irq, 0, sizeof(from_irq));
	timer_call_once(sleep_and_spawn_from_irq, NULL);
	timer_wait_ticks(2);
	KUNIT_EXPECT_TRUE(test, from_irq.ran);
	KUNIT_EXPECT_EQ(test, from_irq.slept_ticks, 0);
	KUNIT_EXPECT_NULL(test, from_irq.created);
	KUNIT_EXPECT_EQ(test, frames_free(), frames);
}

static struct {
	bool boot, idle;
	const struct task *want;
	bool found;
	enum task_state state;
	char name[TASK_NAME_LEN];
} ps;

static void ps_one(const struct task *t, void *arg)
{
	(void)arg;
	ps.boot |= t == current;
	ps.idle |= t == idle_task(0);
	if (t == ps.want) {
		ps.found = true;
		ps.state = t->state;
		snprintf(ps.name, sizeof(ps.name), "%s", t->name);
	}
}

/* The task list a console's "ps" walks: boot, idle, and each thread until it is freed. */
static void every_task_is_listed_until_freed(struct kunit *test)
{
	/* Every online CPU has its boot task and its idle task (kernel/smp.c, sched_init()). */
	unsigned int base = 2 * num_online_cpus();
	struct task *t;

	memset(&ps, 0, sizeof(ps));
	t = start(sleep_until_stopped, NULL, "listed");
	KUNIT_ASSERT_NOT_NULL(test, t);
	/*
	 * Until it has gone to sleep (its first msleep()), however slow the host - or gdb - is
	 * to get it there: a fixed wait raced with that. Bounded: 5 s is a hang, reported.
	 */
	for (unsigned int ms = 0; READ_ONCE(t->state) != TASK_SLEEPING && ms < 5000; ms++)
		msleep(1);
	ps.want = t;
	KUNIT_EXPECT_EQ(test, sched_for_each_task(ps_one, NULL), base + 1);
	KUNIT_EXPECT_TRUE(test, ps.boot);
	KUNIT_EXPECT_TRUE(test, ps.idle);
	KUNIT_EXPECT_TRUE(test, ps.found);
	KUNIT_EXPECT_EQ(test, strcmp(ps.name, "listed"), 0);
	KUNIT_EXPECT_EQ(test, strcmp(task_state_name(ps.state), "sleeping"), 0);
	KUNIT_EXPECT_EQ(test, stop(t), 7);

	memset(&ps, 0, sizeof(ps));
	ps.want = t; /* freed now: only compared, never dereferenced */
	KUNIT_EXPECT_EQ(test, sched_for_each_task(ps_one, NULL), base);
	KUNIT_EXPECT_FALSE(test, ps.found);
	KUNIT_EXPECT_EQ(test, strcmp(task_state_name(TASK_BLOCKED), "blocked"), 0);
}

/* ------------------------------------------------------------------ msleep */

/*
 * msleep(ms) sleeps n = ceil(ms / tick) whole ticks after the current one: at least ms, at
 * most one tick more. The tick count decides, exactly: the wake-up happens in the very
 * tick it is due (nothing else wants the CPU). Real time, from the cycle counter, is
 * checked too, with the slack TCG needs and no more: QEMU delivers a tick late when the
 * host is busy (then the next one comes on time, so a sleep's real time can be up to a
 * tick short of its tick count), and the host may stall QEMU for a while (real time
 * longer: 100 ms of slack there).
 */
static void msleep_sleeps_at_least_and_at_most_a_tick_more(struct kunit *test)
{
	static const unsigned int ms_list[] = { 1, 10, 25, 40 };
	const u64 tick_us = 1000000 / TIMER_HZ;

	for (unsigned int i = 0; i < ARRAY_SIZE(ms_list); i++) {
		unsigned int ms = ms_list[i];
		u64 n = ((u64)ms * TIMER_HZ + 999) / 1000, t0, c0, dt, us;

		timer_wait_ticks(1); /* start right after a tick: the extra tick costs the most */
		t0 = timer_ticks();
		c0 = arch_cycles();
		msleep(ms);
		dt = timer_ticks() - t0;
		us = (arch_cycles() - c0) * 1000000 / arch_cycles_hz();
		kunit_info(test, "msleep(%u): %llu ticks of %llu us (asked %llu), %llu us", ms,
			   (unsigned long long)dt, (unsigned long long)tick_us,
			   (unsigned long long)n, (unsigned long long)us);
		KUNIT_EXPECT_GE(test, dt, n);
		KUNIT_EXPECT_LE(test, dt, n + 1);
		KUNIT_EXPECT_GE(test, us + tick_us, (u64)ms * 1000);
		KUNIT_EXPECT_LE(test, us, (u64)ms * 1000 + tick_us + 100000);
	}
}

/* ------------------------------------------------------------------ preemption */

static volatile unsigned long spins;

/* Never yields, never sleeps: only preemption takes the CPU away from it. */
static int spin_until_stopped(void *data)
{
	(void)data;
	while (!kthread_should_stop())
		spins++;
	return 0;
}

static void a_task_that_never_yields_is_preempted(struct kunit *test)
{
	struct sched_stats s0, s1;
	u64 end = deadline_ms(3000);
	unsigned long seen;
	struct task *t;

	spins = 0;
	sched_stats_read(&s0);
	t = start(spin_until_stopped, NULL, "spinner");
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* We never yield either: the spinner gets the CPU only if our slice ends at a tick. */
	while (spins == 0 && before(end))
		cpu_relax();
	seen = spins;
	/* ... and we got it back only because the spinner's slice ended too. */
	sched_stats_read(&s1);
	KUNIT_EXPECT_GT(test, seen, 0);
	KUNIT_EXPECT_GE(test, s1.preemptions - s0.preemptions, 2);
	KUNIT_EXPECT_EQ(test, stop(t), 0);
}

/* Runs the spinner for 3 ticks while `hold` keeps the boot task from being switched out. */
static void no_switch_while(struct kunit *test, void (*hold)(void), void (*release)(void))
{
	struct sched_stats s0, s1, s2;
	u64 end = deadline_ms(3000), t0;
	unsigned long during;
	bool pending;
	struct task *t;

	spins = 0;
	t = start(spin_until_stopped, NULL, "spinner");
	KUNIT_ASSERT_NOT_NULL(test, t);
	sched_stats_read(&s0);
	hold();
	t0 = timer_ticks();
	while (timer_ticks() < t0 + 3 * SCHED_SLICE_TICKS && before(end))
		cpu_relax(); /* interrupts on: the ticks come, and want to switch */
	during = spins;
	pending = READ_ONCE(current->need_resched);
	sched_stats_read(&s1);
	release(); /* the deferred switch happens right here */
	sched_stats_read(&s2);
	KUNIT_EXPECT_EQ(test, during, 0);
	KUNIT_EXPECT_EQ(test, s1.switches - s0.switches, 0);
	KUNIT_EXPECT_TRUE(test, pending);
	KUNIT_EXPECT_GT(test, spins, 0);
	KUNIT_EXPECT_GE(test, s2.preemptions - s1.preemptions, 2);
	KUNIT_EXPECT_EQ(test, stop(t), 0);
}

static void hold_preempt(void)
{
	preempt_disable();
}

static void release_preempt(void)
{
	preempt_enable();
}

static DEFINE_SPINLOCK(test_lock);

static void hold_lock(void)
{
	spin_lock(&test_lock);
}

static void release_lock(void)
{
	spin_unlock(&test_lock);
}

static void no_preemption_while_preempt_disabled(struct kunit *test)
{
	no_switch_while(test, hold_preempt, release_preempt);
}

static void no_preemption_while_holding_a_spinlock(struct kunit *test)
{
	no_switch_while(test, hold_lock, release_lock);
}

/*
 * cond_resched() is a voluntary preemption point: it switches exactly when a reschedule is
 * due. The count is dropped with preempt_count_dec(), which (unlike preempt_enable()) does
 * not act on the pending reschedule, so cond_resched() is what takes it.
 */
static void cond_resched_switches_only_when_due(struct kunit *test)
{
	struct sched_stats s0, s1;
	u64 end = deadline_ms(3000), t0;
	unsigned long during;
	struct task *t;

	sched_stats_read(&s0);
	cond_resched(); /* nothing else runnable: nothing due */
	sched_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, s1.switches, s0.switches);

	spins = 0;
	t = start(spin_until_stopped, NULL, "spinner");
	KUNIT_ASSERT_NOT_NULL(test, t);
	preempt_disable();
	t0 = timer_ticks();
	while (timer_ticks() < t0 + 2 * SCHED_SLICE_TICKS && before(end))
		cpu_relax();
	during = spins;
	preempt_count_dec();
	KUNIT_EXPECT_TRUE(test, READ_ONCE(current->need_resched));
	sched_stats_read(&s0);
	cond_resched();
	sched_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, during, 0);
	KUNIT_EXPECT_GT(test, spins, 0);
	KUNIT_EXPECT_GE(test, s1.switches - s0.switches, 2); /* there and back */
	KUNIT_EXPECT_EQ(test, stop(t), 0);
}

static struct {
	bool in_task, preemptible, ran;
} irq_view;

static void look_from_irq(void *arg)
{
	(void)arg;
	irq_view.in_task = in_task();
	irq_view.preemptible = preemptible();
	irq_view.ran = true;
}

/* preemptible(): count 0 and interrupts on; in_task(): not in an interrupt handler. */
static void preemptible_and_in_task_say_where_we_are(struct kunit *test)
{
	unsigned long flags;
	bool in_lock, in_irqs_off, in_disabled;

	KUNIT_EXPECT_TRUE(test, in_task());
	KUNIT_EXPECT_TRUE(test, preemptible());
	preempt_disable();
	in_disabled = preemptible();
	preempt_enable();
	spin_lock(&test_lock);
	in_lock = preemptible();
	spin_unlock(&test_lock);
	local_irq_save(flags);
	in_irqs_off = preemptible();
	local_irq_restore(flags);
	KUNIT_EXPECT_FALSE(test, in_disabled);
	KUNIT_EXPECT_FALSE(test, in_lock);
	KUNIT_EXPECT_FALSE(test, in_irqs_off);
	KUNIT_EXPECT_TRUE(test, preemptible());

	memset(&irq_view, 0, sizeof(irq_view));
	timer_call_once(look_from_irq, NULL);
	timer_wait_ticks(2);
	KUNIT_EXPECT_TRUE(test, irq_view.ran);
	KUNIT_EXPECT_FALSE(test, irq_view.in_task);
	KUNIT_EXPECT_FALSE(test, irq_view.preemptible);
}

/* ------------------------------------------------------------------ completions */

static struct completion go, done;
static volatile unsigned int released;

static int wait_then_signal(void *data)
{
	(void)data;
	wait_for_completion(&go);
	__atomic_fetch_add(&released, 1, __ATOMIC_RELAXED);
	complete(&done);
	while (!kthread_should_stop())
		msleep(10);
	return 5;
}

static void complete_from_irq(void *arg)
{
	complete(arg);
}

static void completion_blocks_and_wakes(struct kunit *test)
{
	struct task *t;

	init_completion(&go);
	init_completion(&done);
	released = 0;
	t = start(wait_then_signal, NULL, "waiter");
	KUNIT_ASSERT_NOT_NULL(test, t);
	msleep(20);
	KUNIT_EXPECT_EQ(test, t->state, TASK_BLOCKED); /* blocked, not spinning */
	KUNIT_EXPECT_EQ(test, released, 0);
	complete(&go);
	wait_for_completion(&done);
	KUNIT_EXPECT_EQ(test, released, 1);
	KUNIT_EXPECT_EQ(test, stop(t), 5);

	/* Counted: two complete()s let two waits through, not a third. */
	init_completion(&go);
	complete(&go);
	complete(&go);
	KUNIT_EXPECT_TRUE(test, try_wait_for_completion(&go));
	KUNIT_EXPECT_TRUE(test, try_wait_for_completion(&go));
	KUNIT_EXPECT_FALSE(test, try_wait_for_completion(&go));

	/* From an interrupt handler: the tick completes what the boot task waits for. */
	init_completion(&go);
	timer_call_once(complete_from_irq, &go);
	wait_for_completion(&go);
	KUNIT_EXPECT_FALSE(test, try_wait_for_completion(&go));
}

static void complete_all_releases_every_waiter(struct kunit *test)
{
	struct task *t[3];

	init_completion(&go);
	init_completion(&done);
	released = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++) {
		t[i] = start(wait_then_signal, NULL, "waiter");
		KUNIT_ASSERT_NOT_NULL(test, t[i]);
	}
	msleep(20);
	KUNIT_EXPECT_EQ(test, released, 0);
	complete_all(&go);
	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++)
		wait_for_completion(&done);
	KUNIT_EXPECT_EQ(test, released, 3);
	/* ... and every later waiter too. */
	KUNIT_EXPECT_TRUE(test, try_wait_for_completion(&go));
	KUNIT_EXPECT_TRUE(test, try_wait_for_completion(&go));
	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++)
		KUNIT_EXPECT_EQ(test, stop(t[i]), 5);
}

/* ------------------------------------------------------------------ the switch rule */

/*
 * Task A clears page X inside a nested section (the invalidation waits in A's batch) and
 * then spins without yielding until B - the boot task - has run. B runs only after A is
 * preempted, so B sees what the switch-out did; A sees what the switch-in did.
 */
static struct {
	unsigned long x, y, z; /* A's pages x and z, B's page y */
	phys_addr_t x_frame;
	volatile bool a_ready, b_done;
	s64 cached, stale;			      /* A: X before and after its clear */
	bool queued_x;				      /* A: X waited in its batch */
	bool active_after, queued_z, holds_y, z_gone; /* A, after being switched back in */
	struct lazy_mmu_state state_after;
	struct tlb_stats end; /* A's counters after its last disable() */
} sw;

static int switch_rule_a(void *data)
{
	unsigned long flags;
	u64 end = deadline_ms(3000);

	(void)data;
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	/*
	 * Interrupts masked from the read to the stale read. An unrelated access can still
	 * collide with the entry in QEMU's TLB, so the demonstration gets a few attempts (as in
	 * lazy_mmu_conformance); each maps X again in between.
	 */
	for (unsigned int attempt = 0; attempt < 5; attempt++) {
		local_irq_save(flags);
		sw.cached = kunit_peek(sw.x);
		pte_update(&init_mm, sw.x, pte_lookup(&init_mm, sw.x), __pte(0));
		sw.queued_x = tlb_batch_contains(&current->tlb_batch, sw.x);
		sw.stale = kunit_peek(sw.x);
		local_irq_restore(flags);
		if (sw.stale == sw.cached)
			break;
		pte_update(&init_mm, sw.x, pte_lookup(&init_mm, sw.x),
			   mk_pte(sw.x_frame, PAGE_KERNEL));
	}
	sw.a_ready = true;
	while (!sw.b_done && before(end))
		cpu_relax(); /* preempted in here, inside the nested section */
	sw.active_after = is_lazy_mmu_mode_active();
	sw.state_after = current->lazy_mmu_state;
	sw.holds_y = tlb_batch_contains(&current->tlb_batch, sw.y);
	pte_update(&init_mm, sw.z, pte_lookup(&init_mm, sw.z), __pte(0));
	sw.queued_z = tlb_batch_contains(&current->tlb_batch, sw.z);
	lazy_mmu_mode_disable();
	lazy_mmu_mode_disable();
	sw.z_gone = kunit_peek(sw.z) == -1;
	tlb_stats_read(&sw.end);
	lazy_mmu_set_trace(false); /* the trace ends here: stopping A unmaps its stack */
	while (!kthread_should_stop())
		msleep(10);
	return 0;
}

static void trace_print(struct kunit *test, char *buf)
{
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		kunit_info(test, "%s", line);
	}
}

static char trace_buf[2048];

static void switch_completes_and_reenters_the_section(struct kunit *test)
{
	struct tlb_stats s0, s1;
	phys_addr_t frame[4];
	unsigned long va = vm_test_area(4);
	u64 end = deadline_ms(3000);
	struct task *a;

	KUNIT_ASSERT_NE(test, va, 0);
	memset((void *)&sw, 0, sizeof(sw));
	sw.x = va;
	sw.y = va + PAGE_SIZE;
	sw.z = va + 2 * PAGE_SIZE;
	for (unsigned int i = 0; i < 3; i++) {
		frame[i] = alloc_frame();
		KUNIT_ASSERT_NE(test, frame[i], 0);
		*(u64 *)phys_to_virt(frame[i]) = 0x5a5a0000 + i;
		KUNIT_ASSERT_EQ(
		    test, map_pages(&init_mm, va + i * PAGE_SIZE, frame[i], 1, PAGE_KERNEL), 0);
	}
	sw.x_frame = frame[0];
	/* B's page is mapped for B's own update later. The anchor page keeps the table alive. */
	frame[3] = alloc_frame();
	KUNIT_ASSERT_NE(test, frame[3], 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + 3 * PAGE_SIZE, frame[3], 1, PAGE_KERNEL), 0);

	/* Creating A maps its stack (helper calls of its own): count and trace from after that. */
	preempt_disable();
	a = start(switch_rule_a, NULL, "A");
	tlb_stats_read(&s0);
	lazy_mmu_trace_to(trace_buf, sizeof(trace_buf));
	lazy_mmu_set_trace(true);
	preempt_enable();
	KUNIT_ASSERT_NOT_NULL(test, a);
	/* We never yield: A runs when our slice ends, and we run again when A's does. */
	while (!sw.a_ready && before(end))
		cpu_relax();
	tlb_stats_read(&s1);

	/* A was switched out inside its nested section: batch done, arch mode left, counts kept. */
	KUNIT_EXPECT_TRUE(test, sw.a_ready);
	KUNIT_EXPECT_GE(test, s1.switch_leave - s0.switch_leave, 1);
	KUNIT_EXPECT_EQ(test, s1.arch_leave - s0.arch_leave, 0); /* no helper left anything */
	KUNIT_EXPECT_GE(test, s1.batches - s0.batches, 1);
	KUNIT_EXPECT_TRUE(test, tlb_batch_empty(&a->tlb_batch));
	KUNIT_EXPECT_EQ(test, a->lazy_mmu_state.enable_count, 2);
	KUNIT_EXPECT_EQ(test, a->lazy_mmu_state.pause_count, 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(sw.x), -1); /* A's clear is in effect */

	/* B's own update, in B's own section: B's batch, never A's. */
	lazy_mmu_mode_enable();
	pte_update(&init_mm, sw.y, pte_lookup(&init_mm, sw.y), __pte(0));
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&current->tlb_batch, sw.y));
	KUNIT_EXPECT_FALSE(test, tlb_batch_contains(&a->tlb_batch, sw.y));
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, kunit_peek(sw.y), -1);
	sw.b_done = true;

	KUNIT_EXPECT_EQ(test, stop(a), 0);
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);

	/* What A saw: its stale read inside the section, and its section re-entered. */
	KUNIT_EXPECT_EQ(test, sw.cached, 0x5a5a0000);
	KUNIT_EXPECT_EQ(test, sw.stale, 0x5a5a0000); /* QEMU keeps the stale entry until flushed */
	KUNIT_EXPECT_TRUE(test, sw.queued_x);
	KUNIT_EXPECT_GE(test, sw.end.switch_enter - s0.switch_enter, 1);
	KUNIT_EXPECT_TRUE(test, sw.active_after);
	KUNIT_EXPECT_EQ(test, sw.state_after.enable_count, 2);
	KUNIT_EXPECT_EQ(test, sw.state_after.pause_count, 0);
	KUNIT_EXPECT_FALSE(test, sw.holds_y);
	KUNIT_EXPECT_TRUE(test, sw.queued_z); /* re-entered: A's update was deferred again */
	KUNIT_EXPECT_TRUE(test, sw.z_gone);
	/* The helpers' own hooks: A's enter and leave, B's enter and leave - the switch's apart. */
	KUNIT_EXPECT_EQ(test, sw.end.arch_enter - s0.arch_enter, 2);
	KUNIT_EXPECT_EQ(test, sw.end.arch_leave - s0.arch_leave, 2);
	KUNIT_EXPECT_EQ(test, sw.end.switch_leave - s0.switch_leave,
			sw.end.switch_enter - s0.switch_enter);
	trace_print(test, trace_buf);

	unmap_pages(&init_mm, va + 3 * PAGE_SIZE, 1);
	for (unsigned int i = 0; i < 4; i++)
		free_frame(frame[i]);
}

static struct kunit_case sched_cases[] = {
	KUNIT_CASE(kthread_runs_on_its_own_stack),
	KUNIT_CASE(kthread_stop_asks_and_waits),
	KUNIT_CASE(kthread_run_on_cpu_binds_or_refuses),
	KUNIT_CASE(every_task_is_listed_until_freed),
	KUNIT_CASE(a_thread_returning_inside_a_section_is_cleaned_up),
	KUNIT_CASE(msleep_and_kthread_run_refuse_interrupt_context),
	KUNIT_CASE(msleep_sleeps_at_least_and_at_most_a_tick_more),
	KUNIT_CASE(a_task_that_never_yields_is_preempted),
	KUNIT_CASE(no_preemption_while_preempt_disabled),
	KUNIT_CASE(no_preemption_while_holding_a_spinlock),
	KUNIT_CASE(cond_resched_switches_only_when_due),
	KUNIT_CASE(preemptible_and_in_task_say_where_we_are),
	KUNIT_CASE(completion_blocks_and_wakes),
	KUNIT_CASE(complete_all_releases_every_waiter),
	KUNIT_CASE(switch_completes_and_reenters_the_section),
	{},
};

static struct kunit_suite sched_suite = {
	.name = "sched",
	.test_cases = sched_cases,
	.exit = sched_exit,
};
kunit_test_suite(sched_suite);
