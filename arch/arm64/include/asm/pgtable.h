/* The arm64 VMSAv8-64 translation format (4 KiB granule): descriptor bits, kernel protections. */
#pragma once

#include <asm/sysreg.h>

/*
 * Four levels of 512 entries translate a 48-bit virtual address (TCR_EL1.T0SZ = 16). The
 * Arm ARM calls them L0 (the root, in TTBR0_EL1) to L3; mm/pte.h numbers them from the leaf,
 * so our level 3 is the Arm L0 and our level 0 the Arm L3:
 *
 *   VA  47      39 38      30 29      21 20      12 11         0
 *      +----------+----------+----------+----------+------------+
 *      | L0 index | L1 index | L2 index | L3 index | page offset|
 *      +----------+----------+----------+----------+------------+
 *        level 3    level 2    level 1    level 0
 *
 * A level-3 page descriptor (Arm L3, our level 0; bits[1:0] = 0b11):
 *
 *    63 62 59 58 55  54  53  52   51 50 49 48 47          12 11 10 9 8 7 6 5  4     2 1 0
 *  +---+-----+-----+---+---+----+---+--+-----+--------------+--+--+---+---+--+-------+-+-+
 *  |ign| PBHA|  SW |UXN|PXN|Cont|DBM|GP|  0  |output address|nG|AF| SH| AP|NS|AttrIdx|1|1|
 *  +---+-----+-----+---+---+----+---+--+-----+--------------+--+--+---+---+--+-------+-+-+
 *
 *   output address [47:12]  the physical frame (bits 49:48 matter only with 52-bit PAs: off)
 *   AttrIndx [4:2]  which MAIR_EL1 byte gives the memory type (MT_NORMAL, MT_DEVICE_nGnRE)
 *   NS       [5]    non-secure output address; ignored in the non-secure world we run in
 *   AP[2:1]  [7:6]  AP[1] (bit 6): EL0 may access; AP[2] (bit 7): read-only at every EL
 *   SH       [9:8]  shareability of Normal memory: 11 = inner shareable (all CPUs coherent);
 *                   ignored for Device memory, which is always treated as outer shareable
 *   AF       [10]   access flag: a walk that finds AF = 0 faults (or, with FEAT_HAFDBS
 *                   enabled, hardware sets it). We preset it, so the entry never changes
 *                   behind our back and its first use costs no fault.
 *   nG       [11]   not global: the TLB entry is tagged with the current ASID. 0 for us.
 *   DBM, GP, Cont   dirty-bit management, BTI guarded page, contiguous hint: all 0
 *   PXN      [53]   never execute at EL1        UXN [54]  never execute at EL0
 *   SW    [58:55]   ignored by hardware, ours: bit 55 marks a PAGE_NONE entry
 *   PBHA, ign       page-based hardware attributes (IMPLEMENTATION DEFINED) and an ignored
 *                   bit: 0
 *
 * A table descriptor (Arm L0-L2, our levels 3-1; bits[1:0] = 0b11):
 *
 *      63   62   61    60       59    58   52 51 48 47                    12 11    2 1 0
 *  +-------+-------+--------+--------+-------+-----+------------------------+-------+-+-+
 *  |NSTable|APTable|UXNTable|PXNTable|ignored|  0  |next-level table address|ignored|1|1|
 *  +-------+-------+--------+--------+-------+-----+------------------------+-------+-+-+
 *
 *   The *Table bits restrict everything below (e.g. PXNTable = 1 makes a whole subtree
 *   non-executable at EL1). We leave them 0, so the leaf alone decides.
 *
 * bits[1:0] = 0b01 at Arm L1/L2 would be a block (1 GiB / 2 MiB leaf). The boot tables of
 * head.S use 1 GiB blocks; mm/ never creates blocks, so at levels >= 1 "valid" means
 * "table" for every entry it writes. bit 0 = 0: invalid, every other bit is ours.
 */
#define PTE_VALID	  _BITUL(0)
#define PTE_TABLE_OR_PAGE _BITUL(1) /* 1: table (Arm L0-L2) or page (L3); 0: block */
#define PTE_TYPE_MASK	  _UL(3)
#define PTE_TYPE_BLOCK	  PTE_VALID
#define PTE_TYPE_TABLE	  (PTE_VALID | PTE_TABLE_OR_PAGE)
#define PTE_TYPE_PAGE	  (PTE_VALID | PTE_TABLE_OR_PAGE)
#define PTE_ATTRINDX(mt)  (_UL(mt) << 2)
#define PTE_ATTRINDX_MASK (_UL(7) << 2)
#define PTE_NS		  _BITUL(5)
#define PTE_AP_EL0	  _BITUL(6) /* AP[1] */
#define PTE_AP_RDONLY	  _BITUL(7) /* AP[2] */
#define PTE_SH_INNER	  (_UL(3) << 8)
#define PTE_SH_MASK	  (_UL(3) << 8)
#define PTE_AF		  _BITUL(10)
#define PTE_NG		  _BITUL(11)
#define PTE_PXN		  _BITUL(53)
#define PTE_UXN		  _BITUL(54)
#define PTE_SW_NONE	  _BITUL(55)
#define PTE_ADDR_MASK	  _UL(0x0000fffffffff000)

/* The memory type and shareability: what break-before-make cares about besides the address. */
#define PTE_ATTRS_MASK (PTE_ATTRINDX_MASK | PTE_SH_MASK)

