/*
 * The SMP suite: CPUs online, cross-calls, shootdown counts, what other CPUs read after
 * disable(), and a stress of remote readers against a writer in nested and paused sections.
 * Arch-neutral; cases that need a second CPU skip (saying so) on one-CPU configurations.
 */
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/timer.h>
#include <kunit/probe.h>
#include <kunit/smp_probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

static struct tlb_stats stats(void)
{
	struct tlb_stats s;

	tlb_stats_read(&s);
	return s;
}

static void need_smp(struct kunit *test)
{
	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: needs SMP=N with N > 1 (the *-smp4 configs)");
}

/* Frames whose first word is a tag, so that a read shows which frame it hit. */
static u64 tag_of(unsigned int i)
{
	return 0x5a9700000000ULL + i;
}

static phys_addr_t tagged_frame(unsigned int i)
{
	phys_addr_t pa = alloc_frame();

	if (pa)
		*(u64 *)phys_to_virt(pa) = tag_of(i);
	return pa;
}

/* ------------------------------------------------------------------ CPUs and cross-calls */

static void count_call(void *arg)
{
	__atomic_fetch_add((unsigned int *)arg, 1, __ATOMIC_RELEASE);
}

static void every_listed_cpu_is_online(struct kunit *test)
{
	unsigned int listed = boot_info.nr_cpus ? boot_info.nr_cpus : 1;

	KUNIT_EXPECT_EQ(test, smp_processor_id(), 0);
	KUNIT_EXPECT_EQ(test, num_online_cpus(), listed);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		KUNIT_EXPECT_EQ(test, cpu_online(cpu), cpu < listed);
		if (!cpu_online(cpu))
			continue;
		KUNIT_EXPECT_EQ(test, cpus[cpu].id, cpu);
		for (unsigned int other = 0; other < cpu; other++)
			KUNIT_EXPECT_NE(test, cpu_hwid(cpu), cpu_hwid(other));
		kunit_info(test, "CPU %u online, hwid %#llx", cpu,
			   (unsigned long long)cpu_hwid(cpu));
	}
	KUNIT_EXPECT_FALSE(test, cpu_online(NR_CPUS));
}

/*
 * A CPU that never answers: a hardware id nobody has. x86 sends INIT/SIPI into the void and
 * times out; arm64's PSCI refuses the MPIDR. Either way: reported, not online, boot goes on.
 */
static void a_cpu_that_never_comes_is_reported_and_skipped(struct kunit *test)
{
	const u64 nobody = 0x7e;
	unsigned int online = num_online_cpus(), cpu = NR_CPUS - 1;

	if (cpu_online(cpu))
		kunit_skip(test, "all NR_CPUS (%u) logical ids are in use", NR_CPUS);
	for (unsigned int i = 0; i < online; i++)
		KUNIT_ASSERT_NE(test, cpu_hwid(i), nobody);
	KUNIT_EXPECT_FALSE(test, smp_boot_cpu(cpu, nobody, 200));
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_EXPECT_EQ(test, num_online_cpus(), online);
	/* Its logical id is spent: a second start is refused outright. */
	KUNIT_EXPECT_FALSE(test, smp_boot_cpu(cpu, nobody, 200));
	/* And cross-calls still work with everyone else. */
	KUNIT_EXPECT_EQ(test, smp_call_function_single(cpu, count_call, NULL, true), -ENXIO);
}

/* Every CPU runs its own periodic timer (x86 LAPIC timer, arm64 virtual timer PPI). */
static void every_cpu_takes_its_own_timer_ticks(struct kunit *test)
{
	u64 before[NR_CPUS];

	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		before[cpu] = timer_cpu_ticks(cpu);
	timer_wait_ticks(10);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (cpu_online(cpu))
			KUNIT_EXPECT_GT(test, timer_cpu_ticks(cpu), before[cpu]);
		else
			KUNIT_EXPECT_EQ(test, timer_cpu_ticks(cpu), before[cpu]);
	}
}

struct on_cpu {
	unsigned int cpu;
	bool in_task;
};

static int record_cpu(void *data)
{
	struct on_cpu *r = data;

	r->cpu = smp_processor_id();
	r->in_task = in_task();
	return 100 + (int)r->cpu;
}

/* The scheduler's per-CPU run queues on every CPU: a thread bound to each runs there. */
static void kthreads_run_on_every_cpu(struct kunit *test)
{
	static struct on_cpu rec[NR_CPUS];
	unsigned long frames = frames_free();

	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct task *t;

		rec[cpu] = (struct on_cpu){ .cpu = ~0U };
		t = kthread_run_on_cpu(record_cpu, &rec[cpu], cpu, "on-cpu");
		if (!cpu_online(cpu)) {
			KUNIT_EXPECT_NULL(test, t);
			continue;
		}
		KUNIT_ASSERT_NOT_NULL(test, t);
		KUNIT_EXPECT_EQ(test, t->cpu, cpu);
		KUNIT_EXPECT_EQ(test, kthread_stop(t), 100 + (int)cpu);
		KUNIT_EXPECT_EQ(test, rec[cpu].cpu, cpu);
		KUNIT_EXPECT_TRUE(test, rec[cpu].in_task);
	}
	KUNIT_EXPECT_EQ(test, frames_free(), frames);
}

static int record_tick(void *data)
{
	*(u64 *)data = timer_cpu_ticks(smp_processor_id());
	return 0;
}

/*
 * A thread queued on an idle CPU starts at once, not at that CPU's next tick: the queueing
 * CPU sends a reschedule IPI. With every timer slowed to 1 Hz (the countdown restarts when
 * the rate is set), the thread must run before CPU 1 takes another tick.
 */
