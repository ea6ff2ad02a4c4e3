/* What the boot protocol told us, in one protocol-neutral structure (filled by boot/). */
#pragma once

#include <lib/types.h>

#define BOOT_MAX_REGIONS 32
#define BOOT_CMDLINE_MAX 256
#define BOOT_MAX_CPUS	 8 /* == NR_CPUS (checked in kernel/smp.c) */

struct mem_region {
	phys_addr_t base;
	u64 size;
};

struct boot_info {
	/* "multiboot2", "pvh" or "dtb": which door we came in by. */
	const char *protocol;
	/* Usable RAM as the firmware reported it, sorted, not yet trimmed. */
	struct mem_region ram[BOOT_MAX_REGIONS];
	unsigned int nr_ram;
	/*
	 * Ranges inside RAM that must never be handed out: boot modules, the DTB, the boot
	 * information itself. The kernel image and low memory are excluded by mm/ itself.
	 */
	struct mem_region reserved[BOOT_MAX_REGIONS];
	unsigned int nr_reserved;
	/* Device addresses found by the boot protocol (0 when not reported). */
	phys_addr_t uart_base;
	phys_addr_t irqchip_dist; /* GIC distributor (arm64) */
	phys_addr_t irqchip_cpu;  /* GIC CPU interface (arm64) */
	char cmdline[BOOT_CMDLINE_MAX];
	/*
	 * The CPUs the firmware lists as usable, by hardware id (x86 APIC ID from the ACPI
	 * MADT, arm64 MPIDR affinity from the device tree's /cpus), the boot CPU among them;
	 * nr_cpus_ignored more were listed than fit. nr_cpus == 0: no list (one CPU).
	 */
	u64 cpus[BOOT_MAX_CPUS];
	unsigned int nr_cpus;
	unsigned int nr_cpus_ignored;
	/* Physical address of the ACPI RSDP (x86: from the loader, or 0 = search for it). */
	phys_addr_t acpi_rsdp;
};

/* Adds a CPU's hardware id to bi->cpus, or counts it in nr_cpus_ignored when full. */
void boot_add_cpu(struct boot_info *bi, u64 hwid);

/* Adds a range to a region list; returns -ERANGE when the list is full. */
int boot_add_region(struct mem_region *list, unsigned int *nr, phys_addr_t base, u64 size);

/* boot_add_region(), printing "<who>: too many <what> regions, dropped ..." when full. */
void boot_add_region_or_warn(const char *who, struct mem_region *list, unsigned int *nr,
			     phys_addr_t base, u64 size, const char *what);

/* Finds "key=value" in the command line; copies value, returns true if present. */
bool cmdline_get(const struct boot_info *bi, const char *key, char *val, size_t size);
/* True if the bare word (or "word=...") appears in the command line. */
bool cmdline_has(const struct boot_info *bi, const char *word);

/* The one boot_info of this boot, valid after the arch entry called kmain(). */
extern struct boot_info boot_info;
