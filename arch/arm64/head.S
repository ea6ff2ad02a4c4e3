/* arm64 entry: the Image header, EL2 -> EL1, boot tables, MMU on, the jump to the high half, C. */
#include <asm/sysreg.h>
#include <asm/pgtable.h>
#include <asm/semihosting.h>
#include <asm/smp.h>

/* Physical address of QEMU virt's first PL011, for messages before the device tree is read. */
#define EARLY_UART_BASE 0x09000000

/*
 * The Image header (Linux Documentation/arch/arm64/booting.rst). A loader that finds the
 * magic at offset 56 treats the file as a Linux kernel: QEMU then copies it to RAM base +
 * text_offset and enters it at its first byte with x0 = the physical address of the DTB
 * (an ELF would get no DTB at all), x1-x3 = 0, MMU off, interrupts masked.
 *
 *   offset  field         value
 *   0       code0         a branch over the header to the real entry
 *   4       code1         unused
 *   8       text_offset   0x80000: where in RAM (from a 2 MiB boundary) we want to be
 *   16      image_size    bytes from the start of the image to the end of the bss: the
 *                         loader keeps that much free (the DTB goes above it)
 *   24      flags         bit 0: 0 = little endian; bits 2:1: 01 = 4 KiB pages;
 *                         bit 3: 0 = place the image near the start of RAM
 *   32-55   reserved
 *   56      magic         "ARM\x64"
 *   60      reserved (the offset of a PE header, for EFI; we have none)
 */
#define IMAGE_FLAGS ((1 << 1) | (0 << 0) | (0 << 3))

	.section .head.text, "ax"
	.globl _start
_start:
	b	primary_entry
	.word	0
	.quad	TEXT_OFFSET
	.quad	_kernel_size
	.quad	IMAGE_FLAGS
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.word	0

/*
 * Register use until C runs: x19 = the DTB address from the loader, x20 = the exception
 * level we were entered at. Everything below runs without a stack until "mov sp".
 *
 * The loader enters us at our physical load address with the MMU off, but we are linked
 * at PAGE_OFFSET + that address (linker/arm64.ld). Until the MMU is on and we have jumped
 * up there, only PC-relative addressing (adr, adrp, b, bl) gives addresses we can use:
 * they yield the physical address of a symbol while we run at a physical address, and
 * its linked (virtual) address once we run there. "ldr xN, =sym" always yields the
 * linked address - which is how the jump up is made.
 */
primary_entry:
	msr	daifset, #0xf		/* D, A, I, F masked: nothing may interrupt the set-up */
	mov	x19, x0

	/*
	 * We are linked to run at one address; a loader that put us anywhere else would make
	 * every absolute address wrong. Say so (PC-relative code only) and stop.
	 */
	adr	x0, _start
	ldr	x1, =_start
	ldr	x2, =PAGE_OFFSET
	sub	x1, x1, x2		/* where _start must have been loaded */
	cmp	x0, x1
	b.ne	wrong_load_address

	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	cmp	x20, #2
	b.ne	at_el1
	bl	el2_to_el1		/* "returns" at EL1 */

at_el1:
	msr	spsel, #1		/* run on SP_EL1, the stack exceptions use too */
	/* SCTLR_EL1 out of reset may have bits set we don't want (EE, WXN, ...): define all. */
	ldr	x0, =SCTLR_EL1_MMU_OFF
	msr	sctlr_el1, x0
	isb

	bl	create_boot_tables
	/*
	 * One root for both halves (see create_boot_tables): TTBR0 maps the RAM we run from
	 * at its physical address, so the instructions right after the MMU comes on are
	 * still where the PC says; TTBR1 maps the same RAM at PAGE_OFFSET + pa.
	 */
	adrp	x0, boot_tables
	mov	x1, x0
	bl	enable_mmu
	ldr	x0, =primary_high	/* the linked (high) address: an absolute jump up */
	br	x0

