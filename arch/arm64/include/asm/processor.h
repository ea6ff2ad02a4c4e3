/* arm64 CPU instructions that are neither barriers nor system-register accesses. */
#pragma once

/* WFI: sleep until an interrupt is pending (masked or not: see arch_wait_for_interrupt()). */
static inline void wfi(void)
{
	__asm__ __volatile__("wfi" : : : "memory");
}
