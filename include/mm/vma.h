/*
 * Virtual memory areas: what a user address space promises, as opposed to what its page
 * tables hold right now. A VMA says "[start, end) is mapped with prot"; the tables fill in
 * lazily (demand-zero on first touch, copy-on-write after fork), so the fault handler asks
 * the VMA what an access may do, and mprotect/munmap change VMAs first, then the tables.
 *
 * Linux keeps VMAs in a maple tree of separately allocated structs; we keep a short sorted
 * array inside the mm (MM_MAX_VMAS, like Linux's max_map_count limit but far smaller), so
 * an operation that would need more areas fails with -ENOMEM and changes nothing.
 */
#pragma once

#include <lib/types.h>

#define MM_MAX_VMAS 64

struct vm_area {
	unsigned long start, end; /* page aligned, start < end */
	unsigned int prot;	  /* PROT_READ | PROT_WRITE | PROT_EXEC, or PROT_NONE */
};

/* Sorted by start, never overlapping, neighbours with equal prot merged. */
struct vma_list {
	unsigned int nr;
	struct vm_area area[MM_MAX_VMAS];
};

/* The area containing addr, or NULL. */
const struct vm_area *vma_find(const struct vma_list *l, unsigned long addr);

/* True if every page of [start, end) lies in some area. */
bool vma_covered(const struct vma_list *l, unsigned long start, unsigned long end);

/* [start, end) becomes one area with prot, replacing whatever covered it before. */
int vma_map(struct vma_list *l, unsigned long start, unsigned long end, unsigned int prot);

/* Nothing covers [start, end) any more (areas are trimmed or split). */
int vma_unmap(struct vma_list *l, unsigned long start, unsigned long end);

/* The covered parts of [start, end) get prot (the caller checked vma_covered()). */
int vma_protect(struct vma_list *l, unsigned long start, unsigned long end, unsigned int prot);

/* The lowest free gap of len bytes in [lo, hi), or 0 when there is none. */
unsigned long vma_find_gap(const struct vma_list *l, unsigned long len, unsigned long lo,
			   unsigned long hi);
