/* arm64 boot: the C entry head.S calls, and the device-tree reader in boot/fdt.c. */
#pragma once

#include <lib/types.h>

struct boot_info;

/* How to reach the PSCI firmware interface, as the device tree's /psci "method" says. */
enum psci_conduit {
	PSCI_CONDUIT_NONE, /* no /psci node */
	PSCI_CONDUIT_HVC,  /* "hvc": QEMU entered us at EL1 and emulates PSCI at EL2 */
	PSCI_CONDUIT_SMC,  /* "smc": entered at EL2 (virtualization=on), PSCI sits at EL3 */
};

/*
 * Reads the flattened device tree at blob (at most max_size bytes of it may be read) into
 * bi: RAM (/memory reg), the command line (/chosen bootargs), the PL011 and GICv2
 * addresses, and reserves the blob itself plus its memory-reservation entries. *psci gets
 * the PSCI conduit. 0, or a negative errno for a blob that is not a usable device tree.
 */
int fdt_parse(const void *blob, size_t max_size, struct boot_info *bi, enum psci_conduit *psci);

/* The conduit the device tree named (arch/arm64/setup.c). */
extern enum psci_conduit psci_conduit;

/* head.S calls this on the boot stack, MMU on, with the loader's x0 and the entry EL. */
__noreturn void arm64_start(u64 dtb, u64 boot_el);