static void an_idle_cpu_starts_a_new_thread_at_once(struct kunit *test)
{
	static u64 seen;
	struct task *t;
	u64 before;

	need_smp(test);
	seen = ~0ULL;
	timer_set_hz(1);
	before = timer_cpu_ticks(1);
	t = kthread_run_on_cpu(record_tick, &seen, 1, "kicked");
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, kthread_stop(t), 0);
	timer_set_hz(TIMER_HZ);
	KUNIT_EXPECT_EQ(test, seen, before);
}

struct where {
	unsigned int ran[NR_CPUS];
	bool in_irq[NR_CPUS], irqs_off[NR_CPUS];
};

static void note_cpu(void *arg)
{
	struct where *w = arg;
	unsigned int cpu = smp_processor_id();

	w->in_irq[cpu] = in_interrupt();
	w->irqs_off[cpu] = irqs_disabled();
	__atomic_fetch_add(&w->ran[cpu], 1, __ATOMIC_RELEASE);
}

static void on_each_cpu_runs_everywhere_in_interrupt_context(struct kunit *test)
{
	struct where w = { 0 };

	KUNIT_ASSERT_EQ(test, on_each_cpu(note_cpu, &w, true), 0);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		KUNIT_EXPECT_EQ(test, w.ran[cpu], cpu_online(cpu) ? 1 : 0);
		if (cpu_online(cpu)) {
			KUNIT_EXPECT_TRUE(test, w.in_irq[cpu]);
			KUNIT_EXPECT_TRUE(test, w.irqs_off[cpu]);
		}
	}
	KUNIT_EXPECT_FALSE(test, in_interrupt()); /* and we are back in task context */
}

static void call_single_runs_on_its_target_only(struct kunit *test)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct where w = { 0 };

		if (!cpu_online(cpu)) {
			KUNIT_EXPECT_EQ(test, smp_call_function_single(cpu, note_cpu, &w, true),
					-ENXIO);
			continue;
		}
		KUNIT_ASSERT_EQ(test, smp_call_function_single(cpu, note_cpu, &w, true), 0);
		for (unsigned int c = 0; c < NR_CPUS; c++)
			KUNIT_EXPECT_EQ(test, w.ran[c], c == cpu ? 1 : 0);
		KUNIT_EXPECT_TRUE(test, w.in_irq[cpu]);
		KUNIT_EXPECT_TRUE(test, w.irqs_off[cpu]);
	}
	KUNIT_EXPECT_EQ(test, smp_call_function_single(NR_CPUS, note_cpu, NULL, true), -ENXIO);
}

/* More calls than a queue holds, without waiting: every one runs, exactly once. */
static void calls_without_wait_all_run(struct kunit *test)
{
	static unsigned int count;
	const unsigned int n = 200;
	u64 start;

	need_smp(test);
	__atomic_store_n(&count, 0, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test,
				smp_call_function_single(1 + i % (num_online_cpus() - 1),
							 count_call, &count, false),
				0);
	start = arch_cycles();
	while (__atomic_load_n(&count, __ATOMIC_ACQUIRE) < n &&
	       arch_cycles() - start < arch_cycles_hz() * 5)
		cpu_relax();
	KUNIT_EXPECT_EQ(test, __atomic_load_n(&count, __ATOMIC_ACQUIRE), n);
}

struct ping {
	int back_ran;
	bool answered;
};

static void ping_back(void *arg)
{
	__atomic_store_n(&((struct ping *)arg)->back_ran, 1, __ATOMIC_RELEASE);
}

/* On CPU 1: asks CPU 0 - which waits for us with interrupts masked - to run a call. */
static void call_back_and_wait(void *arg)
{
	struct ping *p = arg;
	u64 start = arch_cycles();

	smp_call_function_single(0, ping_back, p, false);
	while (!__atomic_load_n(&p->back_ran, __ATOMIC_ACQUIRE) &&
	       arch_cycles() - start < arch_cycles_hz() * 2)
		cpu_relax();
	p->answered = __atomic_load_n(&p->back_ran, __ATOMIC_ACQUIRE);
}

/*
 * A waiter with interrupts masked still serves calls made to it: CPU 0 waits for CPU 1 with
 * interrupts off, and CPU 1's call needs CPU 0 to run something first. Without the waiter's
 * poll of its own queue, CPU 1 would give up after 2 s (and with a waiting call, both would
 * spin for ever).
 */
static void waiting_with_interrupts_masked_serves_calls(struct kunit *test)
{
	static struct ping p;
	unsigned long flags;
	int ret;

	need_smp(test);
	p = (struct ping){ 0 };
	local_irq_save(flags);
	ret = smp_call_function_single(1, call_back_and_wait, &p, true);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, p.answered);
}

struct irq_call {
	int ran;
	int wait_ret, nowait_ret;
	unsigned long warnings;
	struct where w;
};

static void call_from_irq(void *arg)
{
	struct irq_call *c = arg;
	unsigned int target = num_online_cpus() > 1 ? 1 : 0;
	unsigned long before = warn_count();

	c->wait_ret = smp_call_function_single(target, note_cpu, &c->w, true);
	c->warnings = warn_count() - before;
	c->nowait_ret = smp_call_function_single(target, note_cpu, &c->w, false);
	__atomic_store_n(&c->ran, 1, __ATOMIC_RELEASE);
}

