/* ACPI table reading for SMP (boot/acpi.c): find the RSDP, list the CPUs in the MADT. */
#pragma once

#include <lib/types.h>

struct boot_info;

/* Where the BIOS may put the RSDP (ACPI 6.5, 5.2.5.1): its read-only area. */
#define ACPI_BIOS_AREA_START 0xe0000
#define ACPI_BIOS_AREA_END   0x100000

/* 0 if p holds a valid RSDP (signature, checksum, extended length and checksum). */
int acpi_check_rsdp(const void *p);
/* The first valid RSDP on a 16-byte boundary in [start, end), or 0. */
phys_addr_t acpi_scan_rsdp(phys_addr_t start, phys_addr_t end);
/*
 * Fills bi->cpus with the APIC IDs of the enabled CPUs in the MADT (bi->nr_cpus_ignored
 * counts those beyond BOOT_MAX_CPUS). 0, or a negative errno after a message naming the
 * table that is missing or broken; then bi lists no CPUs. Tables are read through
 * phys_to_virt(), so they must be mapped.
 */
int acpi_find_cpus(struct boot_info *bi, phys_addr_t rsdp_pa);
