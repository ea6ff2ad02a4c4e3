/* x86-64 AP start: the real-mode trampoline a SIPI enters, up to 64-bit C on its own stack. */
#include <asm/desc.h>
#include <asm/longmode.h>
#include <asm/smp.h>

#define CR0_PE 0x00000001 /* protected mode: the trampoline's first step, from real mode */

/*
 * A start-up IPI with vector V starts the AP in real mode at CS:IP = (V << 8):0000, i.e. at
 * physical V * 4096, below 1 MiB, with paging and interrupts off. x86_boot_secondary()
 * copies [x86_trampoline_start, x86_trampoline_end) to X86_TRAMPOLINE_PA for that. The
 * code runs at a different address than it was linked at, so every reference to the
 * trampoline's own bytes is written as X86_TRAMPOLINE_PA + (label - start); references to
 * the kernel (boot_pml4, x86_boot_gdt_ptr, x86_ap_start64) are absolute physical addresses
 * (PA(), asm/longmode.h) and stay right.
 *
 *   real mode (16-bit)  -> load a flat 32-bit GDT, set CR0.PE, far jump
 *   protected (32-bit)  -> PAE (+PGE), CR3 = the boot tables, EFER.LME|NXE, CR0.PG|WP
 *   compatibility mode  -> load the kernel GDT, far jump to its 64-bit code segment
 *   long mode (64-bit)  -> x86_ap_start64 in the kernel's text (below), at its physical
 *                          address, which jumps to its linked one in the high half
 *
 * The instruction after the CR0 write that turns paging on is fetched through the new
 * tables at the same (physical) address, so they must map this page 1:1; the kernel's own
 * tables (init_mm) map nothing in the low half. The boot tables (boot.S) map the first
 * 4 GiB both 1:1 and at PAGE_OFFSET, with nothing marked no-execute: the trampoline page
 * and the kernel both run under them, and they are never freed. The AP moves to the
 * kernel's own tables in C (x86_secondary_start), once it runs in the high half.
 */
#define TRAMP(label) (X86_TRAMPOLINE_PA + ((label) - x86_trampoline_start))

	.section .rodata.trampoline, "a"
	.balign 16
	.globl x86_trampoline_start
	.code16
x86_trampoline_start:
	cli
	cld
	/* CS is the page's segment (PA >> 4); data accesses use DS, so make it the same. */
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (tramp_gdt_ptr - x86_trampoline_start)
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $0x08, $TRAMP(tramp_pm32)

	.code32
tramp_pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss

	/* CR4 as the boot CPU set it in boot.S: PAE, and PGE where the CPU has it. */
	mov $1, %eax
	cpuid
	mov $CR4_PAE, %eax
	test $CPUID1_EDX_PGE, %edx
	jz 1f
	or $CR4_PGE, %eax
1:	mov %eax, %cr4
	X86_LONG_MODE_ON x86_ap_start64

/*
 * A flat 32-bit code (0x08) and data (0x10) segment for the protected-mode step: base 0,
 * limit 4 GiB, G=1 D=1 (code: type 0xa execute/read; data: 0x2 read/write).
 */
	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
tramp_gdt_end:
tramp_gdt_ptr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long TRAMP(tramp_gdt)
	.globl x86_trampoline_end
x86_trampoline_end:

/*
 * 64-bit, in the kernel's text, still on the boot tables: first to the high half, with the
 * GDTR following (as boot.S does). Which CPU are we? CPUID leaf 1
 * gives this CPU's initial APIC ID; x86_ap_stack[] (filled by the boot CPU before the
 * SIPI) gives the stack top for it. Looking it up by our own ID rather than reading one
 * shared "next stack" word means an AP that arrives late, after the boot CPU gave up on
 * it and moved on, still can't land on another AP's stack. An ID with no stack parks.
 */
	.text
	.code64
	.globl x86_ap_start64
	.type x86_ap_start64, @function
x86_ap_start64:
	X86_KERNEL_SEGMENTS_HIGH
	mov $1, %eax
	cpuid
	shr $24, %ebx		/* EBX[31:24]: initial APIC ID */
	lea x86_ap_stack(%rip), %rax
	mov (%rax, %rbx, 8), %rsp
	test %rsp, %rsp
	jz 2f
	mov %ebx, %edi		/* x86_secondary_start(apic_id) */
	xor %ebp, %ebp		/* ends every backtrace here */
	call x86_secondary_start
2:	cli
	hlt
	jmp 2b
	.size x86_ap_start64, . - x86_ap_start64
