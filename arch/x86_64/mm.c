/* x86-64 hooks of the memory code: device windows, the shared kernel half, switching tables. */
#define __KERNEL__
#include <lazymmu/syscall.h>
#include <asm/apic.h>
#include <asm/hpet.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <lib/errno.h>
#include <mm/mm.h>

/* Both are a few registers in the first 4 KiB of their window. */
static const struct mem_region x86_mmio[] = {
	{ .base = LAPIC_BASE, .size = PAGE_SIZE },
	{ .base = HPET_BASE, .size = PAGE_SIZE },
};

unsigned int arch_mmio_regions(const struct mem_region **regions)
{
	*regions = x86_mmio;
	return ARRAY_SIZE(x86_mmio);
}

/*
 * 256 level-3 tables (1 MiB) for the whole kernel half, so that no kernel mapping ever needs
 * a new root entry: were one added to init_mm later, every other address space would have
 * to be found and given a copy (Linux's old pgd_list "sync"). The root is not loaded yet,
 * so plain stores suffice: no TLB can hold anything of it.
 */
void arch_preallocate_kernel_tables(struct mm_struct *mm)
{
	pte_t *root = phys_to_virt(mm->pgd);

	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++) {
		phys_addr_t pa;

		if (!pte_none(root[i]))
			continue;
		pa = alloc_frame();
		if (!pa)
			panic("mm_init: no frame for the kernel half's level-3 tables");
		WRITE_ONCE(root[i], mk_table_entry(pa));
	}
}

/*
 * A new address space's root (mm->pgd, zeroed by the caller) gets init_mm's kernel half:
 * the same 256 entries, so the same level-3 tables. They never change after mm_init()
 * (preallocated, pinned), so this copy is never stale, and no lock is needed to read them.
 */
int arch_pgd_init(struct mm_struct *mm)
{
	const pte_t *src = phys_to_virt(init_mm.pgd);
	pte_t *dst;

	if (!mm->pgd)
		return -EINVAL;
	dst = phys_to_virt(mm->pgd);
	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++)
		WRITE_ONCE(dst[i], READ_ONCE(src[i]));
	return 0;
}

/*
 * x86 has no write-only or execute-only pages: any present page is readable. So WRITE
 * implies READ, EXEC implies READ, and WRITE wins over EXEC (data is never executable).
 */
pgprot_t vm_get_page_prot(unsigned int prot)
{
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return PAGE_NONE;
	if (prot & PROT_WRITE)
		return PAGE_USER_RW;
	if (prot & PROT_EXEC)
		return PAGE_USER_RX;
	return PAGE_USER_RO;
}

/*
 * CR3 names the root table. Writing it (with PCIDs off) also drops every non-global
 * translation this CPU has cached, and all paging-structure caches: after the switch no
 * translation of the old tables survives. Our kernel mappings are not global, so that
 * covers everything, including the boot tables' 2 MiB mappings.
 */
void arch_switch_mm(struct mm_struct *mm)
{
	write_cr3(mm->pgd);
}

/*
 * x86 keeps instruction fetch coherent with stores: code written through data accesses is
 * fetched as written (on this CPU, after any branch). Only the compiler must not sink the
 * stores past the point where the caller jumps to the code.
 */
void arch_sync_icache(const void *addr, size_t len)
{
	(void)addr;
	(void)len;
	barrier();
}
