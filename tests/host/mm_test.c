/* Host tests of mm/: frames, the walker, pte_update's maintenance and the TLB gather. */
#include <kernel/boot_info.h>
#include <kernel/task.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#include <stdlib.h>
#include <string.h>

extern bool mock_arm64_rules;
extern struct tlb_batch mock_last_batch;
extern unsigned long mock_flushes;
extern unsigned long mock_free_at_flush;

#define ARENA_SIZE (16UL << 20)

static void *arena;
static struct mm_struct mm;
static unsigned long base_free;
static const unsigned long VA = VM_TEST_START + 0x40000000UL;
static const phys_addr_t PA = 0x80000000ULL;

/* Every case gets fresh frames, a fresh address space and zeroed counters. */
static int mm_host_init(struct kunit *test)
{
	static struct boot_info bi;

	(void)test;
	if (!arena)
		arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	memset(&bi, 0, sizeof(bi));
	boot_add_region(bi.ram, &bi.nr_ram, (phys_addr_t)(uintptr_t)arena, ARENA_SIZE);
	frames_init(&bi);
	tlb_flush_ceiling = arch_default_flush_ceiling();
	mock_arm64_rules = false;
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	mm.pgd = alloc_frame();
	base_free = frames_free();
	tlb_stats_reset();
	mock_flushes = 0;
	return mm.pgd ? 0 : -ENOMEM;
}

static struct tlb_stats stats(void)
{
	struct tlb_stats s;

	tlb_stats_read(&s);
	return s;
}

static void map_query_unmap_roundtrip(struct kunit *test)
{
	phys_addr_t pa;
	pgprot_t prot;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 10, PAGE_KERNEL), 0);
	/* A fresh range under a fresh root needs one table per level below the root. */
	KUNIT_EXPECT_EQ(test, frames_free(), base_free - 3);
	for (unsigned long i = 0; i < 10; i++) {
		KUNIT_ASSERT_EQ(test, query_page(&mm, VA + i * PAGE_SIZE + 5, &pa, &prot), 0);
		KUNIT_EXPECT_EQ(test, pa, PA + i * PAGE_SIZE + 5);
		KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL));
	}
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA + 10 * PAGE_SIZE, &pa, &prot), -ENOENT);
	KUNIT_ASSERT_EQ(test, unmap_pages(&mm, VA, 10), 0);
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA, &pa, &prot), -ENOENT);
	KUNIT_EXPECT_NULL(test, pte_lookup(&mm, VA));
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static void bad_arguments_change_nothing(struct kunit *test)
{
	phys_addr_t pa;
	pgprot_t prot;

	KUNIT_EXPECT_EQ(test, map_pages(&mm, VA + 1, PA, 1, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, VA, PA + 1, 1, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, VA, PA, 0, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, 1UL << 48, PA, 1, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, (1UL << 48) - PAGE_SIZE, PA, 2, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 4, PAGE_KERNEL), 0);
	/* Overlapping the last page: refused, and the first mapping is untouched. */
	KUNIT_EXPECT_EQ(test, map_pages(&mm, VA + 3 * PAGE_SIZE, PA, 4, PAGE_KERNEL_RO), -EEXIST);
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA + 3 * PAGE_SIZE, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pa, PA + 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA + 4 * PAGE_SIZE, &pa, &prot), -ENOENT);
	/* A hole in the range: unmap and protect refuse and change nothing. */
	KUNIT_EXPECT_EQ(test, unmap_pages(&mm, VA, 5), -ENOENT);
	KUNIT_EXPECT_EQ(test, protect_pages(&mm, VA, 5, PAGE_KERNEL_RO), -ENOENT);
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, unmap_pages(&mm, VA, 4), 0);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

/*
 * The high half (bits 63:48 all 1, where both kernels live): a range across a leaf-table
 * boundary maps, and unmapping it frees every table it made - the walk back up must know
 * which half its indexes (bits 47:12) are in. Addresses between the halves, and the top
 * 2 MiB (where a walk's step to the next leaf table would wrap to 0), are refused.
 */
