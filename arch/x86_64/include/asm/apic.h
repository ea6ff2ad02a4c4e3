/* The local APIC (interrupt controller and timer of each CPU) and the legacy 8259 PIC. */
#pragma once

#include <lib/types.h>

/* Where every local APIC sits after reset (IA32_APIC_BASE). xAPIC mode: MMIO registers. */
#define LAPIC_BASE 0xfee00000UL

#define LAPIC_ID	 0x020
#define LAPIC_TPR	 0x080 /* task priority: 0 accepts every vector */
#define LAPIC_EOI	 0x0b0
#define LAPIC_SVR	 0x0f0 /* spurious vector register, bit 8 = APIC software enable */
#define LAPIC_ICR_LOW	 0x300 /* interrupt command: writing it sends the IPI */
#define LAPIC_ICR_HIGH	 0x310 /* destination APIC ID in bits 31:24 */
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_LVT_LINT0	 0x350
#define LAPIC_LVT_LINT1	 0x360
#define LAPIC_LVT_ERROR	 0x370
#define LAPIC_TIMER_INIT 0x380 /* initial count: writing it starts the timer */
#define LAPIC_TIMER_CUR	 0x390
#define LAPIC_TIMER_DIV	 0x3e0

#define LAPIC_SVR_ENABLE     BIT(8)
#define LAPIC_LVT_MASKED     BIT(16)
#define LAPIC_LVT_PERIODIC   BIT(17)
#define LAPIC_TIMER_DIV_16   0x3
#define APIC_BASE_MSR_ENABLE BIT(11)

/*
 * ICR low word: vector [7:0], delivery mode [10:8] (000 fixed, 100 NMI, 101 INIT,
 * 110 start-up), delivery status [12] (1: not yet accepted), level [14] (1: assert),
 * trigger [15] (1: level).
 */
#define ICR_FIXED	  (0 << 8)
#define ICR_NMI		  (4 << 8)
#define ICR_INIT	  (5 << 8)
#define ICR_STARTUP	  (6 << 8)
#define ICR_SEND_PENDING  BIT(12)
#define ICR_LEVEL_ASSERT  BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)

/* Signals the end of the interrupt being handled, so the APIC can deliver the next one. */
void x86_lapic_eoi(void);
/* This CPU's local APIC ID. */
u32 x86_lapic_id(void);
/* Sends one IPI (ICR low word `icr`) to the CPU with APIC ID dest; waits until accepted. */
void x86_lapic_send_ipi(u32 dest, u32 icr);
/* A secondary CPU's LAPIC: enabled, and its timer at the rate the boot CPU measured. */
void x86_lapic_init_secondary(void);
