/*
 * The x86-64 address space: a high-half kernel, an empty low half, a kernel half shared by
 * every root through preallocated level-3 tables, and the user protections.
 */
#define __KERNEL__
#include <lazymmu/syscall.h>
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/sections.h>
#include <kunit/probe.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/mm.h>

static pte_t *root_of(const struct mm_struct *mm)
{
	return phys_to_virt(mm->pgd);
}

/* The kernel runs where it is linked: in the high half, inside its own linear map. */
static void kernel_runs_in_the_high_half(struct kunit *test)
{
	unsigned long text = (unsigned long)_text_start, stack = (unsigned long)&text;

	KUNIT_EXPECT_GE(test, text, PAGE_OFFSET);
	KUNIT_EXPECT_GE(test, stack, PAGE_OFFSET);
	KUNIT_EXPECT_EQ(test, (unsigned long)phys_to_virt(virt_to_phys(_text_start)), text);
	/* The loaders put the image at its physical load address, 2 MiB. */
	KUNIT_EXPECT_EQ(test, virt_to_phys(_kernel_start), 0x200000);
}

/*
 * After mm_init() the low half is empty: not one root entry, so the boot tables' identity
 * map is gone (the kernel image's physical address no longer reads), and every one of the
 * 256 kernel-half root entries points at a level-3 table.
 */
static void low_half_empty_kernel_half_complete(struct kunit *test)
{
	const pte_t *root = root_of(&init_mm);
	unsigned int low_used = 0, high_missing = 0;

	for (unsigned int i = 0; i < KERNEL_PGD_FIRST; i++)
		low_used += !pte_none(root[i]);
	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++)
		high_missing += !pte_is_table(root[i], PGTABLE_LEVELS - 1);
	KUNIT_EXPECT_EQ(test, KERNEL_PGD_FIRST, 256);
	KUNIT_EXPECT_EQ(test, low_used, 0);
	KUNIT_EXPECT_EQ(test, high_missing, 0);
	KUNIT_EXPECT_EQ(test, kunit_peek(virt_to_phys(_text_start)), -1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, virt_to_phys(_text_start));
	/* The same bytes through the linear map. */
	KUNIT_EXPECT_NE(test, kunit_peek((unsigned long)_text_start), -1);
}

/* Unmapping the last page below a kernel-half root entry leaves the entry and its table. */
static void kernel_root_entries_survive_unmap(struct kunit *test)
{
	unsigned long va = vm_test_area(1), before;
	phys_addr_t pa = alloc_frame();
	pte_t root_entry;

	KUNIT_ASSERT_NE(test, va, 0);
	KUNIT_ASSERT_NE(test, pa, 0);
	root_entry = root_of(&init_mm)[pt_index(va, PGTABLE_LEVELS - 1)];
	before = frames_free();
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, pa, 1, PAGE_KERNEL), 0);
	/* At most a level-1 and a leaf table: the level-3 table was there already. */
	KUNIT_EXPECT_LE(test, before - frames_free(), 2);
	KUNIT_ASSERT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	KUNIT_EXPECT_EQ(test, frames_free(), before);
	KUNIT_EXPECT_EQ(test, pte_val(root_of(&init_mm)[pt_index(va, PGTABLE_LEVELS - 1)]),
			pte_val(root_entry));
	free_frame(pa);
}

/*
 * A hand-made root, filled by arch_pgd_init(), runs the kernel: loaded into CR3 it still
 * reaches code, stack and data, and a kernel mapping made *after* the copy shows through
 * it (it lands below a shared level-3 table). Its low half is empty.
 */
static void new_root_shares_the_kernel_half(struct kunit *test)
{
	struct mm_struct mm = { .name = "mm_x86 test root" };
	unsigned long va = vm_test_area(1), flags;
	phys_addr_t frame = alloc_frame();
	unsigned int low_used = 0, differ = 0;
	s64 seen_new = -1, seen_low = 0;
	const pte_t *root, *kroot = root_of(&init_mm);

	KUNIT_ASSERT_NE(test, va, 0);
	KUNIT_ASSERT_NE(test, frame, 0);
	mm.pgd = alloc_frame();
	KUNIT_ASSERT_NE(test, mm.pgd, 0);
	KUNIT_ASSERT_EQ(test, arch_pgd_init(&mm), 0);
	root = root_of(&mm);
	for (unsigned int i = 0; i < KERNEL_PGD_FIRST; i++)
		low_used += !pte_none(root[i]);
	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++)
		differ += pte_val(root[i]) != pte_val(kroot[i]);
	KUNIT_EXPECT_EQ(test, low_used, 0);
	KUNIT_EXPECT_EQ(test, differ, 0);
	*(volatile u64 *)phys_to_virt(frame) = 0x5eed0fda7aULL;

	/* Interrupts off: nothing else may run on this root, which no task owns. */
	flags = arch_local_irq_save();
	write_cr3(mm.pgd);
	if (map_pages(&init_mm, va, frame, 1, PAGE_KERNEL) == 0)
		seen_new = kunit_peek(va);
	seen_low = kunit_peek(virt_to_phys(_text_start));
	/* Back to what the scheduler believes loaded here. */
	arch_switch_mm(this_cpu()->active_mm);
	arch_local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, seen_new, 0x5eed0fda7aULL);
	KUNIT_EXPECT_EQ(test, seen_low, -1);
	KUNIT_EXPECT_EQ(test, read_cr3() & ~X86_CR3_PCID, this_cpu()->active_mm->pgd);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(frame);
	free_frame(mm.pgd);
}