/* A handler that waited for another CPU could deadlock: refused, with a warning (once). */
static void waiting_from_interrupt_context_is_refused(struct kunit *test)
{
	static struct irq_call c;
	unsigned int target = num_online_cpus() > 1 ? 1 : 0;
	u64 start = timer_ticks();

	memset(&c, 0, sizeof(c));
	timer_call_once(call_from_irq, &c);
	while (!__atomic_load_n(&c.ran, __ATOMIC_ACQUIRE) && timer_ticks() - start < 100)
		arch_wait_for_interrupt();
	KUNIT_ASSERT_TRUE(test, __atomic_load_n(&c.ran, __ATOMIC_ACQUIRE));
	KUNIT_EXPECT_EQ(test, c.wait_ret, -EDEADLK);
	KUNIT_EXPECT_LE(test, c.warnings, 1); /* WARN_ONCE: only the first time in a boot */
	/* Without wait it is fine, and the call runs. */
	KUNIT_EXPECT_EQ(test, c.nowait_ret, 0);
	start = timer_ticks();
	while (!__atomic_load_n(&c.w.ran[target], __ATOMIC_ACQUIRE) && timer_ticks() - start < 100)
		cpu_relax();
	KUNIT_EXPECT_EQ(test, __atomic_load_n(&c.w.ran[target], __ATOMIC_ACQUIRE), 1);
}

/* ------------------------------------------------------------------ shootdown counts */

#define COUNT_PAGES 8

static void read_pages(void *arg)
{
	unsigned long va = *(unsigned long *)arg;

	for (unsigned int i = 0; i < COUNT_PAGES; i++)
		(void)kunit_peek(va + i * PAGE_SIZE);
}

/*
 * A batched protect of N pages: one shootdown, one IPI per other CPU on x86 (the batch's
 * ranges travel with it); eager: one per page. arm64: broadcast TLBIs, never an IPI.
 */
static void shootdown_ipis_per_batch_and_per_page(struct kunit *test)
{
	unsigned long va = vm_test_area(COUNT_PAGES);
	unsigned int others = num_online_cpus() - 1;
	u64 per_flush = ARCH_TLB_SHOOTDOWN_IPIS ? others : 0;
	phys_addr_t frames[COUNT_PAGES];
	struct tlb_stats batched, eager;

	KUNIT_ASSERT_NE(test, va, 0);
	for (unsigned int i = 0; i < COUNT_PAGES; i++) {
		frames[i] = tagged_frame(i);
		KUNIT_ASSERT_NE(test, frames[i], 0);
		KUNIT_ASSERT_EQ(
		    test, map_pages(&init_mm, va + i * PAGE_SIZE, frames[i], 1, PAGE_KERNEL), 0);
	}
	/* Every CPU caches the translations first: they really have something to drop. */
	KUNIT_ASSERT_EQ(test, on_each_cpu(read_pages, &va, true), 0);

	tlb_stats_reset();
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, COUNT_PAGES, PAGE_KERNEL_RO), 0);
	batched = stats();

	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	KUNIT_ASSERT_EQ(test, on_each_cpu(read_pages, &va, true), 0);
	tlb_stats_reset();
	KUNIT_EXPECT_EQ(test, protect_pages(&init_mm, va, COUNT_PAGES, PAGE_KERNEL), 0);
	eager = stats();
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);

	kunit_info(test,
		   "%u CPUs, protect of %u pages, batched: pte_writes %llu batches %llu tlbi_page "
		   "%llu tlbi_range %llu tlbi_all %llu ipis_sent %llu shootdowns %llu",
		   num_online_cpus(), COUNT_PAGES, (unsigned long long)batched.pte_writes,
		   (unsigned long long)batched.batches, (unsigned long long)batched.tlbi_page,
		   (unsigned long long)batched.tlbi_range, (unsigned long long)batched.tlbi_all,
		   (unsigned long long)batched.ipis_sent, (unsigned long long)batched.shootdowns);
	kunit_info(test,
		   "eager: pte_writes %llu batches %llu tlbi_page %llu ipis_sent %llu shootdowns "
		   "%llu",
		   (unsigned long long)eager.pte_writes, (unsigned long long)eager.batches,
		   (unsigned long long)eager.tlbi_page, (unsigned long long)eager.ipis_sent,
		   (unsigned long long)eager.shootdowns);
	KUNIT_EXPECT_EQ(test, batched.ipis_sent, per_flush);
	KUNIT_EXPECT_EQ(test, batched.shootdowns, per_flush ? 1 : 0);
	KUNIT_EXPECT_EQ(test, eager.ipis_sent, COUNT_PAGES * per_flush);
	KUNIT_EXPECT_EQ(test, eager.shootdowns, per_flush ? COUNT_PAGES : 0);

	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, COUNT_PAGES), 0);
	for (unsigned int i = 0; i < COUNT_PAGES; i++)
		free_frame(frames[i]);
}

/* ------------------------------------------------------------------ remote reads */

struct remote_case {
	unsigned long va;
	pte_t *ptep;
	phys_addr_t a, b;
	struct smp_probe probe[NR_CPUS];
};

/* Every other CPU reads va once (caching its translation) and waits. */
static void probes_start(struct kunit *test, struct remote_case *r)
{
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++)
		if (cpu_online(cpu))
			KUNIT_ASSERT_TRUE(test, smp_probe_start(&r->probe[cpu], cpu, r->va));
}

