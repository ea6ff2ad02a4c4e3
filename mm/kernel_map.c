/* mm_init(): the kernel's own page tables, built by mm/ to replace the boot tables. */
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sections.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>

/*
 * The protection of one page of RAM in the linear map. The kernel image is mapped by
 * section, so that text can't be written and data can't be executed (W^X); the page below
 * the boot stack stays unmapped so an overflow faults.
 */
static bool ram_page_prot(phys_addr_t pa, pgprot_t *prot)
{
	uintptr_t p = (uintptr_t)phys_to_virt(pa);

	if (pa == 0)
		return false; /* page 0 stays unmapped: a NULL dereference must fault */
	if (p >= (uintptr_t)__stack_guard && p < (uintptr_t)__stack_guard + PAGE_SIZE)
		return false;
	if (p >= (uintptr_t)_text_start && p < (uintptr_t)_text_end)
		*prot = PAGE_KERNEL_EXEC;
	else if (p >= (uintptr_t)_rodata_start && p < (uintptr_t)_rodata_end)
		*prot = PAGE_KERNEL_RO;
	else
		*prot = PAGE_KERNEL;
	return true;
}

/* Maps [start, end) of RAM at its linear address, one map_pages() per run of equal prot. */
static void map_ram(phys_addr_t start, phys_addr_t end)
{
	phys_addr_t run = start;
	pgprot_t run_prot = PAGE_KERNEL;
	bool in_run = false;

	for (phys_addr_t pa = start; pa <= end; pa += PAGE_SIZE) {
		pgprot_t prot = PAGE_KERNEL;
		bool mapped = pa < end && ram_page_prot(pa, &prot);

		if (in_run && (!mapped || pgprot_val(prot) != pgprot_val(run_prot))) {
			unsigned long va = (unsigned long)(uintptr_t)phys_to_virt(run);
			int err = map_pages(&init_mm, va, run, (pa - run) / PAGE_SIZE, run_prot);

			if (err)
				panic("mm_init: mapping RAM %#llx-%#llx failed (%d)",
				      (unsigned long long)run, (unsigned long long)pa, err);
			in_run = false;
		}
		if (mapped && !in_run) {
			run = pa;
			run_prot = prot;
			in_run = true;
		}
	}
}

/*
 * An arch whose address spaces share the kernel half's upper tables (x86-64) makes them
 * all now, on the empty root, before anything is mapped.
 */
#ifndef arch_preallocate_kernel_tables
static inline void arch_preallocate_kernel_tables(struct mm_struct *mm)
{
	(void)mm;
}
#endif

void mm_init(void)
{
	const struct mem_region *mmio;
	unsigned long before = frames_free();
	unsigned int n;

	tlb_flush_ceiling = arch_default_flush_ceiling();
	init_mm.pgd = alloc_frame();
	if (!init_mm.pgd)
		panic("mm_init: no frame for the root table");
	arch_preallocate_kernel_tables(&init_mm);

	for (unsigned int i = 0; i < boot_info.nr_ram; i++) {
		const struct mem_region *r = &boot_info.ram[i];

		map_ram(ALIGN_UP(r->base, PAGE_SIZE), ALIGN_DOWN(r->base + r->size, PAGE_SIZE));
	}
	n = arch_mmio_regions(&mmio);
	for (unsigned int i = 0; i < n; i++) {
		phys_addr_t base = ALIGN_DOWN(mmio[i].base, PAGE_SIZE);
		unsigned long pages =
		    (ALIGN_UP(mmio[i].base + mmio[i].size, PAGE_SIZE) - base) / PAGE_SIZE;

		if (map_pages(&init_mm, (unsigned long)(uintptr_t)phys_to_virt(base), base, pages,
			      PAGE_KERNEL_DEVICE))
			panic("mm_init: mapping device %#llx failed", (unsigned long long)base);
	}

	arch_switch_mm(&init_mm);
	printk("lazymmu: kernel page tables built: %lu table pages, %lu frames free\n",
	       before - frames_free(), frames_free());
}
