/* x86-64 C entry: console, CPU identification, descriptor tables, boot info, then kmain(). */
#include <asm/boot.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/irqflags.h>
#include <asm/processor.h>
#include <asm/serial.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <kernel/acpi.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <lib/string.h>
#include <mm/mm.h>

/* QEMU's isa-debug-exit device: writing v here ends QEMU with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4

struct x86_cpu_info x86_cpu;

static void copy_regs(char *dst, const struct cpuid_regs *r)
{
	memcpy(dst, &r->eax, 4);
	memcpy(dst + 4, &r->ebx, 4);
	memcpy(dst + 8, &r->ecx, 4);
	memcpy(dst + 12, &r->edx, 4);
}

void x86_cpu_detect(void)
{
	struct cpuid_regs r = cpuid(0);
	u32 max_leaf = r.eax, max_ext;
	unsigned int family, model;

	/* The vendor string is spread over ebx, edx, ecx, in that order. */
	memcpy(x86_cpu.vendor, &r.ebx, 4);
	memcpy(x86_cpu.vendor + 4, &r.edx, 4);
	memcpy(x86_cpu.vendor + 8, &r.ecx, 4);

	r = cpuid(1);
	/* Family 15 extends into eax[27:20]; families 6 and 15 extend the model by eax[19:16]. */
	family = (r.eax >> 8) & 0xf;
	model = (r.eax >> 4) & 0xf;
	if (family == 0xf)
		family += (r.eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r.eax >> 16) & 0xf) << 4;
	x86_cpu.family = family;
	x86_cpu.model = model;
	x86_cpu.stepping = r.eax & 0xf;
	x86_cpu.pge = r.edx & BIT(13);
	x86_cpu.pcid = r.ecx & BIT(17);
	x86_cpu.x2apic = r.ecx & BIT(21);
	if (max_leaf >= 7)
		x86_cpu.invpcid = cpuid_count(7, 0).ebx & BIT(10);

	max_ext = cpuid(0x80000000).eax;
	if (max_ext >= 0x80000001) {
		r = cpuid(0x80000001);
		x86_cpu.nx = r.edx & BIT(20);
		x86_cpu.gbpages = r.edx & BIT(26);
	}
	if (max_ext >= 0x80000004) {
		for (u32 i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i);
			copy_regs(x86_cpu.brand + 16 * i, &r);
		}
	}
	if (max_ext >= 0x80000007)
		x86_cpu.tsc_invariant = cpuid(0x80000007).edx & BIT(8);
}

void arch_describe_cpu(void)
{
	const char *brand = x86_cpu.brand;

	while (*brand == ' ')
		brand++;
	printk("x86_64: %s family %#x model %#x stepping %u: %s\n", x86_cpu.vendor, x86_cpu.family,
	       x86_cpu.model, x86_cpu.stepping, *brand ? brand : "(no brand)");
	printk("x86_64: pge=%d pcid=%d invpcid=%d nx=%d 1g-pages=%d x2apic=%d invariant-tsc=%d\n",
	       x86_cpu.pge, x86_cpu.pcid, x86_cpu.invpcid, x86_cpu.nx, x86_cpu.gbpages,
	       x86_cpu.x2apic, x86_cpu.tsc_invariant);
}

__noreturn void arch_exit(int code)
{
	outl(DEBUG_EXIT_PORT, (u32)code);
	/* No debug-exit device (a real machine, or QEMU without it): stop here for good. */
	for (;;) {
		arch_local_irq_disable();
		halt();
	}
}

/*
 * The CPUs, from the ACPI MADT. Read now, while the boot tables map the first 4 GiB: the
 * ACPI tables sit in firmware-reserved memory that the kernel's own tables leave out. The
 * loader may not say where the RSDP is (QEMU's PVH loader passes 0): then search the
 * BIOS area, where SeaBIOS puts it. Any failure leaves one CPU, with the reason logged.
 */
static void x86_find_cpus(void)
{
	phys_addr_t rsdp = boot_info.acpi_rsdp;
	const char *from = "from the loader";

	if (!rsdp) {
		rsdp = acpi_scan_rsdp(ACPI_BIOS_AREA_START, ACPI_BIOS_AREA_END);
		from = "found in the BIOS area";
	}
	if (acpi_find_cpus(&boot_info, rsdp))
		printk("x86_64: no CPU list from ACPI: running on the boot CPU only\n");
	else
		printk("x86_64: ACPI RSDP at %#llx (%s): the MADT lists %u usable CPUs\n",
		       (unsigned long long)rsdp, from,
		       boot_info.nr_cpus + boot_info.nr_cpus_ignored);
}

/* The PVH start info begins with its magic; multiboot2 says who it is in eax. */
static bool is_pvh(u32 info)
{
	return info != 0 && *(const volatile u32 *)phys_to_virt(info) == XEN_HVM_START_MAGIC;
}

__noreturn void x86_start(u32 magic, u32 info)
{
	int err;

	x86_serial_init();
	x86_cpu_detect();
	/* Traps before anything that could fault, so that a bug below gets a report. */
	x86_gdt_init();
	x86_idt_init();
	x86_syscall_init();
	x86_pcid_init_cpu();

	if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		err = multiboot2_parse(&boot_info, info);
	else if (is_pvh(info))
		err = pvh_parse(&boot_info, info);
	else
		panic("x86_64: unknown boot protocol (eax %#x, ebx %#x)", magic, info);
	if (err)
		panic("x86_64: cannot use the %s boot information (error %d)",
		      boot_info.protocol ? boot_info.protocol : "?", err);
	x86_find_cpus();
	kmain();
}
