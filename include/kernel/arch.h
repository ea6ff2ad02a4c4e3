/*
 * The contract between generic code and each architecture: every function here is
 * implemented once per arch/<arch>/ and called only by generic code. Static-inline parts of
 * the contract live in arch/<arch>/include/asm/ (irqflags.h, timex.h, pgtable.h, ...).
 */
#pragma once

#include <lib/types.h>

struct mm_struct;
struct mem_region;

/* Generic entry: the arch calls kmain() once the console works, traps are installed and
 * boot_info is filled. */
__noreturn void kmain(void);

/* One character to the boot console (COM1 / PL011). Must work from exception handlers. */
void arch_console_putc(char c);

/* The next byte received on the boot console, or -1 when none is waiting. Never blocks; safe
 * with interrupts masked. Polled by kernel/console.c (see there why not interrupt-driven). */
int arch_console_getc(void);

/* Starts the interrupt controller and the periodic timer at TIMER_HZ. Called after mm_init()
 * (device registers are mapped by then). Interrupts stay masked until the caller enables them. */
void arch_irq_init(void);

/* Reprograms the periodic timer to hz interrupts per second (TIMER_HZ after arch_irq_init()).
 * Called with interrupts masked, by timer_set_hz() only. */
void arch_timer_set_hz(unsigned int hz);

/* Reports the result to the host and stops: x86 isa-debug-exit, arm64 semihosting. */
__noreturn void arch_exit(int code);

/* Prints "x86_64" or "arm64" and the CPU model/features worth knowing in a log. */
void arch_describe_cpu(void);

/* Device windows that mm_init() maps (uncached) into the kernel tables. */
unsigned int arch_mmio_regions(const struct mem_region **regions);

/* Fills a new address space's root (mm->pgd, zeroed) with what every mm shares: x86-64 copies
 * init_mm's kernel-half root entries; arm64 has nothing to do (TTBR1). 0 or -errno. */
int arch_pgd_init(struct mm_struct *mm);

/*
 * Loads mm's tables into this CPU (a user mm under its ASID/PCID, allocating or refreshing
 * one as needed) and puts this CPU in mm->cpumask. Interrupts masked.
 */
void arch_switch_mm(struct mm_struct *mm);

/*
 * The task about to run has its kernel stack ending at stack_top: where an entry from user
 * mode must switch to (x86-64: TSS.rsp0 and the syscall entry's stack; arm64: nothing, the
 * task's own SP_EL1 is that stack). Interrupts masked.
 */
void arch_set_kernel_stack(unsigned long stack_top);

/* Makes instructions written through data accesses at [addr, addr+len) fetchable (arm64
 * cleans the D-cache and invalidates the I-cache to the point of unification; x86 snoops). */
void arch_sync_icache(const void *addr, size_t len);

/* Cycle counter for benchmarks, and its rate in Hz (calibrated where the CPU doesn't say). */
u64 arch_cycles(void);
u64 arch_cycles_hz(void);