static void high_half_ranges_map_and_free_their_tables(struct kunit *test)
{
	const unsigned long high = 0xffff800000000000UL + LEVEL_SIZE(1) - 2 * PAGE_SIZE;
	const unsigned long top = 0UL - LEVEL_SIZE(1) - PAGE_SIZE; /* the last usable page */
	phys_addr_t pa;
	pgprot_t prot;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, high, PA, 4, PAGE_KERNEL), 0);
	/* Levels 2 and 1, and the two leaf tables either side of the 2 MiB boundary. */
	KUNIT_EXPECT_EQ(test, frames_free(), base_free - 4);
	KUNIT_ASSERT_EQ(test, query_page(&mm, high + 3 * PAGE_SIZE, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pa, PA + 3 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, unmap_pages(&mm, high, 4), 0);
	KUNIT_EXPECT_NULL(test, pte_lookup(&mm, high));
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);

	KUNIT_EXPECT_EQ(test, map_pages(&mm, top, PA, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, top + PAGE_SIZE, PA, 1, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, unmap_pages(&mm, top, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, unmap_pages(&mm, top, 1), 0);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, 1UL << 48, PA, 1, PAGE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&mm, 0xffff000000000000UL - PAGE_SIZE, PA, 1, PAGE_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static void out_of_frames_rolls_back(struct kunit *test)
{
	static phys_addr_t hoard[ARENA_SIZE / PAGE_SIZE];
	unsigned long n = 0, before;
	phys_addr_t pa;
	pgprot_t prot;

	/* Two leaf tables' worth of pages, but only three frames: the fourth table fails. */
	while (frames_free() > 3)
		hoard[n++] = alloc_frame();
	before = frames_free();
	KUNIT_EXPECT_EQ(test, map_pages(&mm, VA, PA, 1024, PAGE_KERNEL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA, &pa, &prot), -ENOENT);
	KUNIT_EXPECT_NULL(test, pte_lookup(&mm, VA));
	while (n)
		KUNIT_EXPECT_EQ(test, free_frame(hoard[--n]), 0);
	KUNIT_EXPECT_EQ(test, frames_free(), base_free);
}

static void frame_misuse_is_refused(struct kunit *test)
{
	phys_addr_t f = alloc_frame();
	unsigned long free_before;

	KUNIT_ASSERT_NE(test, f, 0);
	KUNIT_EXPECT_EQ(test, free_frame(f), 0);
	free_before = frames_free();
	KUNIT_EXPECT_EQ(test, free_frame(f), -EINVAL);			     /* double free */
	KUNIT_EXPECT_EQ(test, free_frame(f + 17), -EINVAL);		     /* unaligned */
	KUNIT_EXPECT_EQ(test, free_frame(mm.pgd + 64 * PAGE_SIZE), -EINVAL); /* never given */
	KUNIT_EXPECT_EQ(test, free_frame(0x1000), -EINVAL);		     /* not RAM */
	KUNIT_EXPECT_EQ(test, frames_free(), free_before);
}

/* Maps n pages, then changes them with pte_update() inside one section of our own. */
static void protect_in_section(struct kunit *test, unsigned long n, struct tlb_stats *inside)
{
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, n, PAGE_KERNEL), 0);
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	for (unsigned long i = 0; i < n; i++) {
		pte_t *ptep = pte_lookup(&mm, VA + i * PAGE_SIZE);

		pte_update(&mm, VA + i * PAGE_SIZE, ptep,
			   mk_pte(PA + i * PAGE_SIZE, PAGE_KERNEL_RO));
	}
	*inside = stats();
	lazy_mmu_mode_disable();
}

