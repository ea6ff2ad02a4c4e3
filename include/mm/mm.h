/* Address spaces, physical frames and the page-table API (mm/). */
#pragma once

#include <lib/types.h>
#include <kernel/spinlock.h>
#include <mm/pte.h>
#include <mm/tlb_batch.h>
#include <mm/vma.h>
#include <asm/pgtable.h>
#include <asm/mmu.h>

struct boot_info;

/*
 * An address space. init_mm is the kernel's; every process has its own (mm_alloc()), whose
 * root table maps the user half and shares the kernel half (x86-64: the kernel-half root
 * entries are copied and never change; arm64: the kernel half is TTBR1's, apart).
 *
 * Who protects what:
 *   page_table_lock  the tables, vmas and mmap_base (every walk and every check-then-act)
 *   atomics          users, count, tlb_flush_pending, cpumask (any CPU, any context)
 *   arch             context (the ASID/PCID: the arch's allocator lock, see <asm/mmu.h>)
 */
struct mm_struct {
	phys_addr_t pgd; /* the root table (x86 PML4, arm64 L0) */
	const char *name;
	/*
	 * Serialises every walk that changes this mm's tables, and every check-then-act on
	 * them (is the range mapped? is this table empty? then change it). Taken with
	 * interrupts saved, because interrupt handlers update page tables too: see
	 * docs/memory.md, "Who may touch a page table".
	 */
	spinlock_t page_table_lock;
	/*
	 * How many tasks' batches, on every CPU, hold invalidations of this mm that no flush
	 * has issued yet (Linux's mm->tlb_flush_pending). A task's batch outlives the lock it
	 * queued under, so a context about to make a page valid (mm/pgtable.c,
	 * complete_earlier_change()) can't see another CPU's batch - only whether one might
	 * owe an invalidation. Incremented under page_table_lock, decremented once the flush
	 * is complete on every CPU.
	 */
	long tlb_flush_pending;

	/* --- user address spaces only (zero in init_mm) --- */
	int users;		 /* tasks using it (mmget()/mmput()): 0 tears the mappings down */
	int count;		 /* references to the struct (mmgrab()/mmdrop()): users hold one */
	unsigned long cpumask;	 /* bit n: CPU n may hold its translations (mm_cpumask) */
	mm_context_t context;	 /* the arch's ASID/PCID state */
	u64 id;			 /* unique for the life of the kernel (traces, PCID caches) */
	unsigned long mmap_base; /* where mmap() without MAP_FIXED starts looking */
	struct vma_list vmas;
	char name_buf[16];
};

/* The kernel's address space. */
extern struct mm_struct init_mm;

/* The mm a batch's invalidations belong to (a batch made by hand is the kernel's). */
static inline struct mm_struct *tlb_batch_mm(const struct tlb_batch *b)
{
	return b->mm ? b->mm : &init_mm;
}

/* A deferring batch got its first invalidation: count it in its mm until its flush. */
static inline void tlb_batch_note_pending(struct tlb_batch *b)
{
	if (!b->counted) {
		b->counted = true;
		__atomic_fetch_add(&tlb_batch_mm(b)->tlb_flush_pending, 1, __ATOMIC_RELAXED);
	}
}

/* True if a batch other than mine may owe an invalidation of some page of mm. */
static inline bool tlb_batch_owed_elsewhere(const struct tlb_batch *mine, struct mm_struct *mm)
{
	long mine_counted = mine->counted && tlb_batch_mm(mine) == mm;

	return __atomic_load_n(&mm->tlb_flush_pending, __ATOMIC_RELAXED) > mine_counted;
}

/*
 * The linear map: RAM at PAGE_OFFSET + its physical address (<asm/pgtable.h>). The kernel
 * image is linked inside it (at PAGE_OFFSET + its load address), so these hold for every
 * kernel pointer, image symbols included: one addition, one subtraction.
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
/*
 * Shared frames (copy-on-write): frame_get() adds an owner (0, or -ENOMEM when the count is
 * full), frame_put() drops one and frees the frame with the last; frame_sharers() is the
 * number of owners (1 for a frame nobody shares). free_frame() is frame_put() for a frame
 * with one owner.
 */
int frame_get(phys_addr_t pa);
int frame_put(phys_addr_t pa);
unsigned int frame_sharers(phys_addr_t pa);

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
 *
 * Takes mm->page_table_lock for the one entry unless this CPU already holds it (map_pages()
 * and friends hold it for their whole walk), so a caller outside any walk - a test, an
 * interrupt handler - is serialised against the walks too.
 */
void pte_update(struct mm_struct *mm, unsigned long va, pte_t *ptep, pte_t pte);

/*
 * The benchmark's floor (kernel/bench.c only): between
 * pgtable_floor_begin() and pgtable_floor_end(), on this CPU with interrupts off, entry
 * writes are bare stores with no invalidation and no barrier - what no batching can go
 * below. It can't break the mmu_gather rule: a table page unlinked meanwhile is freed by
 * pgtable_floor_end(), after the full flush that also makes the TLB agree with the tables
 * again.
 */
void pgtable_floor_begin(void);
void pgtable_floor_end(void);

/* An unused, unmapped, page-aligned VA range of npages for tests (never reused). */
unsigned long vm_test_area(unsigned long npages);
