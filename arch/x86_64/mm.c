/* x86-64 hooks of the memory code: device windows, switching page tables, code writes. */
#include <asm/apic.h>
#include <asm/hpet.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
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