/* No mapping may start in, end in or cross the non-canonical hole between the halves. */
static void non_canonical_ranges_are_refused(struct kunit *test)
{
	phys_addr_t pa = virt_to_phys(_rodata_start);

	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, 0x0000800000000000UL, pa, 1, PAGE_KERNEL_RO),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, 0xffff7ffffffff000UL, pa, 1, PAGE_KERNEL_RO),
			-EINVAL);
	/* The last page of the low half is fine alone, not with the one after it. */
	KUNIT_EXPECT_EQ(test, map_pages(&init_mm, 0x00007ffffffff000UL, pa, 2, PAGE_KERNEL_RO),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, 0x0000900000000000UL, 1), -EINVAL);
}

/*
 * Table entries grant U/S (the leaf decides); a kernel leaf never has it. Checked on the
 * path that translates the kernel's text.
 */
static void tables_grant_user_kernel_leaves_do_not(struct kunit *test)
{
	unsigned long va = (unsigned long)_text_start;
	const pte_t *table = root_of(&init_mm);
	pte_t *leaf = pte_lookup(&init_mm, va);

	for (int level = PGTABLE_LEVELS - 1; level > 0; level--) {
		pte_t e = table[pt_index(va, level)];

		KUNIT_ASSERT_TRUE(test, pte_is_table(e, level));
		KUNIT_EXPECT_TRUE(test, pte_user(e));
		table = phys_to_virt(pte_table_pa(e));
	}
	KUNIT_ASSERT_NOT_NULL(test, leaf);
	KUNIT_EXPECT_TRUE(test, pte_present(*leaf));
	KUNIT_EXPECT_FALSE(test, pte_user(*leaf));
	KUNIT_EXPECT_FALSE(test, pte_user(mk_pte(0, PAGE_KERNEL)));
	KUNIT_EXPECT_FALSE(test, pte_user(mk_pte(0, PAGE_KERNEL_EXEC)));
}

/* mmap()'s PROT_* bits: x86 can't refuse reads, and data is never executable. */
static void prot_bits_to_page_protections(struct kunit *test)
{
	const struct {
		unsigned int prot;
		u64 want;
	} table[] = {
		{ PROT_NONE, pgprot_val(PAGE_NONE) },
		{ PROT_READ, pgprot_val(PAGE_USER_RO) },
		{ PROT_WRITE, pgprot_val(PAGE_USER_RW) },
		{ PROT_READ | PROT_WRITE, pgprot_val(PAGE_USER_RW) },
		{ PROT_EXEC, pgprot_val(PAGE_USER_RX) },
		{ PROT_READ | PROT_EXEC, pgprot_val(PAGE_USER_RX) },
		{ PROT_WRITE | PROT_EXEC, pgprot_val(PAGE_USER_RW) },
		{ PROT_READ | PROT_WRITE | PROT_EXEC, pgprot_val(PAGE_USER_RW) },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(table); i++)
		KUNIT_EXPECT_EQ(test, pgprot_val(vm_get_page_prot(table[i].prot)), table[i].want);
	/* Each user protection: present, ring 3; RO and RX not writable; RO and RW NX. */
	KUNIT_EXPECT_TRUE(test, pte_user(mk_pte(0, PAGE_USER_RO)));
	KUNIT_EXPECT_TRUE(test, pte_user(mk_pte(0, PAGE_USER_RW)));
	KUNIT_EXPECT_TRUE(test, pte_user(mk_pte(0, PAGE_USER_RX)));
	KUNIT_EXPECT_FALSE(test, pgprot_val(PAGE_USER_RO) & _PAGE_RW);
	KUNIT_EXPECT_FALSE(test, pgprot_val(PAGE_USER_RX) & _PAGE_RW);
	KUNIT_EXPECT_TRUE(test, pgprot_val(PAGE_USER_RO) & _PAGE_NX);
	KUNIT_EXPECT_TRUE(test, pgprot_val(PAGE_USER_RW) & _PAGE_NX);
	KUNIT_EXPECT_FALSE(test, pgprot_val(PAGE_USER_RX) & _PAGE_NX);
	KUNIT_EXPECT_FALSE(test, pte_present(mk_pte(0, vm_get_page_prot(PROT_NONE))));
}

static struct kunit_case mm_x86_cases[] = {
	KUNIT_CASE(kernel_runs_in_the_high_half),
	KUNIT_CASE(low_half_empty_kernel_half_complete),
	KUNIT_CASE(kernel_root_entries_survive_unmap),
	KUNIT_CASE(new_root_shares_the_kernel_half),
	KUNIT_CASE(non_canonical_ranges_are_refused),
	KUNIT_CASE(tables_grant_user_kernel_leaves_do_not),
	KUNIT_CASE(prot_bits_to_page_protections),
	{},
};

static struct kunit_suite mm_x86_suite = {
	.name = "mm_x86",
	.test_cases = mm_x86_cases,
};
kunit_test_suite(mm_x86_suite);
