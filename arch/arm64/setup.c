/* arm64 C entry: device tree, console, then kmain(); CPU description and the exit to the host. */
#include <asm/arch_timer.h>
#include <asm/boot.h>
#include <asm/irqflags.h>
#include <asm/mmu.h>
#include <asm/pl011.h>
#include <asm/processor.h>
#include <asm/psci.h>
#include <asm/semihosting.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <mm/mm.h>

/* What the boot tables map as Normal memory (head.S): a DTB must lie inside to be read. */
#define BOOT_RAM_WINDOW_START 0x40000000UL
#define BOOT_RAM_WINDOW_END   0x100000000UL

static unsigned int boot_el;
enum psci_conduit psci_conduit;

__noreturn void arm64_start(u64 dtb, u64 el)
{
	int err;

	boot_el = (unsigned int)el;
	/* Until the device tree names the UART, output goes to QEMU virt's fixed PL011. */
	if (dtb < BOOT_RAM_WINDOW_START || dtb >= BOOT_RAM_WINDOW_END)
		panic(
		    "arm64: no usable device tree address in x0 (%#llx): boot an Image, not an ELF",
		    (unsigned long long)dtb);
	err = fdt_parse(phys_to_virt(dtb), BOOT_RAM_WINDOW_END - dtb, &boot_info, &psci_conduit);
	if (err)
		panic("arm64: cannot read the device tree at %#llx (error %d)",
		      (unsigned long long)dtb, err);
	if (!boot_info.uart_base)
		panic("arm64: the device tree names no PL011 (arm,pl011)");
	arm64_console_init(boot_info.uart_base);
	if (boot_info.nr_ram == 0)
		panic("arm64: the device tree describes no memory");
	arm64_asid_init();
	kmain();
}

/* MIDR_EL1: implementer [31:24], variant [23:20], architecture [19:16], part [15:4], revision [3:0]. */
static const char *cpu_name(u64 midr)
{
	unsigned int implementer = (midr >> 24) & 0xff, part = (midr >> 4) & 0xfff;

	if (implementer == 0x41) {
		switch (part) {
		case 0xd03:
			return "Arm Cortex-A53";
		case 0xd07:
			return "Arm Cortex-A57";
		case 0xd08:
			return "Arm Cortex-A72";
		case 0xd0c:
			return "Arm Neoverse-N1";
		case 0xd40:
			return "Arm Neoverse-V1";
		case 0xd49:
			return "Arm Neoverse-N2";
		}
		return "Arm (unknown part)";
	}
	/* Implementer 0 is "reserved for software use": QEMU's -cpu max says it is no real CPU. */
	if (implementer == 0)
		return "software-defined (QEMU -cpu max)";
	return "unknown implementer";
}

static const char *tlbi_feature_name(unsigned int tlb)
{
	switch (tlb) {
	case 0:
		return "none (ARMv8.0 TLBI only)";
	case 1:
		return "FEAT_TLBIOS";
	case 2:
		return "FEAT_TLBIOS + FEAT_TLBIRANGE";
	}
	return "unknown";
}

void arch_describe_cpu(void)
{
	u64 midr = read_sysreg(midr_el1);
	u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	u64 mmfr1 = read_sysreg(id_aa64mmfr1_el1);
	static const char *const hafdbs[] = { "none", "access flag", "access flag + dirty state" };
	static const unsigned int parange_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	unsigned int ha = mmfr1 & 0xf, pa = mmfr0 & 0xf;

	printk("arm64: %s, MIDR %#010llx (implementer %#04llx part %#05llx r%llup%llu), entered at "
	       "EL%u%s\n",
	       cpu_name(midr), (unsigned long long)midr, (unsigned long long)(midr >> 24) & 0xff,
	       (unsigned long long)(midr >> 4) & 0xfff, (unsigned long long)(midr >> 20) & 0xf,
	       (unsigned long long)midr & 0xf, boot_el, boot_el == 2 ? " (dropped to EL1)" : "");
	printk("arm64: TLBI %s, HAFDBS %s (unused), PA %u bits, counter %llu Hz\n",
	       tlbi_feature_name(arm64_tlb_feature()), ha < ARRAY_SIZE(hafdbs) ? hafdbs[ha] : "?",
	       pa < ARRAY_SIZE(parange_bits) ? parange_bits[pa] : 0,
	       (unsigned long long)arch_counter_freq());
}

/*
 * Semihosting first: it is the only exit that carries the status (QEMU exits with it).
 * Without -semihosting the call fails cleanly (-ENOSYS), and PSCI SYSTEM_OFF at least
 * stops the machine (QEMU then exits 0: the runner reads our last line for the verdict).
 */
__noreturn void arch_exit(int code)
{
	u64 block[2] = { ADP_STOPPED_APPLICATION_EXIT, (u64)(s64)code };

	arch_local_irq_disable();
	arm64_semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
	if (psci_conduit == PSCI_CONDUIT_SMC)
		psci_call_smc(PSCI_0_2_FN_SYSTEM_OFF);
	else if (psci_conduit == PSCI_CONDUIT_HVC)
		psci_call_hvc(PSCI_0_2_FN_SYSTEM_OFF);
	for (;;)
		wfi();
}
