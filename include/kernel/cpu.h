/* Per-CPU state: every per-CPU field is reached through this_cpu() (a per-CPU register). */
#pragma once

#include <lib/types.h>
#include <kernel/fault.h>
#include <mm/tlb_stats.h>

/*
 * At most this many CPUs are used; a machine that lists more has the extras ignored (with
 * a message at boot). cpus[i].id == i; cpu 0 is the boot CPU. See kernel/smp.c.
 */
#define NR_CPUS 8

struct task;
struct nofault_ctx;
struct mm_struct;

struct cpu {
	/*
	 * This very struct: first, so that a per-CPU register pointing at a CPU's struct cpu
	 * finds it at offset 0 (x86-64: GS base is &cpus[i] and this_cpu() is one %gs:0 load,
	 * and any other field one %gs-relative load: this_cpu_read()). Set before the CPU runs C.
	 */
	struct cpu *self;
	/*
	 * Second and third, at fixed offsets for the arch's entry code (x86-64: the syscall
	 * entry has no free register, so it parks the user's rsp in entry_scratch and loads
	 * the task's kernel stack top from entry_stack, both %gs-relative; <asm/percpu.h>
	 * checks the offsets). Written only by this CPU, interrupts masked.
	 */
	unsigned long entry_stack;
	unsigned long entry_scratch;
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
	/*
	 * The mm whose tables this CPU has loaded, with a reference held on it (kernel/sched.c:
	 * a kernel thread borrows it). Written only by this CPU, with interrupts masked.
	 */
	struct mm_struct *active_mm;
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

/*
 * arch_this_cpu() reads the per-CPU register that each CPU points at its own struct cpu
 * before it runs any C that could use it: x86-64 GS base (a %gs-relative load), arm64
 * TPIDR_EL1. One register read, no lock: each CPU only ever reads its own.
 */
#include <asm/percpu.h>

static inline struct cpu *this_cpu(void)
{
	return arch_this_cpu();
}

/*
 * One field of this CPU's struct cpu. An arch whose per-CPU register can address the field
 * directly (x86-64: one %gs-relative load, as Linux's this_cpu_read()) defines it; else it
 * is this_cpu()->field.
 */
#ifndef this_cpu_read
#define this_cpu_read(field) (this_cpu()->field)
#endif

/*
 * Adds n to a u64 counter of this CPU that other CPUs may read. Generic: a relaxed atomic
 * add, so that neither an interrupt handler counting between a load and a store on this
 * CPU, nor a migration between finding the CPU and adding, can lose an increment.
 */
#ifndef this_cpu_add
#define this_cpu_add(field, n) __atomic_fetch_add(&this_cpu()->field, (n), __ATOMIC_RELAXED)
#endif