/* They read again; each must see `want` (a tag, or -1 for a fault) having first seen `had`. */
static void probes_expect(struct kunit *test, struct remote_case *r, s64 had, s64 want,
			  const char *what)
{
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		KUNIT_ASSERT_TRUE(test, smp_probe_finish(&r->probe[cpu]));
		KUNIT_EXPECT_EQ(test, r->probe[cpu].before, had);
		if (r->probe[cpu].after != want)
			kunit_info(test, "%s: CPU %u read %#llx, expected %#llx", what, cpu,
				   (unsigned long long)r->probe[cpu].after,
				   (unsigned long long)want);
		KUNIT_EXPECT_EQ(test, r->probe[cpu].after, want);
	}
}

static void point(struct remote_case *r, phys_addr_t pa)
{
	pte_update(&init_mm, r->va, r->ptep, pa ? mk_pte(pa, PAGE_KERNEL) : __pte(0));
}

/*
 * The guarantee across CPUs: after disable() (outer or nested, page by page or one full
 * flush) or pause(), no other CPU reads the old frame, or reads at all after an unmap -
 * although each had cached the old translation just before.
 */
static void other_cpus_never_see_the_old_frame(struct kunit *test)
{
	static struct remote_case r;
	unsigned long ceiling;

	need_smp(test);
	memset(&r, 0, sizeof(r));
	r.va = vm_test_area(1);
	r.a = tagged_frame(0);
	r.b = tagged_frame(1);
	KUNIT_ASSERT_TRUE(test, r.va && r.a && r.b);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, r.va, r.a, 1, PAGE_KERNEL), 0);
	r.ptep = pte_lookup(&init_mm, r.va);

	/* Outer section: remap A -> B. */
	probes_start(test, &r);
	lazy_mmu_mode_enable();
	point(&r, r.b);
	lazy_mmu_mode_disable();
	probes_expect(test, &r, tag_of(0), tag_of(1), "after disable()");

	/* Nested: B -> A, checked after the inner disable() while the outer section is on. */
	probes_start(test, &r);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	point(&r, r.a);
	lazy_mmu_mode_disable();
	probes_expect(test, &r, tag_of(1), tag_of(0), "after a nested disable()");
	lazy_mmu_mode_disable();

	/* Paused: A -> B takes effect at once. */
	probes_start(test, &r);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_pause();
	point(&r, r.b);
	probes_expect(test, &r, tag_of(0), tag_of(1), "while paused");
	lazy_mmu_mode_resume();
	lazy_mmu_mode_disable();

	/* Above the ceiling (0 here): B -> A as one full flush, on every CPU. */
	probes_start(test, &r);
	ceiling = tlb_flush_ceiling;
	tlb_flush_ceiling = 0;
	lazy_mmu_mode_enable();
	point(&r, r.a);
	lazy_mmu_mode_disable();
	tlb_flush_ceiling = ceiling;
	probes_expect(test, &r, tag_of(1), tag_of(0), "after a full-flush disable()");

	/* Unmap: nobody reads anything any more. */
	probes_start(test, &r);
	lazy_mmu_mode_enable();
	point(&r, 0);
	lazy_mmu_mode_disable();
	probes_expect(test, &r, tag_of(0), -1, "after unmap and disable()");

	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, r.va, 1), -ENOENT); /* already gone */
	free_frame(r.a);
	free_frame(r.b);
}

struct write_probe {
	unsigned long va;
	int phase;
	int before, after; /* copy_to_kernel_nofault() results */
};

static void write_probe_fn(void *arg)
{
	struct write_probe *p = arg;
	u64 v = 0;

	/* A write through the entry caches it writable (and dirty): the case to get wrong. */
	p->before = copy_to_kernel_nofault((void *)(p->va + 8), &v, sizeof(v));
	__atomic_store_n(&p->phase, SMP_PROBE_CACHED, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != SMP_PROBE_GO)
		cpu_relax();
	p->after = copy_to_kernel_nofault((void *)(p->va + 8), &v, sizeof(v));
	__atomic_store_n(&p->phase, SMP_PROBE_DONE, __ATOMIC_RELEASE);
}

static bool write_probe_wait(struct write_probe *p, int phase)
{
	u64 start = arch_cycles();

	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != phase)
		if (arch_cycles() - start > arch_cycles_hz() * 5)
			return false;
	return true;
}

/* The same for permissions: after a batched protect, no other CPU can still write. */
static void other_cpus_never_keep_the_old_permission(struct kunit *test)
{
	static struct write_probe p[NR_CPUS];
	unsigned long va;
	phys_addr_t pa;

	need_smp(test);
	va = vm_test_area(1);
	pa = tagged_frame(0);
	KUNIT_ASSERT_TRUE(test, va && pa);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		p[cpu] = (struct write_probe){ .va = va, .phase = SMP_PROBE_IDLE };
		KUNIT_ASSERT_EQ(test, smp_call_function_single(cpu, write_probe_fn, &p[cpu], false),
				0);
		KUNIT_ASSERT_TRUE(test, write_probe_wait(&p[cpu], SMP_PROBE_CACHED));
	}
	lazy_mmu_mode_enable();
	pte_update(&init_mm, va, pte_lookup(&init_mm, va), mk_pte(pa, PAGE_KERNEL_RO));
	lazy_mmu_mode_disable();
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		__atomic_store_n(&p[cpu].phase, SMP_PROBE_GO, __ATOMIC_RELEASE);
		KUNIT_ASSERT_TRUE(test, write_probe_wait(&p[cpu], SMP_PROBE_DONE));
		KUNIT_EXPECT_EQ(test, p[cpu].before, 0);
		KUNIT_EXPECT_EQ(test, p[cpu].after, -EFAULT);
	}
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(pa);
}

/* ------------------------------------------------------------------ parallel mapping */

#define PAR_PAGES  8
#define PAR_ROUNDS 4

