/*
 * User address spaces (mm/mmap.c, mm/memory.c): their layout, their life, and the
 * operations the system calls and the fault handler perform on them. Design section 12;
 * docs/user.md walks through it beside Linux's function names.
 */
#pragma once

#include <lib/types.h>
#include <mm/mm.h>

/*
 * The user half, the same on both arches (x86-64's lower canonical half is 47 bits; arm64's
 * TTBR0 could reach 48, but one layout is simpler to teach):
 *
 *   0                  unmapped (a NULL dereference faults)
 *   USER_MIN           lowest address mmap(MAP_FIXED) accepts
 *   USER_TEXT_BASE     the program image (user/user.ld), R+X text, R rodata, R+W data
 *   USER_MMAP_BASE     mmap() without MAP_FIXED picks the lowest free gap from here
 *   USER_STACK_TOP     the stack grows down from here, USER_STACK_PAGES, demand-zero
 *   TASK_SIZE          end of the user half
 */
#define USER_MIN	 0x0000000000010000UL
#define USER_TEXT_BASE	 0x0000000000400000UL
#define USER_MMAP_BASE	 0x0000100000000000UL
#define USER_STACK_TOP	 0x00007ffffff00000UL
#define USER_STACK_PAGES 16UL
#define USER_MMAP_END	 (USER_STACK_TOP - (1UL << 30))
#define TASK_SIZE	 0x0000800000000000UL

/* --- arch contract (arch/<arch>/mm.c) --- */

/* Fills a new root table's kernel half (x86-64: copies init_mm's shared root entries;
 * arm64: nothing, the kernel is TTBR1's). 0 or -ENOMEM. */
int arch_pgd_init(struct mm_struct *mm);
/* The arch's per-mm state (ASID/PCID bookkeeping): set up, and released at the last mmdrop(). */
int init_new_context(struct mm_struct *mm);
void destroy_context(struct mm_struct *mm);

/* --- life (mm/mmap.c) --- */

/* A new address space: empty user half, the kernel half shared. NULL when out of memory. */
struct mm_struct *mm_alloc(void);
/* Another task uses mm / stops using it; the last mmput() tears the user half down. */
void mmget(struct mm_struct *mm);
void mmput(struct mm_struct *mm);
/* A reference to the struct and root table only (a CPU with the tables loaded holds one);
 * the last mmdrop() frees them. Both are no-ops for init_mm. */
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);

/* --- system calls (mm/mmap.c): 0 / an address, or a negative errno --- */
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned int prot,
	     unsigned int flags);
int do_munmap(struct mm_struct *mm, unsigned long addr, unsigned long len);
int do_mprotect(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned int prot);

/* Pages promised to user mappings on the whole machine (strict commit: no overcommit). */
unsigned long vm_committed_pages(void);

/* --- pages (mm/memory.c) --- */

#define FAULT_READ  1u
#define FAULT_WRITE 2u
#define FAULT_EXEC  4u

/*
 * Resolves a fault of the given access at addr in mm: a demand-zero page or a copy-on-write
 * copy. 0 when the access may be retried; -EFAULT when no VMA allows it (the caller kills the
 * process or returns -EFAULT); -ENOMEM when no frame was left.
 */
int handle_mm_fault(struct mm_struct *mm, unsigned long addr, unsigned int access);

/*
 * Copies to or from the user half of mm through the linear map, faulting pages in as the
 * user's own access would (so a copy-on-write page is copied before the kernel writes it).
 * 0, or -EFAULT when any byte is outside what the VMAs allow.
 */
int copy_from_user_mm(struct mm_struct *mm, void *dst, unsigned long src, size_t n);
int copy_to_user_mm(struct mm_struct *mm, unsigned long dst, const void *src, size_t n);

/*
 * fork's copy of the user half (Linux's dup_mmap()/copy_pte_range()): the child gets the
 * parent's VMAs and shares every page copy-on-write; the parent's writable entries become
 * read-only inside one lazy MMU section, flushed once. 0 or -ENOMEM (child left empty).
 */
int dup_mm(struct mm_struct *child, struct mm_struct *parent);

/*
 * Puts a zeroed page of prot at va in an mm that no CPU has loaded yet (the program loader):
 * plain stores, published by mm_publish() before any CPU loads mm. Returns the frame's
 * linear-map address, or NULL when out of frames.
 */
void *mm_populate_page(struct mm_struct *mm, unsigned long va, unsigned int prot);
void mm_publish(struct mm_struct *mm);

/* Tears down every user mapping and user table of mm (exit, and the last mmput()). */
void exit_mmap(struct mm_struct *mm);

/* What the fault handler did, summed over every mm (atomics). */
struct user_fault_stats {
	u64 demand_zero; /* a zeroed frame for a first touch */
	u64 cow_copies;	 /* a write to a shared page: copied */
	u64 cow_reuses;	 /* a write to a page no longer shared: made writable in place */
};
extern struct user_fault_stats user_fault_stats;

/* The number of user pages mm has in its tables (tests: nothing leaks). */
unsigned long mm_user_pages(struct mm_struct *mm);
