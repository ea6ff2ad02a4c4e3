/* Host mock of an arch page-table format: simple bits, switchable arm64-like rules. */
#pragma once

#include <mm/pte.h>

/*
 * Mock entry layout:
 *   63  58        51                 12   4    3   2   1   0
 *  +---+--+ ... +-------------------+--+---+---+---+---+---+
 *  |   |PN|     |  output address   |  |DEV| X | W | T | V |
 *  +---+--+ ... +-------------------+--+---+---+---+---+---+
 *  V valid, T table (levels >= 1), W writable, X executable, DEV device memory,
 *  PN "prot none": not valid, but still mapped (keeps its address).
 */
#define MOCK_V	  (1ULL << 0)
#define MOCK_T	  (1ULL << 1)
#define MOCK_W	  (1ULL << 2)
#define MOCK_X	  (1ULL << 3)
#define MOCK_DEV  (1ULL << 4)
#define MOCK_PN	  (1ULL << 58)
#define MOCK_ADDR 0x000ffffffffff000ULL

#define PAGE_OFFSET   0UL
#define VM_TEST_START 0x0000400000000000UL
#define VM_TEST_END   0x0000500000000000UL

#define PAGE_KERNEL	   __pgprot(MOCK_V | MOCK_W)
#define PAGE_KERNEL_RO	   __pgprot(MOCK_V)
#define PAGE_KERNEL_EXEC   __pgprot(MOCK_V | MOCK_X)
#define PAGE_KERNEL_DEVICE __pgprot(MOCK_V | MOCK_W | MOCK_DEV)
#define PAGE_NONE	   __pgprot(MOCK_PN)

/* Tests flip this to get arm64's rules (barriers for new entries, break-before-make). */
extern bool mock_arm64_rules;

static inline bool pte_present(pte_t pte)
{
	return pte_val(pte) & MOCK_V;
}

static inline bool pte_is_table(pte_t pte, int level)
{
	return level > 0 && (pte_val(pte) & (MOCK_V | MOCK_T)) == (MOCK_V | MOCK_T);
}

static inline pte_t mk_table_entry(phys_addr_t pa)
{
	return __pte(pa | MOCK_V | MOCK_T);
}

static inline phys_addr_t pte_table_pa(pte_t pte)
{
	return pte_val(pte) & MOCK_ADDR;
}

static inline pte_t mk_pte(phys_addr_t pa, pgprot_t prot)
{
	return __pte(pa | pgprot_val(prot));
}

static inline phys_addr_t pte_pa(pte_t pte)
{
	return pte_val(pte) & MOCK_ADDR;
}

static inline pgprot_t pte_pgprot(pte_t pte)
{
	return __pgprot(pte_val(pte) & ~MOCK_ADDR);
}

static inline bool arch_has_break_before_make(void)
{
	return mock_arm64_rules;
}

static inline bool arch_pte_needs_bbm(pte_t old, pte_t new)
{
	return mock_arm64_rules && pte_present(old) && pte_present(new) &&
	       ((pte_val(old) ^ pte_val(new)) & (MOCK_ADDR | MOCK_DEV));
}

static inline bool arch_pte_needs_sync(pte_t new)
{
	return mock_arm64_rules && pte_present(new);
}

/* User pages: a U bit on top of the kernel's (PROT_* values from the ABI header). */
#define MOCK_U (1ULL << 5)
static inline pgprot_t vm_get_page_prot(unsigned int prot)
{
	if (!(prot & 7))
		return PAGE_NONE;
	return __pgprot(MOCK_V | MOCK_U | ((prot & 2) ? MOCK_W : 0) | ((prot & 4) ? MOCK_X : 0));
}
