/* What the files of mm/ share and nobody else may use: the walker and the one door. */
#pragma once

#include <mm/mm.h>

/* The caller holds mm->page_table_lock for all of these. */

/* The leaf slot for va; with alloc, missing tables are created (-ENOMEM in *err). */
pte_t *walk(struct mm_struct *mm, unsigned long va, bool alloc, int *err);
/* One entry at `level`, with the maintenance it needs (mm/pgtable.c explains which). */
void entry_update(struct mm_struct *mm, unsigned long va, pte_t *ptep, pte_t pte, int level);
/* Unlinks and frees (after the flush) every empty table covering [start, end). */
void prune_range(struct mm_struct *mm, unsigned long start, unsigned long end);
/* For an mm no CPU has loaded: the leaf slot for va, tables made with plain stores. */
pte_t *walk_unloaded(struct mm_struct *mm, unsigned long va, int *err);

/*
 * Calls fn for every leaf entry in [start, end) that is not empty, in address order,
 * visiting only the tables that exist (so a huge sparse range costs what is mapped in it).
 * Stops at the first non-zero return and returns it. fn may change the entry but not
 * unlink tables.
 */
typedef int (*leaf_fn)(struct mm_struct *mm, unsigned long va, pte_t *ptep, void *arg);
int walk_leaves(struct mm_struct *mm, unsigned long start, unsigned long end, leaf_fn fn,
		void *arg);
