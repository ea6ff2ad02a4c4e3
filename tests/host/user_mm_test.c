/*
 * Host tests of user address spaces (mm/mmap.c, mm/memory.c) on the mock arch: the system
 * calls' checks, demand-zero and copy-on-write faults, fork's one flush, and that exit gives
 * every frame back.
 */
#include <kernel/boot_info.h>
#include <kernel/task.h>
#include <kernel/uapi.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/lazy_mmu.h>
#include <mm/user.h>
#include <stdlib.h>
#include <string.h>

extern struct tlb_batch mock_last_batch;
extern unsigned long mock_flushes;
extern unsigned long mock_free_at_flush;

#define ARENA_SIZE (32UL << 20)
#define RW	   (PROT_READ | PROT_WRITE)
#define ANON	   (MAP_PRIVATE | MAP_ANONYMOUS)

static void *arena;
static unsigned long base_free;

static int user_mm_init(struct kunit *test)
{
	static struct boot_info bi;

	(void)test;
	if (!arena)
		arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	memset(&bi, 0, sizeof(bi));
	boot_add_region(bi.ram, &bi.nr_ram, (phys_addr_t)(uintptr_t)arena, ARENA_SIZE);
	frames_init(&bi);
	tlb_flush_ceiling = arch_default_flush_ceiling();
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	base_free = frames_free();
	tlb_stats_reset();
	mock_flushes = 0;
	return 0;
}

static u8 *page_of(struct mm_struct *mm, unsigned long va)
{
	phys_addr_t pa;
	pgprot_t prot;

	if (query_page(mm, va, &pa, &prot))
		return NULL;
	return phys_to_virt(pa);
}

static bool writable(struct mm_struct *mm, unsigned long va)
{
	phys_addr_t pa;
	pgprot_t prot;

	return !query_page(mm, va, &pa, &prot) && (pgprot_val(prot) & MOCK_W);
}

