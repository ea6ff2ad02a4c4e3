/* Multiboot2 (GRUB): the information block's tags -> struct boot_info. */
#include <asm/boot.h>
#include <kernel/boot_info.h>
#include <kernel/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * The block GRUB leaves at ebx: a fixed header, then tags, each 8-byte aligned, ending with
 * a tag of type 0.
 *
 *   u32 total_size | u32 reserved | tag | tag | ... | end tag (type 0, size 8)
 *   tag: u32 type | u32 size (header included, padding excluded) | payload
 */
struct mb2_info {
	u32 total_size;
	u32 reserved;
};

struct mb2_tag {
	u32 type;
	u32 size;
};

#define MB2_TAG_END	 0
#define MB2_TAG_CMDLINE	 1
#define MB2_TAG_MODULE	 3
#define MB2_TAG_MMAP	 6
#define MB2_TAG_ACPI_OLD 14 /* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW 15 /* a copy of the ACPI 2.0+ RSDP */

struct mb2_tag_module {
	struct mb2_tag tag;
	u32 mod_start;
	u32 mod_end; /* exclusive */
	char cmdline[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	u32 entry_size; /* may grow in later versions: step by it, not by sizeof */
	u32 entry_version;
};

struct mb2_mmap_entry {
	u64 base;
	u64 length;
	u32 type; /* 1: available RAM; everything else is not ours */
	u32 reserved;
};

#define MB2_MEMORY_AVAILABLE 1

static void parse_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const u8 *p = (const u8 *)(t + 1);
	const u8 *end = (const u8 *)t + t->tag.size;

	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		return;
	for (; p + sizeof(struct mb2_mmap_entry) <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)p;

		if (e->type == MB2_MEMORY_AVAILABLE)
			boot_add_region_or_warn("multiboot2", bi->ram, &bi->nr_ram, e->base,
						e->length, "RAM");
	}
}

int multiboot2_parse(struct boot_info *bi, phys_addr_t info)
{
	const struct mb2_info *mbi = phys_to_virt(info);
	const u8 *p = (const u8 *)(mbi + 1);
	const u8 *end = (const u8 *)mbi + mbi->total_size;

	bi->protocol = "multiboot2";
	if (mbi->total_size < sizeof(*mbi) + sizeof(struct mb2_tag))
		return -EINVAL;
	/* The block itself: it lies in RAM that the frame allocator must not hand out. */
	boot_add_region_or_warn("multiboot2", bi->reserved, &bi->nr_reserved, info, mbi->total_size,
				"reserved");

	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *tag = (const struct mb2_tag *)p;

		if (tag->type == MB2_TAG_END)
			break;
		if (tag->size < sizeof(*tag) || p + tag->size > end)
			return -EINVAL;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			if (strlcpy(bi->cmdline, (const char *)(tag + 1), sizeof(bi->cmdline)) >=
			    sizeof(bi->cmdline))
				printk("multiboot2: command line truncated\n");
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *m = (const struct mb2_tag_module *)tag;

			if (m->mod_end > m->mod_start)
				boot_add_region_or_warn("multiboot2", bi->reserved,
							&bi->nr_reserved, m->mod_start,
							m->mod_end - m->mod_start, "reserved");
			break;
		}
		case MB2_TAG_MMAP:
			parse_mmap(bi, (const struct mb2_tag_mmap *)tag);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/*
			 * The tag holds a copy of the RSDP, not its address: the copy (inside
			 * this reserved block) serves as well. A 2.0+ one wins over 1.0.
			 */
			if (!bi->acpi_rsdp || tag->type == MB2_TAG_ACPI_NEW)
				bi->acpi_rsdp =
				    info + (phys_addr_t)((const u8 *)(tag + 1) - (const u8 *)mbi);
			break;
		default:
			break;
		}
		p += ALIGN_UP(tag->size, 8);
	}
	return bi->nr_ram ? 0 : -ENOENT;
}
