/* x86-64 SMP: per-CPU GS slots, INIT-SIPI-SIPI through the trampoline, the AP's set-up, IPIs. */
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/irqflags.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/smp.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * What GS base points at on each CPU (asm/percpu.h). CPU 0's is used from boot.S on; the
 * boot CPU fills a secondary's slot before starting it, and nobody writes it again.
 */

/*
 * By initial APIC ID: the AP's stack top (read by trampoline.S) and logical id. Written by
 * the boot CPU before it sends that AP its SIPIs (the ICR write orders them before the AP
 * can run), read-only afterwards.
 */
u64 x86_ap_stack[256];
static unsigned int cpu_by_apic[256];

u64 arch_cpu_hwid(void)
{
	return x86_lapic_id();
}

static void delay_us(u64 us)
{
	u64 start = arch_cycles(), n = arch_cycles_hz() / 1000000 * us;

	while (arch_cycles() - start < n)
		cpu_relax();
}

/*
 * The universal start-up sequence (Intel SDM vol. 3, 9.4.4.1; the MP specification's
 * INIT-SIPI-SIPI): an INIT resets the AP into wait-for-SIPI; after 10 ms a start-up IPI
 * starts it at the trampoline page; a second SIPI 200 us later covers a first one that was
 * lost (an AP already running ignores it).
 */
int arch_boot_secondary(unsigned int cpu, u64 hwid, unsigned long stack_top)
{
	size_t len = (uintptr_t)x86_trampoline_end - (uintptr_t)x86_trampoline_start;

	if (hwid > 255) {
		/* x2APIC IDs above 255 would need x2APIC mode for the ICR: not done. */
		return -ERANGE;
	}
	if (len > PAGE_SIZE)
		return -E2BIG;
	cpu_by_apic[hwid] = cpu;
	WRITE_ONCE(x86_ap_stack[hwid], stack_top);
	memcpy(phys_to_virt(X86_TRAMPOLINE_PA), x86_trampoline_start, len);

	x86_lapic_send_ipi((u32)hwid, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
	delay_us(200);
	x86_lapic_send_ipi((u32)hwid, ICR_INIT | ICR_TRIGGER_LEVEL); /* de-assert */
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		x86_lapic_send_ipi((u32)hwid, ICR_STARTUP | (X86_TRAMPOLINE_PA >> 12));
		delay_us(200);
	}
	return 0;
}

/* The AP's C entry, from trampoline.S on its own stack, still on the boot tables. */
__noreturn void x86_secondary_start(u32 apic_id)
{
	unsigned int cpu = cpu_by_apic[apic_id];

	/* this_cpu() first: everything below (faults included) may use it. */
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)&cpus[cpu]);
	x86_gdt_init_secondary(cpu);
	x86_idt_load();
	x86_syscall_init();
	x86_pcid_init_cpu();
	/* The kernel's tables (W^X, guard pages); this drops the boot tables' translations. */
	arch_switch_mm(&init_mm);
	x86_lapic_init_secondary();
	secondary_start();
}

void arch_send_call_ipi(unsigned int cpu)
{
	x86_lapic_send_ipi((u32)cpu_hwid(cpu), ICR_FIXED | X86_CALL_VECTOR);
}

__noreturn void arch_cpu_park(void)
{
	for (;;) {
		arch_local_irq_disable();
		halt();
	}
}
