/* arm64 MMIO: 32-bit device register accesses as single plain load/store instructions. */
#pragma once

#include <lib/types.h>

/*
 * Each access is one "ldr/str w, [xN]" written in asm, not a C dereference: the compiler
 * might otherwise merge, split, or use a writeback addressing mode for it. A plain
 * register-indirect access is what a hypervisor can emulate from the syndrome alone
 * (ESR_EL2.ISV), and one instruction is exactly one bus access.
 *
 * addr is a virtual address: a device window at physical address pa is reached at
 * phys_to_virt(pa) (the boot tables map the whole first GiB of the linear map as Device
 * memory, mm_init() maps arch_mmio_regions() there).
 *
 * No barriers: device registers are mapped Device-nGnRE, so accesses to one device arrive
 * in program order already. Nothing here orders Normal memory against device accesses
 * (as DMA would need); nothing in this kernel does DMA.
 */
static inline u32 mmio_read32(unsigned long addr)
{
	u32 val;

	__asm__ __volatile__("ldr %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write32(unsigned long addr, u32 val)
{
	__asm__ __volatile__("str %w0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}

static inline u8 mmio_read8(unsigned long addr)
{
	u8 val;

	__asm__ __volatile__("ldrb %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write8(unsigned long addr, u8 val)
{
	__asm__ __volatile__("strb %w0, [%1]" : : "rZ"(val), "r"(addr) : "memory");
}
