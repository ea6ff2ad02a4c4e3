/* Mock interrupt flag for host tests: a variable stands in for the CPU's interrupt mask. */
#pragma once

#include <lib/types.h>

/* True while "interrupts" are enabled. */
extern bool mock_irqs_on;

/*
 * The host never takes a real interrupt, but a test can simulate one at every point where
 * a real CPU could take it: each time interrupts go from masked to enabled (mock_arch.c
 * calls mock_irq_window_fn there, if a test set it, with interrupts masked again, as a
 * handler runs). An implementation that briefly enabled interrupts in the middle of a
 * transition would be caught in the act.
 */
extern void (*mock_irq_window_fn)(void);
void mock_irq_window(void);

static inline void arch_local_irq_enable(void)
{
	bool was_on = mock_irqs_on;

	mock_irqs_on = true;
	if (!was_on && mock_irq_window_fn)
		mock_irq_window();
}

static inline void arch_local_irq_disable(void)
{
	mock_irqs_on = false;
}

/* Like the real ones: returns the old state, then masks. */
static inline unsigned long arch_local_irq_save(void)
{
	unsigned long flags = mock_irqs_on;

	mock_irqs_on = false;
	return flags;
}

static inline void arch_local_irq_restore(unsigned long flags)
{
	if (flags)
		arch_local_irq_enable();
	else
		mock_irqs_on = false;
}

static inline bool arch_irqs_disabled(void)
{
	return !mock_irqs_on;
}

static inline void arch_wait_for_interrupt(void)
{
}
