/* PVH (QEMU -kernel on an ELF with a Xen PHYS32_ENTRY note): hvm_start_info -> struct boot_info. */
#include <asm/boot.h>
#include <kernel/boot_info.h>
#include <kernel/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * Xen's public/arch-x86/hvm/start_info.h, the layout the loader leaves at ebx. Version 1
 * added the memory map; without it we would not know where RAM is.
 */
struct hvm_start_info {
	u32 magic; /* XEN_HVM_START_MAGIC */
	u32 version;
	u32 flags;
	u32 nr_modules;
	u64 modlist_paddr; /* struct hvm_modlist_entry[nr_modules] */
	u64 cmdline_paddr; /* NUL-terminated, 0 when none */
	u64 rsdp_paddr;
	u64 memmap_paddr; /* struct hvm_memmap_table_entry[memmap_entries] (version >= 1) */
	u32 memmap_entries;
	u32 reserved;
};

struct hvm_modlist_entry {
	u64 paddr;
	u64 size;
	u64 cmdline_paddr;
	u64 reserved;
};

struct hvm_memmap_table_entry {
	u64 addr;
	u64 size;
	u32 type; /* E820 types: 1 is RAM */
	u32 reserved;
};

#define HVM_MEMMAP_TYPE_RAM 1

int pvh_parse(struct boot_info *bi, phys_addr_t start_info)
{
	const struct hvm_start_info *si = phys_to_virt(start_info);
	const struct hvm_memmap_table_entry *map;

	bi->protocol = "pvh";
	if (si->magic != XEN_HVM_START_MAGIC)
		return -EINVAL;
	if (si->version < 1 || si->memmap_entries == 0) {
		printk("pvh: start info version %u has no memory map\n", si->version);
		return -ENOENT;
	}

	/* The loader's own structures live in RAM too: keep them out of the allocator. */
	boot_add_region_or_warn("pvh", bi->reserved, &bi->nr_reserved, start_info, sizeof(*si),
				"reserved");
	boot_add_region_or_warn("pvh", bi->reserved, &bi->nr_reserved, si->memmap_paddr,
				si->memmap_entries * sizeof(struct hvm_memmap_table_entry),
				"reserved");

	map = phys_to_virt(si->memmap_paddr);
	for (u32 i = 0; i < si->memmap_entries; i++)
		if (map[i].type == HVM_MEMMAP_TYPE_RAM)
			boot_add_region_or_warn("pvh", bi->ram, &bi->nr_ram, map[i].addr,
						map[i].size, "RAM");

	/* 0 when the loader didn't say (QEMU's PVH loader doesn't): arch code searches. */
	bi->acpi_rsdp = si->rsdp_paddr;

	if (si->cmdline_paddr) {
		const char *cmdline = phys_to_virt(si->cmdline_paddr);

		if (strlcpy(bi->cmdline, cmdline, sizeof(bi->cmdline)) >= sizeof(bi->cmdline))
			printk("pvh: command line truncated\n");
	}

	if (si->nr_modules && si->modlist_paddr) {
		const struct hvm_modlist_entry *mods = phys_to_virt(si->modlist_paddr);

		boot_add_region_or_warn("pvh", bi->reserved, &bi->nr_reserved, si->modlist_paddr,
					si->nr_modules * sizeof(*mods), "reserved");
		for (u32 i = 0; i < si->nr_modules; i++)
			boot_add_region_or_warn("pvh", bi->reserved, &bi->nr_reserved,
						mods[i].paddr, mods[i].size, "reserved");
	}
	return bi->nr_ram ? 0 : -ENOENT;
}