/* Kernel leaf protections (every one but PAGE_NONE includes the page type, 0b11). */
#define _PAGE_KERNEL_BASE (PTE_TYPE_PAGE | PTE_AF)
#define _PAGE_NORMAL	  (PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER)
#define _PAGE_KERNEL	  (_PAGE_KERNEL_BASE | _PAGE_NORMAL | PTE_PXN | PTE_UXN)
#define _PAGE_KERNEL_RO	  (_PAGE_KERNEL | PTE_AP_RDONLY)
/* Read-only and executable at EL1 (PXN clear); never executable at EL0 (UXN set). */
#define _PAGE_KERNEL_EXEC   (_PAGE_KERNEL_BASE | _PAGE_NORMAL | PTE_AP_RDONLY | PTE_UXN)
#define _PAGE_KERNEL_DEVICE (_PAGE_KERNEL_BASE | PTE_ATTRINDX(MT_DEVICE_nGnRE) | PTE_PXN | PTE_UXN)

#ifndef __ASSEMBLY__
#include <lib/types.h>
#include <mm/pte.h>

/* The kernel lives at its physical address; RAM is mapped 1:1. */
#define PAGE_OFFSET 0UL

/* The window vm_test_area() hands out: L0 slots 128-159, far from RAM and devices. */
#define VM_TEST_START 0x0000400000000000UL
#define VM_TEST_END   0x0000500000000000UL

/* Kernel-thread stacks (kernel/sched.c): 1 GiB just above it, slot 160, unused by anything else. */
#define KSTACK_AREA_START 0x0000500000000000UL
#define KSTACK_AREA_END	  0x0000500040000000UL

/*
 * Kernel protections. AF is preset (we never enable FEAT_HAFDBS), so hardware never writes
 * an entry: it reads exactly as it was made, which pte_pgprot() relies on.
 */
#define PAGE_KERNEL	   __pgprot(_PAGE_KERNEL)
#define PAGE_KERNEL_RO	   __pgprot(_PAGE_KERNEL_RO)
#define PAGE_KERNEL_EXEC   __pgprot(_PAGE_KERNEL_EXEC)
#define PAGE_KERNEL_DEVICE __pgprot(_PAGE_KERNEL_DEVICE)
/*
 * "Mapped, but no access": the valid bit is clear, so every access faults and no TLB ever
 * holds it, but a software bit says the entry is in use and the address bits still name
 * the frame.
 */
#define PAGE_NONE __pgprot(PTE_SW_NONE)

/* The walker uses the entry (a PAGE_NONE entry is not present). */
static inline bool pte_present(pte_t pte)
{
	return pte_val(pte) & PTE_VALID;
}

/* An entry at level >= 1 that points at the next table (mm/ never makes blocks). */
static inline bool pte_is_table(pte_t pte, int level)
{
	return level >= 1 && (pte_val(pte) & PTE_TYPE_MASK) == PTE_TYPE_TABLE;
}

static inline pte_t mk_table_entry(phys_addr_t table_pa)
{
	return __pte((table_pa & PTE_ADDR_MASK) | PTE_TYPE_TABLE);
}

static inline phys_addr_t pte_table_pa(pte_t pte)
{
	return pte_val(pte) & PTE_ADDR_MASK;
}

/* A level-3 page descriptor: prot carries the type bits (0b11), or none for PAGE_NONE. */
static inline pte_t mk_pte(phys_addr_t pa, pgprot_t prot)
{
	return __pte((pa & PTE_ADDR_MASK) | pgprot_val(prot));
}

/* The frame of a leaf entry, valid or PAGE_NONE. */
static inline phys_addr_t pte_pa(pte_t pte)
{
	return pte_val(pte) & PTE_ADDR_MASK;
}

/* Exactly the PAGE_* value the entry was made with (hardware never writes our entries). */
static inline pgprot_t pte_pgprot(pte_t pte)
{
	return __pgprot(pte_val(pte) & ~PTE_ADDR_MASK);
}

/*
 * The Arm ARM's break-before-make rule applies to this architecture: mm/ must never write
 * a valid entry at an address whose earlier valid translation may still be cached.
 */
static inline bool arch_has_break_before_make(void)
{
	return true;
}

/*
 * Break-before-make. The Arm ARM forbids replacing one valid entry with another valid
 * entry that differs in output address or in memory type/shareability (among others):
 * for a while some CPUs' TLBs could hold the old translation and others the new one,
 * and a TLB holding both may report a TLB conflict abort, or lose coherency between the
 * two attribute sets. The sequence must be: write an invalid entry, TLBI the address and
 * wait (dsb ish), only then write the new entry. Changing only permissions (AP, PXN, UXN)
 * or software bits is allowed in place, followed by a TLBI. (We never set nG or the
 * contiguous bit, and never change block size, the other cases the rule covers.)
 */
static inline bool arch_pte_needs_bbm(pte_t old, pte_t new)
{
	u64 diff = pte_val(old) ^ pte_val(new);

	if (!pte_present(old) || !pte_present(new))
		return false;
	return diff & (PTE_ADDR_MASK | PTE_ATTRS_MASK);
}

/*
 * Publishing a valid entry. The page-table walker is an observer of its own: a plain
 * store to a table may still sit in this CPU's store buffer when a later instruction's
 * translation walks the table, and that walk would read the old, invalid entry and fault.
 * "dsb ishst" waits until the store is visible to every walker in the inner shareable
 * domain; "isb" then discards the instructions the pipeline has already fetched - and may
 * already have started, translating their addresses through the old entry - so that
 * everything after the pair is translated through the new one.
 * An invalid new entry needs no such pair: it only ever matters together with the TLBI
 * that removes the old translation, whose own dsb orders it.
 */
static inline bool arch_pte_needs_sync(pte_t new)
{
	return pte_present(new);
}
#endif
