/* Host tests of boot/acpi.c: fake RSDP/RSDT/XSDT/MADT tables, good and broken. */
#define _GNU_SOURCE
#include <kernel/acpi.h>
#include <kernel/boot_info.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * The host's PAGE_OFFSET is 0, so a "physical address" is a host pointer: the fake tables
 * live in a buffer below 4 GiB (MAP_32BIT), so that the RSDT's 32-bit pointers reach them.
 */
#define ARENA 65536

static u8 *arena;

struct sdt {
	char sig[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
} __attribute__((packed));

static u8 checksum(const void *p, size_t n)
{
	const u8 *b = p;
	u8 sum = 0;

	while (n--)
		sum += *b++;
	return (u8)-sum;
}

static void seal(struct sdt *t)
{
	t->checksum = 0;
	t->checksum = checksum(t, t->length);
}

/* A MADT at off with `lapics` enabled local-APIC entries (IDs 0..), one disabled (ID 99), one
 * x2APIC entry (ID 0x1000) when x2 is set. Returns its length. */
static u32 make_madt(size_t off, unsigned int lapics, bool x2)
{
	struct sdt *t = (struct sdt *)(arena + off);
	u8 *p = (u8 *)(t + 1) + 8; /* after LAPIC address and flags */

	memset(t, 0, sizeof(*t));
	memcpy(t->sig, "APIC", 4);
	for (unsigned int i = 0; i <= lapics; i++, p += 8) {
		u32 flags = i < lapics ? 1 : 0; /* the last one: present but disabled */

		p[0] = 0;
		p[1] = 8;
		p[2] = (u8)i;
		p[3] = i < lapics ? (u8)i : 99;
		memcpy(p + 4, &flags, 4);
	}
	if (x2) {
		u32 id = 0x1000, flags = 1, uid = 7;

		memset(p, 0, 16);
		p[0] = 9;
		p[1] = 16;
		memcpy(p + 4, &id, 4);
		memcpy(p + 8, &flags, 4);
		memcpy(p + 12, &uid, 4);
		p += 16;
	}
	t->length = (u32)(p - (u8 *)t);
	seal(t);
	return t->length;
}

/* An RSDT (32-bit entries) or XSDT (64-bit) at off listing the tables at offs[]. */
static void make_root(size_t off, bool xsdt, const size_t *offs, unsigned int n)
{
	struct sdt *t = (struct sdt *)(arena + off);
	u8 *p = (u8 *)(t + 1);

	memset(t, 0, sizeof(*t));
	memcpy(t->sig, xsdt ? "XSDT" : "RSDT", 4);
	for (unsigned int i = 0; i < n; i++) {
		u64 pa = (u64)(uintptr_t)(arena + offs[i]);

		memcpy(p, &pa, xsdt ? 8 : 4);
		p += xsdt ? 8 : 4;
	}
	t->length = (u32)(p - (u8 *)t);
	seal(t);
}

/* An RSDP at off: revision 2 pointing at the XSDT, or revision 0 at the RSDT. */
static phys_addr_t make_rsdp(size_t off, size_t root, bool v2)
{
	u8 *r = arena + off;
	u32 rsdt = (u32)(uintptr_t)(arena + root), len = 36;
	u64 xsdt = (u64)(uintptr_t)(arena + root);

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	r[15] = v2 ? 2 : 0;
	if (v2) {
		memcpy(r + 20, &len, 4);
		memcpy(r + 24, &xsdt, 8);
	} else {
		memcpy(r + 16, &rsdt, 4);
	}
	r[8] = checksum(r, 20);
	if (v2)
		r[32] = checksum(r, 36);
	return (phys_addr_t)(uintptr_t)r;
}

enum { OFF_RSDP = 0x100, OFF_ROOT = 0x200, OFF_FACP = 0x400, OFF_MADT = 0x800 };

/* A root table that also lists a non-MADT table first, as real firmware does. */
static phys_addr_t build(bool v2, unsigned int lapics, bool x2)
{
	size_t offs[2] = { OFF_FACP, OFF_MADT };
	struct sdt *facp = (struct sdt *)(arena + OFF_FACP);

	memset(arena, 0, ARENA);
	memset(facp, 0, sizeof(*facp));
	memcpy(facp->sig, "FACP", 4);
	facp->length = sizeof(*facp);
	seal(facp);
	make_madt(OFF_MADT, lapics, x2);
	make_root(OFF_ROOT, v2, offs, 2);
	return make_rsdp(OFF_RSDP, OFF_ROOT, v2);
}

static int acpi_init(struct kunit *test)
{
	(void)test;
	if (!arena) {
#ifndef MAP_32BIT
#define MAP_32BIT 0 /* not x86-64: the RSDT case skips if the arena lands above 4 GiB */
#endif
		arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (arena == MAP_FAILED) {
			arena = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static void xsdt_lists_enabled_cpus(struct kunit *test)
{
	struct boot_info bi = { 0 };
	phys_addr_t rsdp = build(true, 4, true);

	KUNIT_ASSERT_EQ(test, acpi_find_cpus(&bi, rsdp), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 5); /* 4 LAPICs + 1 x2APIC; the disabled one is not */
	for (unsigned int i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, bi.cpus[i], i);
	KUNIT_EXPECT_EQ(test, bi.cpus[4], 0x1000);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus_ignored, 0);
}

static void rsdt_of_acpi_1_works_too(struct kunit *test)
{
	struct boot_info bi = { 0 };
	phys_addr_t rsdp;

	if ((uintptr_t)arena + ARENA > 0xffffffffUL)
		kunit_skip(test, "the fake tables are above 4 GiB: an RSDT can't point at them");
	rsdp = build(false, 2, false);

	KUNIT_ASSERT_EQ(test, acpi_find_cpus(&bi, rsdp), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 2);
}

static void more_cpus_than_nr_cpus_are_counted_not_kept(struct kunit *test)
{
	struct boot_info bi = { 0 };
	phys_addr_t rsdp = build(true, BOOT_MAX_CPUS + 3, false);

	KUNIT_ASSERT_EQ(test, acpi_find_cpus(&bi, rsdp), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, BOOT_MAX_CPUS);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus_ignored, 3);
	KUNIT_EXPECT_EQ(test, bi.cpus[BOOT_MAX_CPUS - 1], BOOT_MAX_CPUS - 1);
}

static void bad_checksums_are_refused(struct kunit *test)
{
	struct boot_info bi = { 0 };
	phys_addr_t rsdp = build(true, 2, false);

	arena[OFF_RSDP + 8]++; /* RSDP checksum */
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);

	rsdp = build(true, 2, false);
	arena[OFF_RSDP + 32]++; /* the extended checksum only */
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);

