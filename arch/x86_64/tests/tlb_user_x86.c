/*
 * x86-64 TLB maintenance of user address spaces: only the CPUs in mm->cpumask get
 * shootdowns, a flush of an mm loaded elsewhere is caught up at its next load, PCIDs keep
 * an mm's entries across switches (where the CPU has them), NMIs may land in ring 3.
 */
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/preempt.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_stats.h>

#include "user_x86.h"

/* ux_spin (user_x86.c): spins rdi TSC cycles, then syscalls - the timer interrupts it. */

#define TAG_A 0xa0a0a0a0aULL
#define TAG_B 0xb0b0b0b0bULL
#define TAG_C 0xc0c0c0c0cULL

static struct user_env *tagged_env(struct kunit *test, u64 tag)
{
	struct user_env *e = user_env_new(test, ux_spin, ux_spin_end);

	if (e)
		*(volatile u64 *)phys_to_virt(e->data) = tag;
	return e;
}

static void need_cpus(struct kunit *test, unsigned int n)
{
	if (num_online_cpus() < n)
		kunit_skip(test, "needs %u CPUs online (x86_64-pvh-smp4)", n);
}

/* Loading an mm puts this CPU in its cpumask and makes it the loaded one; leaving, out. */
static void switch_joins_the_cpumask(struct kunit *test)
{
	struct user_env *e = tagged_env(test, TAG_A);
	unsigned int me;
	unsigned long flags, mask_in, mask_out;
	struct mm_struct *loaded;
	s64 seen;

	KUNIT_ASSERT_NOT_NULL(test, e);
	preempt_disable();
	me = this_cpu()->id;
	flags = arch_local_irq_save();
	user_env_load(e);
	mask_in = READ_ONCE(e->mm.cpumask);
	loaded = x86_tlb_state[me].loaded_mm;
	seen = kunit_peek(UX_DATA); /* the kernel reads through the user mapping */
	user_env_unload(e);
	mask_out = READ_ONCE(e->mm.cpumask);
	arch_local_irq_restore(flags);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, mask_in, 1UL << me);
	KUNIT_EXPECT_PTR_EQ(test, loaded, &e->mm);
	KUNIT_EXPECT_EQ(test, seen, TAG_A);
	KUNIT_EXPECT_EQ(test, mask_out, 0);
	KUNIT_EXPECT_PTR_EQ(test, x86_tlb_state[me].loaded_mm, this_cpu()->active_mm);
	user_env_free(e);
}

/*
 * An mm nobody has loaded: its flush sends nothing anywhere and invalidates nothing here
 * (invlpg would act on another address space), but counts in its tlb_gen.
 */
static void flush_of_an_unloaded_mm_is_a_generation(struct kunit *test)
{
	struct user_env *e = tagged_env(test, TAG_A);
	struct tlb_stats s0, s1;
	u64 gen;

	KUNIT_ASSERT_NOT_NULL(test, e);
	gen = e->mm.context.tlb_gen;
	tlb_stats_read(&s0);
	KUNIT_ASSERT_EQ(test, protect_pages(&e->mm, UX_DATA, 1, PAGE_USER_RO), 0);
	tlb_stats_read(&s1);
	KUNIT_EXPECT_EQ(test, e->mm.context.tlb_gen, gen + 1);
	KUNIT_EXPECT_EQ(test, s1.ipis_sent - s0.ipis_sent, 0);
	KUNIT_EXPECT_EQ(test, s1.shootdowns - s0.shootdowns, 0);
	/* With INVPCID a slot of it here could be cleaned; it has none (never loaded). */
	KUNIT_EXPECT_EQ(test, s1.tlbi_page - s0.tlbi_page, 0);
	KUNIT_EXPECT_EQ(test, s1.tlbi_all - s0.tlbi_all, 0);
	user_env_free(e);
}

/*
 * The same mm loaded here: the flush is one invlpg on this CPU, and what the kernel reads
 * through the user address afterwards is the new entry's.
 */