static void batch_below_ceiling_invalidates_each_page(struct kunit *test)
{
	struct tlb_stats in, out;

	protect_in_section(test, 33, &in);
	out = stats();
	KUNIT_EXPECT_EQ(test, in.pte_writes, 33);
	KUNIT_EXPECT_EQ(test, in.tlbi_page + in.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, out.tlbi_page, 33);
	KUNIT_EXPECT_EQ(test, out.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, out.batches, 1);
}

static void batch_above_ceiling_flushes_all_once(struct kunit *test)
{
	struct tlb_stats in, out;

	protect_in_section(test, 34, &in);
	out = stats();
	KUNIT_EXPECT_EQ(test, in.tlbi_page + in.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, out.tlbi_page, 0);
	KUNIT_EXPECT_EQ(test, out.tlbi_all, 1);
	KUNIT_EXPECT_EQ(test, out.batches, 1);
}

static void eager_backend_invalidates_at_once(struct kunit *test)
{
	struct tlb_stats in;

	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	protect_in_section(test, 40, &in);
	KUNIT_EXPECT_EQ(test, in.tlbi_page, 40);
	KUNIT_EXPECT_EQ(test, in.tlbi_all, 0);
	KUNIT_EXPECT_EQ(test, in.batches, 40);
}

static void empty_to_present_needs_nothing(struct kunit *test)
{
	struct tlb_stats s;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 64, PAGE_KERNEL), 0);
	s = stats();
	KUNIT_EXPECT_EQ(test, s.pte_writes, 64 + 3); /* the pages and three new tables */
	KUNIT_EXPECT_EQ(test, s.tlbi_page + s.tlbi_all + s.barriers, 0);
	KUNIT_EXPECT_EQ(test, s.batches, 0);
}

static void same_page_twice_is_invalidated_once(struct kunit *test)
{
	pte_t *ptep;
	struct tlb_stats s;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&mm, VA);
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	pte_update(&mm, VA, ptep, mk_pte(PA, PAGE_KERNEL_RO));
	pte_update(&mm, VA, ptep, mk_pte(PA, PAGE_KERNEL));
	lazy_mmu_mode_disable();
	s = stats();
	KUNIT_EXPECT_EQ(test, s.pte_writes, 2);
	KUNIT_EXPECT_EQ(test, s.tlbi_page, 1);
}

static void table_pages_are_freed_after_the_flush(struct kunit *test)
{
	unsigned long mapped_free;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 8, PAGE_KERNEL), 0);
	mapped_free = frames_free();
	mock_flushes = 0;
	lazy_mmu_mode_enable();
	KUNIT_ASSERT_EQ(test, unmap_pages(&mm, VA, 8), 0);
	/* unmap_pages' own (nested) disable() flushed: everything is done already. */
	KUNIT_EXPECT_EQ(test, mock_flushes, 1);
	KUNIT_EXPECT_TRUE(test, mock_last_batch.nonleaf);
	KUNIT_EXPECT_EQ(test, mock_last_batch.nr_freed, 3);
	/* While the arch flushed, the three table pages were still allocated. */
	KUNIT_EXPECT_EQ(test, mock_free_at_flush, mapped_free);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, frames_free(), mapped_free + 3);
	/* Freed frames are poisoned, so a walker reading one too early would see junk. */
	KUNIT_EXPECT_EQ(test, *(u8 *)phys_to_virt(mock_last_batch.freed[0]), 0x5a);
}

static void section_keeps_tables_until_flush(struct kunit *test)
{
	pte_t *ptep;
	unsigned long before;

	/* The frame count can only be watched from inside with pte_update and a free list. */
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&mm, VA);
	before = frames_free();
	lazy_mmu_mode_enable();
	pte_update(&mm, VA, ptep, __pte(0));
	tlb_batch_free_table(&current->tlb_batch, alloc_frame());
	KUNIT_EXPECT_EQ(test, frames_free(), before - 1);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, frames_free(), before);
}

