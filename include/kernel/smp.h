/* SMP: which CPUs are online, cross-CPU function calls, and the arch bring-up contract. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>

/* The logical id of the running CPU (0 = the boot CPU; cpus[id] is its struct cpu). */
static inline unsigned int smp_processor_id(void)
{
	return this_cpu()->id;
}

unsigned int num_online_cpus(void);
bool cpu_online(unsigned int cpu);
/* The firmware's id of a CPU: x86 APIC ID, arm64 MPIDR affinity (0 if unknown). */
u64 cpu_hwid(unsigned int cpu);

typedef void (*smp_call_func_t)(void *info);

/*
 * Runs fn(info) on `cpu`, in interrupt context there (in_interrupt() is true, interrupts are
 * masked). The running CPU calls it directly, in the same context. With wait, returns
 * after fn has returned on the target; without, as soon as the call is queued (info must
 * then outlive the call). Returns 0, -ENXIO for a CPU that is not online, or -EDEADLK
 * (with a warning) for wait from interrupt context: a handler spinning on a CPU whose own
 * handler spins on us would never finish. Waiting with interrupts masked is allowed: the
 * waiter runs the calls queued for its own CPU while it spins, so two CPUs calling each
 * other both make progress.
 */
int smp_call_function_single(unsigned int cpu, smp_call_func_t fn, void *info, bool wait);
/* fn(info) on every online CPU (this one included, directly); wait as above. */
int on_each_cpu(smp_call_func_t fn, void *info, bool wait);
/*
 * Interrupts another CPU so that it runs its scheduler on the way out (a task was woken or
 * queued there while it idled). Nothing for this CPU or an offline one. A cross-call with
 * an empty function: no wait, so interrupt context and masked interrupts are fine.
 */
void smp_send_reschedule(unsigned int cpu);

/* Boots every other CPU the firmware lists (kmain, after interrupts are on). */
void smp_init(void);
/*
 * Starts the CPU with hardware id hwid as logical CPU cpu (a free one) and waits up to
 * timeout_ms for it to come online. false, with a message, if the start request failed or
 * the CPU never arrived: then the logical id stays taken (a late arrival parks itself).
 * smp_init() uses it for every CPU; tests use it to provoke a CPU that never answers.
 */
bool smp_boot_cpu(unsigned int cpu, u64 hwid, unsigned int timeout_ms);

/* --- called by arch code --- */

/* A secondary CPU's first generic code: per-CPU register, stack, MMU, traps, interrupt
 * controller and timer are set up by the arch. Never returns: it starts the CPU's run
 * queue, goes online, and leaves the CPU to its idle task and kernel threads. */
__noreturn void secondary_start(void);
/* The cross-call IPI handler (between irq_enter() and irq_exit()): runs what is queued. */
void smp_handle_call_ipi(void);

/* --- arch contract (arch/<arch>/smp.c) --- */

/* The running CPU's hardware id (what the firmware tables list). */
u64 arch_cpu_hwid(void);
/*
 * Starts the CPU with hardware id hwid as logical CPU `cpu` (cpus[cpu].id is set) on the
 * stack ending at stack_top: it ends in secondary_start(). 0 if the start request went
 * out, else a negative errno. The caller waits for the CPU to come online and gives up
 * after a bound.
 */
int arch_boot_secondary(unsigned int cpu, u64 hwid, unsigned long stack_top);
/* Stops this CPU for good, interrupts masked (a secondary that came too late). */
__noreturn void arch_cpu_park(void);
/* Interrupts `cpu` with the cross-call IPI (its handler calls smp_handle_call_ipi()). */
void arch_send_call_ipi(unsigned int cpu);
