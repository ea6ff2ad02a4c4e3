/* Flush-instruction counters: every backend counts where it issues the instruction. */
#pragma once

#include <lib/types.h>
#if __has_include(<asm/tlb_stats.h>)
#include <asm/tlb_stats.h>
#endif

/*
 * An arch that issues several forms of one kind of invalidation (arm64: vale1is and vae1is
 * are both "per page") counts each form in struct arch_tlb_stats, and ONLY there: the generic
 * tlbi_page/tlbi_range/tlbi_all of such an arch are never incremented, but computed from the
 * per-form counts by arch_tlb_stats_derive() whenever tlb_stats_read() sums them. So there is
 * one source of truth per instruction, and the two views cannot drift apart. An arch with one
 * form per kind (x86-64) counts the generic fields directly and needs neither.
 */
#ifndef arch_tlb_stats_derive
struct arch_tlb_stats {
};
#define arch_tlb_stats_derive(s) ((void)(s))
#endif

struct tlb_stats {
	u64 pte_writes;	 /* entry stores through pte_update() (any level) */
	u64 tlbi_page;	 /* one invlpg, or one per-page TLBI (vae1is/vale1is) */
	u64 tlbi_range;	 /* one range TLBI (rvae1is/rvale1is) */
	u64 tlbi_all;	 /* one full flush: CR3 reload / PGE toggle / INVPCID-all / vmalle1is */
	u64 barriers;	 /* one "dsb ishst; isb" publishing new valid entries (arm64) */
	u64 ipis_sent;	 /* TLB shootdown IPIs sent to other CPUs (x86; none on arm64, or alone) */
	u64 shootdowns;	 /* flushes that reached other CPUs by IPI (arch/x86_64/shootdown.c) */
	u64 batches;	 /* non-empty flushes of a tlb_batch */
	u64 bbm_flushes; /* flushes forced by break-before-make inside a batch */
	u64 queued_make_flushes; /* pages invalidated before a make because another context's
				    batch still owed their invalidation (docs/memory.md) */
	u64 arch_enter;		 /* arch_enter_lazy_mmu_mode() calls */
	u64 arch_leave;		 /* arch_leave_lazy_mmu_mode() calls */
	u64 arch_flush;		 /* arch_flush_lazy_mmu_mode() calls */
	/* The context switch's own hook calls (lazy_mmu_switch_out/in), not in the three above. */
	u64 switch_leave; /* arch_leave_lazy_mmu_mode() for a task switched out mid-section */
	u64 switch_enter; /* arch_enter_lazy_mmu_mode() for a task switched back in */
	/* Per-form counts (u64s too): keep last, add generic counters above. */
	struct arch_tlb_stats arch;
};

/* Sum of every CPU's counters (derived generic fields computed from the per-form ones). */
void tlb_stats_read(struct tlb_stats *s);
void tlb_stats_reset(void);

/*
 * Counts one event on this CPU with this_cpu_add() (<kernel/cpu.h>): never torn, never lost
 * to an interrupt handler counting in between (x86-64: one %gs-relative add; elsewhere a
 * relaxed atomic add).
 */
#define count_tlb_event(field) count_tlb_events(field, 1)
/* n events at once (a loop that made n entry stores counts them in one add). */
#define count_tlb_events(field, n) this_cpu_add(tlb_stats.field, (n))
