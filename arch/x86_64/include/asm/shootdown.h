/* x86-64 TLB shootdowns (arch/x86_64/shootdown.c): the flush of a batch on the other CPUs. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>

struct mm_struct;
struct tlb_batch;

/* The message that travels with the NMI (Linux's flush_tlb_info): see shootdown.c. */
struct x86_flush_info {
	const struct tlb_range *ranges;
	unsigned int nr_ranges;
	unsigned long nr_pages;
	bool flush_all;
	bool nonleaf;		    /* a table was unlinked: walk caches must go too */
	const struct mm_struct *mm; /* whose translations; NULL: the kernel's (init_mm) */
	unsigned int initiator;
	u64 seq; /* the initiator's shootdown number, for reports */
};

/* One shootdown in flight, on the initiator's stack between begin and end. */
struct x86_shootdown {
	unsigned long flags; /* the caller's interrupt state, masked in between */
	unsigned int n;	     /* targets */
	unsigned int targets[NR_CPUS];
	u64 tlb_gen; /* a user mm's flush number (its tlb_gen after this flush's increment) */
	struct x86_flush_info info;
};

/*
 * begin: masks interrupts; for a user mm (b's, not init_mm) counts the flush in
 * mm->context.tlb_gen; then posts b's ranges to every other CPU that may hold the
 * translations - every online CPU for the kernel's, the online CPUs of mm->cpumask for a
 * user mm - and sends each one NMI (counted: ipis_sent += targets, shootdowns += 1 if any).
 * The caller then invalidates locally while the targets work, and calls end: it waits until
 * every target has acknowledged, or reports the silent CPU and the batch and panics after a
 * bound.
 */
void x86_shootdown_begin(struct x86_shootdown *sd, const struct tlb_batch *b);
void x86_shootdown_end(struct x86_shootdown *sd);

/* The NMI handler's part: true if the NMI is explained (a shootdown, or possibly one). */
bool x86_handle_shootdown_nmi(void);

/*
 * What the targets did, summed (or of one CPU): NMIs taken, pages invalidated, full flushes,
 * user-mm messages that found that mm gone from the CPU (its next load there catches up).
 */
struct x86_shootdown_stats {
	u64 nmis;
	u64 pages;
	u64 full_flushes;
	u64 not_loaded; /* a user mm's shootdown that found another mm loaded: nothing to do */
};
void x86_shootdown_stats_read(struct x86_shootdown_stats *s);
void x86_shootdown_stats_cpu(unsigned int cpu, struct x86_shootdown_stats *s);

/*
 * Test hooks, never set outside tests:
 *  - x86_shootdown_skip_ipis: batches flush locally only (the stale-TLB demonstration);
 *  - x86_shootdown_deaf_cpu: that CPU ignores shootdown NMIs;
 *  - x86_shootdown_timeout_ms: how long the real path waits before its report and panic
 *    (5000; the runner's self-test kernel shortens it);
 *  - x86_shootdown_test_unacked(): one shootdown of b that waits only timeout_ms, reports
 *    the CPUs that didn't answer (as the real path does before its panic) and returns how
 *    many; it then un-deafens them and waits for their answer, so nothing is left behind.
 */
extern bool x86_shootdown_skip_ipis;
extern int x86_shootdown_deaf_cpu;
extern unsigned int x86_shootdown_timeout_ms;
unsigned int x86_shootdown_test_unacked(const struct tlb_batch *b, unsigned int timeout_ms);