static void flush_of_the_loaded_mm_is_local(struct kunit *test)
{
	struct user_env *e = tagged_env(test, TAG_A);
	phys_addr_t other = alloc_frame();
	struct tlb_stats s0, s1;
	s64 before, after;
	unsigned long flags;

	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_NE(test, other, 0);
	*(volatile u64 *)phys_to_virt(other) = TAG_B;
	preempt_disable();
	flags = arch_local_irq_save();
	user_env_load(e);
	before = kunit_peek(UX_DATA);
	tlb_stats_read(&s0);
	pte_update(&e->mm, UX_DATA, pte_lookup(&e->mm, UX_DATA), mk_pte(other, PAGE_USER_RW));
	tlb_stats_read(&s1);
	after = kunit_peek(UX_DATA);
	pte_update(&e->mm, UX_DATA, pte_lookup(&e->mm, UX_DATA), mk_pte(e->data, PAGE_USER_RW));
	user_env_unload(e);
	arch_local_irq_restore(flags);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, before, TAG_A);
	KUNIT_EXPECT_EQ(test, after, TAG_B);
	KUNIT_EXPECT_EQ(test, s1.tlbi_page - s0.tlbi_page, 1);
	KUNIT_EXPECT_EQ(test, s1.ipis_sent - s0.ipis_sent, 0);
	free_frame(other);
	user_env_free(e);
}

/*
 * mm A and B on one CPU. A flush of A while B is loaded must be seen when A comes back; an
 * entry of A changed with no flush at all is the test of what a switch keeps: with PCIDs
 * the old translation survives B (A's PCID was never flushed: that is their point), without
 * them every switch drops it.
 */
static void switching_back_sees_flushes_made_meanwhile(struct kunit *test)
{
	struct user_env *a = tagged_env(test, TAG_A), *b = tagged_env(test, TAG_B);
	phys_addr_t c = alloc_frame();
	s64 cached, flushed, unflushed;
	struct tlb_stats s0, s1;
	unsigned long flags;
	pte_t *ptep;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NE(test, c, 0);
	*(volatile u64 *)phys_to_virt(c) = TAG_C;
	ptep = pte_lookup(&a->mm, UX_DATA);
	preempt_disable();
	flags = arch_local_irq_save();
	user_env_load(a);
	cached = kunit_peek(UX_DATA);
	user_env_unload(a);
	user_env_load(b);
	tlb_stats_read(&s0);
	pte_update(&a->mm, UX_DATA, ptep, mk_pte(c, PAGE_USER_RW)); /* a flush of A */
	tlb_stats_read(&s1);
	user_env_unload(b);
	user_env_load(a);
	flushed = kunit_peek(UX_DATA);
	/* No flush at all this time: only the switch can drop the translation. */
	WRITE_ONCE(*ptep, mk_pte(a->data, PAGE_USER_RW));
	user_env_unload(a);
	user_env_load(b);
	user_env_unload(b);
	user_env_load(a);
	unflushed = kunit_peek(UX_DATA);
	/* Leave A's tables and TLB in agreement. */
	pte_update(&a->mm, UX_DATA, ptep, mk_pte(a->data, PAGE_USER_RO));
	user_env_unload(a);
	arch_local_irq_restore(flags);
	preempt_enable();

	KUNIT_EXPECT_EQ(test, cached, TAG_A);
	KUNIT_EXPECT_EQ(test, flushed, TAG_C);
	KUNIT_EXPECT_EQ(test, s1.tlbi_page - s0.tlbi_page, x86_invpcid_on ? 1 : 0);
	if (x86_pcid_on)
		KUNIT_EXPECT_EQ(test, unflushed, TAG_C);
	else
		KUNIT_EXPECT_EQ(test, unflushed, TAG_A);
	kunit_info(test, "PCIDs %s: a switch %s an unflushed translation",
		   x86_pcid_on ? "on" : "off (CPUID.01H:ECX.PCID clear)",
		   x86_pcid_on ? "keeps" : "drops");
	free_frame(c);
	user_env_free(a);
	user_env_free(b);
}

