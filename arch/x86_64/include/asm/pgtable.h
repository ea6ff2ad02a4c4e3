/* The x86-64 4-level page-table format: entry bits, kernel protections, the helpers mm/ uses. */
#pragma once

#include <lib/types.h>
#include <mm/pte.h>
#include <asm/layout.h>

/*
 * Four levels of 512 entries translate a 48-bit virtual address (mm/pte.h numbers them from
 * the leaf): level 3 PML4, level 2 PDPT, level 1 PD, level 0 PT. Bits 63:48 of a virtual
 * address must copy bit 47 ("canonical"), which splits the space into a low and a high half.
 *
 * A 4 KiB leaf entry (level 0):
 *
 *   63  62  59 58  52 51                            12 11   9  8   7   6   5   4   3   2   1   0
 *  +--+------+------+--------------------------------+------+---+---+---+---+---+---+---+---+---+
 *  |NX| PKEY | avail|  physical frame address 51:12  | avail| G |PAT| D | A |PCD|PWT|U/S|R/W| P |
 *  +--+------+------+--------------------------------+------+---+---+---+---+---+---+---+---+---+
 *
 *   P    present: the walker uses this entry; when clear, every other bit is ours
 *   R/W  writable      U/S  user-accessible      NX  no instruction fetch (needs EFER.NXE)
 *   PWT, PCD, PAT      select the memory type (here: PCD|PWT = uncached, for devices)
 *   A, D the CPU sets them (with a locked write to the entry) on first access / first write
 *   G    global: the translation survives CR3 writes (needs CR4.PGE)
 *
 * A table entry (levels 1-3, pointing at the next table):
 *
 *   63  62      52 51                             12 11  8  7   6   5   4   3   2   1   0
 *  +--+----------+---------------------------------+-----+---+---+---+---+---+---+---+---+
 *  |NX|  avail   | physical address of next table  |avail|PS | - | A |PCD|PWT|U/S|R/W| P |
 *  +--+----------+---------------------------------+-----+---+---+---+---+---+---+---+---+
 *
 *   PS   at levels 1 and 2, PS=1 would make this a 2 MiB / 1 GiB leaf; we never create
 *        those (the boot tables do, but mm/ replaces them), so PS=0 always means "table"
 *   R/W, U/S and NX combine over the levels: a page is writable (user-accessible) only if
 *   every level says so, and non-executable if any level says so. Table entries therefore
 *   grant everything (R/W=1, U/S=1, NX=0) and the leaf alone decides: a kernel leaf never
 *   has U/S, so the kernel half stays closed to ring 3 even below a table entry with U/S.
 */
#define _PAGE_PRESENT  BIT(0)
#define _PAGE_RW       BIT(1)
#define _PAGE_USER     BIT(2)
#define _PAGE_PWT      BIT(3)
#define _PAGE_PCD      BIT(4)
#define _PAGE_ACCESSED BIT(5)
#define _PAGE_DIRTY    BIT(6)
#define _PAGE_PSE      BIT(7) /* levels 1-2 only; the PAT bit at level 0 */
#define _PAGE_GLOBAL   BIT(8)
/* Bits 9-11 are ignored by the walker: software may use them. */
#define _PAGE_SW_NONE BIT(9)
#define _PAGE_NX      BIT(63)

#define PTE_ADDR_MASK 0x000ffffffffff000UL

/*
 * Kernel protections. Accessed and dirty are preset: the CPU then never writes an entry
 * back, so an entry reads exactly as it was made (pte_pgprot() relies on it), and a write
 * through a TLB entry that is stale hits the old frame instead of re-walking the tables to
 * set D (the stale-TLB demonstration depends on that).
 *
 * All are global (G): the kernel half is the same in every address space, so its
 * translations need not die with each CR3 load, nor be cached once per PCID; invlpg of a
 * kernel address drops the global entry whatever PCID is loaded, and the full flush
 * toggles CR4.PGE (asm/tlbflush.h). The price is paid once per CPU: the first load of
 * init_mm must drop the boot tables' entries with that toggle too (arch_switch_mm()).
 * Every kernel-half mapping must use these: a non-global one would be cached per PCID,
 * out of reach of the kernel's invlpg under another PCID.
 */
#define __PAGE_KERNEL_BASE (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL)
#define PAGE_KERNEL	   __pgprot(__PAGE_KERNEL_BASE | _PAGE_RW | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO	   __pgprot(__PAGE_KERNEL_BASE | _PAGE_NX)
#define PAGE_KERNEL_EXEC   __pgprot(__PAGE_KERNEL_BASE)
#define PAGE_KERNEL_DEVICE \
	__pgprot(__PAGE_KERNEL_BASE | _PAGE_RW | _PAGE_DIRTY | _PAGE_NX | _PAGE_PCD | _PAGE_PWT)
