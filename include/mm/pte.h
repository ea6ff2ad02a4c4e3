/* Page-table entry and protection types, the same 64-bit shape on both architectures. */
#pragma once

#include <lib/types.h>

/* Wrapped in structs so an entry, a protection and a plain integer can't be mixed up. */
typedef struct {
	u64 val;
} pte_t;

typedef struct {
	u64 val;
} pgprot_t;

#define pte_val(p)    ((p).val)
#define __pte(v)      ((pte_t){ (v) })
#define pgprot_val(p) ((p).val)
#define __pgprot(v)   ((pgprot_t){ (v) })

/* 4 KiB pages, 512 entries per table, 4 levels: 48-bit virtual addresses on both arches. */
#define PAGE_SHIFT     12
#define PAGE_SIZE      (1UL << PAGE_SHIFT)
#define PAGE_MASK      (~(PAGE_SIZE - 1))
#define PTRS_PER_TABLE 512
#define PGTABLE_LEVELS 4

/*
 * Levels are numbered from the leaf: level 0 is the last table (x86 PT, arm64 L3), level 3
 * the root (x86 PML4, arm64 L0). An entry at level L covers 4 KiB << (9 * L).
 */
#define LEVEL_SHIFT(level) (PAGE_SHIFT + 9 * (level))
#define LEVEL_SIZE(level)  (1UL << LEVEL_SHIFT(level))

static inline unsigned int pt_index(unsigned long va, int level)
{
	return (va >> LEVEL_SHIFT(level)) & (PTRS_PER_TABLE - 1);
}

static inline bool pte_none(pte_t pte)
{
	return pte_val(pte) == 0;
}
