/* Page tables on the real MMU: every mapping is proven by touching memory through it. */
#include <kernel/arch.h>
#include <kernel/fault.h>
#include <kernel/sections.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/* A read through va: true if it worked (value in *val), false if it faulted at va. */
static bool probe_read(unsigned long va, u64 *val)
{
	return copy_from_kernel_nofault(val, (const void *)va, sizeof(*val)) == 0;
}

static bool probe_write(unsigned long va, u64 val)
{
	return copy_to_kernel_nofault((void *)va, &val, sizeof(val)) == 0;
}

static void write_through_new_va_reads_back_through_linear_map(struct kunit *test)
{
	phys_addr_t pa = alloc_frame();
	unsigned long va = vm_test_area(1);
	volatile u64 *p = (volatile u64 *)va;

	KUNIT_ASSERT_NE(test, pa, 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	p[0] = 0x1122334455667788ULL;
	p[511] = 0xcafe;
	KUNIT_EXPECT_EQ(test, *(u64 *)phys_to_virt(pa), 0x1122334455667788ULL);
	KUNIT_EXPECT_EQ(test, ((u64 *)phys_to_virt(pa))[511], 0xcafe);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(pa);
}

static void unmapped_page_faults(struct kunit *test)
{
	phys_addr_t pa = alloc_frame();
	unsigned long va = vm_test_area(1);
	u64 v = 0;

	KUNIT_ASSERT_NE(test, pa, 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, probe_read(va, &v));
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	KUNIT_EXPECT_FALSE(test, probe_read(va, &v));
	KUNIT_EXPECT_EQ(test, last_fault()->addr, va);
	KUNIT_EXPECT_FALSE(test, probe_write(va + 8, 1));
	KUNIT_EXPECT_EQ(test, last_fault()->addr, va + 8);
	free_frame(pa);
}

static void read_only_page_refuses_writes(struct kunit *test)
{
	phys_addr_t pa = alloc_frame();
	unsigned long va = vm_test_area(1);
	u64 v = 0;

	KUNIT_ASSERT_NE(test, pa, 0);
	*(u64 *)phys_to_virt(pa) = 42;
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, probe_write(va, 7));
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, 1, PAGE_KERNEL_RO), 0);
	KUNIT_EXPECT_FALSE(test, probe_write(va, 8));
	KUNIT_EXPECT_EQ(test, last_fault()->addr, va);
	KUNIT_EXPECT_TRUE(test, probe_read(va, &v));
	KUNIT_EXPECT_EQ(test, v, 7);
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, probe_write(va, 9));
	KUNIT_EXPECT_EQ(test, *(u64 *)phys_to_virt(pa), 9);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(pa);
}

/* A function with no data references: its bytes run anywhere they are copied to. */
static __attribute__((noinline)) void position_independent_return(void *arg)
{
	(void)arg;
	barrier();
}

static void data_is_not_executable(struct kunit *test)
{
	phys_addr_t pa = alloc_frame();
	unsigned long va = vm_test_area(1);
	void (*fn)(void *) = (void (*)(void *))va;

	KUNIT_ASSERT_NE(test, pa, 0);
	memcpy(phys_to_virt(pa), (const void *)position_independent_return, 64);
	arch_sync_icache(phys_to_virt(pa), 64);

	/* The same bytes run when mapped executable... */
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL_EXEC), 0);
	KUNIT_EXPECT_EQ(test, call_nofault(fn, NULL), 0);
	/* ...and fault at their first instruction when mapped as data. */
	KUNIT_ASSERT_EQ(test, protect_pages(&init_mm, va, 1, PAGE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, call_nofault(fn, NULL), -EFAULT);
	KUNIT_EXPECT_EQ(test, last_fault()->pc, va);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(pa);

	/* The kernel's own data and stack are never executable either. */
	KUNIT_EXPECT_EQ(test, call_nofault((void (*)(void *))(uintptr_t)_data_start, NULL),
			-EFAULT);
}

static void kernel_image_is_mapped_by_section(struct kunit *test)
{
	phys_addr_t pa;
	pgprot_t prot;
	u8 byte = 0;

	KUNIT_ASSERT_EQ(test, query_page(&init_mm, (unsigned long)_text_start, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL_EXEC));
	KUNIT_EXPECT_EQ(test, pa, virt_to_phys(_text_start));
	KUNIT_ASSERT_EQ(test, query_page(&init_mm, (unsigned long)_rodata_start, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL_RO));
	KUNIT_ASSERT_EQ(test, query_page(&init_mm, (unsigned long)_data_start, &pa, &prot), 0);
	KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(PAGE_KERNEL));

	/* Text and rodata can't be written; the write faults at the very address. */
	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault((void *)position_independent_return, &byte, 1),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, (unsigned long)position_independent_return);
	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(_rodata_start, &byte, 1), -EFAULT);
	/* Page 0 and the guard page below the boot stack are not mapped at all. */
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&byte, (const void *)8, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&byte, __stack_guard + 100, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, (unsigned long)__stack_guard, &pa, &prot),
			-ENOENT);
}