/*
 * User protections (ring 3: U/S set), the same A/D presetting. x86 can't express "write but
 * no read", nor "execute but no read", so PROT_WRITE implies read and PROT_EXEC implies
 * read (vm_get_page_prot()). There is no RWX: writable user data is never executable.
 */
#define PAGE_USER_RO __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_USER_RW \
	__pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_USER_RX __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)

/*
 * The leaf protection for mmap()/mprotect()'s PROT_READ|PROT_WRITE|PROT_EXEC bits
 * (<lazymmu/syscall.h>): PROT_NONE is PAGE_NONE; PROT_WRITE gives PAGE_USER_RW, even with
 * PROT_EXEC (W^X: the write wins and the page is never executable); PROT_EXEC gives
 * PAGE_USER_RX; PROT_READ alone PAGE_USER_RO.
 */
pgprot_t vm_get_page_prot(unsigned int prot);

/*
 * "Mapped, but no access": P is clear, so every access faults and the CPU never caches it,
 * but a software bit says the entry is in use and the address bits still name the frame.
 */
#define PAGE_NONE __pgprot(_PAGE_SW_NONE)

/* The walker uses the entry (a PAGE_NONE entry is not present). */
static inline bool pte_present(pte_t pte)
{
	return pte_val(pte) & _PAGE_PRESENT;
}

/* An entry at level >= 1 that points at the next table rather than mapping a large page. */
static inline bool pte_is_table(pte_t pte, int level)
{
	return level >= 1 && pte_present(pte) && !(pte_val(pte) & _PAGE_PSE);
}

/* A leaf ring 3 may use (if the leaf is present; U/S is also set in every table entry). */
static inline bool pte_user(pte_t pte)
{
	return pte_val(pte) & _PAGE_USER;
}

/*
 * Accessed preset for the same reason as on leaves: the CPU never writes a table entry. R/W
 * and U/S granted: the leaf decides (see the drawing above).
 */
static inline pte_t mk_table_entry(phys_addr_t table_pa)
{
	return __pte((table_pa & PTE_ADDR_MASK) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
		     _PAGE_ACCESSED);
}

/*
 * The kernel half's root entries: 256..511. mm_init() gives each its level-3 table at once
 * (arch_preallocate_kernel_tables()), every address space copies them (arch_pgd_init()),
 * and mm/pgtable.c never unlinks them (arch_pgd_entry_pinned()): a kernel mapping made
 * later lands in a table every address space already points at.
 */
#define KERNEL_PGD_FIRST (PAGE_OFFSET >> LEVEL_SHIFT(PGTABLE_LEVELS - 1) & (PTRS_PER_TABLE - 1))

static inline bool arch_pgd_entry_pinned(unsigned long va)
{
	return va >= PAGE_OFFSET; /* the high half starts at PAGE_OFFSET */
}
#define arch_pgd_entry_pinned arch_pgd_entry_pinned

struct mm_struct;
/* Called by mm_init() on init_mm's empty root: one level-3 table per kernel-half slot. */
void arch_preallocate_kernel_tables(struct mm_struct *mm);
#define arch_preallocate_kernel_tables arch_preallocate_kernel_tables

static inline phys_addr_t pte_table_pa(pte_t pte)
{
	return pte_val(pte) & PTE_ADDR_MASK;
}

static inline pte_t mk_pte(phys_addr_t pa, pgprot_t prot)
{
	return __pte((pa & PTE_ADDR_MASK) | pgprot_val(prot));
}

/* The frame of a leaf entry, present or PAGE_NONE. */
static inline phys_addr_t pte_pa(pte_t pte)
{
	return pte_val(pte) & PTE_ADDR_MASK;
}

/* Exactly the PAGE_* value the entry was made with (A and D never change, see above). */
static inline pgprot_t pte_pgprot(pte_t pte)
{
	return __pgprot(pte_val(pte) & ~PTE_ADDR_MASK);
}

/*
 * x86 has no break-before-make rule: the CPU may replace a valid entry by another valid
 * one with a different frame in a single store, as long as the stale TLB entry is
 * invalidated afterwards.
 */
static inline bool arch_has_break_before_make(void)
{
	return false;
}

static inline bool arch_pte_needs_bbm(pte_t old, pte_t new)
{
	(void)old;
	(void)new;
	return false;
}

/*
 * x86 page walks are coherent with ordinary stores: once the store of a new entry is done,
 * the next walk sees it. No barrier is needed to publish an entry (arm64 needs dsb+isb).
 */
static inline bool arch_pte_needs_sync(pte_t new)
{
	(void)new;
	return false;
}
