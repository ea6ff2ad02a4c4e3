/* x86-64 TLB instructions (invlpg, CR3 writes, the CR4.PGE toggle, INVPCID) and each CPU's TLB state. */
#pragma once

#include <lib/types.h>
#include <asm/pcid.h>
#include <asm/processor.h>
#include <kernel/cpu.h>

struct mm_struct;

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

/*
 * CR3 with CR4.PCIDE set:
 *
 *   63  62           52 51                                  12 11            0
 *  +--+---------------+--------------------------------------+---------------+
 *  |NF|   reserved    |  physical address of the PML4        |     PCID      |
 *  +--+---------------+--------------------------------------+---------------+
 *
 *   PCID  which context the TLB tags this address space's non-global entries with
 *   NF    (no flush; written only, reads as 0) keep the new PCID's cached entries; without
 *         it the load invalidates every non-global entry of that PCID
 *
 * Without PCIDE, bits 11:0 are flags we leave 0 (PWT, PCD) and every load invalidates all
 * non-global entries.
 */
#define X86_CR3_NOFLUSH BIT(63)
#define X86_CR3_PCID	0xfffUL

static inline unsigned long read_cr3(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

/*
 * Loads a new root table (and PCID, NF: see above). A serialising instruction; "memory":
 * no access may move across the switch of address space.
 */
static inline void write_cr3(unsigned long v)
{
	__asm__ __volatile__("mov %0, %%cr3" : : "r"(v) : "memory");
}

/*
 * INVPCID (CPUID.7.EBX[10]): invalidation by PCID, whichever PCID is loaded. The operand is
 * a 16-byte descriptor in memory: PCID in bits 11:0 of the first quadword, the linear
 * address in the second; the type in a register.
 *   0  one address in one PCID (non-global entries; and that PCID's paging-structure caches)
 *   1  every non-global entry of one PCID
 *   2  everything, global entries included, every PCID
 */
#define INVPCID_TYPE_ADDR	     0
#define INVPCID_TYPE_SINGLE	     1
#define INVPCID_TYPE_ALL_INCL_GLOBAL 2

static inline void invpcid(unsigned long type, unsigned int pcid, unsigned long addr)
{
	struct {
		u64 pcid;
		u64 addr;
	} desc = { pcid, addr };

	__asm__ __volatile__("invpcid %0, %1" : : "m"(desc), "r"(type) : "memory");
}

/*
 * Drops everything this CPU has cached, global translations included, under every PCID:
 * changing CR4.PGE flushes the whole TLB and every paging-structure cache (SDM vol. 3,
 * 4.10.4.1), so clearing it and setting it back is the flush. Without PGE there are no
 * global entries, and INVPCID's "everything" or, with no PCIDs either, a CR3 reload does
 * the same.
 */
static inline void x86_flush_tlb_all(void)
{
	unsigned long cr4 = read_cr4();

	if (cr4 & X86_CR4_PGE) {
		write_cr4(cr4 & ~X86_CR4_PGE);
		write_cr4(cr4);
	} else if (cr4 & X86_CR4_PCIDE) {
		invpcid(INVPCID_TYPE_ALL_INCL_GLOBAL, 0, 0);
	} else {
		write_cr3(read_cr3());
	}
}

/*
 * Drops the non-global translations of the loaded address space only (its PCID's, with
 * PCIDs; all non-global ones without): reloading CR3 as it is, NF clear. The kernel's
 * global entries stay.
 */
static inline void x86_flush_tlb_current(void)
{
	write_cr3(read_cr3() & ~X86_CR3_NOFLUSH);
}

/*
 * Per CPU: whose tables CR3 holds and under which PCID slot, and the PCID slots. Written
 * only by the CPU itself with interrupts masked (arch_switch_mm(), the local part of a
 * flush); loaded_mm is also read by its own shootdown NMI, which is why it is set right
 * after the CR3 write that makes it true (arch/x86_64/mm.c explains the window).
 */
struct x86_tlb_state {
	struct mm_struct *loaded_mm; /* NULL until the CPU first loads init_mm */
	int loaded_slot;	     /* loaded_mm's PCID slot, -1 for init_mm or without PCIDs */
	struct x86_pcid_cpu pcid;
};
extern struct x86_tlb_state x86_tlb_state[NR_CPUS];

/* PCIDs are on (CR4.PCIDE on every CPU), and INVPCID can be used: decided once at boot. */
extern bool x86_pcid_on, x86_invpcid_on;

/* Turns PCIDs on on this CPU if the boot CPU did (x86_pcid_on), before anything is loaded. */
void x86_pcid_init_cpu(void);
