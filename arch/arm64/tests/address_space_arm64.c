/*
 * The arm64 address space as the MMU sees it: the kernel in TTBR1's high half, nothing in
 * TTBR0, kernel entries global and out of EL0's reach, user protections bit by bit.
 */
#include <asm/mmu.h>
#include <asm/pgtable.h>
#include <asm/sysreg.h>
#include <kernel/boot_info.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <mm/mm.h>

/* Something in the kernel's data: its physical address must not work as a pointer. */
static u64 probe_word = 0x600dcafe600dcafeULL;

static unsigned long current_pc(void)
{
	unsigned long pc;

	__asm__ __volatile__("adr %0, ." : "=r"(pc));
	return pc;
}

static bool in_ram(phys_addr_t pa)
{
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (pa >= boot_info.ram[i].base &&
		    pa - boot_info.ram[i].base < boot_info.ram[i].size)
			return true;
	return false;
}

/*
 * The PC, the stack and every image symbol are high addresses; the MMU translates an image
 * address to exactly virt_to_phys() of it (the image is linked inside the linear map), and
 * that is RAM - where QEMU loaded us.
 */
static void kernel_runs_in_the_high_half(struct kunit *test)
{
	unsigned long pc = current_pc(), sp = (unsigned long)__builtin_frame_address(0);
	const void *syms[] = { _text_start, _rodata_start, _data_start, &probe_word };

	KUNIT_EXPECT_GE(test, pc, (unsigned long)_text_start);
	KUNIT_EXPECT_LT(test, pc, (unsigned long)_text_end);
	KUNIT_EXPECT_GE(test, (unsigned long)_text_start, PAGE_OFFSET);
	KUNIT_EXPECT_GE(test, sp, PAGE_OFFSET);
	for (unsigned int i = 0; i < ARRAY_SIZE(syms); i++) {
		unsigned long va = (unsigned long)syms[i];
		u64 par = arm64_at_s1e1r(va);

		KUNIT_EXPECT_EQ(test, par & PAR_F, 0);
		KUNIT_EXPECT_EQ(test, PAR_PA(par) | (va & ~PAGE_MASK), virt_to_phys(syms[i]));
		KUNIT_EXPECT_TRUE(test, in_ram(virt_to_phys(syms[i])));
	}
	KUNIT_EXPECT_EQ(test, read_sysreg(ttbr1_el1) & PTE_ADDR_MASK, init_mm.pgd);
	kunit_info(test, "pc %#lx, sp %#lx, _text_start %#lx = pa %#llx", pc, sp,
		   (unsigned long)_text_start, (unsigned long long)virt_to_phys(_text_start));
}

/* What one CPU found in its TTBRs (on_each_cpu() fills one slot per CPU). */
static u64 ttbr0_seen[NR_CPUS], ttbr1_seen[NR_CPUS];

static void read_ttbrs(void *arg)
{
	(void)arg;
	ttbr0_seen[smp_processor_id()] = read_sysreg(ttbr0_el1);
	ttbr1_seen[smp_processor_id()] = read_sysreg(ttbr1_el1);
}

/*
 * Once booted, TTBR0 holds the empty table with ASID 0 on every CPU - the boot CPU and the
 * secondaries each dropped their identity map - so a physical address used as a pointer
 * faults (it would read the kernel's data through the identity map otherwise), and so does
 * the MMU's own walk of it.
 */
static void ttbr0_maps_nothing_after_boot(struct kunit *test)
{
	const u64 *empty = (const u64 *)arm64_empty_pgd;
	phys_addr_t pa = virt_to_phys(&probe_word);
	u64 copy = 0;
	unsigned int online = 0;

	for (unsigned int i = 0; i < PTRS_PER_TABLE; i++)
		KUNIT_EXPECT_EQ(test, empty[i], 0);
	KUNIT_ASSERT_EQ(test, on_each_cpu(read_ttbrs, NULL, true), 0);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!cpu_online(cpu))
			continue;
		online++;
		KUNIT_EXPECT_EQ(test, ttbr0_seen[cpu], virt_to_phys(arm64_empty_pgd));
		KUNIT_EXPECT_EQ(test, ttbr1_seen[cpu], init_mm.pgd);
	}
	KUNIT_EXPECT_EQ(test, online, num_online_cpus());

	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&copy, (const void *)(uintptr_t)pa, 8),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, pa);
	KUNIT_EXPECT_EQ(test, copy, 0);
	KUNIT_EXPECT_EQ(test, arm64_at_s1e1r(pa) & PAR_F, PAR_F);
	/* ... while the same frame through the linear map is the kernel's word. */
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&copy, phys_to_virt(pa), 8), 0);
	KUNIT_EXPECT_EQ(test, copy, probe_word);
	kunit_info(test, "TTBR0 = empty table at pa %#llx on %u CPUs; pa %#llx as a pointer faults",
		   (unsigned long long)virt_to_phys(arm64_empty_pgd), online,
		   (unsigned long long)pa);
}

struct walk_totals {
	unsigned long leaves, exec_in_linear_map, exec_outside_text, bad;
	unsigned long first_bad_va;
	u64 first_bad_pte;
};

static void check_leaf(struct walk_totals *w, unsigned long va, u64 pte)
{
	bool exec = !(pte & PTE_PXN);
	bool ok = (pte & PTE_UXN) && !(pte & PTE_NG) && !(pte & PTE_AP_EL0) && (pte & PTE_AF);

	w->leaves++;
	if (exec && va < VM_TEST_START) {
		w->exec_in_linear_map++;
		if (va < (unsigned long)_text_start || va >= (unsigned long)_text_end)
			w->exec_outside_text++;
	}
	if (!ok && !w->bad++) {
		w->first_bad_va = va;
		w->first_bad_pte = pte;
	}
}

