/*
 * User address spaces: their life (mm_alloc() to the last mmdrop()), and the three system
 * calls that change their VMAs - mmap, munmap, mprotect. Each call holds the mm's
 * page_table_lock from its checks to its flush, and opens one lazy MMU section around its
 * page-table loop, where Linux opens it: change_pte_range() for mprotect, zap_pte_range()
 * for munmap (mm/memory.c).
 */
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <kernel/spinlock.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <mm/lazy_mmu.h>
#include <mm/user.h>
#include <kernel/uapi.h>
#include "internal.h"
#include "user_internal.h"

_Static_assert(sizeof(struct mm_struct) <= PAGE_SIZE, "an mm_struct lives in one frame");

static u64 next_mm_id = 1; /* atomic */

struct mm_struct *mm_alloc(void)
{
	phys_addr_t pa = alloc_frame(), pgd;
	struct mm_struct *mm;

	if (!pa)
		return NULL;
	mm = phys_to_virt(pa); /* zeroed: no VMAs, empty cpumask, nothing pending */
	pgd = alloc_frame();
	if (!pgd) {
		free_frame(pa);
		return NULL;
	}
	mm->pgd = pgd;
	spin_lock_init(&mm->page_table_lock);
	mm->page_table_lock.name = "mm->page_table_lock";
	mm->users = 1;
	mm->count = 1; /* held by the users together, dropped by the last mmput() */
	mm->id = __atomic_fetch_add(&next_mm_id, 1, __ATOMIC_RELAXED);
	mm->mmap_base = USER_MMAP_BASE;
	snprintf(mm->name_buf, sizeof(mm->name_buf), "mm%llu", (unsigned long long)mm->id);
	mm->name = mm->name_buf;
	/* The kernel half (x86-64: copy the shared root entries; arm64: TTBR1, nothing). */
	if (arch_pgd_init(mm) || init_new_context(mm)) {
		free_frame(pgd);
		free_frame(pa);
		return NULL;
	}
	return mm;
}

void mmget(struct mm_struct *mm)
{
	if (mm != &init_mm)
		__atomic_fetch_add(&mm->users, 1, __ATOMIC_RELAXED);
}

void mmput(struct mm_struct *mm)
{
	if (mm == &init_mm)
		return;
	if (__atomic_sub_fetch(&mm->users, 1, __ATOMIC_ACQ_REL) == 0) {
		exit_mmap(mm);
		mmdrop(mm);
	}
}

void mmgrab(struct mm_struct *mm)
{
	if (mm != &init_mm)
		__atomic_fetch_add(&mm->count, 1, __ATOMIC_RELAXED);
}

/*
 * The last reference: no task uses mm and no CPU has its tables loaded (a CPU that still
 * had them - Linux's lazy TLB - held a reference until it loaded another mm). exit_mmap()
 * emptied the user half, so only the root table is left; the kernel half it points at is
 * shared and stays.
 */
void mmdrop(struct mm_struct *mm)
{
	if (mm == &init_mm)
		return;
	if (__atomic_sub_fetch(&mm->count, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	WARN_ONCE(mm_user_pages(mm), "mmdrop(%s): %lu user pages still mapped", mm->name,
		  mm_user_pages(mm));
	WARN_ONCE(__atomic_load_n(&mm->cpumask, __ATOMIC_RELAXED),
		  "mmdrop(%s): still loaded on CPUs %#lx", mm->name, mm->cpumask);
	destroy_context(mm);
	free_frame(mm->pgd);
	free_frame(virt_to_phys(mm));
}

/* ------------------------------------------------------------------ commit accounting */

/*
 * Strict accounting, like Linux's overcommit_memory=2: every page a VMA covers is promised
 * a frame when it is mapped (mmap, fork, exec), so a later page fault never finds the
 * machine out of memory - mmap() and fork() fail with -ENOMEM instead, where a program can
 * see it. The limit leaves USER_RESERVE_FRAMES for the kernel (tables, stacks, tasks).
 */
#define USER_RESERVE_FRAMES 2048UL

static DEFINE_SPINLOCK(commit_lock);
static unsigned long committed, commit_limit; /* pages; commit_lock */

int vm_commit(unsigned long pages)
{
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&commit_lock, flags);
	if (!commit_limit) {
		/* Set at the first commit, once the kernel's own boot allocations are done. */
		unsigned long avail = frames_free();

		commit_limit =
		    avail > 2 * USER_RESERVE_FRAMES ? avail - USER_RESERVE_FRAMES : avail / 2;
	}
	if (pages > commit_limit - committed)
		err = -ENOMEM;
	else
		committed += pages;
	spin_unlock_irqrestore(&commit_lock, flags);
	return err;
}

void vm_uncommit(unsigned long pages)
{
	unsigned long flags;

	spin_lock_irqsave(&commit_lock, flags);
	WARN_ONCE(pages > committed, "vm_uncommit(%lu) with %lu committed", pages, committed);
	committed -= MIN(pages, committed);
	spin_unlock_irqrestore(&commit_lock, flags);
}

unsigned long vm_committed_pages(void)
{
	return READ_ONCE(committed);
}

unsigned long vma_pages(const struct vma_list *l)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < l->nr; i++)
		n += (l->area[i].end - l->area[i].start) / PAGE_SIZE;
	return n;
}

