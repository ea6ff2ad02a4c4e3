/*
 * User address spaces on the real MMU, driven from a kernel thread that adopts the mm
 * (kthread_use_mm()): the hardware must see what mm/ promised - demand-zero pages readable
 * through the user address, a fork's write-protection visible after its one flush, munmap'd
 * pages gone - checked by accessing the user addresses themselves (nofault accessors).
 */
#include <kernel/fault.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/task.h>
#include <kernel/uapi.h>
#include <kernel/process.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>
#include <mm/user.h>

#define N_PAGES 64

static bool can_write(unsigned long uva)
{
	u8 b = 0x5a;

	return copy_to_kernel_nofault((void *)uva, &b, 1) == 0;
}

static bool can_read(unsigned long uva, u8 *out)
{
	return copy_from_kernel_nofault(out, (const void *)uva, 1) == 0;
}

/* A fresh mm with n pages mapped read-write and written through their user addresses. */
static struct mm_struct *mm_with_pages(struct kunit *test, unsigned long n, unsigned long *va)
{
	struct mm_struct *mm = mm_alloc();
	long addr;

	KUNIT_ASSERT_NOT_NULL(test, mm);
	addr = do_mmap(mm, 0, n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	KUNIT_ASSERT_GT(test, addr, 0);
	kthread_use_mm(mm);
	for (unsigned long i = 0; i < n; i++) {
		u8 v = (u8)i;

		KUNIT_ASSERT_EQ(test, handle_mm_fault(mm, addr + i * PAGE_SIZE, FAULT_WRITE), 0);
		KUNIT_ASSERT_EQ(test, copy_to_kernel_nofault((void *)(addr + i * PAGE_SIZE), &v, 1),
				0);
	}
	*va = (unsigned long)addr;
	return mm;
}

static void done_with(struct mm_struct *mm)
{
	kthread_unuse_mm(mm);
	mmput(mm);
}

/*
 * Every writable translation the TLB may hold must be gone after dup_mm(): otherwise the
 * parent could write a page the child shares. One batch for the parent's N entries (and
 * one publishing barrier for the child's tables).
 */
static void fork_write_protects_parent_with_one_flush(struct kunit *test)
{
	unsigned long va;
	struct mm_struct *parent = mm_with_pages(test, N_PAGES, &va), *child = mm_alloc();
	struct tlb_stats before, after;
	u8 b;

	KUNIT_ASSERT_NOT_NULL(test, child);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	tlb_stats_read(&before);
	KUNIT_ASSERT_EQ(test, dup_mm(child, parent), 0);
	tlb_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.batches - before.batches, 2);
	KUNIT_EXPECT_EQ(test, after.arch_flush - before.arch_flush, 0); /* no early flush */
	for (unsigned long i = 0; i < N_PAGES; i++) {
		KUNIT_EXPECT_FALSE(test, can_write(va + i * PAGE_SIZE));
		KUNIT_EXPECT_TRUE(test, can_read(va + i * PAGE_SIZE, &b));
		KUNIT_EXPECT_EQ(test, b, (u8)i);
	}
	/* A write fault on the parent's page copies nothing: the child's share is its own. */
	KUNIT_ASSERT_EQ(test, handle_mm_fault(parent, va, FAULT_WRITE), 0);
	KUNIT_EXPECT_TRUE(test, can_write(va));
	mmput(child);
	/* The child is gone: the next write fault reuses the frame in place. */
	KUNIT_ASSERT_EQ(test, handle_mm_fault(parent, va + PAGE_SIZE, FAULT_WRITE), 0);
	KUNIT_EXPECT_TRUE(test, can_write(va + PAGE_SIZE));
	done_with(parent);
}

/* mprotect and munmap of the loaded mm: after the call, the hardware agrees. */
static void mprotect_and_munmap_reach_the_tlb(struct kunit *test)
{
	static const enum lazy_mmu_backend backends[] = { LAZY_MMU_EAGER, LAZY_MMU_BATCHED };

	for (unsigned int k = 0; k < ARRAY_SIZE(backends); k++) {
		unsigned long va;
		struct mm_struct *mm;
		struct tlb_stats before, after;
		u8 b;

		lazy_mmu_set_backend(backends[k]);
		mm = mm_with_pages(test, N_PAGES, &va);
		tlb_stats_read(&before);
		KUNIT_ASSERT_EQ(test, do_mprotect(mm, va, N_PAGES * PAGE_SIZE, PROT_READ), 0);
		tlb_stats_read(&after);
		/* Batched: one flush for all; eager: one per page. */
		KUNIT_EXPECT_EQ(test, after.batches - before.batches,
				backends[k] == LAZY_MMU_BATCHED ? 1 : N_PAGES);
		for (unsigned long i = 0; i < N_PAGES; i++)
			KUNIT_EXPECT_FALSE(test, can_write(va + i * PAGE_SIZE));
		KUNIT_ASSERT_EQ(test, do_munmap(mm, va + PAGE_SIZE, (N_PAGES - 1) * PAGE_SIZE), 0);
		KUNIT_EXPECT_TRUE(test, can_read(va, &b));
		for (unsigned long i = 1; i < N_PAGES; i++)
			KUNIT_EXPECT_FALSE(test, can_read(va + i * PAGE_SIZE, &b));
		KUNIT_EXPECT_EQ(test, mm_user_pages(mm), 1);
		done_with(mm);
	}
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
}

