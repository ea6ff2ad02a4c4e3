/* The GICv2 interrupt controller: distributor and CPU interface, at the device tree's addresses. */
#include <asm/gic.h>
#include <asm/barrier.h>
#include <asm/io.h>
#include <asm/smp.h>
#include <kernel/smp.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <mm/mm.h>

static unsigned long gicd, gicc;
/* Each CPU's interface bit for GICD_SGIR, written by that CPU at its init, then read-only. */
static u8 cpu_mask[NR_CPUS];

/*
 * On QEMU virt (no EL3, no security extensions) every interrupt is in group 0, which the
 * CPU interface signals as IRQ (GICC_CTLR.FIQEn = 0). One CPU, so every SPI we enable
 * targets it by default; PPIs are per CPU anyway.
 */
void arm64_gic_init(void)
{
	unsigned int nr_ids;

	if (!boot_info.irqchip_dist || !boot_info.irqchip_cpu)
		panic("arm64: the device tree names no GICv2 (arm,cortex-a15-gic)");
	/* Both windows are mapped by mm_init() in the linear map (arch_mmio_regions()). */
	gicd = (unsigned long)(uintptr_t)phys_to_virt(boot_info.irqchip_dist);
	gicc = (unsigned long)(uintptr_t)phys_to_virt(boot_info.irqchip_cpu);

	/* Distributor off while we set it up; then every ID disabled, nothing pending. */
	mmio_write32(gicd + GICD_CTLR, 0);
	nr_ids = ((mmio_read32(gicd + GICD_TYPER) & 0x1f) + 1) * 32;
	for (unsigned int n = 0; n < nr_ids / 32; n++) {
		mmio_write32(gicd + GICD_ICENABLER(n), 0xffffffff);
		mmio_write32(gicd + GICD_ICPENDR(n), 0xffffffff);
	}
	mmio_write32(gicd + GICD_CTLR, 1);
	arm64_gic_cpu_init();
}

/*
 * The banked, per-CPU part: the CPU interface, and the SGI/PPI enables in the distributor
 * (GICD_ISENABLER0 and the first priority bytes are banked per CPU too).
 */
void arm64_gic_cpu_init(void)
{
	/* Reading a target byte of ID 0-31 returns this CPU's own interface bit. */
	cpu_mask[smp_processor_id()] = mmio_read8(gicd + GICD_ITARGETSR(0));
	/* Let every priority but the lowest through, no preemption groups, then switch on. */
	mmio_write32(gicc + GICC_PMR, GIC_PRIORITY_MASK_ALL_BUT_LOWEST);
	mmio_write32(gicc + GICC_BPR, 0);
	mmio_write32(gicc + GICC_CTLR, 1);
	arm64_gic_enable(GIC_SGI_CALL);
}

void arm64_gic_send_sgi(unsigned int cpu, unsigned int sgi)
{
	/*
	 * The SGI write is a device store: every normal-memory store before it (the queued
	 * call) must be visible to the target first, or its handler could find the queue
	 * empty. dsb ishst orders them (Linux's gic_ipi_send_mask does the same).
	 */
	dsb(ishst);
	mmio_write32(gicd + GICD_SGIR, ((u32)cpu_mask[cpu] << 16) | (sgi & 0xf));
}

void arm64_gic_enable(unsigned int intid)
{
	/* GICD_IPRIORITYR is byte-accessible: one byte per interrupt ID. */
	mmio_write8(gicd + GICD_IPRIORITYR(intid), GIC_PRIORITY_DEFAULT);
	mmio_write32(gicd + GICD_ISENABLER(intid / 32), 1U << (intid % 32));
}

void arm64_gic_disable(unsigned int intid)
{
	mmio_write32(gicd + GICD_ICENABLER(intid / 32), 1U << (intid % 32));
}

u32 arm64_gic_ack(void)
{
	return mmio_read32(gicc + GICC_IAR);
}

void arm64_gic_eoi(u32 iar)
{
	mmio_write32(gicc + GICC_EOIR, iar);
}