static void arm64_rules_batch_barriers(struct kunit *test)
{
	struct tlb_stats s;

	mock_arm64_rules = true;
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 100, PAGE_KERNEL), 0);
	s = stats();
	KUNIT_EXPECT_EQ(test, s.barriers, 1); /* 100 pages + 3 tables, one barrier pair */
	KUNIT_EXPECT_EQ(test, s.tlbi_page + s.tlbi_all, 0);
	KUNIT_ASSERT_EQ(test, unmap_pages(&mm, VA, 100), 0);

	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	tlb_stats_reset();
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 100, PAGE_KERNEL), 0);
	s = stats();
	KUNIT_EXPECT_EQ(test, s.barriers, 103);
}

static void arm64_rules_break_before_make(struct kunit *test)
{
	pte_t *ptep;
	struct tlb_stats s;

	mock_arm64_rules = true;
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 2, PAGE_KERNEL), 0);
	ptep = pte_lookup(&mm, VA);
	tlb_stats_reset();
	mock_flushes = 0;
	lazy_mmu_mode_enable();
	/* A permission change needs no break: it is simply queued. */
	pte_update(&mm, VA, ptep, mk_pte(PA, PAGE_KERNEL_RO));
	KUNIT_EXPECT_EQ(test, mock_flushes, 0);
	/* A new output address needs the old one gone first: the batch is flushed at once. */
	pte_update(&mm, VA + PAGE_SIZE, ptep + 1, mk_pte(PA + 0x100000, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, mock_flushes, 1);
	KUNIT_EXPECT_EQ(test, mock_last_batch.nr_pages, 2);
	KUNIT_EXPECT_EQ(test, pte_val(*(ptep + 1)), pte_val(mk_pte(PA + 0x100000, PAGE_KERNEL)));
	/* Break queued by clearing, then make at the same address: flush before the make. */
	pte_update(&mm, VA, ptep, __pte(0));
	KUNIT_EXPECT_EQ(test, mock_flushes, 1);
	pte_update(&mm, VA, ptep, mk_pte(PA + 0x200000, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, mock_flushes, 2);
	KUNIT_EXPECT_EQ(test, mock_last_batch.nr_pages, 1);
	lazy_mmu_mode_disable();
	s = stats();
	KUNIT_EXPECT_EQ(test, s.bbm_flushes, 2);
	KUNIT_EXPECT_EQ(test, mock_flushes, 3); /* and the barrier for the last make */
}

static void arm64_rules_permission_changes_never_break(struct kunit *test)
{
	pte_t *ptep;

	mock_arm64_rules = true;
	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&mm, VA);
	tlb_stats_reset();
	mock_flushes = 0;
	lazy_mmu_mode_enable();
	/* The page is queued after the first change, but its frame never changes. */
	pte_update(&mm, VA, ptep, mk_pte(PA, PAGE_KERNEL_RO));
	pte_update(&mm, VA, ptep, mk_pte(PA, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, mock_flushes, 0);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, stats().bbm_flushes, 0);
	KUNIT_EXPECT_EQ(test, stats().batches, 1);
}

static void x86_rules_never_break(struct kunit *test)
{
	pte_t *ptep;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&mm, VA);
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	pte_update(&mm, VA, ptep, __pte(0));
	pte_update(&mm, VA, ptep, mk_pte(PA + 0x100000, PAGE_KERNEL));
	pte_update(&mm, VA, ptep, mk_pte(PA + 0x200000, PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, mock_flushes, 0);
	lazy_mmu_mode_disable();
	KUNIT_EXPECT_EQ(test, stats().bbm_flushes, 0);
	KUNIT_EXPECT_EQ(test, stats().tlbi_page, 1);
}