struct par {
	unsigned long va[NR_CPUS];
	unsigned int errors[NR_CPUS];
	unsigned int rounds[NR_CPUS];
};

/*
 * Fresh frames for PAR_PAGES pages from va (each its own map_pages()), then a tag written
 * and read through every page: the write must land in this CPU's own frame, through its own
 * mapping. Returns how many things went wrong; f[] holds what must be freed.
 */
static unsigned int par_map_and_check(unsigned long va, phys_addr_t *f, unsigned int cpu,
				      unsigned int r)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < PAR_PAGES; i++) {
		f[i] = alloc_frame();
		if (!f[i] || map_pages(&init_mm, va + i * PAGE_SIZE, f[i], 1, PAGE_KERNEL))
			bad++;
	}
	for (unsigned int i = 0; i < PAR_PAGES && !bad; i++) {
		u64 tag = (u64)cpu << 40 | (u64)r << 16 | i, v = 0;

		bad += copy_to_kernel_nofault((void *)(va + i * PAGE_SIZE), &tag, 8) != 0;
		bad += copy_from_kernel_nofault(&v, (void *)(va + i * PAGE_SIZE), 8) != 0;
		bad += v != tag || *(volatile u64 *)phys_to_virt(f[i]) != tag;
	}
	return bad;
}

/* After the unmap: every page faults, and its frame goes back. */
static unsigned int par_check_gone_and_free(unsigned long va, const phys_addr_t *f)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < PAR_PAGES; i++) {
		bad += kunit_peek(va + i * PAGE_SIZE) != -1;
		if (f[i])
			free_frame(f[i]);
	}
	return bad;
}

/* One CPU's share: map fresh frames, write and read through them, unmap, free; repeat. */
static void par_worker(void *arg)
{
	struct par *p = arg;
	unsigned int cpu = smp_processor_id();
	unsigned long va = p->va[cpu];

	for (unsigned int r = 0; r < PAR_ROUNDS; r++) {
		phys_addr_t f[PAR_PAGES];
		unsigned int bad = par_map_and_check(va, f, cpu, r);

		bad += unmap_pages(&init_mm, va, PAR_PAGES) != 0;
		bad += par_check_gone_and_free(va, f);
		p->errors[cpu] += bad;
		p->rounds[cpu]++;
	}
}

/*
 * Every CPU at once (on_each_cpu: interrupt context, so every update completes at once, with
 * its shootdown) maps, uses and unmaps its own range, sharing the upper-level tables and the
 * frame allocator under their locks. Every access lands where it should, and afterwards
 * every frame - the data frames and the leaf tables created and pruned - is back.
 */
static void cpus_map_and_unmap_disjoint_ranges_at_once(struct kunit *test)
{
	static struct par p;
	unsigned long before;

	need_smp(test);
	memset(&p, 0, sizeof(p));
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		p.va[cpu] = vm_test_area(PAR_PAGES);
		KUNIT_ASSERT_NE(test, p.va[cpu], 0);
	}
	before = frames_free();
	KUNIT_ASSERT_EQ(test, on_each_cpu(par_worker, &p, true), 0);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		KUNIT_EXPECT_EQ(test, p.rounds[cpu], PAR_ROUNDS);
		KUNIT_EXPECT_EQ(test, p.errors[cpu], 0);
	}
	KUNIT_EXPECT_EQ(test, frames_free(), before);
	kunit_info(test,
		   "%u CPUs x %u rounds of map/write/read/unmap of %u pages: frames %lu "
		   "before, %lu after",
		   num_online_cpus(), PAR_ROUNDS, PAR_PAGES, before, frames_free());
}

/* One thread's share: the same, but in lazy MMU sections, batched, and preemptible. */
static int par_thread(void *arg)
{
	struct par *p = arg;
	unsigned int cpu = smp_processor_id();
	unsigned long va = p->va[cpu];

	for (unsigned int r = 0; r < PAR_ROUNDS; r++) {
		phys_addr_t f[PAR_PAGES];
		unsigned int bad;

		lazy_mmu_mode_enable();
		/* A nested disable() inside each map_pages() made the pages usable. */
		bad = par_map_and_check(va, f, cpu, r);
		bad += protect_pages(&init_mm, va, PAR_PAGES, PAGE_KERNEL_RO) != 0;
		bad += kunit_can_write(va); /* read-only now, inside the section still */
		bad += unmap_pages(&init_mm, va, PAR_PAGES) != 0;
		lazy_mmu_mode_disable();
		bad += par_check_gone_and_free(va, f);
		p->errors[cpu] += bad;
		p->rounds[cpu]++;
		cond_resched();
	}
	return 0;
}

/*
 * The same from kernel threads, one bound to each CPU: sections open on several CPUs at
 * once, so batches that owe invalidations exist on other CPUs while a CPU makes new
 * entries (mm/pgtable.c's cross-CPU make rule), and threads may be preempted inside them.
 */
static void threads_map_and_unmap_disjoint_ranges_at_once(struct kunit *test)
{
	static struct par p;
	static struct task *t[NR_CPUS];
	unsigned long before;

	need_smp(test);
	memset(&p, 0, sizeof(p));
	memset(t, 0, sizeof(t));
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		p.va[cpu] = vm_test_area(PAR_PAGES);
		KUNIT_ASSERT_NE(test, p.va[cpu], 0);
	}
	before = frames_free();
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpu_online(cpu))
			t[cpu] = kthread_run_on_cpu(par_thread, &p, cpu, "mapper");
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		KUNIT_ASSERT_NOT_NULL(test, t[cpu]);
		KUNIT_EXPECT_EQ(test, kthread_stop(t[cpu]), 0);
		KUNIT_EXPECT_EQ(test, p.rounds[cpu], PAR_ROUNDS);
		KUNIT_EXPECT_EQ(test, p.errors[cpu], 0);
	}
	KUNIT_EXPECT_EQ(test, frames_free(), before);
	kunit_info(test, "%u threads x %u rounds in sections: frames %lu before, %lu after",
		   num_online_cpus(), PAR_ROUNDS, before, frames_free());
}