static void syscall_arguments_are_checked(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();
	unsigned long committed = vm_committed_pages();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0, 0, RW, ANON), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0, 4096, RW | 8, ANON), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0, 4096, RW, MAP_PRIVATE), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0, 4096, RW, ANON | 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0x10001000 + 1, 4096, RW, ANON | MAP_FIXED), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, TASK_SIZE - 4096, 8192, RW, ANON | MAP_FIXED), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0xffff800000000000UL, 4096, RW, ANON | MAP_FIXED),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, do_mmap(mm, 0, ~0UL, RW, ANON), -ENOMEM);
	KUNIT_EXPECT_EQ(test, do_munmap(mm, 0x10000001, 4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_munmap(mm, 0x10000000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_munmap(mm, 0x10000000, ~0UL - 100), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_munmap(mm, 0x10000000, 4096), 0); /* nothing there: fine */
	KUNIT_EXPECT_EQ(test, do_mprotect(mm, 0x10000000, 4096, PROT_READ), -ENOMEM);
	KUNIT_EXPECT_EQ(test, do_mprotect(mm, 0x10000000, 4096, 0x10), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed);
	mmput(mm);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static void demand_zero_then_cow_both_ways(struct kunit *test)
{
	struct mm_struct *parent = mm_alloc(), *child = mm_alloc();
	long va = do_mmap(parent, 0, 3 * 4096, RW, ANON);
	u8 byte;

	KUNIT_ASSERT_GT(test, va, 0);
	/* Nothing is in the tables until the first touch. */
	KUNIT_EXPECT_EQ(test, mm_user_pages(parent), 0);
	KUNIT_ASSERT_EQ(test, copy_to_user_mm(parent, va + 10, "abc", 3), 0);
	KUNIT_EXPECT_EQ(test, mm_user_pages(parent), 1);
	KUNIT_EXPECT_EQ(test, memcmp(page_of(parent, va) + 10, "abc", 3), 0);

	/* Fork: both share the frame, read-only; the parent's loss of write access costs one
	 * flush of one page for the whole fork. */
	mock_flushes = 0;
	KUNIT_ASSERT_EQ(test, dup_mm(child, parent), 0);
	KUNIT_EXPECT_PTR_EQ(test, page_of(child, va), page_of(parent, va));
	KUNIT_EXPECT_FALSE(test, writable(parent, va));
	KUNIT_EXPECT_FALSE(test, writable(child, va));
	KUNIT_EXPECT_EQ(test, mock_flushes, 2); /* the parent's batch, and the child's publish */

	/* The child writes: it gets its own copy, the parent keeps the old bytes. */
	KUNIT_ASSERT_EQ(test, copy_to_user_mm(child, va + 10, "xyz", 3), 0);
	KUNIT_EXPECT_TRUE(test, page_of(child, va) != page_of(parent, va));
	KUNIT_EXPECT_EQ(test, memcmp(page_of(parent, va) + 10, "abc", 3), 0);
	KUNIT_EXPECT_EQ(test, memcmp(page_of(child, va) + 10, "xyz", 3), 0);
	/* The parent writes: nobody shares its frame any more, so it is reused in place. */
	u8 *before = page_of(parent, va);
	KUNIT_ASSERT_EQ(test, copy_to_user_mm(parent, va + 10, "p", 1), 0);
	KUNIT_EXPECT_PTR_EQ(test, page_of(parent, va), before);
	KUNIT_EXPECT_TRUE(test, writable(parent, va));
	KUNIT_ASSERT_EQ(test, copy_from_user_mm(child, &byte, va + 10, 1), 0);
	KUNIT_EXPECT_EQ(test, byte, 'x');

	mmput(child);
	mmput(parent);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static void faults_follow_the_vma(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();
	long va = do_mmap(mm, 0, 2 * 4096, PROT_READ, ANON);

	KUNIT_ASSERT_GT(test, va, 0);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, va, FAULT_READ), 0);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, va, FAULT_WRITE), -EFAULT);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, va, FAULT_EXEC), -EFAULT);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, va + 2 * 4096, FAULT_READ), -EFAULT);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, TASK_SIZE + 4096, FAULT_READ), -EFAULT);
	KUNIT_ASSERT_EQ(test, do_mprotect(mm, va, 4096, PROT_NONE), 0);
	KUNIT_EXPECT_EQ(test, handle_mm_fault(mm, va, FAULT_READ), -EFAULT);
	/* PROT_NONE keeps the frame: making it readable again finds the same bytes. */
	KUNIT_EXPECT_EQ(test, mm_user_pages(mm), 1);
	KUNIT_ASSERT_EQ(test, do_mprotect(mm, va, 4096, RW), 0);
	KUNIT_EXPECT_TRUE(test, writable(mm, va));
	mmput(mm);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

/* mprotect and munmap of n touched pages: one flush each, whatever n. */
static void mprotect_and_munmap_flush_once(struct kunit *test)
{
	static const unsigned long sizes[] = { 1, 2, 17, 512, 513, 1000 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned long n = sizes[i], committed = vm_committed_pages();
		struct mm_struct *mm = mm_alloc();
		long va = do_mmap(mm, 0, n * 4096, RW, ANON);
		unsigned long free_before_munmap;

		KUNIT_ASSERT_GT(test, va, 0);
		for (unsigned long p = 0; p < n; p++)
			KUNIT_ASSERT_EQ(test, handle_mm_fault(mm, va + p * 4096, FAULT_WRITE), 0);
		mock_flushes = 0;
		KUNIT_ASSERT_EQ(test, do_mprotect(mm, va, n * 4096, PROT_READ), 0);
		KUNIT_EXPECT_EQ(test, mock_flushes, 1);
		KUNIT_EXPECT_TRUE(test, mock_last_batch.nr_pages == n || mock_last_batch.flush_all);
		KUNIT_EXPECT_PTR_EQ(test, mock_last_batch.mm, mm);
		KUNIT_EXPECT_FALSE(test, writable(mm, va + (n - 1) * 4096));
		mock_flushes = 0;
		free_before_munmap = frames_free();
		KUNIT_ASSERT_EQ(test, do_munmap(mm, va, n * 4096), 0);
		KUNIT_EXPECT_EQ(test, mock_flushes, 1);
		/* No unmapped frame was free while the flush was being issued. */
		KUNIT_EXPECT_LE(test, mock_free_at_flush, free_before_munmap);
		KUNIT_EXPECT_EQ(test, mm_user_pages(mm), 0);
		KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed); /* munmap gave it back */
		mmput(mm);
		KUNIT_EXPECT_EQ(test, frames_free(), base_free);
	}
}

