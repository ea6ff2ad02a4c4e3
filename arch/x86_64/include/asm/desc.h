/* x86-64 descriptor tables: GDT selectors, the TSS, the IDT, and the instructions that load them. */
#pragma once

/*
 * GDT layout (see arch/x86_64/desc.c for the descriptor bits). Shared with boot.S and
 * entry.S. A selector is index * 8 | table (0: GDT) | RPL in bits 1:0; user selectors carry
 * RPL 3, the privilege they are used at.
 *
 *   0x00 null   0x08 kernel code   0x10 kernel data   0x18-0x27 TSS (16 bytes)
 *   0x28 user data (DPL 3)   0x30 user code, 64-bit (DPL 3)
 *
 * User data sits just below user code because SYSRET (if it were used) derives both from
 * one STAR field: SS = STAR[63:48] + 8, CS = STAR[63:48] + 16 (desc.c sets it so).
 */
#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS	      0x18 /* a 16-byte system descriptor: two slots */
#define GDT_USER_DS   0x2b /* slot 5, RPL 3 */
#define GDT_USER_CS   0x33 /* slot 6, RPL 3 */
#define GDT_ENTRIES   7

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
/* Where the CPU switches to on an interrupt or exception from ring 3 (TSS.rsp0). */
void x86_tss_set_rsp0(unsigned int cpu, unsigned long stack_top);

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