/* A PCID slot per address space on this CPU, kept across switches; skipped without PCIDs. */
static void each_mm_keeps_its_pcid(struct kunit *test)
{
	struct user_env *a = tagged_env(test, TAG_A), *b = tagged_env(test, TAG_B);
	unsigned long flags, cr3_a, cr3_b, cr3_a2;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	if (!x86_pcid_on) {
		user_env_free(a);
		user_env_free(b);
		kunit_skip(test, "no PCIDs on this CPU (QEMU 7.2's TCG has none: -cpu max "
				 "leaves CPUID.01H:ECX.PCID clear)");
	}
	preempt_disable();
	flags = arch_local_irq_save();
	user_env_load(a);
	cr3_a = read_cr3();
	user_env_unload(a);
	user_env_load(b);
	cr3_b = read_cr3();
	user_env_unload(b);
	user_env_load(a);
	cr3_a2 = read_cr3();
	user_env_unload(a);
	arch_local_irq_restore(flags);
	preempt_enable();
	KUNIT_EXPECT_NE(test, cr3_a & X86_CR3_PCID, 0);
	KUNIT_EXPECT_NE(test, cr3_a & X86_CR3_PCID, cr3_b & X86_CR3_PCID);
	KUNIT_EXPECT_EQ(test, cr3_a2, cr3_a);
	if (this_cpu()->active_mm == &init_mm)
		KUNIT_EXPECT_EQ(test, read_cr3() & X86_CR3_PCID, 0); /* init_mm: PCID 0 */
	user_env_free(a);
	user_env_free(b);
}

/* ------------------------------------------------------------ several CPUs */

/*
 * A probe on another CPU that loads an mm, reads a user address through it (caching the
 * translation), waits, reads again, and loads back what it had. In one cross-call, in
 * interrupt context there: nothing else runs on that CPU meanwhile.
 */
struct mm_probe {
	struct user_env *e;
	int phase; /* 0 idle, 1 cached, 2 go, 3 done */
	s64 before, after;
};

static void mm_probe_fn(void *arg)
{
	struct mm_probe *p = arg;
	struct mm_struct *prev = x86_tlb_state[this_cpu()->id].loaded_mm;

	user_env_load(p->e);
	p->before = kunit_peek(UX_DATA);
	__atomic_store_n(&p->phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != 2)
		cpu_relax();
	p->after = kunit_peek(UX_DATA);
	arch_switch_mm(prev);
	__atomic_fetch_and(&p->e->mm.cpumask, ~(1UL << this_cpu()->id), __ATOMIC_RELAXED);
	__atomic_store_n(&p->phase, 3, __ATOMIC_RELEASE);
}

static bool mm_probe_wait(struct mm_probe *p, int phase)
{
	u64 start = arch_cycles(), limit = arch_cycles_hz() * 5;

	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != phase)
		if (arch_cycles() - start > limit)
			return false;
	return true;
}

/* Another CPU than this test's (tasks stay on their CPU for life). */
static unsigned int other_cpu(void)
{
	return this_cpu()->id == 0 ? 1 : 0;
}

/*
 * Another CPU has mm A loaded and a user page's translation cached; no other CPU, this one
 * included, has A. A flush of that page from here sends exactly one NMI, to that CPU, which
 * then faults on the page; once it has left A, the next flush of A sends none.
 */
static void shootdowns_go_only_to_the_cpumask(struct kunit *test)
{
	static struct mm_probe p;
	struct x86_shootdown_stats r0[NR_CPUS], r1[NR_CPUS];
	struct tlb_stats s0, s1, s2;
	struct user_env *e;

	unsigned int other = other_cpu();

	need_cpus(test, 3);
	e = tagged_env(test, TAG_A);
	KUNIT_ASSERT_NOT_NULL(test, e);
	p = (struct mm_probe){ .e = e };
	KUNIT_ASSERT_EQ(test, smp_call_function_single(other, mm_probe_fn, &p, false), 0);
	KUNIT_ASSERT_TRUE(test, mm_probe_wait(&p, 1));
	KUNIT_EXPECT_EQ(test, p.before, TAG_A);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->mm.cpumask), 1UL << other);

	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		x86_shootdown_stats_cpu(cpu, &r0[cpu]);
	tlb_stats_read(&s0);
	KUNIT_EXPECT_EQ(test, protect_pages(&e->mm, UX_DATA, 1, PAGE_NONE), 0);
	tlb_stats_read(&s1);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		x86_shootdown_stats_cpu(cpu, &r1[cpu]);
	__atomic_store_n(&p.phase, 2, __ATOMIC_RELEASE);
	KUNIT_ASSERT_TRUE(test, mm_probe_wait(&p, 3));

	KUNIT_EXPECT_EQ(test, s1.ipis_sent - s0.ipis_sent, 1);
	KUNIT_EXPECT_EQ(test, s1.shootdowns - s0.shootdowns, 1);
	KUNIT_EXPECT_EQ(test, r1[other].pages - r0[other].pages, 1);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpu != other)
			KUNIT_EXPECT_EQ(test, r1[cpu].nmis - r0[cpu].nmis, 0);
	/* The other CPU's cached translation is gone: the page is PROT_NONE now. */
	KUNIT_EXPECT_EQ(test, p.after, -1);

	/* Nobody has A loaded any more. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(e->mm.cpumask), 0);
	KUNIT_EXPECT_EQ(test, protect_pages(&e->mm, UX_DATA, 1, PAGE_USER_RW), 0);
	KUNIT_EXPECT_EQ(test, protect_pages(&e->mm, UX_DATA, 1, PAGE_USER_RO), 0);
	tlb_stats_read(&s2);
	KUNIT_EXPECT_EQ(test, s2.ipis_sent - s1.ipis_sent, 0);
	user_env_free(e);
}

/*
 * Another CPU keeps flushing a kernel page while this one runs user code: its shootdown
 * NMIs land in ring 3 (paranoid entry: swapgs by the MSR), and the user code runs on.
 */
