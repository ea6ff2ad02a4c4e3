/* The HPET: a constant-rate 64-bit counter that calibrates the TSC and the LAPIC timer. */
#pragma once

#include <lib/types.h>

/* Fixed on PC chipsets (q35's ICH9 and QEMU both put it here). */
#define HPET_BASE 0xfed00000UL

/* Checks the HPET is there and starts its main counter; panics if there is none. */
void x86_hpet_init(void);
/* The main counter and its rate. */
u64 x86_hpet_read(void);
u64 x86_hpet_hz(void);

/* The rate of a clock that advanced by ticks while the HPET advanced by hpet_ticks. */
u64 x86_rate_from_hpet(u64 ticks, u64 hpet_ticks);
/* Records the TSC rate measured by arch_irq_init(), for arch_cycles_hz(). */
void x86_tsc_set_hz(u64 hz);
