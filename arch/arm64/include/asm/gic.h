/* GICv2: the distributor and CPU-interface registers this kernel uses (arch/arm64/gic.c). */
#pragma once

#include <lib/types.h>

/*
 * Interrupt IDs: 0-15 SGIs (software, between CPUs), 16-31 PPIs (private to each CPU, such
 * as its timers), 32-1019 SPIs (shared devices), 1020-1023 special (1023 = spurious: nothing
 * was pending by the time we acknowledged).
 */
#define GIC_PPI(n)     (16 + (n))
#define GIC_SPECIAL    1020 /* IDs from here up are no interrupt to handle */
#define GIC_SPURIOUS   1023
#define GIC_INTID_MASK 0x3ff
/* The EL1 virtual timer's PPI (the Arm Base System Architecture assigns PPI 11 = ID 27). */
#define GIC_INTID_VTIMER GIC_PPI(11)

/* The windows to map: the distributor's registers fit in 4 KiB, the CPU interface's in 8. */
#define GICD_SIZE 0x1000
#define GICC_SIZE 0x2000

/* Distributor (one per machine). */
#define GICD_CTLR	    0x000 /* bit 0: forward interrupts to the CPU interfaces */
#define GICD_TYPER	    0x004 /* bits 4:0: ITLinesNumber, (N + 1) * 32 interrupt IDs */
#define GICD_ISENABLER(n)   (0x100 + 4 * (n)) /* write 1: enable ID 32n + bit */
#define GICD_ICENABLER(n)   (0x180 + 4 * (n)) /* write 1: disable */
#define GICD_ICPENDR(n)	    (0x280 + 4 * (n)) /* write 1: clear pending */
#define GICD_IPRIORITYR(id) (0x400 + (id))    /* one byte per ID, lower = more urgent */
#define GICD_ITARGETSR(id)  (0x800 + (id))    /* one byte per ID; IDs 0-31 read this CPU's bit */
#define GICD_SGIR	    0xf00	      /* write: send SGI [3:0] to the CPUs in [23:16] */

/* CPU interface (one per CPU, banked at the same address). */
#define GICC_CTLR 0x00 /* bit 0: signal interrupts to this CPU */
#define GICC_PMR  0x04 /* priority mask: only priorities below this value are signalled */
#define GICC_BPR  0x08 /* binary point: how priorities split into preemption groups */
#define GICC_IAR  0x0c /* read: acknowledge the highest pending interrupt (ID in bits 9:0) */
#define GICC_EOIR 0x10 /* write the IAR value back: end of interrupt */

#define GIC_PRIORITY_DEFAULT		 0xa0
#define GIC_PRIORITY_MASK_ALL_BUT_LOWEST 0xf0

/* Initialises distributor and CPU interface at the boot_info addresses, all IDs disabled. */
void arm64_gic_init(void);
/* A secondary CPU's interface (the distributor is shared and already on). */
void arm64_gic_cpu_init(void);
/* Sends SGI sgi to logical CPU cpu (its interface number was recorded by its init). */
void arm64_gic_send_sgi(unsigned int cpu, unsigned int sgi);
/* Routes one interrupt ID to this CPU at the default priority and enables it. */
void arm64_gic_enable(unsigned int intid);
void arm64_gic_disable(unsigned int intid);
/* GICC_IAR: acknowledges (activates) the highest-priority pending interrupt. */
u32 arm64_gic_ack(void);
/* GICC_EOIR with the value arm64_gic_ack() returned. */
void arm64_gic_eoi(u32 iar);
