/* arm64 hooks of the memory code: device windows, a new mm's root, code writes. */
#include <asm/barrier.h>
#include <asm/cacheflush.h>
#include <asm/gic.h>
#include <asm/mmu.h>
#include <asm/pgtable.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <mm/mm.h>

/* The PL011 page and the GIC's two windows, wherever the device tree put them. */
unsigned int arch_mmio_regions(const struct mem_region **regions)
{
	static struct mem_region mmio[3];
	unsigned int n = 0;

	if (boot_info.uart_base)
		mmio[n++] =
		    (struct mem_region){ ALIGN_DOWN(boot_info.uart_base, PAGE_SIZE), PAGE_SIZE };
	if (boot_info.irqchip_dist)
		mmio[n++] = (struct mem_region){ boot_info.irqchip_dist, GICD_SIZE };
	if (boot_info.irqchip_cpu)
		mmio[n++] = (struct mem_region){ boot_info.irqchip_cpu, GICC_SIZE };
	*regions = mmio;
	return n;
}

/*
 * The kernel's tables are TTBR1's and nobody else's: a user mm's root holds only its user
 * half, so a new mm needs nothing copied (x86-64, with one root for both halves, copies
 * the kernel's top-level entries here).
 */
int arch_pgd_init(struct mm_struct *mm)
{
	(void)mm;
	return 0;
}

/*
 * Instructions written with ordinary stores sit in the data cache; instruction fetch may
 * not look there. Make them fetchable: clean each D-cache line to the point of unification
 * (where both sides meet), wait, invalidate each I-cache line there (on every CPU), wait,
 * and isb so that this CPU doesn't run anything it fetched before. CTR_EL0 may say either
 * step is unnecessary on this CPU (IDC, DIC); the barriers stay.
 */
void arch_sync_icache(const void *addr, size_t len)
{
	u64 ctr = read_sysreg(ctr_el0);
	unsigned long start = (unsigned long)addr, end = start + len;
	unsigned long dline = arm64_dcache_line_size(ctr), iline = arm64_icache_line_size(ctr);

	if (!(ctr & CTR_EL0_IDC))
		for (unsigned long va = ALIGN_DOWN(start, dline); va < end; va += dline)
			dc_cvau(va);
	dsb(ish);
	if (!(ctr & CTR_EL0_DIC))
		for (unsigned long va = ALIGN_DOWN(start, iline); va < end; va += iline)
			ic_ivau(va);
	dsb(ish);
	isb();
}
