/* x86-64 TLB instructions: invlpg, CR3 writes, the CR4.PGE toggle and INVPCID. */
#pragma once

#include <lib/types.h>
#include <asm/processor.h>

/*
 * invlpg and CR3/CR4 writes act on the executing CPU only: other CPUs are reached by a
 * shootdown IPI (arch/x86_64/shootdown.c). Tests read this to know what ipis_sent must be.
 */
#define ARCH_TLB_SHOOTDOWN_IPIS 1

/*
 * With interrupts masked: sleeps until the next NMI, which is how shootdowns arrive
 * (masked, hlt ignores every other interrupt). Lets a CPU that only waits for shootdowns
 * (a test's remote reader) give its time back instead of spinning. A wake-up may also
 * come from an NMI that found nothing: callers re-check their condition.
 */
static inline void arch_wait_for_tlb_shootdown(void)
{
	__asm__ __volatile__("hlt" : : : "memory");
}

/*
 * Drops the translation of the page holding va from this CPU's TLB (global or not), and
 * every paging-structure-cache entry (the cached upper-level entries used by page walks),
 * so it also covers a freed page table. "memory": the entry store that made the old
 * translation stale must be issued before it, and later accesses to va must come after.
 */
static inline void invlpg(unsigned long va)
{
	__asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

static inline phys_addr_t read_cr3(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

/*
 * Loads a new root table. Without PCIDs this drops every non-global translation of this
 * CPU (and all paging-structure caches); global ones survive. A serialising instruction.
 */
static inline void write_cr3(phys_addr_t pa)
{
	__asm__ __volatile__("mov %0, %%cr3" : : "r"((unsigned long)pa) : "memory");
}

/*
 * Drops everything this CPU has cached, global translations included: changing CR4.PGE
 * flushes the whole TLB, so clearing it and setting it back is the flush. Only when PGE is
 * on; otherwise there are no global entries and reloading CR3 does the same.
 */
static inline void x86_flush_tlb_all(void)
{
	unsigned long cr4 = read_cr4();

	if (cr4 & X86_CR4_PGE) {
		write_cr4(cr4 & ~X86_CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

/* INVPCID type 2: every translation for every PCID, globals included (CPUID.7.EBX[10]). */
#define INVPCID_TYPE_ALL_INCL_GLOBAL 2

static inline void invpcid_flush_all(void)
{
	struct {
		u64 pcid;
		u64 addr;
	} desc = { 0, 0 };

	__asm__ __volatile__("invpcid %0, %1"
			     :
			     : "m"(desc), "r"((unsigned long)INVPCID_TYPE_ALL_INCL_GLOBAL)
			     : "memory");
}
