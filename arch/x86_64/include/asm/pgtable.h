/* The x86-64 4-level page-table format: entry bits, kernel protections, the helpers mm/ uses. */
#pragma once

#include <lib/types.h>
#include <mm/pte.h>

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
 *   R/W, U/S and NX combine over the levels: a page is writable only if every level says so,
 *   and non-executable if any level says so. Table entries therefore grant everything
 *   (R/W=1, NX=0) and the leaf alone decides.
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

/* The kernel lives at its physical address; RAM is mapped 1:1. */
#define PAGE_OFFSET 0UL

/* The window vm_test_area() hands out: PML4 slots 128-159, far from anything else. */
#define VM_TEST_START 0x0000400000000000UL
#define VM_TEST_END   0x0000500000000000UL

/* Kernel-thread stacks (kernel/sched.c): 1 GiB just above it, slot 160, unused by anything else. */
#define KSTACK_AREA_START 0x0000500000000000UL
#define KSTACK_AREA_END	  0x0000500040000000UL

/*
 * Kernel protections. Accessed and dirty are preset: the CPU then never writes an entry
 * back, so an entry reads exactly as it was made (pte_pgprot() relies on it), and a write
 * through a TLB entry that is stale hits the old frame instead of re-walking the tables to
 * set D (the stale-TLB demonstration depends on that).
 *
 * None is global for now: every CR3 write drops them all, which is what we want while a
 * switch of tables must also drop the boot tables' translations. Global kernel mappings
 * are an optimisation for when address spaces switch often.
 */
#define PAGE_KERNEL	 __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO	 __pgprot(_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_KERNEL_EXEC __pgprot(_PAGE_PRESENT | _PAGE_ACCESSED)
#define PAGE_KERNEL_DEVICE                                                                        \
	__pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX | _PAGE_PCD | \
		 _PAGE_PWT)
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

/* Accessed preset for the same reason as on leaves: the CPU never writes a table entry. */
static inline pte_t mk_table_entry(phys_addr_t table_pa)
{
	return __pte((table_pa & PTE_ADDR_MASK) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED);
}

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