/* ------------------------------------------------------------------ the system calls */

/*
 * A user range from a system call: page-aligned start, a length that rounds up without
 * wrapping, all of it in [USER_MIN, TASK_SIZE). Sets *end.
 */
static int user_range(unsigned long addr, unsigned long len, unsigned long *end)
{
	unsigned long pages_len;

	if (!IS_ALIGNED(addr, PAGE_SIZE) || len == 0)
		return -EINVAL;
	if (len > TASK_SIZE)
		return -EINVAL;
	pages_len = ALIGN_UP(len, PAGE_SIZE);
	if (addr < USER_MIN || addr >= TASK_SIZE || pages_len > TASK_SIZE - addr)
		return -EINVAL;
	*end = addr + pages_len;
	return 0;
}

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)

long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned int prot,
	     unsigned int flags)
{
	struct vma_list next;
	unsigned long end, irqflags, before;
	long err;

	if (len == 0 || (prot & ~PROT_ALL) ||
	    (flags & ~(unsigned int)(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)) ||
	    !(flags & MAP_PRIVATE) || !(flags & MAP_ANONYMOUS))
		return -EINVAL;
	if (len > USER_MMAP_END - USER_MMAP_BASE && !(flags & MAP_FIXED))
		return -ENOMEM;
	if (flags & MAP_FIXED) {
		err = user_range(addr, len, &end);
		if (err)
			return err;
	}

	spin_lock_irqsave(&mm->page_table_lock, irqflags);
	if (!(flags & MAP_FIXED)) {
		/* The hint is ignored, as Linux may: the lowest gap from mmap_base that fits. */
		len = ALIGN_UP(len, PAGE_SIZE);
		addr = vma_find_gap(&mm->vmas, len, mm->mmap_base, USER_MMAP_END);
		if (!addr) {
			spin_unlock_irqrestore(&mm->page_table_lock, irqflags);
			return -ENOMEM;
		}
		end = addr + len;
	}
	next = mm->vmas;
	before = vma_pages(&next);
	err = vma_map(&next, addr, end, prot);
	/* A fixed mapping replaces what was there: it commits only what it adds. */
	if (!err && vma_pages(&next) > before)
		err = vm_commit(vma_pages(&next) - before);
	if (err) {
		spin_unlock_irqrestore(&mm->page_table_lock, irqflags);
		return err;
	}
	/* MAP_FIXED over old pages: they go, as munmap would take them (one lazy section). */
	if ((flags & MAP_FIXED) &&
	    vma_pages(&mm->vmas) + (end - addr) / PAGE_SIZE != vma_pages(&next))
		zap_range_locked(mm, addr, end);
	mm->vmas = next;
	spin_unlock_irqrestore(&mm->page_table_lock, irqflags);
	return (long)addr;
}

int do_munmap(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
	struct vma_list next;
	unsigned long end, flags, before;
	int err = user_range(addr, len, &end);

	if (err)
		return err;
	spin_lock_irqsave(&mm->page_table_lock, flags);
	next = mm->vmas;
	before = vma_pages(&next);
	err = vma_unmap(&next, addr, end); /* -ENOMEM: a split with no room for it */
	if (!err && vma_pages(&next) != before) {
		zap_range_locked(mm, addr, end); /* only where a VMA was: nothing else is mapped */
		vm_uncommit(before - vma_pages(&next));
		mm->vmas = next;
	}
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return err;
}

int do_mprotect(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned int prot)
{
	struct vma_list next;
	unsigned long end, flags;
	int err;

	if (prot & ~PROT_ALL)
		return -EINVAL;
	err = user_range(addr, len, &end);
	if (err)
		return err;
	spin_lock_irqsave(&mm->page_table_lock, flags);
	next = mm->vmas;
	if (!vma_covered(&next, addr, end))
		err = -ENOMEM; /* Linux's answer for a hole in the range */
	else
		err = vma_protect(&next, addr, end, prot);
	if (!err) {
		mm->vmas = next;
		change_protection_locked(mm, addr, end);
	}
	spin_unlock_irqrestore(&mm->page_table_lock, flags);
	return err;
}
