/* Address spaces, physical frames and the page-table API (mm/). */
#pragma once

#include <lib/types.h>
#include <mm/pte.h>
#include <asm/pgtable.h>

struct boot_info;

struct mm_struct {
	phys_addr_t pgd; /* the root table (x86 PML4, arm64 L0) */
	const char *name;
};

/* The kernel's address space. */
extern struct mm_struct init_mm;

/*
 * The linear map. Both arches map RAM at its physical address (PAGE_OFFSET is 0 in
 * <asm/pgtable.h>), so these are additions of 0 — but every conversion is written out, so a
 * kernel with a high linear map would change one constant.
 */
static inline void *phys_to_virt(phys_addr_t pa)
{
	return (void *)(uintptr_t)(pa + PAGE_OFFSET);
}

static inline phys_addr_t virt_to_phys(const void *va)
{
	return (phys_addr_t)(uintptr_t)va - PAGE_OFFSET;
}

/* --- physical frames (mm/frame.c) --- */
void frames_init(const struct boot_info *bi);
/* A zeroed 4 KiB frame, or 0 when none is left. */
phys_addr_t alloc_frame(void);
/* 0, or -EINVAL (with a warning) for a double free or a frame never handed out. */
int free_frame(phys_addr_t pa);
unsigned long frames_free(void);

/* --- page tables (mm/pgtable.c) --- */

/* Builds the kernel's own tables (linear map, image by section, devices) and switches. */
void mm_init(void);

/* Each opens its own lazy MMU section; 0 or a negative errno, nothing half-done on error. */
int map_pages(struct mm_struct *mm, unsigned long va, phys_addr_t pa, unsigned long npages,
	      pgprot_t prot);
int unmap_pages(struct mm_struct *mm, unsigned long va, unsigned long npages);
int protect_pages(struct mm_struct *mm, unsigned long va, unsigned long npages, pgprot_t prot);
/* 0 and fills pa and prot, or -ENOENT when nothing is mapped at va. */
int query_page(struct mm_struct *mm, unsigned long va, phys_addr_t *pa, pgprot_t *prot);

/* The leaf slot for va, or NULL when no table covers va. */
pte_t *pte_lookup(struct mm_struct *mm, unsigned long va);

/*
 * The one door for every entry write, at any level. Writes pte at ptep (the entry that
 * translates va) and performs — or, while the lazy MMU mode is active, queues — exactly the
 * maintenance the change needs.
 */
void pte_update(struct mm_struct *mm, unsigned long va, pte_t *ptep, pte_t pte);

/* An unused, unmapped, page-aligned VA range of npages for tests (never reused). */
unsigned long vm_test_area(unsigned long npages);
