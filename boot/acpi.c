/* ACPI, only as far as SMP needs it: RSDP -> RSDT/XSDT -> MADT -> the CPUs' APIC IDs. */
#include <kernel/acpi.h>
#include <kernel/boot_info.h>
#include <kernel/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * The tables (ACPI 6.5, chapter 5), little-endian, packed, found by physical address:
 *
 *   RSDP  "RSD PTR " | checksum (first 20 bytes) | OEM | revision | RSDT address (u32)
 *         revision >= 2: | length | XSDT address (u64) | extended checksum (all bytes)
 *   SDT   header: signature[4] | length (whole table) | revision | checksum (whole table)
 *         | OEM ids ... (36 bytes), then the body:
 *   RSDT  u32 addresses of other tables;  XSDT  u64 addresses
 *   MADT  "APIC": u32 LAPIC address | u32 flags | entries {u8 type, u8 length, ...}
 *         type 0 (Processor Local APIC): u8 ACPI uid | u8 APIC ID | u32 flags
 *         type 9 (Processor Local x2APIC): u16 reserved | u32 x2APIC ID | u32 flags | u32 uid
 *         flags bit 0: enabled; bit 1: online capable (may be enabled later: not usable now)
 *
 * Nothing is trusted: every length is checked against what contains it, every checksum
 * verified, and a table that fails is reported by name and ignored as a whole.
 */
struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __packed;

struct acpi_sdt_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;

struct acpi_madt {
	struct acpi_sdt_header h;
	u32 lapic_address;
	u32 flags;
} __packed;

#define RSDP_V1_SIZE	    20
#define MADT_LAPIC	    0
#define MADT_X2APIC	    9
#define MADT_ENABLED	    BIT(0)
#define ACPI_MAX_TABLE_SIZE (1U << 20) /* a sanity bound: real MADTs are a few hundred bytes */

static u8 sum_bytes(const void *p, size_t n)
{
	const u8 *b = p;
	u8 sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

/* 0 if p holds a valid RSDP (checksums and, from revision 2, its length), else -EINVAL. */
int acpi_check_rsdp(const void *p)
{
	const struct acpi_rsdp *r = p;

	if (memcmp(r->signature, "RSD PTR ", 8) != 0 || sum_bytes(r, RSDP_V1_SIZE) != 0)
		return -EINVAL;
	if (r->revision >= 2 &&
	    (r->length < sizeof(*r) || r->length > 4096 || sum_bytes(r, r->length) != 0))
		return -EINVAL;
	return 0;
}

phys_addr_t acpi_scan_rsdp(phys_addr_t start, phys_addr_t end)
{
	/* The specification puts it on a 16-byte boundary. */
	for (phys_addr_t pa = ALIGN_UP(start, 16); pa + sizeof(struct acpi_rsdp) <= end; pa += 16)
		if (acpi_check_rsdp(phys_to_virt(pa)) == 0)
			return pa;
	return 0;
}

/* The table at pa if its header, length and checksum are sane, else NULL (reported). */
static const struct acpi_sdt_header *map_table(phys_addr_t pa, const char *what)
{
	const struct acpi_sdt_header *h;

	if (!pa) {
		printk("acpi: %s: null address\n", what);
		return NULL;
	}
	h = phys_to_virt(pa);
	if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE_SIZE) {
		printk("acpi: %s at %#llx: bad length %u\n", what, (unsigned long long)pa,
		       h->length);
		return NULL;
	}
	if (sum_bytes(h, h->length) != 0) {
		printk("acpi: %s at %#llx (%.4s): bad checksum\n", what, (unsigned long long)pa,
		       h->signature);
		return NULL;
	}
	return h;
}

static void add_cpu(struct boot_info *bi, u32 apic_id, u32 flags)
{
	if (flags & MADT_ENABLED)
		boot_add_cpu(bi, apic_id);
}

/* Walks the MADT's entries; -EINVAL if one runs past the table. */
static int parse_madt(const struct acpi_madt *m, struct boot_info *bi)
{
	const u8 *p = (const u8 *)(m + 1), *end = (const u8 *)m + m->h.length;

	if (m->h.length < sizeof(*m)) {
		printk("acpi: MADT too short (%u bytes)\n", m->h.length);
		return -EINVAL;
	}
	while (p < end) {
		u8 type, len;
		u32 flags, id;

		if (end - p < 2 || p[1] < 2 || p[1] > end - p) {
			printk("acpi: MADT entry at offset %ld: length %u does not fit the table\n",
			       (long)(p - (const u8 *)m), end - p < 2 ? 0 : p[1]);
			return -EINVAL;
		}
		type = p[0];
		len = p[1];
		if (type == MADT_LAPIC && len >= 8) {
			memcpy(&flags, p + 4, 4);
			add_cpu(bi, p[3], flags);
		} else if (type == MADT_X2APIC && len >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			add_cpu(bi, id, flags);
		}
		p += len;
	}
	return 0;
}

int acpi_find_cpus(struct boot_info *bi, phys_addr_t rsdp_pa)
{
	const struct acpi_rsdp *rsdp;
	const struct acpi_sdt_header *root;
	bool xsdt;
	u32 n, entry;

	if (!rsdp_pa) {
		printk("acpi: no RSDP found\n");
		return -ENOENT;
	}
	rsdp = phys_to_virt(rsdp_pa);
	if (acpi_check_rsdp(rsdp)) {
		printk("acpi: RSDP at %#llx: bad signature or checksum\n",
		       (unsigned long long)rsdp_pa);
		return -EINVAL;
	}
	/* ACPI 2.0+: the XSDT (64-bit pointers) replaces the RSDT. */
	xsdt = rsdp->revision >= 2 && rsdp->xsdt_address;
	root = xsdt ? map_table(rsdp->xsdt_address, "XSDT") : map_table(rsdp->rsdt_address, "RSDT");
	if (!root)
		return -EINVAL;
	if (memcmp(root->signature, xsdt ? "XSDT" : "RSDT", 4) != 0) {
		printk("acpi: root table has signature %.4s\n", root->signature);
		return -EINVAL;
	}
	entry = xsdt ? 8 : 4;
	n = (root->length - sizeof(*root)) / entry;
	for (u32 i = 0; i < n; i++) {
		const u8 *e = (const u8 *)(root + 1) + i * entry;
		const struct acpi_sdt_header *t;
		u64 pa = 0;

		memcpy(&pa, e, entry);
		if (!pa)
			continue;
		t = phys_to_virt(pa);
		if (memcmp(t->signature, "APIC", 4) != 0)
			continue;
		t = map_table(pa, "MADT");
		if (!t)
			return -EINVAL;
		bi->nr_cpus = 0;
		bi->nr_cpus_ignored = 0;
		if (parse_madt((const struct acpi_madt *)t, bi)) {
			bi->nr_cpus = 0;
			bi->nr_cpus_ignored = 0;
			return -EINVAL;
		}
		if (bi->nr_cpus_ignored)
			printk("acpi: the MADT lists %u enabled CPUs; only the first %u are used\n",
			       bi->nr_cpus + bi->nr_cpus_ignored, bi->nr_cpus);
		return 0;
	}
	printk("acpi: no MADT in the %s\n", xsdt ? "XSDT" : "RSDT");
	return -ENOENT;
}
