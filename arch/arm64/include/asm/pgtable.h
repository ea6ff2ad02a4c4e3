/* The arm64 VMSAv8-64 translation format (4 KiB granule): descriptor bits, kernel protections. */
#pragma once

#include <asm/sysreg.h>

/*
 * Four levels of 512 entries translate a 48-bit virtual address (TCR_EL1.T0SZ = T1SZ = 16).
 * The Arm ARM calls them L0 (the root, in TTBR0_EL1 for the low half, TTBR1_EL1 for the
 * high half) to L3; mm/pte.h numbers them from the leaf, so our level 3 is the Arm L0 and
 * our level 0 the Arm L3. Bits 63:48 only choose the root (all 0: TTBR0, all 1: TTBR1):
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
 *   nG       [11]   not global: the TLB entry is tagged with the current ASID (the one in
 *                   TTBR0_EL1) and matches only while that ASID is current. 0 for the
 *                   kernel (one translation for every address space), 1 for user pages.
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

/*
 * What break-before-make cares about besides the address: the memory type, shareability,
 * and whether the entry is global (nG).
 */
#define PTE_ATTRS_MASK (PTE_ATTRINDX_MASK | PTE_SH_MASK | PTE_NG)

/*
 * Leaf protections (every one but PAGE_NONE includes the page type, 0b11). AF is preset
 * (we never enable FEAT_HAFDBS), so hardware never writes an entry: it reads exactly as it
 * was made, which pte_pgprot() relies on.
 *
 * Kernel: global (nG = 0), EL0 no access (AP[1] = 0), and never executable at EL0 (UXN):
 * even a kernel page EL0 cannot read must not be one it can run. Data is PXN too.
 */
#define _PAGE_KERNEL_BASE (PTE_TYPE_PAGE | PTE_AF)
#define _PAGE_NORMAL	  (PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER)
#define _PAGE_KERNEL	  (_PAGE_KERNEL_BASE | _PAGE_NORMAL | PTE_PXN | PTE_UXN)
#define _PAGE_KERNEL_RO	  (_PAGE_KERNEL | PTE_AP_RDONLY)
/* Read-only and executable at EL1 (PXN clear); never executable at EL0 (UXN set). */
#define _PAGE_KERNEL_EXEC   (_PAGE_KERNEL_BASE | _PAGE_NORMAL | PTE_AP_RDONLY | PTE_UXN)
#define _PAGE_KERNEL_DEVICE (_PAGE_KERNEL_BASE | PTE_ATTRINDX(MT_DEVICE_nGnRE) | PTE_PXN | PTE_UXN)

/*
 * User: EL0 may access (AP[1] = 1), tagged with the mm's ASID (nG = 1), and never
 * executable at EL1 (PXN = 1), so the kernel can't be tricked into running user memory.
 * Only PAGE_USER_RX clears UXN: data is never executable at EL0 either.
 *
 *              AP[2:1]  meaning at EL1 / EL0     PXN UXN nG
 *   USER_RO      11     read-only / read-only     1   1   1
 *   USER_RW      01     read-write / read-write   1   1   1
 *   USER_RX      11     read-only / read-only     1   0   1
 */
#define _PAGE_USER_BASE (_PAGE_KERNEL_BASE | _PAGE_NORMAL | PTE_AP_EL0 | PTE_NG | PTE_PXN)
#define _PAGE_USER_RO	(_PAGE_USER_BASE | PTE_AP_RDONLY | PTE_UXN)
#define _PAGE_USER_RW	(_PAGE_USER_BASE | PTE_UXN)
#define _PAGE_USER_RX	(_PAGE_USER_BASE | PTE_AP_RDONLY)

/*
 * The arm64 address space (4 KiB granule, 48-bit regions; docs/memory.md draws it):
 *
 *   0x0000_0000_0000_0000  TTBR0: user space, [0, TASK_SIZE = 2^47); the rest of the
 *                          region up to 2^48 is never mapped
 *   0xffff_0000_0000_0000  TTBR1, L0 slots 0-255: the linear map, PAGE_OFFSET + pa (the
 *                          kernel image, linked at PAGE_OFFSET + its load address, and
 *                          the device windows lie inside it)
 *   0xffff_8000_0000_0000  slots 256-287: vm_test_area() (16 TiB)
 *   0xffff_9000_0000_0000  slot 288, first GiB: kernel-thread stacks (kernel/sched.c)
 *
 * phys_to_virt()/virt_to_phys() (mm/mm.h) are one addition/subtraction of PAGE_OFFSET.
 * These are plain numbers so that head.S and mmu.S can use them too.
 */
#define PAGE_OFFSET _UL(0xffff000000000000)

#define VM_TEST_START _UL(0xffff800000000000)
#define VM_TEST_END   _UL(0xffff900000000000)

#define KSTACK_AREA_START _UL(0xffff900000000000)
#define KSTACK_AREA_END	  _UL(0xffff900040000000)

#ifndef __ASSEMBLY__
#include <lib/types.h>
#include <mm/pte.h>
/* The PROT_* values: the kernel sees the ABI header's constants only, not its wrappers. */
#ifndef __KERNEL__
#define __KERNEL__
#endif
#include <lazymmu/syscall.h>

#define PAGE_KERNEL	   __pgprot(_PAGE_KERNEL)
#define PAGE_KERNEL_RO	   __pgprot(_PAGE_KERNEL_RO)
#define PAGE_KERNEL_EXEC   __pgprot(_PAGE_KERNEL_EXEC)
#define PAGE_KERNEL_DEVICE __pgprot(_PAGE_KERNEL_DEVICE)
#define PAGE_USER_RO	   __pgprot(_PAGE_USER_RO)
#define PAGE_USER_RW	   __pgprot(_PAGE_USER_RW)
#define PAGE_USER_RX	   __pgprot(_PAGE_USER_RX)
/*
 * "Mapped, but no access": the valid bit is clear, so every access faults and no TLB ever
 * holds it, but a software bit says the entry is in use and the address bits still name
 * the frame.
 */
#define PAGE_NONE __pgprot(PTE_SW_NONE)

/*
 * The entry protection for an mmap()/mprotect() prot (PROT_* of the system-call ABI):
 *
 *   PROT_NONE                        PAGE_NONE (mapped, every access faults)
 *   PROT_READ                        PAGE_USER_RO
 *   PROT_WRITE, with or without READ PAGE_USER_RW (AP has no write-only encoding)
 *   PROT_EXEC, with READ or alone    PAGE_USER_RX (EL0 execute-only exists, but a user
 *                                    page that EL0 can't read is not worth the special case)
 *   PROT_WRITE | PROT_EXEC           PAGE_USER_RW: data is never executable (W^X), so
 *                                    the write wins and the page can't be run
 */
static inline pgprot_t vm_get_page_prot(unsigned int prot)
{
	if (prot & PROT_WRITE)
		return PAGE_USER_RW;
	if (prot & PROT_EXEC)
		return PAGE_USER_RX;
	if (prot & PROT_READ)
		return PAGE_USER_RO;
	return PAGE_NONE;
}

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
 * or software bits is allowed in place, followed by a TLBI. nG counts as an attribute here:
 * a global and a non-global translation of one VA must not coexist either (user and
 * kernel entries never share a table, so mm/ never changes it in place). We never set the
 * contiguous bit and never change block size, the other cases the rule covers.
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