static void commit_limit_is_enforced(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();
	unsigned long committed = vm_committed_pages();
	long big = do_mmap(mm, 0, 1UL << 40, RW, ANON); /* far more than the machine has */
	long va = do_mmap(mm, 0, 4096, RW, ANON);

	KUNIT_EXPECT_EQ(test, big, -ENOMEM);
	KUNIT_ASSERT_GT(test, va, 0);
	KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed + 1);
	mmput(mm);
	KUNIT_EXPECT_EQ(test, vm_committed_pages(), committed);
}

/*
 * One batch holds one mm's invalidations (one ASID/PCID, one cpumask): a section that moves
 * from one mm's entries to another's completes the first mm's batch before it queues for
 * the second (mm/pgtable.c, deferring_batch()).
 */
static void a_batch_never_mixes_two_mms(struct kunit *test)
{
	struct mm_struct *a = mm_alloc(), *b = mm_alloc();
	long va = do_mmap(a, 0, 4096, RW, ANON), vb = do_mmap(b, 0, 4096, RW, ANON);
	pte_t *pa, *pb;

	KUNIT_ASSERT_GT(test, va, 0);
	KUNIT_ASSERT_GT(test, vb, 0);
	KUNIT_ASSERT_EQ(test, handle_mm_fault(a, va, FAULT_WRITE), 0);
	KUNIT_ASSERT_EQ(test, handle_mm_fault(b, vb, FAULT_WRITE), 0);
	pa = pte_lookup(a, va);
	pb = pte_lookup(b, vb);
	mock_flushes = 0;
	lazy_mmu_mode_enable();
	pte_update(a, va, pa, mk_pte(pte_pa(*pa), vm_get_page_prot(PROT_READ)));
	KUNIT_EXPECT_EQ(test, mock_flushes, 0);
	pte_update(b, vb, pb, mk_pte(pte_pa(*pb), vm_get_page_prot(PROT_READ)));
	KUNIT_EXPECT_EQ(test, mock_flushes, 1); /* a's batch, before b's page was queued */
	KUNIT_EXPECT_PTR_EQ(test, mock_last_batch.mm, a);
	KUNIT_EXPECT_EQ(test, mock_last_batch.nr_pages, 1);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, mock_flushes, 2);
	KUNIT_EXPECT_PTR_EQ(test, mock_last_batch.mm, b);
	KUNIT_EXPECT_EQ(test, mock_last_batch.nr_pages, 1);
	mmput(a);
	mmput(b);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static struct kunit_case user_mm_cases[] = {
	KUNIT_CASE(syscall_arguments_are_checked),
	KUNIT_CASE(demand_zero_then_cow_both_ways),
	KUNIT_CASE(faults_follow_the_vma),
	KUNIT_CASE(mprotect_and_munmap_flush_once),
	KUNIT_CASE(commit_limit_is_enforced),
	KUNIT_CASE(a_batch_never_mixes_two_mms),
	{},
};

static struct kunit_suite user_mm_suite = {
	.name = "user_mm_host",
	.init = user_mm_init,
	.test_cases = user_mm_cases,
};
kunit_test_suite(user_mm_suite);