/* ------------------------------------------------------------------ stress */

/*
 * Reader tasks on every other CPU (each one bound kernel thread, sweeping until told to
 * stop) read through STRESS_PAGES pages while CPU 0 remaps, protects and unmaps them inside nested and
 * paused sections. Per page, a sequence count (odd while the writer is changing it) and
 * the state the writer published after the disable()/pause() that made it take effect:
 * the version of the frame mapped (each new frame carries a new, higher version in its
 * first word) and whether it is RW, RO or unmapped. A reader that starts after a state
 * was published must never see anything older:
 *   - a read that succeeds returns at least the published version, and more than it if the
 *     page was published unmapped; never a retired frame (retired frames are poisoned);
 *   - if the sequence count did not move during the access (no change in progress): an
 *     unmapped page faults, a mapped page reads exactly its version, a read-only page
 *     refuses a write.
 */
#define STRESS_PAGES	 32 /* many per section: more remaps per x86 shootdown */
#define STRESS_MAX_MS	 2000
#define STRESS_TARGET	 100000
#define STRESS_POISON	 0xdead000000000000ULL
#define STRESS_RETIRED	 64
#define KIND_RW		 0
#define KIND_RO		 1
#define KIND_UNMAPPED	 2
#define STATE(ver, kind) ((ver) << 2 | (kind))

struct stress {
	unsigned long va;
	pte_t *ptep[STRESS_PAGES];
	phys_addr_t cur[STRESS_PAGES];
	u64 cur_ver[STRESS_PAGES];
	u64 next_ver;
	u32 seq[STRESS_PAGES];	 /* odd: the writer is changing the page */
	u64 state[STRESS_PAGES]; /* STATE(version, kind), published when in effect */
	phys_addr_t retire_now[2 * STRESS_PAGES];
	unsigned int nr_retire_now;
	phys_addr_t retired[STRESS_RETIRED]; /* poisoned, freed later (delays reuse) */
	unsigned int retired_head;
	int stop;
	unsigned int running;
	u64 reads[NR_CPUS], stable_checks[NR_CPUS];
	unsigned int violations;
	struct {
		unsigned int cpu, page, rc;
		u64 state, value;
		bool stable;
	} first;
};

static void stress_violation(struct stress *s, unsigned int page, u64 state, u64 value, int rc,
			     bool stable)
{
	if (__atomic_fetch_add(&s->violations, 1, __ATOMIC_ACQ_REL) == 0) {
		s->first.cpu = smp_processor_id();
		s->first.page = page;
		s->first.state = state;
		s->first.value = value;
		s->first.rc = (unsigned int)rc;
		s->first.stable = stable;
	}
}

/* One sweep over every page, checking what the state published before it allows. */
static u64 stress_sweep(struct stress *s, unsigned int me, u64 n)
{
	for (unsigned int p = 0; p < STRESS_PAGES; p++) {
		unsigned long va = s->va + p * PAGE_SIZE;
		u32 c0 = __atomic_load_n(&s->seq[p], __ATOMIC_ACQUIRE), c1;
		u64 st = __atomic_load_n(&s->state[p], __ATOMIC_ACQUIRE), v = 0, w = 0;
		u64 ver = st >> 2, kind = st & 3;
		int rc, wrc = 1;
		bool stable;

		rc = copy_from_kernel_nofault(&v, (const void *)va, sizeof(v));
		if (kind == KIND_RO && (n & 3) == 0)
			wrc = copy_to_kernel_nofault((void *)(va + 8), &w, sizeof(w));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		c1 = __atomic_load_n(&s->seq[p], __ATOMIC_ACQUIRE);
		stable = c0 == c1 && !(c0 & 1);
		n++;
		if (rc == 0 && ((v & STRESS_POISON) == STRESS_POISON || v < ver ||
				(kind == KIND_UNMAPPED && v == ver)))
			stress_violation(s, p, st, v, rc, stable);
		if (!stable)
			continue;
		s->stable_checks[me]++;
		if ((kind == KIND_UNMAPPED && rc == 0) ||
		    (kind != KIND_UNMAPPED && (rc != 0 || v != ver)) ||
		    (kind == KIND_RO && wrc == 0))
			stress_violation(s, p, st, v, rc, stable);
	}
	return n;
}

