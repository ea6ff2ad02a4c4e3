/* x86-64 boot protocols (multiboot2, PVH): their magic numbers and parsers in boot/. */
#pragma once

/* Multiboot2: the header's magic, and what the loader leaves in eax. */
#define MULTIBOOT2_HEADER_MAGIC	    0xe85250d6
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289
/* PVH: the ELF note that names the 32-bit entry, and the start-info magic (at ebx). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_HVM_START_MAGIC	 0x336ec578

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct boot_info;

/* Fill bi from the loader's data (0, or a negative errno with nothing usable). */
int multiboot2_parse(struct boot_info *bi, phys_addr_t info);
int pvh_parse(struct boot_info *bi, phys_addr_t start_info);

/* boot.S calls this in 64-bit mode on the boot stack with eax and ebx of the entry. */
__noreturn void x86_start(u32 magic, u32 info);
#endif