	rsdp = build(true, 2, false);
	arena[OFF_ROOT + 9]++; /* XSDT */
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);

	rsdp = build(true, 2, false);
	arena[OFF_MADT + 40]++; /* a byte of the MADT body */
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 0);
}

static void bad_lengths_are_refused(struct kunit *test)
{
	struct boot_info bi = { 0 };
	struct sdt *madt;
	phys_addr_t rsdp = build(true, 3, false);

	/* An entry claiming more bytes than the table has left. */
	madt = (struct sdt *)(arena + OFF_MADT);
	arena[OFF_MADT + sizeof(struct sdt) + 8 + 2 * 8 + 1] = 200;
	seal(madt);
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 0); /* nothing half-parsed is kept */

	/* A zero-length entry would loop forever. */
	rsdp = build(true, 3, false);
	arena[OFF_MADT + sizeof(struct sdt) + 8 + 1] = 0;
	seal(madt);
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);

	/* A table length shorter than its own header. */
	rsdp = build(true, 3, false);
	madt->length = 10;
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -EINVAL);
}

static void no_madt_and_no_rsdp(struct kunit *test)
{
	struct boot_info bi = { 0 };
	size_t offs[1] = { OFF_FACP };
	phys_addr_t rsdp = build(true, 2, false);

	make_root(OFF_ROOT, true, offs, 1);
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, rsdp), -ENOENT);
	KUNIT_EXPECT_EQ(test, acpi_find_cpus(&bi, 0), -ENOENT);
}

static void rsdp_search_finds_it_on_16_bytes(struct kunit *test)
{
	phys_addr_t base = (phys_addr_t)(uintptr_t)arena, rsdp;

	memset(arena, 0, ARENA);
	/* A signature with a bad checksum first: skipped. */
	memcpy(arena + 0x40, "RSD PTR ", 8);
	rsdp = make_rsdp(0x1230, OFF_ROOT, true);
	KUNIT_EXPECT_EQ(test, acpi_scan_rsdp(base, base + 0x2000), rsdp);
	/* Not inside the searched window: not found. */
	KUNIT_EXPECT_EQ(test, acpi_scan_rsdp(base, base + 0x1000), 0);
	/* Not on a 16-byte boundary: not an RSDP. */
	memset(arena, 0, ARENA);
	make_rsdp(0x1238, OFF_ROOT, true);
	KUNIT_EXPECT_EQ(test, acpi_scan_rsdp(base, base + 0x2000), 0);
}

static struct kunit_case acpi_cases[] = { KUNIT_CASE(xsdt_lists_enabled_cpus),
					  KUNIT_CASE(rsdt_of_acpi_1_works_too),
					  KUNIT_CASE(more_cpus_than_nr_cpus_are_counted_not_kept),
					  KUNIT_CASE(bad_checksums_are_refused),
					  KUNIT_CASE(bad_lengths_are_refused),
					  KUNIT_CASE(no_madt_and_no_rsdp),
					  KUNIT_CASE(rsdp_search_finds_it_on_16_bytes),
					  {} };

static struct kunit_suite acpi_suite = {
	.name = "acpi_madt",
	.init = acpi_init,
	.test_cases = acpi_cases,
};
kunit_test_suite(acpi_suite);
