/* x86-64 entry: multiboot2 header, PVH note, and the 32-bit path into long mode and C. */
#include <asm/boot.h>
#include <asm/desc.h>
#include <asm/longmode.h>

/* Entry bits for the early tables (the full drawing is in asm/pgtable.h). */
#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080 /* in a page directory entry: a 2 MiB page, not a table */

/* The PML4 slot of PAGE_OFFSET: bits 47:39 of the address. */
#define PML4_SLOT_PAGE_OFFSET ((PAGE_OFFSET >> 39) & 511)

/* CPUID feature bits checked before they are used (CPUID1_EDX_PGE: asm/longmode.h). */
#define CPUID81_EDX_NX (1 << 20)
#define CPUID81_EDX_LM (1 << 29)

#define COM1_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4

/*
 * Multiboot2 header: magic, architecture (0 = 32-bit protected mode), length, and a
 * checksum that makes the four fields sum to 0 mod 2^32; then 8-byte aligned tags. The
 * kernel is an ELF, so GRUB loads it by its program headers and enters at e_entry; no
 * address tag is needed. No framebuffer tag either: GRUB leaves the display alone, and
 * everything we print goes to the serial port.
 */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MULTIBOOT2_HEADER_MAGIC
	.long 0
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MULTIBOOT2_HEADER_MAGIC + 0 + (mb2_header_end - mb2_header))

	/* Information request (type 1, not optional): refuse to boot without these tags. */
	.balign 8
mb2_info_request:
	.short 1, 0
	.long mb2_info_request_end - mb2_info_request
	.long 1 /* boot command line */
	.long 6 /* memory map */
mb2_info_request_end:

	/* End tag. */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

/*
 * PVH: an ELF note "Xen", type XEN_ELFNOTE_PHYS32_ENTRY, holding the 32-bit physical entry.
 * QEMU's -kernel looks for it to boot an ELF directly, without a boot loader.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size: "Xen\0" */
	.long 4				/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long PA(_start)

/* <asm/layout.h>'s PAGE_OFFSET, for the linker script's check that it agrees. */
	.globl __page_offset_check
	.set __page_offset_check, PAGE_OFFSET

/*
 * Early page tables, in .bss: one PML4, one PDPT, four page directories mapping 0-4 GiB
 * with 2 MiB pages, and one 4 KiB table for the 2 MiB that holds the boot stack's guard.
 * The PML4 points at the same PDPT twice, so the first 4 GiB appear at two places:
 *
 *   PML4[0]   -> boot_pdpt   0x0000000000000000..  identity: the code that turns paging
 *                                                  on runs at its physical address
 *   PML4[256] -> boot_pdpt   0xffff800000000000..  PAGE_OFFSET: where the kernel is linked
 *
 * They stay alive after mm_init() replaced them: every AP starts on them (trampoline.S).
 */
	.section .bss.page_aligned, "aw", @nobits
	.balign 4096
	.globl boot_pml4	/* the AP trampoline (trampoline.S) starts on these tables too */
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
boot_pt:
	.skip 4096

/*
 * Both loaders enter here in 32-bit protected mode, paging off, interrupts off, flat
 * segments, and no stack we may rely on:
 *   multiboot2: eax = 0x36d76289, ebx = physical address of the multiboot2 information
 *   PVH:        ebx = physical address of struct hvm_start_info (eax is 0 under QEMU)
 * x86_start() tells them apart from these two values.
 */
	.section .text.boot, "ax"
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	/* cpuid and rep stos clobber eax, ebx, ecx, edx, edi: keep the loader's values aside. */
	mov %eax, %ebp
	mov %ebx, %esi

	/*
	 * Clear .bss first, while nothing lives there yet: the page tables and the stack we
	 * are about to build are in it, so clearing it later would wipe them under our feet.
	 * (Loaders zero it too, but the kernel should not depend on their diligence.)
	 */
	mov $PA(__bss_start), %edi
	mov $PA(__bss_end), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* Long mode and NX, or a clear message instead of a triple fault. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $CPUID81_EDX_LM, %edx
	jz no_long_mode
	test $CPUID81_EDX_NX, %edx
	jz no_nx

	/* PML4[0] and PML4[256] -> the PDPT, PDPT[0..3] -> the four page directories. */
	movl $(PA(boot_pdpt) + PTE_P + PTE_RW), PA(boot_pml4)
	movl $(PA(boot_pdpt) + PTE_P + PTE_RW), PA(boot_pml4) + 8 * PML4_SLOT_PAGE_OFFSET
	mov $(PA(boot_pd) + PTE_P + PTE_RW), %eax
	xor %ecx, %ecx