static void prot_none_keeps_the_address(struct kunit *test)
{
	phys_addr_t pa;
	pgprot_t prot;
	struct tlb_stats s;

	KUNIT_ASSERT_EQ(test, map_pages(&mm, VA, PA, 4, PAGE_KERNEL), 0);
	tlb_stats_reset();
	KUNIT_ASSERT_EQ(test, protect_pages(&mm, VA, 4, PAGE_NONE), 0);
	s = stats();
	KUNIT_EXPECT_EQ(test, s.tlbi_page, 4);
	KUNIT_EXPECT_EQ(test, query_page(&mm, VA + PAGE_SIZE, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pa, PA + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_NONE));
	/* Back from none: the entry was not valid, so nothing can be cached for it. */
	tlb_stats_reset();
	KUNIT_ASSERT_EQ(test, protect_pages(&mm, VA, 4, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, stats().tlbi_page, 0);
	KUNIT_EXPECT_EQ(test, unmap_pages(&mm, VA, 4), 0);
}

static void gather_merges_and_overflows(struct kunit *test)
{
	struct tlb_batch b;

	memset(&b, 0, sizeof(b));
	tlb_batch_add(&b, VA + 5 * PAGE_SIZE);
	tlb_batch_add(&b, VA + 6 * PAGE_SIZE + 123); /* any address inside the page */
	tlb_batch_add(&b, VA + 4 * PAGE_SIZE);
	tlb_batch_add(&b, VA + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, b.nr_ranges, 1);
	KUNIT_EXPECT_EQ(test, b.nr_pages, 3);
	KUNIT_EXPECT_EQ(test, b.ranges[0].start, VA + 4 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&b, VA + 6 * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, tlb_batch_contains(&b, VA + 7 * PAGE_SIZE));
	for (unsigned long i = 0; i < TLB_BATCH_RANGES - 1; i++)
		tlb_batch_add(&b, VA + (100 + 2 * i) * PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, b.flush_all);
	KUNIT_EXPECT_EQ(test, b.nr_ranges, TLB_BATCH_RANGES);
	tlb_batch_add(&b, VA + 1000 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, b.flush_all);
	KUNIT_EXPECT_TRUE(test, tlb_batch_contains(&b, 0));
}

static void vm_test_areas_do_not_overlap(struct kunit *test)
{
	unsigned long a = vm_test_area(10), b = vm_test_area(1);

	KUNIT_EXPECT_GE(test, a, VM_TEST_START);
	KUNIT_EXPECT_GT(test, b, a + 10 * PAGE_SIZE); /* with a gap */
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(b, LEVEL_SIZE(1)));
	KUNIT_EXPECT_EQ(test, vm_test_area(1UL << 40), 0); /* larger than the window */
}

static struct kunit_case mm_host_cases[] = { KUNIT_CASE(map_query_unmap_roundtrip),
					     KUNIT_CASE(bad_arguments_change_nothing),
					     KUNIT_CASE(high_half_ranges_map_and_free_their_tables),
					     KUNIT_CASE(out_of_frames_rolls_back),
					     KUNIT_CASE(frame_misuse_is_refused),
					     KUNIT_CASE(batch_below_ceiling_invalidates_each_page),
					     KUNIT_CASE(batch_above_ceiling_flushes_all_once),
					     KUNIT_CASE(eager_backend_invalidates_at_once),
					     KUNIT_CASE(empty_to_present_needs_nothing),
					     KUNIT_CASE(same_page_twice_is_invalidated_once),
					     KUNIT_CASE(table_pages_are_freed_after_the_flush),
					     KUNIT_CASE(section_keeps_tables_until_flush),
					     KUNIT_CASE(arm64_rules_batch_barriers),
					     KUNIT_CASE(arm64_rules_break_before_make),
					     KUNIT_CASE(arm64_rules_permission_changes_never_break),
					     KUNIT_CASE(x86_rules_never_break),
					     KUNIT_CASE(prot_none_keeps_the_address),
					     KUNIT_CASE(gather_merges_and_overflows),
					     KUNIT_CASE(vm_test_areas_do_not_overlap),
					     {} };

static struct kunit_suite mm_host_suite = {
	.name = "mm_host",
	.init = mm_host_init,
	.test_cases = mm_host_cases,
};
kunit_test_suite(mm_host_suite);