/* A reader task, bound to its CPU: sweeps until the writer says stop. */
static int stress_reader(void *arg)
{
	struct stress *s = arg;
	unsigned int me = smp_processor_id();
	unsigned long flags;
	u64 n = 0;

	__atomic_fetch_add(&s->running, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		/*
		 * x86: after each sweep, sleep until the next shootdown instead of spinning:
		 * with 4 vCPUs on 2 host cores, three spinning readers would leave the writer a
		 * fraction of a core, and every shootdown would wait for three descheduled
		 * CPUs. With interrupts masked, hlt wakes only for an NMI - a shootdown - so a
		 * sweep follows each one, right when a missed invalidation would show. The
		 * timer interrupts that came meanwhile are taken when interrupts come back on.
		 * (arm64 needs no IPI and this waits for nothing: the readers just spin.)
		 */
		local_irq_save(flags);
		n = stress_sweep(s, me, n);
		if (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
			arch_wait_for_tlb_shootdown();
		local_irq_restore(flags);
	}
	s->reads[me] = n;
	__atomic_fetch_sub(&s->running, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static void stress_begin(struct stress *s, unsigned int p)
{
	__atomic_store_n(&s->seq[p], s->seq[p] + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* odd before the entry changes */
}

static void stress_publish(struct stress *s, unsigned int p, u64 kind)
{
	__atomic_store_n(&s->state[p], STATE(s->cur_ver[p], kind), __ATOMIC_RELEASE);
	__atomic_store_n(&s->seq[p], s->seq[p] + 1, __ATOMIC_RELEASE);
}

/* Frames unmapped by the change just published: poison them, free them later. */
static void stress_retire(struct stress *s)
{
	for (unsigned int i = 0; i < s->nr_retire_now; i++) {
		phys_addr_t *slot = &s->retired[s->retired_head++ % STRESS_RETIRED];

		*(volatile u64 *)phys_to_virt(s->retire_now[i]) |= STRESS_POISON;
		if (*slot)
			free_frame(*slot);
		*slot = s->retire_now[i];
	}
	s->nr_retire_now = 0;
}

/* Points page p at a new frame with the next version (RW); the old one is retired. */
static bool stress_remap(struct stress *s, unsigned int p)
{
	phys_addr_t pa = alloc_frame();

	if (!pa)
		return false;
	s->cur_ver[p] = ++s->next_ver;
	*(volatile u64 *)phys_to_virt(pa) = s->cur_ver[p];
	stress_begin(s, p);
	pte_update(&init_mm, s->va + p * PAGE_SIZE, s->ptep[p], mk_pte(pa, PAGE_KERNEL));
	if (s->cur[p])
		s->retire_now[s->nr_retire_now++] = s->cur[p];
	s->cur[p] = pa;
	return true;
}

static void stress_protect(struct stress *s, unsigned int p)
{
	stress_begin(s, p);
	pte_update(&init_mm, s->va + p * PAGE_SIZE, s->ptep[p], mk_pte(s->cur[p], PAGE_KERNEL_RO));
}

static void stress_unmap(struct stress *s, unsigned int p)
{
	stress_begin(s, p);
	pte_update(&init_mm, s->va + p * PAGE_SIZE, s->ptep[p], __pte(0));
	s->retire_now[s->nr_retire_now++] = s->cur[p];
	s->cur[p] = 0;
}

/*
 * One round, over the 32 pages in quarters Q0..Q3 (8 pages each):
 *   enable; remap Q0,Q1; [enable; remap Q2,Q3; disable] -> all 32 published
 *   pause; protect half of Q0 read-only, each published as soon as pte_update() returns;
 *   resume; unmap the other half of Q0; disable -> published
 *   enable; remap Q0 (back to RW, new frames); disable -> published
 * 40 remaps, 4 protects, 4 unmaps per round.
 */
#define STRESS_ROUND_REMAPS 40

static bool stress_round(struct stress *s)
{
	bool ok = true;

	lazy_mmu_mode_enable();
	for (unsigned int p = 0; p < 16; p++)
		ok &= stress_remap(s, p);
	lazy_mmu_mode_enable();
	for (unsigned int p = 16; p < 32; p++)
		ok &= stress_remap(s, p);
	lazy_mmu_mode_disable(); /* nested: all 32 in effect now */
	for (unsigned int p = 0; p < 32; p++)
		stress_publish(s, p, KIND_RW);
	stress_retire(s);

	lazy_mmu_mode_pause();
	for (unsigned int p = 0; p < 4; p++) {
		stress_protect(s, p); /* paused: in effect when pte_update() returns */
		stress_publish(s, p, KIND_RO);
	}
	lazy_mmu_mode_resume();
	for (unsigned int p = 4; p < 8; p++)
		stress_unmap(s, p);
	lazy_mmu_mode_disable();
	for (unsigned int p = 4; p < 8; p++)
		stress_publish(s, p, KIND_UNMAPPED);
	stress_retire(s);

	lazy_mmu_mode_enable();
	for (unsigned int p = 0; p < 8; p++)
		ok &= stress_remap(s, p);
	lazy_mmu_mode_disable();
	for (unsigned int p = 0; p < 8; p++)
		stress_publish(s, p, KIND_RW);
	stress_retire(s);
	return ok;
}

/*
 * How long the writer runs: STRESS_MAX_MS, or smp.stress_ms=N from the command line (to
 * let a slow configuration reach STRESS_TARGET remaps). It stops at STRESS_TARGET either way.
 */
static u64 stress_ms(void)
{
	char buf[16];
	u64 ms = 0;

	if (!cmdline_get(&boot_info, "smp.stress_ms", buf, sizeof(buf)))
		return STRESS_MAX_MS;
	for (const char *c = buf; *c >= '0' && *c <= '9'; c++)
		ms = ms * 10 + (u64)(*c - '0');
	return ms ? ms : STRESS_MAX_MS;
}

static void remote_readers_never_see_old_frames_under_stress(struct kunit *test)
{
	static struct stress s;
	static struct task *tasks[NR_CPUS];
	unsigned int readers = 0, rounds = 0;
	u64 start, remaps = 0, reads = 0, stable = 0, limit = arch_cycles_hz() / 1000 * stress_ms();
	struct tlb_stats st;
	bool ok = true;

	need_smp(test);
	memset(&s, 0, sizeof(s));
	memset(tasks, 0, sizeof(tasks));
	s.va = vm_test_area(STRESS_PAGES);
	KUNIT_ASSERT_NE(test, s.va, 0);
	for (unsigned int p = 0; p < STRESS_PAGES; p++) {
		phys_addr_t pa = alloc_frame();

		KUNIT_ASSERT_NE(test, pa, 0);
		s.cur[p] = pa;
		s.cur_ver[p] = ++s.next_ver;
		*(u64 *)phys_to_virt(pa) = s.cur_ver[p];
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, s.va + p * PAGE_SIZE, pa, 1, PAGE_KERNEL),
				0);
		s.ptep[p] = pte_lookup(&init_mm, s.va + p * PAGE_SIZE);
		s.state[p] = STATE(s.cur_ver[p], KIND_RW);
	}
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		tasks[cpu] = kthread_run_on_cpu(stress_reader, &s, cpu, "reader");
		KUNIT_ASSERT_NOT_NULL(test, tasks[cpu]);
		readers++;
	}
	start = arch_cycles();
	while (__atomic_load_n(&s.running, __ATOMIC_ACQUIRE) < readers &&
	       arch_cycles() - start < limit)
		cpu_relax();
	KUNIT_EXPECT_EQ(test, __atomic_load_n(&s.running, __ATOMIC_ACQUIRE), readers);

	tlb_stats_reset();
	start = arch_cycles();
	while (ok && remaps < STRESS_TARGET && arch_cycles() - start < limit) {
		ok = stress_round(&s);
		remaps += STRESS_ROUND_REMAPS;
		rounds++;
	}
	st = stats();
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	start = arch_cycles();
	while (__atomic_load_n(&s.running, __ATOMIC_ACQUIRE) && arch_cycles() - start < limit) {
		/* A reader asleep until the next shootdown needs one (x86): remap a page. */
		lazy_mmu_mode_enable();
		ok &= stress_remap(&s, 0);
		lazy_mmu_mode_disable();
		stress_publish(&s, 0, KIND_RW);
		stress_retire(&s);
	}
	KUNIT_ASSERT_EQ(test, __atomic_load_n(&s.running, __ATOMIC_ACQUIRE), 0);
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++)
		if (tasks[cpu])
			KUNIT_EXPECT_EQ(test, kthread_stop(tasks[cpu]), 0);
	KUNIT_EXPECT_TRUE(test, ok); /* no frame ran out */

	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		reads += s.reads[cpu];
		stable += s.stable_checks[cpu];
		if (cpu_online(cpu))
			KUNIT_EXPECT_GT(test, s.reads[cpu], 0);
	}
	kunit_info(test,
		   "%u readers, %llu remaps in %u rounds (bound: %llu remaps or %llu ms), %llu "
		   "remote reads (%llu with no change in flight), %llu shootdowns, %llu IPIs, "
		   "%u violations",
		   readers, (unsigned long long)remaps, rounds, (unsigned long long)STRESS_TARGET,
		   (unsigned long long)stress_ms(), (unsigned long long)reads,
		   (unsigned long long)stable, (unsigned long long)st.shootdowns,
		   (unsigned long long)st.ipis_sent, s.violations);
	if (s.violations)
		kunit_info(test,
			   "first: CPU %u page %u state %#llx (version %llu kind %llu) read "
			   "%#llx rc %d, %s",
			   s.first.cpu, s.first.page, (unsigned long long)s.first.state,
			   (unsigned long long)(s.first.state >> 2),
			   (unsigned long long)(s.first.state & 3),
			   (unsigned long long)s.first.value, (int)s.first.rc,
			   s.first.stable ? "no change in flight" : "in flight");
	KUNIT_EXPECT_EQ(test, s.violations, 0);
	KUNIT_EXPECT_GT(test, rounds, 0);

	for (unsigned int p = 0; p < STRESS_PAGES; p++) {
		if (s.cur[p]) {
			KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, s.va + p * PAGE_SIZE, 1), 0);
			free_frame(s.cur[p]);
		}
	}
	for (unsigned int i = 0; i < STRESS_RETIRED; i++)
		if (s.retired[i])
			free_frame(s.retired[i]);
}