static void query_returns_what_was_mapped(struct kunit *test)
{
	const pgprot_t prots[] = { PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_EXEC, PAGE_NONE };
	unsigned long va = vm_test_area(4);
	phys_addr_t base = 0x12345000ULL, pa;
	pgprot_t prot;

	for (unsigned int i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(
		    test, map_pages(&init_mm, va + i * PAGE_SIZE, base + i * 0x10000, 1, prots[i]),
		    0);
	for (unsigned int i = 0; i < 4; i++) {
		KUNIT_ASSERT_EQ(test, query_page(&init_mm, va + i * PAGE_SIZE + 0x123, &pa, &prot),
				0);
		KUNIT_EXPECT_EQ(test, pa, base + i * 0x10000 + 0x123);
		KUNIT_EXPECT_EQ(test, pgprot_val(prot), pgprot_val(prots[i]));
	}
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, va + 4 * PAGE_SIZE, &pa, &prot), -ENOENT);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 4), 0);
}

/* 1 GiB of 4 KiB pages: 262144 entries and 512 leaf tables, all given back. */
static void map_one_gib_and_give_every_frame_back(struct kunit *test)
{
	const unsigned long chunk = 512, total = (1UL << 30) / PAGE_SIZE;
	/* Aligned to 1 GiB, so exactly one level-1 table and 512 leaf tables cover it. */
	unsigned long free_before = frames_free(),
		      va = ALIGN_UP(vm_test_area(2 * total), LEVEL_SIZE(2));
	/* Every chunk maps the same 2 MiB of the kernel image, read-only: no frames needed. */
	phys_addr_t pa = ALIGN_DOWN(virt_to_phys(_kernel_start), LEVEL_SIZE(1));
	u64 a, b;

	KUNIT_ASSERT_NE(test, va, 0);
	for (unsigned long i = 0; i < total; i += chunk)
		KUNIT_ASSERT_EQ(
		    test, map_pages(&init_mm, va + i * PAGE_SIZE, pa, chunk, PAGE_KERNEL_RO), 0);
	/* 512 leaf tables, one level-1 table, and a level-2 table unless one was there. */
	KUNIT_EXPECT_GE(test, free_before - frames_free(), 512 + 1);
	KUNIT_EXPECT_LE(test, free_before - frames_free(), 512 + 1 + 1);
	/* The last page of the GiB reads what the linear map shows at its frame. */
	KUNIT_EXPECT_TRUE(test, probe_read(va + (total - 1) * PAGE_SIZE, &a));
	b = *(u64 *)phys_to_virt(pa + (chunk - 1) * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, a, b);
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, total), 0);
	KUNIT_EXPECT_EQ(test, frames_free(), free_before);
	KUNIT_EXPECT_FALSE(test, probe_read(va, &a));
}

static void out_of_frames_mid_map_rolls_back(struct kunit *test)
{
	unsigned long va = vm_test_area(1024), probe = vm_test_area(1), free_before, hoarded = 0;
	unsigned long first_page_tables;
	phys_addr_t list = 0, pa;
	pgprot_t prot;

	/*
	 * What the first page of a fresh area costs in tables depends on which upper tables
	 * exist for ever (x86-64 preallocates the kernel half's level-3 tables): measure it.
	 */
	KUNIT_ASSERT_NE(test, va, 0);
	KUNIT_ASSERT_NE(test, probe, 0);
	free_before = frames_free();
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, probe, 0x40000000ULL, 1, PAGE_KERNEL_RO), 0);
	first_page_tables = free_before - frames_free();
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, probe, 1), 0);
	KUNIT_ASSERT_EQ(test, frames_free(), free_before);
	KUNIT_ASSERT_GE(test, first_page_tables, 1);

	/*
	 * Hoard all but the first leaf table's worth, chained through their own first word:
	 * the second of the two leaf tables can't be had.
	 */
	while (frames_free() > first_page_tables) {
		phys_addr_t f = alloc_frame();

		*(phys_addr_t *)phys_to_virt(f) = list;
		list = f;
		hoarded++;
	}
	free_before = frames_free();
	/* Two leaf tables' worth: the tables run out after the first 512 pages. */
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, va, 0x40000000ULL, 1024, PAGE_KERNEL_RO),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, frames_free(), free_before);
	KUNIT_EXPECT_EQ(test, query_page(&init_mm, va, &pa, &prot), -ENOENT);
	while (list) {
		phys_addr_t next = *(phys_addr_t *)phys_to_virt(list);

		free_frame(list);
		list = next;
	}
	kunit_info(test, "hoarded %lu frames to run out", hoarded);
}

static struct kunit_case mm_cases[] = { KUNIT_CASE(
					    write_through_new_va_reads_back_through_linear_map),
					KUNIT_CASE(unmapped_page_faults),
					KUNIT_CASE(read_only_page_refuses_writes),
					KUNIT_CASE(data_is_not_executable),
					KUNIT_CASE(kernel_image_is_mapped_by_section),
					KUNIT_CASE(query_returns_what_was_mapped),
					KUNIT_CASE(map_one_gib_and_give_every_frame_back),
					KUNIT_CASE(out_of_frames_mid_map_rolls_back),
					{} };

static struct kunit_suite mm_suite = {
	.name = "mm",
	.test_cases = mm_cases,
};
kunit_test_suite(mm_suite);