primary_high:
	/* From here on every PC-relative address is a high one too. */
	adrp	x0, __stack_top
	mov	sp, x0
	/* The vectors at their high address: the identity map is about to go. */
	adrp	x0, arm64_vectors
	add	x0, x0, :lo12:arm64_vectors
	msr	vbar_el1, x0
	isb				/* VBAR_EL1 is used by exceptions after this point */
	/* The per-CPU register (asm/percpu.h): the boot CPU is cpus[0]. */
	adrp	x0, cpus
	add	x0, x0, :lo12:cpus
	msr	tpidr_el1, x0
	/*
	 * Nothing kernel-owned stays in TTBR0: from now on a physical address used as a
	 * pointer faults at once instead of working by accident through the identity map.
	 */
	bl	arm64_set_empty_ttbr0

	/*
	 * Clear the bss now that the MMU and caches are on. The boot tables live in
	 * .bss.boot_tables, before __bss_start: clearing them now would unmap us mid-loop.
	 * Cleared with caches on, the zeroes can't hide behind stale cache lines either.
	 */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:
	/* SErrors (asynchronous external aborts) may now be reported. */
	msr	daifclr, #DAIFSET_SERROR

	mov	x0, x19
	mov	x1, x20
	mov	x29, xzr		/* ends every backtrace here */
	bl	arm64_start
	/* arm64_start() never returns; if it did, stop here rather than run off the end. */
3:	wfi
	b	3b

/*
 * The boot translation tables, built with the MMU off (every data access is then
 * Device-nGnRnE, uncached, straight to memory). 48-bit VA, 4 KiB granule: one L0 table
 * whose entry 0 points at one L1 table, whose first four entries are 1 GiB blocks:
 *
 *   0-1 GiB  Device-nGnRE, never executable     GIC 0x08000000, PL011 0x09000000
 *   1-4 GiB  Normal write-back, inner shareable RAM from 0x40000000 (kernel, DTB)
 *
 * The same L0 table is the root of both halves. A walk indexes it with VA bits 47:39
 * only, and entry 0 covers [0, 512 GiB) through TTBR0 and [PAGE_OFFSET, PAGE_OFFSET +
 * 512 GiB) through TTBR1: so these two pages are at once the identity map (needed for the
 * few instructions around "MMU on") and the first 4 GiB of the linear map (where the
 * kernel runs, and reads the DTB, until mm_init()).
 *
 * An L1 block descriptor: bits[1:0] = 01, AttrIndx [4:2], AP [7:6] = 00 (read/write at
 * EL1, no access at EL0), SH [9:8], AF [10] = 1, nG [11] = 0 (global), output address
 * [47:30], PXN [53], UXN [54] (the same bits as the page descriptor drawn in
 * asm/pgtable.h). RAM stays writable and executable at once until mm_init() replaces
 * these with tables that map every section on its own. The identity half is used only
 * with interrupts masked, and every use ends with a local "tlbi vmalle1" (its entries are
 * global, so they would otherwise match at any ASID, over user pages at the same VAs).
 *
 * The tables stay (they are part of the image's bss, never freed): mmu.S and secondary
 * CPUs use them again as the identity map.
 */
#define BOOT_BLOCK_DEVICE \
	(PTE_TYPE_BLOCK | PTE_ATTRINDX(MT_DEVICE_nGnRE) | PTE_AF | PTE_PXN | PTE_UXN)
#define BOOT_BLOCK_NORMAL \
	(PTE_TYPE_BLOCK | PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_UXN)

create_boot_tables:
	adrp	x0, boot_tables		/* physical: the MMU is off */
	mov	x1, x0
	add	x2, x0, #(2 * 4096)
1:	stp	xzr, xzr, [x1], #16	/* they are bss: nobody zeroed them for us */
	cmp	x1, x2
	b.lo	1b

	add	x1, x0, #4096		/* the L1 table */
	orr	x2, x1, #PTE_TYPE_TABLE
	str	x2, [x0]		/* L0[0] -> L1: VAs 0 - 512 GiB of either half */

	ldr	x2, =BOOT_BLOCK_DEVICE
	str	x2, [x1]		/* L1[0]: 0 - 1 GiB */
	ldr	x2, =BOOT_BLOCK_NORMAL
	mov	x3, #1