struct nmi_hammer {
	unsigned long va;
	phys_addr_t frame[2];
	unsigned long flushes;
};

static int nmi_hammer_fn(void *arg)
{
	struct nmi_hammer *h = arg;

	while (!kthread_should_stop()) {
		pte_update(&init_mm, h->va, pte_lookup(&init_mm, h->va),
			   mk_pte(h->frame[h->flushes & 1], PAGE_KERNEL));
		h->flushes++;
		cpu_relax();
	}
	return 0;
}

static void nmis_in_ring3_come_and_go(struct kunit *test)
{
	static struct nmi_hammer h;
	struct user_env *e;
	struct x86_user_session s;
	struct task *t;

	need_cpus(test, 2);
	e = tagged_env(test, TAG_A);
	KUNIT_ASSERT_NOT_NULL(test, e);
	h = (struct nmi_hammer){ .va = vm_test_area(1) };
	h.frame[0] = alloc_frame();
	h.frame[1] = alloc_frame();
	KUNIT_ASSERT_NE(test, h.va, 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, h.va, h.frame[0], 1, PAGE_KERNEL), 0);
	/* The hammer runs on another CPU; the session here. */
	t = kthread_run_on_cpu(nmi_hammer_fn, &h, other_cpu(), "nmi_hammer");
	KUNIT_ASSERT_NOT_NULL(test, t);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = arch_cycles_hz() / 10; /* 100 ms */
	s.regs.rbx = 0xfeedfacecafeULL;
	s.regs.r14 = 0x1414141414ULL;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	kthread_stop(t);

	KUNIT_EXPECT_GT(test, h.flushes, 0);
	KUNIT_EXPECT_GE(test, s.nmis, 1);
	KUNIT_EXPECT_EQ(test, s.regs.rbx, 0xfeedfacecafeULL);
	KUNIT_EXPECT_EQ(test, s.regs.r14, 0x1414141414ULL);
	KUNIT_EXPECT_EQ(test, s.kernel_gs_base, (u64)(uintptr_t)this_cpu());
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), (u64)(uintptr_t)this_cpu());
	kunit_info(test, "%lu NMIs in ring 3 from %lu flushes, %lu interrupts", s.nmis, h.flushes,
		   s.irqs);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, h.va, 1), 0);
	free_frame(h.frame[0]);
	free_frame(h.frame[1]);
	user_env_free(e);
}

static struct kunit_case tlb_user_x86_cases[] = {
	KUNIT_CASE(switch_joins_the_cpumask),
	KUNIT_CASE(flush_of_an_unloaded_mm_is_a_generation),
	KUNIT_CASE(flush_of_the_loaded_mm_is_local),
	KUNIT_CASE(switching_back_sees_flushes_made_meanwhile),
	KUNIT_CASE(each_mm_keeps_its_pcid),
	KUNIT_CASE(shootdowns_go_only_to_the_cpumask),
	KUNIT_CASE(nmis_in_ring3_come_and_go),
	{},
};

static struct kunit_suite tlb_user_x86_suite = {
	.name = "tlb_user_x86",
	.test_cases = tlb_user_x86_cases,
};
kunit_test_suite(tlb_user_x86_suite);
