/* Masking interrupts on arm64: PSTATE.I, set with "msr daifset" and cleared with "msr daifclr". */
#pragma once

#include <lib/types.h>
#include <asm/barrier.h>
#include <asm/processor.h>
#include <asm/sysreg.h>

/*
 * Only IRQs are masked and unmasked here. FIQs are unused (the GIC signals everything as
 * IRQ), SErrors stay unmasked after boot so a bad bus access is reported, and debug
 * exceptions stay masked. "memory": accesses inside a masked region must not be moved out
 * of it by the compiler. Writes to DAIF with msr (immediate) take effect for the very next
 * instruction: no isb is needed for masking to work.
 */
static inline void arch_local_irq_enable(void)
{
	__asm__ __volatile__("msr daifclr, #2" : : : "memory");
}

static inline void arch_local_irq_disable(void)
{
	__asm__ __volatile__("msr daifset, #2" : : : "memory");
}

/*
 * After an entry from user mode (which masks D, A, I and F): back to how the kernel runs -
 * IRQs and SErrors unmasked (#6 = A | I), debug exceptions and FIQs left masked.
 */
static inline void arm64_enable_irq_serror(void)
{
	__asm__ __volatile__("msr daifclr, #6" : : : "memory");
}

static inline unsigned long arch_local_save_flags(void)
{
	unsigned long flags;

	__asm__ __volatile__("mrs %0, daif" : "=r"(flags) : : "memory");
	return flags;
}

static inline bool arch_irqs_disabled(void)
{
	return arch_local_save_flags() & DAIF_I;
}

/* Returns the previous DAIF (only I matters to callers) and masks IRQs. */
static inline unsigned long arch_local_irq_save(void)
{
	unsigned long flags = arch_local_save_flags();

	arch_local_irq_disable();
	return flags;
}

/* Puts PSTATE.I back as it was; the other DAIF bits are not ours to roll back. */
static inline void arch_local_irq_restore(unsigned long flags)
{
	if (flags & DAIF_I)
		arch_local_irq_disable();
	else
		arch_local_irq_enable();
}

/*
 * Sleeps until an interrupt has been handled, then returns with PSTATE.I as the caller had
 * it.
 *
 * Why no interrupt can be lost: wfi runs with IRQs *masked*. The architecture wakes a wfi
 * on any pending physical IRQ whatever PSTATE.I says (the mask only decides whether the
 * exception is taken, not whether the CPU notices the interrupt), and a wfi executed while
 * an interrupt is already pending completes at once. So an interrupt that arrives after
 * the caller's last look at its condition, but before wfi, is not handled in a gap where
 * nobody waits for it: it stays pending, wfi falls straight through, and unmasking takes
 * it. The naive order "unmask; wfi" has exactly that gap - the handler could run between
 * the two instructions and wfi would then sleep until the *next* interrupt.
 *
 * The isb after unmasking is a context synchronization event: a pending, now unmasked
 * interrupt is taken there at the latest, before the mask goes back on.
 */
static inline void arch_wait_for_interrupt(void)
{
	unsigned long flags = arch_local_irq_save();

	wfi();
	arch_local_irq_enable();
	isb();
	arch_local_irq_restore(flags);
}
