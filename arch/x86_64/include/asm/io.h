/* Port I/O and memory-mapped device register access on x86-64. */
#pragma once

#include <lib/types.h>

/* "memory" on every device access: the compiler must not move RAM accesses across them. */
static inline void outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/*
 * Device registers are read and written with exactly one mov of the right width (the
 * compiler could otherwise merge, split or drop a plain access), and "memory" keeps RAM
 * accesses on their side of it: an EOI must not overtake the handler's work.
 */
static inline u32 mmio_read32(unsigned long addr)
{
	u32 v;

	__asm__ __volatile__("movl %1, %0" : "=r"(v) : "m"(*(volatile u32 *)addr) : "memory");
	return v;
}

static inline void mmio_write32(unsigned long addr, u32 v)
{
	__asm__ __volatile__("movl %1, %0" : "=m"(*(volatile u32 *)addr) : "r"(v) : "memory");
}

static inline u64 mmio_read64(unsigned long addr)
{
	u64 v;

	__asm__ __volatile__("movq %1, %0" : "=r"(v) : "m"(*(volatile u64 *)addr) : "memory");
	return v;
}

static inline void mmio_write64(unsigned long addr, u64 v)
{
	__asm__ __volatile__("movq %1, %0" : "=m"(*(volatile u64 *)addr) : "r"(v) : "memory");
}