static struct kunit_case smp_cases[] = {
	KUNIT_CASE(every_listed_cpu_is_online),
	KUNIT_CASE(a_cpu_that_never_comes_is_reported_and_skipped),
	KUNIT_CASE(every_cpu_takes_its_own_timer_ticks),
	KUNIT_CASE(kthreads_run_on_every_cpu),
	KUNIT_CASE(an_idle_cpu_starts_a_new_thread_at_once),
	KUNIT_CASE(on_each_cpu_runs_everywhere_in_interrupt_context),
	KUNIT_CASE(call_single_runs_on_its_target_only),
	KUNIT_CASE(calls_without_wait_all_run),
	KUNIT_CASE(waiting_from_interrupt_context_is_refused),
	KUNIT_CASE(waiting_with_interrupts_masked_serves_calls),
	KUNIT_CASE(shootdown_ipis_per_batch_and_per_page),
	KUNIT_CASE(other_cpus_never_see_the_old_frame),
	KUNIT_CASE(other_cpus_never_keep_the_old_permission),
	KUNIT_CASE(cpus_map_and_unmap_disjoint_ranges_at_once),
	KUNIT_CASE(threads_map_and_unmap_disjoint_ranges_at_once),
	KUNIT_CASE(remote_readers_never_see_old_frames_under_stress),
	{}
};

static struct kunit_suite smp_suite = {
	.name = "smp",
	.test_cases = smp_cases,
};
kunit_test_suite(smp_suite);
