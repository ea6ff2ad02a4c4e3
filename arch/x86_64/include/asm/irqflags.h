/* Masking maskable interrupts on x86-64: RFLAGS.IF, set by sti and cleared by cli. */
#pragma once

#include <lib/types.h>
#include <asm/processor.h>

/* "memory": accesses inside a masked region must not be moved out of it by the compiler. */
static inline void arch_local_irq_enable(void)
{
	__asm__ __volatile__("sti" : : : "memory");
}

static inline void arch_local_irq_disable(void)
{
	__asm__ __volatile__("cli" : : : "memory");
}

static inline bool arch_irqs_disabled(void)
{
	return !(read_rflags() & X86_RFLAGS_IF);
}

/* Returns the previous RFLAGS (only IF matters to callers) and masks interrupts. */
static inline unsigned long arch_local_irq_save(void)
{
	unsigned long flags = read_rflags();

	arch_local_irq_disable();
	return flags;
}

/*
 * Puts IF back as it was. Only IF: a popf of the whole saved word would also roll back
 * unrelated flags (DF, AC) that the code in between may legitimately have changed.
 */
static inline void arch_local_irq_restore(unsigned long flags)
{
	if (flags & X86_RFLAGS_IF)
		arch_local_irq_enable();
	else
		arch_local_irq_disable();
}

/*
 * Sleeps until an interrupt has been handled, then returns with IF as the caller had it.
 *
 * Why "sti; hlt" is one atomic step: sti opens an interrupt shadow, so interrupts are
 * recognised only after the *next* instruction has executed. No interrupt can slip in
 * between sti and hlt; one that is already pending is taken on hlt itself, which wakes it.
 * A caller that checks its wake-up condition with interrupts masked and then calls this
 * can therefore never sleep through the interrupt that would have satisfied it (the "lost
 * wake-up" of a plain "sti; <interrupt>; hlt"). The handler runs before hlt completes, and
 * we come back here with IF set, so restore the caller's state afterwards.
 */
static inline void arch_wait_for_interrupt(void)
{
	unsigned long flags = read_rflags();

	__asm__ __volatile__("sti; hlt" : : : "memory");
	arch_local_irq_restore(flags);
}
