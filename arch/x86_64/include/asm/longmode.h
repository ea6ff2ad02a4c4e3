/* The way into long mode, shared by the boot CPU (boot.S) and the APs (trampoline.S). */
#pragma once

#ifndef __ASSEMBLY__
#error "asm/longmode.h is for the assembler: C has the same bits in asm/processor.h"
#endif

/*
 * Control-register and MSR bits the 32-bit entry paths set (the values of asm/processor.h's
 * X86_CR0_*, MSR_EFER and EFER_*, spelled for the assembler, which has no BIT()):
 *   CR0.WP (16)  read-only pages are read-only for the kernel too
 *   CR0.PG (31)  paging on; with EFER.LME set this activates long mode
 *   CR4.PAE (5)  64-bit entries, required for long mode
 *   CR4.PGE (7)  global pages (only if CPUID.1:EDX.PGE says the CPU has them)
 *   EFER.LME (8) long mode enable; EFER.NXE (11) the no-execute bit in entries
 */
#define CR0_WP		 0x00010000
#define CR0_PG		 0x80000000
#define CR4_PAE		 0x20
#define CR4_PGE		 0x80
#define MSR_EFER	 0xc0000080
#define EFER_LME	 0x100
#define EFER_NXE	 0x800
#define MSR_IA32_GS_BASE 0xc0000101 /* the per-CPU register (asm/percpu.h) */
#define CPUID1_EDX_PGE	 (1 << 13)

#include <asm/layout.h>

/* A kernel symbol's physical address: what 32-bit code, running before paging, must use. */
#define PA(sym) ((sym)-PAGE_OFFSET)

/*
 * The last steps, from 32-bit protected mode with CR4.PAE (and PGE) already set: the boot
 * tables in CR3, EFER.LME and NXE, then paging on - long mode is now active, in 32-bit
 * compatibility mode until CS changes - then the kernel GDT (desc.c), whose 64-bit code
 * segment a far jump to `target` loads. Only absolute physical addresses: paging is off
 * until the CR0 write, the AP trampoline runs at another address than it was linked at,
 * and the far jump's offset is 32 bits. So `target` is entered at its physical address,
 * through the boot tables' identity map of the low 4 GiB, and must X86_JUMP_HIGH first.
 *
 * lgdt in 32-bit mode reads a 6-byte operand (limit, 32-bit base): x86_boot_gdt_ptr has
 * CPU 0's GDT at its physical address. The 64-bit code reloads the GDTR with the linked
 * address (x86_gdt_ptr) before the identity map can go away.
 */
/* Assembler, not C: clang-format is off from here to the end of the file. */
/* clang-format off */
.macro X86_LONG_MODE_ON target
	mov $PA(boot_pml4), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME + EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG + CR0_WP), %eax
	mov %eax, %cr0
	lgdt PA(x86_boot_gdt_ptr)
	ljmp $GDT_KERNEL_CS, $PA(\target)
.endm

/*
 * 64-bit code entered at its physical address (the identity map) continues at its linked
 * address in the high half: an absolute jump through a register, since a direct jump is
 * relative and would stay low. Clobbers rax.
 */
.macro X86_JUMP_HIGH
	movabs $.Ljump_high_\@, %rax
	jmp *%rax
.Ljump_high_\@:
.endm

/*
 * The first steps of every CPU in 64-bit mode, the boot CPU's (boot.S) and each AP's
 * (trampoline.S): go where the kernel is linked, make the GDTR name the GDT by that
 * address too (so nothing depends on the identity map any more), and load the flat kernel
 * data descriptor; fs and gs are unused. Clobbers rax.
 */
.macro X86_KERNEL_SEGMENTS_HIGH
	X86_JUMP_HIGH
	lgdt x86_gdt_ptr(%rip)
	mov $GDT_KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
.endm
