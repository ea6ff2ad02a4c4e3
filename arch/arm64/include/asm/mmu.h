/* arm64 MMU control outside the page-table format: the empty TTBR0 table, replacing TTBR1. */
#pragma once

#include <asm/pgtable.h>
#include <lib/types.h>

/* mmu.S: 512 invalid entries, what TTBR0_EL1 holds while no user mm is loaded. */
extern const char arm64_empty_pgd[];

/*
 * mmu.S: TTBR0_EL1 := the empty table (ASID 0), and this CPU's TLB emptied of everything
 * the previous TTBR0 mapped. Interrupts must be masked.
 */
void arm64_set_empty_ttbr0(void);

/*
 * mmu.S: makes the tables at pgd (physical address of an L0 table) this CPU's TTBR1_EL1,
 * through an empty TTBR1 and a TLB flush, so that not a single translation of the old
 * tables survives or mixes with the new ones. Runs those instructions through the
 * identity map, which it loads into TTBR0 and removes again: TTBR0 holds the empty table
 * afterwards.
 */
void arm64_replace_ttbr1(phys_addr_t pgd);

/*
 * Address translation instructions: "at s1e1r, va" asks the MMU to translate va as a
 * stage 1 EL1 read would, without accessing memory, and leaves the answer in PAR_EL1:
 *
 *   bit 0 F = 0: translated; PA[47:12] in bits 47:12, the memory attributes in 63:56
 *   bit 0 F = 1: the walk faulted; FST (bits 6:1) is the fault status code, as in ESR
 *
 * s1e1w: as an EL1 write; s1e0r/s1e0w: as an EL0 (unprivileged) read/write - permissions
 * are checked as they would be for that access, so these answer "may EL0 read this?"
 * without running anything at EL0. (No AT form asks about execute permission.)
 * Interrupts are masked across the pair: vectors.S uses AT itself, so a handler in between
 * would overwrite PAR_EL1. The isb: PAR_EL1 holds the result only after a context
 * synchronization event.
 */
#define PAR_F	     _BITUL(0)
#define PAR_FST(par) (((par) >> 1) & 0x3f)
#define PAR_PA(par)  ((par)&PTE_ADDR_MASK)

#define DEFINE_AT(op)                                                                        \
	static inline u64 arm64_at_##op(unsigned long va)                                    \
	{                                                                                    \
		u64 daif, par;                                                               \
                                                                                             \
		__asm__ __volatile__("mrs %0, daif\n\tmsr daifset, #2\n\tat " #op ", %2\n\t" \
				     "isb\n\tmrs %1, par_el1\n\tmsr daif, %0"                \
				     : "=&r"(daif), "=&r"(par)                               \
				     : "r"(va)                                               \
				     : "memory");                                            \
		return par;                                                                  \
	}
DEFINE_AT(s1e1r)
DEFINE_AT(s1e1w)
DEFINE_AT(s1e0r)
DEFINE_AT(s1e0w)
#undef DEFINE_AT

/*
 * A user address space's ASID state: its context, generation and ASID in one word
 * (asm/asid.h draws it), 0 until its first switch. Atomic: the switch's fast path reads it
 * without the allocator's lock.
 */
typedef struct {
	u64 id;
} mm_context_t;

struct mm_struct;

/* arch/arm64/context.c: a new mm has no ASID yet; a dead one gives nothing back (see there). */
int init_new_context(struct mm_struct *mm);
void destroy_context(struct mm_struct *mm);

/* arch/arm64/context.c: the ASID allocator in the kernel. */
/* Reads ID_AA64MMFR0_EL1.ASIDBits and starts generation 1 (the boot CPU, once). */
void arm64_asid_init(void);
/* 8 or 16. */
unsigned int arm64_asid_bits(void);
/* The ASID mm's translations are tagged with (0 for init_mm: its entries are global). */
unsigned long arm64_mm_asid(const struct mm_struct *mm);
/*
 * For tests: hand out only ASIDs below limit (0: all of them again), so that a handful of
 * address spaces forces a rollover. Returns the limit now in force.
 */
unsigned long arm64_asid_set_limit(unsigned long limit);

struct arm64_asid_stats {
	u64 generation;	   /* the current one (1 at boot) */
	u64 rollovers;	   /* generations begun since boot */
	u64 local_flushes; /* TLB flushes a CPU did at a switch because of a rollover */
};
void arm64_asid_stats(struct arm64_asid_stats *s);
