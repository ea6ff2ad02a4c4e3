/* arm64 CPU instructions that are neither barriers nor system-register accesses. */
#pragma once

/* WFI: sleep until an interrupt is pending (masked or not: see arch_wait_for_interrupt()). */
static inline void wfi(void)
{
	__asm__ __volatile__("wfi" : : : "memory");
}

/*
 * YIELD: a hint that this CPU is spinning on a lock, so an SMT sibling (or, under TCG, the
 * host thread of another vCPU) may run. Not wfe: a lock release needs no sev this way.
 */
static inline void cpu_relax(void)
{
	__asm__ __volatile__("yield" : : : "memory");
}