2:	orr	x4, x2, x3, lsl #30	/* output address n GiB */
	str	x4, [x1, x3, lsl #3]	/* L1[n] */
	add	x3, x3, #1
	cmp	x3, #4
	b.lo	2b

	/*
	 * Our stores went to memory, but the page-table walker will read through the caches
	 * (TCR_EL1.IRGNn/ORGNn = write-back), and a cache might still hold lines for these
	 * addresses from before we were loaded. Invalidate them to the point of coherency so
	 * that walks miss the caches and fetch what we wrote. "dmb sy" first: the stores must
	 * be done before their lines are invalidated.
	 */
	dmb	sy
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4		/* CTR_EL0.DminLine: log2(words per smallest D line) */
	mov	x4, #4
	lsl	x3, x4, x3		/* line size in bytes */
	add	x2, x0, #(2 * 4096)
3:	dc	ivac, x0
	add	x0, x0, x3
	cmp	x0, x2
	b.lo	3b
	dsb	sy
	ret

/*
 * Turns on the MMU and caches with x0 as TTBR0's root and x1 as TTBR1's (physical
 * addresses): the boot tables for both on the boot CPU; the identity map and the kernel's
 * own tables on a secondary. We run at a physical address, and TTBR0 must map it 1:1: the
 * instruction after the one that flips SCTLR_EL1.M is fetched from the same address with
 * translation on, and so is the return to our caller.
 */
enable_mmu:
	ldr	x2, =MAIR_EL1_KERNEL
	msr	mair_el1, x2
	/* TCR_EL1, with IPS = this CPU's physical address size (at most the 48 bits we map). */
	ldr	x2, =TCR_EL1_KERNEL
	mrs	x3, id_aa64mmfr0_el1
	and	x3, x3, #ID_AA64MMFR0_PARANGE_MASK
	mov	x4, #ID_AA64MMFR0_PARANGE_48
	cmp	x3, x4
	csel	x3, x3, x4, ls
	bfi	x2, x3, #TCR_IPS_SHIFT, #3
	/* TCR_EL1.AS: 16-bit ASIDs where the CPU has them (arch/arm64/context.c reads the same). */
	mrs	x3, id_aa64mmfr0_el1
	ubfx	x3, x3, #ID_AA64MMFR0_ASIDBITS_SHIFT, #4
	cmp	x3, #ID_AA64MMFR0_ASIDBITS_16
	b.ne	1f
	orr	x2, x2, #TCR_AS
1:	msr	tcr_el1, x2
	mov	x3, #CPACR_EL1_ALL_TRAPPED	/* FP/SIMD trapped at EL1 and EL0 (asm/sysreg.h) */
	msr	cpacr_el1, x3
	/*
	 * TPIDRRO_EL0 is readable at EL0 and its reset value is UNKNOWN: 0, and the kernel never
	 * writes it again (vectors.S says why).
	 */
	msr	tpidrro_el0, xzr
	mov	x3, #CNTKCTL_EL1_EL0VCTEN	/* EL0: the virtual counter only (asm/sysreg.h) */
	msr	cntkctl_el1, x3
	msr	ttbr0_el1, x0		/* ASID 0 (the ASID field, bits 63:48, is 0) */
	msr	ttbr1_el1, x1
	/*
	 * isb: MAIR, TCR and TTBR writes are guaranteed to be seen by the translation
	 * machinery only after a context synchronization event.
	 */
	isb
	/*
	 * The TLB's contents are UNKNOWN out of reset, and a loader may have run with the MMU
	 * on: drop everything (this CPU only - nothing else runs yet), and wait with dsb nsh
	 * until it is done.
	 *
	 * That dsb is also the "dsb before enabling": every earlier memory access and
	 * maintenance operation - the table stores and their cache invalidation
	 * (create_boot_tables ends with dsb sy) and this TLBI - must be complete before the
	 * walker may start. Turning on the MMU doesn't wait for them by itself.
	 */
	tlbi	vmalle1
	dsb	nsh
	ldr	x2, =SCTLR_EL1_KERNEL
	msr	sctlr_el1, x2
	/*
	 * isb after enabling: writing SCTLR_EL1 changes how instructions are fetched and
	 * addresses translated, but only from the next context synchronization event on.
	 * Without it, instructions already fetched could still run with the MMU off; with
	 * it, everything after runs translated and cached.
	 */
	isb
	ret

/*
 * Called at EL2 (no stack needed, x0 clobbered): configures EL2 to stay out of the way and
 * comes back at EL1, at the caller's return address. The boot CPU and every secondary
 * started by PSCI at EL2 pass through here.
 */
el2_to_el1:
	/* Entered at EL2 (QEMU virt with virtualization=on); this kernel runs at EL1. */
	mov	x0, #HCR_EL2_RW		/* EL1 is AArch64; no stage 2, no traps, IRQs to EL1 */
	msr	hcr_el2, x0
	/* EL1 may use the physical counter and timer too (only the virtual one is ours). */
	mov	x0, #(CNTHCTL_EL2_EL1PCTEN | CNTHCTL_EL2_EL1PCEN)
	msr	cnthctl_el2, x0
	/* Virtual time = physical time: CNTVCT_EL0 reads CNTPCT_EL0 minus this offset. */
	msr	cntvoff_el2, xzr
	mov	x0, #CPTR_EL2_RES1	/* no FP/SIMD or other traps to EL2 */
	msr	cptr_el2, x0
	msr	hstr_el2, xzr
	/*
	 * At EL1, MIDR_EL1 and MPIDR_EL1 reads return VPIDR_EL2 and VMPIDR_EL2, whose reset
	 * values are UNKNOWN: copy the real ones, or arch_describe_cpu() could print noise.
	 */
	mrs	x0, midr_el1
	msr	vpidr_el2, x0
	mrs	x0, mpidr_el1
	msr	vmpidr_el2, x0
	msr	vttbr_el2, xzr
	/* EL1's system control with defined contents (MMU off, little endian) before we go. */
	ldr	x0, =SCTLR_EL1_MMU_OFF
	msr	sctlr_el1, x0
	/* eret "returns" to EL1h (EL1 on SP_EL1) at the caller's lr, D, A, I and F masked. */
	mov	x0, #(SPSR_DAIF | SPSR_MODE_EL1h)
	msr	spsr_el2, x0
	msr	elr_el2, x30
	eret


/*
 * A secondary CPU, started by PSCI CPU_ON (arch/arm64/smp.c) with x0 = the physical
 * address of its struct arm64_boot_block. It starts like the boot CPU did - MMU off,
 * caches off, at EL2 or EL1, at a physical address, TLB contents unknown - so it does the
 * same dance: down to EL1, defined SCTLR_EL1, MMU on with the identity map in TTBR0 (the
 * boot tables, still intact) and - already - the kernel's own tables in TTBR1 (complete
 * by now; enable_mmu empties this CPU's TLB first, so no mix of boot and kernel entries
 * can arise), jump high, drop the identity map. The block was cleaned to the point of
 * coherency by the boot CPU: with the MMU off our loads bypass the caches, so we read all
 * of it before the MMU comes on.
 */
	.globl arm64_secondary_entry
arm64_secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0
	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	cmp	x20, #2
	b.ne	1f
	bl	el2_to_el1
1:	msr	spsel, #1
	ldr	x0, =SCTLR_EL1_MMU_OFF
	msr	sctlr_el1, x0
	isb
	ldr	x21, [x19, #BOOT_BLOCK_STACK]
	ldr	x22, [x19, #BOOT_BLOCK_CPU]
	ldr	x1, [x19, #BOOT_BLOCK_TTBR1]
	adrp	x0, boot_tables		/* physical: the identity map */
	bl	enable_mmu
	ldr	x0, =secondary_high
	br	x0

secondary_high:
	adrp	x0, arm64_vectors
	add	x0, x0, :lo12:arm64_vectors
	msr	vbar_el1, x0
	msr	tpidr_el1, x22		/* this_cpu() */
	isb
	bl	arm64_set_empty_ttbr0	/* the identity map goes, as on the boot CPU */
	mov	sp, x21
	msr	daifclr, #DAIFSET_SERROR
	mov	x29, xzr		/* ends every backtrace here */
	bl	arm64_secondary_start
2:	wfi
	b	2b

/*
 * Prints a fixed message on the early PL011 (MMU off, so its physical address) and stops:
 * with a semihosting exit (status 2, as for a panic) if QEMU runs with -semihosting. Without
 * it, hlt is undefined and the exception goes wherever VBAR points - our vectors can't be
 * used at the wrong address - so that is a hang either way, but a hang after the message.
 */
wrong_load_address:
	mov	x1, #EARLY_UART_BASE
	adr	x2, wrong_load_msg
1:	ldrb	w3, [x2], #1
	cbz	w3, 3f
2:	ldr	w4, [x1, #0x18]		/* UARTFR */
	tbnz	w4, #5, 2b		/* TXFF: the transmit FIFO is full */
	str	w3, [x1]		/* UARTDR */
	b	1b
3:	mov	x0, #SEMIHOSTING_SYS_EXIT_EXTENDED
	adr	x1, wrong_load_exit
	hlt	#0xf000
4:	wfi
	b	4b

	.balign 8
wrong_load_exit:
	.quad	ADP_STOPPED_APPLICATION_EXIT, 2
wrong_load_msg:
	.asciz	"arm64: loaded at the wrong address (text_offset in the Image header?)\r\n"
	.balign 4
	.ltorg

/* L0 and L1 boot tables, 4 KiB each and 4 KiB aligned (the linker keeps them out of the
 * range head.S clears after enabling the MMU). mmu.S uses them as the identity map too. */
	.section .bss.boot_tables, "aw", %nobits
	.balign 4096
	.globl boot_tables
boot_tables:
	.skip	2 * 4096