/* The kernel half stays the kernel's: no user mm maps it, and user pages aren't kernel's. */
static void user_half_is_private(struct kunit *test)
{
	unsigned long va;
	struct mm_struct *a = mm_with_pages(test, 1, &va), *b;
	u8 byte;

	kthread_unuse_mm(a);
	b = mm_with_pages(test, 1, &va);
	/* The same address in b is b's own page, with b's byte (0), not a's. */
	KUNIT_EXPECT_TRUE(test, can_read(va, &byte));
	KUNIT_ASSERT_EQ(test, copy_to_user_mm(a, va, "A", 1), 0);
	KUNIT_EXPECT_TRUE(test, can_read(va, &byte));
	KUNIT_EXPECT_EQ(test, byte, 0);
	done_with(b);
	mmput(a);
}

struct lazy_probe {
	struct mm_struct *mm;
	unsigned long va;
	bool borrowed, readable;
};

/* On another CPU: load mm, cache va's translation by reading it, and go lazy. */
static int cache_then_go_lazy(void *arg)
{
	struct lazy_probe *p = arg;
	u8 b;

	kthread_use_mm(p->mm);
	p->readable = can_read(p->va, &b);
	kthread_unuse_mm(p->mm);
	return 0;
}

/* A kernel thread there later: it borrows whatever that CPU has loaded, and reads va. */
static int read_on_borrowed_tables(void *arg)
{
	struct lazy_probe *p = arg;
	u8 b;

	p->borrowed = this_cpu()->active_mm == p->mm;
	p->readable = can_read(p->va, &b);
	return 0;
}

/*
 * The lazy-TLB choice (docs/user.md): a CPU that ran mm and then only kernel threads keeps
 * mm loaded, stays in mm->cpumask, and so still receives mm's shootdowns. Its cached
 * translation of a page made PROT_NONE meanwhile must be gone when it next looks (x86: an
 * IPI reached it; arm64: the broadcast TLBI did) - were lazy CPUs skipped without a flush
 * at their next switch, it would still read the page.
 */
static void a_lazy_cpu_still_gets_the_shootdown(struct kunit *test)
{
	struct lazy_probe p = { 0 };
	unsigned int other = smp_processor_id() == 0 ? 1 : 0;
	struct task *t;
	struct mm_struct *mm;

	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: needs SMP=N with N > 1 (x86_64-pvh-smp4)");
	mm = mm_with_pages(test, 1, &p.va);
	p.mm = mm;
	t = kthread_run_on_cpu(cache_then_go_lazy, &p, other, "lazy-probe");
	KUNIT_ASSERT_NOT_NULL(test, t);
	kthread_stop(t);
	KUNIT_ASSERT_TRUE(test, p.readable);
	KUNIT_EXPECT_TRUE(test, __atomic_load_n(&mm->cpumask, __ATOMIC_RELAXED) & (1UL << other));

	KUNIT_ASSERT_EQ(test, do_mprotect(mm, p.va, PAGE_SIZE, PROT_NONE), 0);
	t = kthread_run_on_cpu(read_on_borrowed_tables, &p, other, "lazy-probe");
	KUNIT_ASSERT_NOT_NULL(test, t);
	kthread_stop(t);
	KUNIT_EXPECT_TRUE(test, p.borrowed);
	KUNIT_EXPECT_FALSE(test, p.readable);

	/* Once that CPU loads another mm, it leaves mm's cpumask: no more shootdowns for it. */
	{
		struct lazy_probe q = { .mm = mm_alloc() };

		KUNIT_ASSERT_NOT_NULL(test, q.mm);
		t = kthread_run_on_cpu(cache_then_go_lazy, &q, other, "lazy-probe");
		KUNIT_ASSERT_NOT_NULL(test, t);
		kthread_stop(t);
		KUNIT_EXPECT_FALSE(test, __atomic_load_n(&mm->cpumask, __ATOMIC_RELAXED) &
					     (1UL << other));
		KUNIT_EXPECT_TRUE(test, __atomic_load_n(&q.mm->cpumask, __ATOMIC_RELAXED) &
					    (1UL << other));
		mmput(q.mm);
	}
	done_with(mm);
	drop_lazy_mms();
}

static struct kunit_case user_mm_cases[] = {
	KUNIT_CASE(fork_write_protects_parent_with_one_flush),
	KUNIT_CASE(mprotect_and_munmap_reach_the_tlb),
	KUNIT_CASE(user_half_is_private),
	KUNIT_CASE(a_lazy_cpu_still_gets_the_shootdown),
	{},
};

static struct kunit_suite user_mm_suite = {
	.name = "user_mm",
	.test_cases = user_mm_cases,
};
kunit_test_suite(user_mm_suite);
