/* Replacing the live translation tables exactly: TTBR0_EL1 written with the MMU briefly off. */
#include <asm/sysreg.h>

/*
 * void arm64_replace_ttbr0(phys_addr_t pgd)
 *
 * Why the MMU goes off. The boot tables map RAM with 1 GiB blocks; mm/'s tables map the
 * same addresses with 4 KiB pages. Pointing TTBR0 at the new tables while translating
 * would, for a moment, let the TLB hold a block entry from the old tables and page entries
 * from the new ones for the same address - which the architecture allows to end in a TLB
 * conflict abort (or worse, an unpredictable mix) on silicon. With the MMU off nothing is
 * translated, so nothing new is cached while the old entries are thrown away. This is
 * possible only because the kernel runs at its physical address (VA == PA): with the MMU
 * off, the next instruction is fetched from the same address as with it on.
 *
 * No data access may happen between "off" and "on" - with the MMU off every data access
 * is Device-nGnRnE and uncached, and could read stale memory behind a dirty cache line -
 * so this is all registers, and interrupts (and every other asynchronous exception) are
 * masked: a handler would run untranslated.
 */
	.text
	.globl arm64_replace_ttbr0
	.type arm64_replace_ttbr0, %function
arm64_replace_ttbr0:
	mrs	x2, daif
	msr	daifset, #0xf
	/*
	 * The stores that built the new tables must be complete, and visible to the table
	 * walker, before it can walk them.
	 */
	dsb	ish
	mrs	x1, sctlr_el1
	bic	x3, x1, #SCTLR_EL1_M
	msr	sctlr_el1, x3
	isb			/* MMU off for every instruction from here on */
	msr	ttbr0_el1, x0	/* the new root (ASID 0) */
	/*
	 * Drop every translation of the old tables (and walk-cache entries) from this CPU's
	 * TLB, and wait for it: the MMU must not come back on while old entries could
	 * still be there.
	 */
	tlbi	vmalle1
	dsb	nsh
	isb			/* the new TTBR0 and the empty TLB are in effect */
	msr	sctlr_el1, x1	/* MMU (and everything else) as it was */
	isb			/* translated through the new tables from here on */
	msr	daif, x2
	ret
	.size arm64_replace_ttbr0, . - arm64_replace_ttbr0