1:	mov %eax, PA(boot_pdpt)(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jb 1b

	/* 2048 identity 2 MiB pages: RAM, and the LAPIC and HPET just below 4 GiB. */
	mov $(PTE_P + PTE_RW + PTE_PS), %eax
	xor %ecx, %ecx
1:	mov %eax, PA(boot_pd)(, %ecx, 8)
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jb 1b

	/*
	 * The last GiB is the PCI/device hole: map it uncached (PCD|PWT) rather than trust
	 * the firmware's MTRRs to override a write-back mapping of device registers.
	 */
	mov $1536, %ecx
1:	orl $(PTE_PCD + PTE_PWT), PA(boot_pd)(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jb 1b

	/*
	 * The 2 MiB around the stack guard page get a 4 KiB table, identical to the 2 MiB
	 * page except that the guard is left out: a stack overflow then faults from the very
	 * first instruction of C, and the #DF handler (on its own IST stack) reports it.
	 */
	mov $PA(__stack_guard), %ebx
	mov %ebx, %eax
	and $~0x1fffff, %eax
	or $(PTE_P + PTE_RW), %eax
	xor %ecx, %ecx
1:	mov %eax, PA(boot_pt)(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $512, %ecx
	jb 1b
	mov %ebx, %eax
	shr $12, %eax
	and $511, %eax
	movl $0, PA(boot_pt)(, %eax, 8)
	shr $21, %ebx
	movl $(PA(boot_pt) + PTE_P + PTE_RW), PA(boot_pd)(, %ebx, 8)

	/* CR4: PAE (long mode's entry format), and PGE where the CPU has it. */
	mov $1, %eax
	cpuid
	mov $CR4_PAE, %eax
	test $CPUID1_EDX_PGE, %edx
	jz 1f
	or $CR4_PGE, %eax
1:	mov %cr4, %ecx
	or %eax, %ecx
	mov %ecx, %cr4

	X86_LONG_MODE_ON start64

no_long_mode:
	mov $PA(msg_no_long_mode), %ecx
	jmp early_fail
no_nx:
	mov $PA(msg_no_nx), %ecx
	/* fall through */

/* Prints the string at ecx on COM1 (usable without setup under QEMU) and exits with 2. */
early_fail:
	mov $COM1_PORT, %dx
1:	movb (%ecx), %al
	test %al, %al
	jz 2f
	outb %al, %dx
	inc %ecx
	jmp 1b
2:	mov $2, %eax
	mov $DEBUG_EXIT_PORT, %dx
	outl %eax, %dx
3:	hlt
	jmp 3b
	.size _start, . - _start

	.code64
	.type start64, @function
start64:
	/* Entered at its physical address: up to the linked one (asm/longmode.h). */
	X86_KERNEL_SEGMENTS_HIGH
	/*
	 * GS base -> the boot CPU's struct cpu (asm/percpu.h; cpus[0].self is set statically),
	 * after the selector loads (which may reset it): this_cpu() works from the first line
	 * of C.
	 */
	mov $MSR_IA32_GS_BASE, %ecx
	lea cpus(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr

	lea __stack_top(%rip), %rsp
	/* x86_start(magic, info). 32-bit moves zero the upper halves, whatever they held. */
	mov %ebp, %edi
	mov %esi, %esi
	/* A zero frame pointer ends every backtrace here. */
	xor %ebp, %ebp
	call x86_start
1:	cli
	hlt
	jmp 1b
	.size start64, . - start64

	.section .rodata
msg_no_long_mode:
	.asciz "lazymmu: this CPU has no 64-bit long mode\r\nlazymmu: exit 2\r\n"
msg_no_nx:
	.asciz "lazymmu: this CPU has no NX (no-execute) support\r\nlazymmu: exit 2\r\n"