/* Every valid leaf below table (at level, covering VAs from base). */
static void walk_kernel_table(struct walk_totals *w, const pte_t *table, int level,
			      unsigned long base)
{
	for (unsigned int i = 0; i < PTRS_PER_TABLE; i++) {
		pte_t e = READ_ONCE(table[i]);
		unsigned long va = base + ((unsigned long)i << LEVEL_SHIFT(level));

		if (!pte_present(e))
			continue;
		if (pte_is_table(e, level))
			walk_kernel_table(w, phys_to_virt(pte_table_pa(e)), level - 1, va);
		else
			check_leaf(w, va, pte_val(e));
	}
}

/*
 * Every valid leaf of the kernel's tables: EL0 may neither access (AP[1] = 0) nor execute
 * (UXN) it, and it is global (nG = 0), so one translation serves every address space and
 * the ASID-0 TLBIs of init_mm reach it. In the linear map, exactly the image's text pages
 * are executable at EL1. And the MMU agrees: an EL0 read of text, data or a device faults.
 */
static void kernel_entries_are_global_and_out_of_el0_reach(struct kunit *test)
{
	struct walk_totals w = { 0 };
	unsigned long text_pages =
	    ((unsigned long)_text_end - (unsigned long)_text_start) / PAGE_SIZE;
	unsigned long uart = (unsigned long)(uintptr_t)phys_to_virt(boot_info.uart_base);
	const unsigned long el0_probes[] = { (unsigned long)_text_start, (unsigned long)&probe_word,
					     uart };
	unsigned long flags;

	/* Under the lock: an unmap elsewhere could free a table while we read it. */
	spin_lock_irqsave(&init_mm.page_table_lock, flags);
	walk_kernel_table(&w, phys_to_virt(init_mm.pgd), PGTABLE_LEVELS - 1, PAGE_OFFSET);
	spin_unlock_irqrestore(&init_mm.page_table_lock, flags);

	KUNIT_EXPECT_GT(test, w.leaves, text_pages);
	KUNIT_EXPECT_EQ(test, w.bad, 0);
	if (w.bad)
		kunit_info(test, "first bad leaf: va %#lx pte %#llx", w.first_bad_va,
			   (unsigned long long)w.first_bad_pte);
	KUNIT_EXPECT_EQ(test, w.exec_in_linear_map, text_pages);
	KUNIT_EXPECT_EQ(test, w.exec_outside_text, 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(el0_probes); i++) {
		KUNIT_EXPECT_EQ(test, arm64_at_s1e1r(el0_probes[i]) & PAR_F, 0);
		KUNIT_EXPECT_EQ(test, arm64_at_s1e0r(el0_probes[i]) & PAR_F, PAR_F);
		/* A permission fault (FSC 0b0011LL), not a missing translation. */
		KUNIT_EXPECT_EQ(test, PAR_FST(arm64_at_s1e0r(el0_probes[i])) & ~3ULL, 0x0c);
	}
	kunit_info(test,
		   "%lu kernel leaves: all UXN, global, EL0 no access; %lu executable "
		   "in the linear map = the %lu text pages",
		   w.leaves, w.exec_in_linear_map, text_pages);
}

/*
 * vm_get_page_prot() for all eight PROT_* combinations, bit by bit: EL0 access and nG on
 * every accessible page, PXN always, UXN unless PROT_EXEC without PROT_WRITE (W^X),
 * writable exactly with PROT_WRITE, and PROT_NONE mapped but not valid.
 */
static void user_protections_bit_by_bit(struct kunit *test)
{
	for (unsigned int prot = 0; prot < 8; prot++) {
		u64 v = pgprot_val(vm_get_page_prot(prot));
		bool exec = (prot & PROT_EXEC) && !(prot & PROT_WRITE);

		if (prot == PROT_NONE) {
			KUNIT_EXPECT_EQ(test, v, pgprot_val(PAGE_NONE));
			KUNIT_EXPECT_FALSE(test, pte_present(__pte(v)));
			continue;
		}
		KUNIT_EXPECT_EQ(test, v & PTE_TYPE_MASK, PTE_TYPE_PAGE);
		KUNIT_EXPECT_EQ(test, v & (PTE_AP_EL0 | PTE_NG | PTE_PXN | PTE_AF),
				PTE_AP_EL0 | PTE_NG | PTE_PXN | PTE_AF);
		KUNIT_EXPECT_EQ(test, !(v & PTE_UXN), exec);
		KUNIT_EXPECT_EQ(test, !(v & PTE_AP_RDONLY), !!(prot & PROT_WRITE));
		KUNIT_EXPECT_EQ(test, v & PTE_ATTRS_MASK & ~PTE_NG, _PAGE_NORMAL);
	}
	KUNIT_EXPECT_EQ(test, pgprot_val(vm_get_page_prot(PROT_READ)), _PAGE_USER_RO);
	KUNIT_EXPECT_EQ(test, pgprot_val(vm_get_page_prot(PROT_READ | PROT_WRITE)), _PAGE_USER_RW);
	KUNIT_EXPECT_EQ(test, pgprot_val(vm_get_page_prot(PROT_READ | PROT_EXEC)), _PAGE_USER_RX);
}

static struct kunit_case address_space_arm64_cases[] = {
	KUNIT_CASE(kernel_runs_in_the_high_half),
	KUNIT_CASE(ttbr0_maps_nothing_after_boot),
	KUNIT_CASE(kernel_entries_are_global_and_out_of_el0_reach),
	KUNIT_CASE(user_protections_bit_by_bit),
	{}
};

static struct kunit_suite address_space_arm64_suite = {
	.name = "address_space_arm64",
	.test_cases = address_space_arm64_cases,
};
kunit_test_suite(address_space_arm64_suite);
