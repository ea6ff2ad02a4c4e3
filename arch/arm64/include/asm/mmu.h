/* arm64 MMU control outside the page-table format: replacing the live translation tables. */
#pragma once

#include <lib/types.h>

/*
 * mmu.S: makes the tables at pgd (physical address of an L0 table) this CPU's TTBR0_EL1,
 * with the MMU turned off around the switch so that not a single translation of the old
 * tables survives or mixes with the new ones. Must run from an identity-mapped address,
 * which every kernel address is.
 */
void arm64_replace_ttbr0(phys_addr_t pgd);

/* A user address space's ASID state (none yet: every mm runs under ASID 0). */
typedef struct {
	u64 asid;
} mm_context_t;
