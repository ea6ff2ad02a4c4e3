/* Shared by mm/mmap.c and mm/memory.c only. */
#pragma once

#include <mm/user.h>

/* Strict commit accounting (mm/mmap.c): 0 or -ENOMEM; and its undo. */
int vm_commit(unsigned long pages);
void vm_uncommit(unsigned long pages);
unsigned long vma_pages(const struct vma_list *l);

/*
 * Under mm->page_table_lock, each in one lazy MMU section (mm/memory.c):
 * zap_range_locked() clears every entry of [start, end), frees the frames after the flush,
 * and frees emptied tables; change_protection_locked() rewrites the entries of [start, end)
 * from the VMAs (which the caller has already changed).
 */
void zap_range_locked(struct mm_struct *mm, unsigned long start, unsigned long end);
void change_protection_locked(struct mm_struct *mm, unsigned long start, unsigned long end);
