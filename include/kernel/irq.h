/* Interrupt state: masking, and the interrupt-context depth that in_interrupt() reads. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>
#include <asm/irqflags.h>

#define local_irq_enable()	 arch_local_irq_enable()
#define local_irq_disable()	 arch_local_irq_disable()
#define local_irq_save(flags)	 ((flags) = arch_local_irq_save())
#define local_irq_restore(flags) arch_local_irq_restore(flags)
#define irqs_disabled()		 arch_irqs_disabled()

/*
 * Every arch interrupt entry brackets its handler with irq_enter()/irq_exit(). Faults
 * (page faults, aborts) are not interrupt context, as in Linux.
 */
static inline void irq_enter(void)
{
	this_cpu()->irq_depth++;
	barrier();
}

static inline void irq_exit(void)
{
	barrier();
	this_cpu()->irq_depth--;
}

static inline bool in_interrupt(void)
{
	return READ_ONCE(this_cpu()->irq_depth) != 0;
}
