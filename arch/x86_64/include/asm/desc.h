/* x86-64 descriptor tables: GDT selectors, the TSS, the IDT, and the instructions that load them. */
#pragma once

/* GDT layout (see arch/x86_64/desc.c for the descriptor bits). Shared with boot.S. */
#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS	      0x18 /* a 16-byte system descriptor: two slots */
#define GDT_ENTRIES   5

/* Interrupt stack table slots (1-based as the IDT gate encodes them; 0 = no switch). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI		 2

#ifndef __ASSEMBLY__
#include <lib/types.h>

/* The operand of lgdt/lidt. Read as 6 bytes in 32-bit mode, so one GDT serves both modes. */
struct x86_desc_ptr {
	u16 limit;
	u64 base;
} __packed;

/*
 * CPU 0's GDT: by physical address for the 32-bit entry paths' lgdt (asm/longmode.h), by
 * its linked address for 64-bit code.
 */
extern const struct x86_desc_ptr x86_boot_gdt_ptr;
extern const struct x86_desc_ptr x86_gdt_ptr;

/* Adds the TSS (with the IST stacks) to the GDT and loads the task register. */
void x86_gdt_init(void);
/* A secondary CPU's own GDT and TSS (IST stacks), loaded. */
void x86_gdt_init_secondary(unsigned int cpu);
/* Fills the IDT with a gate for each of the 256 vectors and loads it. */
void x86_idt_init(void);
/* Loads the (already filled) IDT on this CPU. */
void x86_idt_load(void);

static inline void lgdt(const struct x86_desc_ptr *p)
{
	__asm__ __volatile__("lgdt %0" : : "m"(*p) : "memory");
}

static inline void lidt(const struct x86_desc_ptr *p)
{
	__asm__ __volatile__("lidt %0" : : "m"(*p) : "memory");
}

/* Loads the task register; the CPU marks the TSS descriptor busy (a write to the GDT). */
static inline void ltr(u16 selector)
{
	__asm__ __volatile__("ltr %0" : : "r"(selector) : "memory");
}
#endif
