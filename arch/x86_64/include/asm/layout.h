/* The x86-64 virtual address layout, in plain numbers so that boot.S can use them too. */
#pragma once

/*
 * 4-level paging translates 48 bits; bits 63:48 must copy bit 47 ("canonical"), which
 * leaves two halves of 128 TiB each, 256 PML4 slots of 512 GiB apiece:
 *
 *   0x0000000000000000 +-----------------------------+ PML4 0
 *                      | user half, below TASK_SIZE  |   one private set of tables per
 *                      |   nothing in init_mm        |   process; U/S leaves only
 *   0x0000800000000000 +-----------------------------+
 *                      | non-canonical: #GP on use   |
 *   0xffff800000000000 +-----------------------------+ PML4 256     PAGE_OFFSET
 *                      | linear map: RAM at          |   the image is in it, at
 *                      |   PAGE_OFFSET + pa, and the |   PAGE_OFFSET + 0x200000
 *                      |   device windows            |
 *   0xffffc00000000000 +-----------------------------+ PML4 384     VM_TEST_START
 *                      | vm_test_area() (16 TiB)     |
 *   0xffffd00000000000 +-----------------------------+ PML4 416     KSTACK_AREA_START
 *                      | kernel-thread stacks (1 GiB)|
 *                      +-----------------------------+
 *                      | unused up to 2^64           | PML4 511
 *
 * Every slot of the high half has its level-3 table (PDPT) from mm_init() on, never freed
 * (arch/x86_64/mm.c): a new address space copies the 256 root entries once and then sees
 * every later kernel mapping, because all mappings below a root entry are shared.
 *
 * The kernel image is linked where the linear map puts it, so an image symbol is a linear
 * map address too, and virt_to_phys() is one subtraction for every kernel pointer. The
 * 32-bit entry code runs before paging, at physical addresses: it writes symbol - PAGE_OFFSET.
 */
#ifdef __ASSEMBLY__
#define X86_UL(x) x
#else
#define X86_UL(x) x##UL
#endif

#define PAGE_OFFSET X86_UL(0xffff800000000000)

/* The window vm_test_area() hands out: PML4 slots 384-415, far from the linear map. */
#define VM_TEST_START X86_UL(0xffffc00000000000)
#define VM_TEST_END   X86_UL(0xffffd00000000000)

/* Kernel-thread stacks (kernel/sched.c): 1 GiB in slot 416, unused by anything else. */
#define KSTACK_AREA_START X86_UL(0xffffd00000000000)
#define KSTACK_AREA_END	  X86_UL(0xffffd00040000000)

/* Each half spans 2^47 bytes: mm/pgtable.c accepts ranges inside either, never across. */
#define VA_HALF_BITS 47
