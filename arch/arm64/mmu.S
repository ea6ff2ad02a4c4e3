/* Replacing live translation tables: TTBR1_EL1 through the identity map, TTBR0_EL1 emptied. */
#include <asm/pgtable.h>
#include <asm/sysreg.h>

/*
 * The table TTBR0_EL1 points at while no user address space is loaded: 512 invalid
 * entries. A walk of it faults at level 0 and caches nothing, so with it every low
 * address - NULL, a physical address mistaken for a pointer, any user address - faults.
 * In .rodata, so the image file holds the zeroes (nobody has to clear it before its first
 * use, which comes before the bss is cleared) and mm_init() maps it read-only: no store
 * can ever turn it into a table that maps something.
 *
 * Why an empty table and not TCR_EL1.EPD0 = 1 (no walks through TTBR0 at all): both fault
 * every low address, but a TCR field may be cached in TLB entries, so flipping EPD0 at each
 * switch between a user mm and none would need TLB maintenance of its own, while the empty
 * table is just another TTBR0 value - loading it is the same single write as loading a
 * user mm's root, and it goes with ASID 0, which no user mm ever gets.
 */
	.section .rodata
	.balign 4096
	.globl arm64_empty_pgd
arm64_empty_pgd:
	.fill	4096, 1, 0

	.text
/*
 * void arm64_set_empty_ttbr0(void)
 *
 * TTBR0_EL1 := the empty table, ASID 0, and every translation this CPU cached through the
 * previous TTBR0 dropped. Used after the identity map has done its job (head.S, and
 * arm64_replace_ttbr1() below). Its entries are global, so they would match whatever ASID
 * came next, over user pages at the same low addresses: the "tlbi vmalle1" is what really
 * removes them. Local ("vmalle1", not "vmalle1is"): only this CPU ever walked the identity
 * map (other CPUs have their own copies, if any, and drop them the same way). It also drops
 * every TTBR1 entry of this CPU, which simply get walked again.
 *
 * Clobbers x0 and x1 only (head.S calls it without a stack). Interrupts must be masked:
 * between the TTBR0 write and the TLBI the old entries could still be used.
 */
	.globl arm64_set_empty_ttbr0
	.type arm64_set_empty_ttbr0, %function
arm64_set_empty_ttbr0:
	adrp	x0, arm64_empty_pgd	/* its linked (high) address: we run up there */
	ldr	x1, =PAGE_OFFSET
	sub	x0, x0, x1		/* virt_to_phys(): TTBR0 takes a physical address */
	msr	ttbr0_el1, x0
	isb				/* the new TTBR0 is used from here on */
	tlbi	vmalle1
	dsb	nsh			/* the TLBI has completed on this CPU */
	isb				/* nothing fetched before it runs on an old translation */
	ret
	.size arm64_set_empty_ttbr0, . - arm64_set_empty_ttbr0

/*
 * void arm64_replace_ttbr1(phys_addr_t pgd)
 *
 * TTBR1_EL1 := pgd (the physical address of an L0 table), with not a single translation of
 * the old tables surviving or mixing with the new ones. mm_init() uses it once, to replace
 * the boot tables with the kernel's own (arch_switch_mm(&init_mm)).
 *
 * Why not a plain TTBR1 write and a TLBI. The boot tables map RAM with 1 GiB blocks; mm/'s
 * tables map the same addresses with 4 KiB pages. Pointing TTBR1 at the new tables while
 * the old entries may still be cached would, for a moment, let the TLB hold a block entry
 * from the old tables and page entries from the new ones for the same address - which the
 * architecture allows to end in a TLB conflict abort (or worse, an unpredictable mix) on
 * silicon. That is break-before-make at the scale of the whole table: TTBR1 must first
 * point at tables that map nothing, the TLB be emptied, and only then the new tables come.
 *
 * While TTBR1 maps nothing, the kernel's own addresses don't exist: not this code, not the
 * stack. So for those few instructions we run at our physical address, through the
 * identity map (the boot tables) in TTBR0, just as head.S did when it turned the MMU on.
 * No data access may happen there (registers only), and every exception is masked: the
 * vectors are gone too.
 */
	.globl arm64_replace_ttbr1
	.type arm64_replace_ttbr1, %function
arm64_replace_ttbr1:
	mrs	x2, daif
	msr	daifset, #0xf
	/*
	 * The stores that built the new tables must be complete, and visible to the table
	 * walker, before it can walk them.
	 */
	dsb	ish
	ldr	x3, =PAGE_OFFSET
	adrp	x4, boot_tables
	sub	x4, x4, x3		/* the identity map, physical */
	adrp	x5, arm64_empty_pgd
	sub	x5, x5, x3		/* the empty table, physical */
	/*
	 * TTBR0 held the empty table, so nothing at a low address is cached: the identity
	 * map can come in with a plain write.
	 */
	msr	ttbr0_el1, x4
	isb
	adr	x6, 1f
	sub	x6, x6, x3
	br	x6			/* to our physical alias */
1:	msr	ttbr1_el1, x5		/* break: the high half maps nothing */
	isb				/* ... from the next instruction on */
	tlbi	vmalle1			/* drop every old TTBR1 entry, blocks and walk caches */
	dsb	nsh			/* wait until they are gone */
	isb
	msr	ttbr1_el1, x0		/* make: the new tables */
	isb
	ldr	x6, =2f			/* read through the identity map: the high address of 2: */
	br	x6
2:	mov	x6, x30
	bl	arm64_set_empty_ttbr0	/* and the identity map goes again */
	mov	x30, x6
	msr	daif, x2
	ret
	.size arm64_replace_ttbr1, . - arm64_replace_ttbr1
