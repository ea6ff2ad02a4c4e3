/* Per-CPU state. One CPU for now; every per-CPU field is reached through this_cpu(). */
#pragma once

#include <lib/types.h>
#include <kernel/fault.h>
#include <mm/tlb_stats.h>

/*
 * SMP bring-up is not implemented yet: NR_CPUS stays 1 and this_cpu() is cpus[0]. Code is
 * written against this_cpu() so that adding CPUs only changes this header.
 */
#define NR_CPUS 1

struct task;
struct nofault_ctx;

struct cpu {
	unsigned int id;
	union {
		struct {
			/* > 0 while an interrupt handler runs on this CPU (see in_interrupt()). */
			unsigned int irq_depth;
			/* Non-zero while the lazy MMU trace is on (lazy_mmu_set_trace()). */
			unsigned int lazy_mmu_tracing;
		};
		/*
		 * Both at once: non-zero sends the lazy MMU fast paths (<mm/lazy_mmu.h>) to
		 * the slow ones, in one load. irq_depth is written only by this CPU;
		 * lazy_mmu_tracing by lazy_mmu_set_trace() on any CPU (a call racing with it
		 * may go either way).
		 */
		u64 lazy_mmu_slow;
	};
	struct task *current_task; /* read it as `current` (kernel/task.h) */
	/* Flush-instruction counters, incremented where each instruction is issued. */
	struct tlb_stats tlb_stats;
	/* The last fault taken by a nofault accessor or call_nofault() (kernel/fault.c). */
	struct fault_info last_fault;
	/* Armed by call_nofault(): where an unexpected fault resumes (arch-defined). */
	struct nofault_ctx *nofault;
	/* The benchmark's floor is on (mm/pgtable.c): set and cleared with interrupts off. */
	bool pt_floor;
};

extern struct cpu cpus[NR_CPUS];

static inline struct cpu *this_cpu(void)
{
	return &cpus[0];
}
