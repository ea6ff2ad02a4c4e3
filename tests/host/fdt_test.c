/* Host tests of boot/fdt.c's CPU list: fake device trees with /cpus nodes. */
#include <asm/boot.h>
#include <kernel/boot_info.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <stdio.h>
#include <string.h>

/* A tiny FDT writer: enough tokens for a root, /memory and /cpus/cpu@N (big-endian). */
struct fdt_writer {
	u8 st[4096], strings[256];
	u32 st_len, str_len;
};

static void put32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static void token(struct fdt_writer *w, u32 t)
{
	put32(w->st + w->st_len, t);
	w->st_len += 4;
}

static void begin_node(struct fdt_writer *w, const char *name)
{
	size_t len = strlen(name) + 1;

	token(w, 1);
	memcpy(w->st + w->st_len, name, len);
	w->st_len += (u32)((len + 3) & ~3UL);
}

static u32 string_off(struct fdt_writer *w, const char *name)
{
	for (u32 off = 0; off < w->str_len; off += (u32)strlen((char *)w->strings + off) + 1)
		if (strcmp((char *)w->strings + off, name) == 0)
			return off;
	memcpy(w->strings + w->str_len, name, strlen(name) + 1);
	w->str_len += (u32)strlen(name) + 1;
	return w->str_len - (u32)strlen(name) - 1;
}

static void prop(struct fdt_writer *w, const char *name, const void *val, u32 len)
{
	token(w, 3);
	token(w, len);
	token(w, string_off(w, name));
	memcpy(w->st + w->st_len, val, len);
	w->st_len += (len + 3) & ~3U;
}

static void prop_u32(struct fdt_writer *w, const char *name, u32 v)
{
	u8 b[4];

	put32(b, v);
	prop(w, name, b, 4);
}

static void prop_str(struct fdt_writer *w, const char *name, const char *s)
{
	prop(w, name, s, (u32)strlen(s) + 1);
}

/* The blob: header (40 bytes), an empty reservation map, structure, strings. */
static u64 blob[2048];

static void *finish(struct fdt_writer *w)
{
	u8 *b = (u8 *)blob;
	u32 off_rsv = 40, off_st = 56, off_str = off_st + w->st_len;

	token(w, 9); /* FDT_END */
	off_str = off_st + w->st_len;
	memset(blob, 0, sizeof(blob));
	put32(b, 0xd00dfeed);
	put32(b + 4, off_str + w->str_len);
	put32(b + 8, off_st);
	put32(b + 12, off_str);
	put32(b + 16, off_rsv);
	put32(b + 20, 17);
	put32(b + 24, 16);
	put32(b + 32, w->str_len);
	put32(b + 36, w->st_len);
	memcpy(b + off_st, w->st, w->st_len);
	memcpy(b + off_str, w->strings, w->str_len);
	return blob;
}

/* A machine with n CPUs (MPIDR 0x100 * cluster + core, 4 per cluster); `off` disabled. */
static void *tree(struct fdt_writer *w, unsigned int n, int off, u32 cpu_cells)
{
	u8 reg[16];
	char name[16];

	memset(w, 0, sizeof(*w));
	begin_node(w, "");
	prop_u32(w, "#address-cells", 2);
	prop_u32(w, "#size-cells", 2);
	begin_node(w, "memory@40000000");
	prop_str(w, "device_type", "memory");
	put32(reg, 0);
	put32(reg + 4, 0x40000000);
	put32(reg + 8, 0);
	put32(reg + 12, 0x10000000);
	prop(w, "reg", reg, 16);
	token(w, 2);
	begin_node(w, "cpus");
	prop_u32(w, "#address-cells", cpu_cells);
	prop_u32(w, "#size-cells", 0);
	for (unsigned int i = 0; i < n; i++) {
		u32 mpidr = (i / 4) << 8 | (i % 4);

		snprintf(name, sizeof(name), "cpu@%x", mpidr);
		begin_node(w, name);
		prop_str(w, "device_type", "cpu");
		prop_str(w, "enable-method", "psci");
		if (cpu_cells == 2) {
			put32(reg, 0);
			put32(reg + 4, mpidr);
			prop(w, "reg", reg, 8);
		} else {
			prop_u32(w, "reg", mpidr);
		}
		if ((int)i == off)
			prop_str(w, "status", "disabled");
		token(w, 2);
	}
	token(w, 2); /* /cpus */
	token(w, 2); /* root */
	return finish(w);
}

static void cpus_node_lists_mpidrs(struct kunit *test)
{
	static struct fdt_writer w;
	struct boot_info bi = { 0 };
	enum psci_conduit psci;
	void *dtb = tree(&w, 6, 2, 1);

	KUNIT_ASSERT_EQ(test, fdt_parse(dtb, sizeof(blob), &bi, &psci), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_ram, 1);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 5); /* cpu 2 is disabled */
	KUNIT_EXPECT_EQ(test, bi.cpus[0], 0x0);
	KUNIT_EXPECT_EQ(test, bi.cpus[1], 0x1);
	KUNIT_EXPECT_EQ(test, bi.cpus[2], 0x3);
	KUNIT_EXPECT_EQ(test, bi.cpus[3], 0x100); /* the second cluster: Aff1 = 1 */
	KUNIT_EXPECT_EQ(test, bi.nr_cpus_ignored, 0);

	/* Two address cells: the same MPIDRs. */
	memset(&bi, 0, sizeof(bi));
	dtb = tree(&w, 2, -1, 2);
	KUNIT_ASSERT_EQ(test, fdt_parse(dtb, sizeof(blob), &bi, &psci), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, 2);
	KUNIT_EXPECT_EQ(test, bi.cpus[1], 0x1);
}

static void more_cpus_than_nr_cpus_are_counted_not_kept(struct kunit *test)
{
	static struct fdt_writer w;
	struct boot_info bi = { 0 };
	enum psci_conduit psci;
	void *dtb = tree(&w, BOOT_MAX_CPUS + 4, -1, 1);

	KUNIT_ASSERT_EQ(test, fdt_parse(dtb, sizeof(blob), &bi, &psci), 0);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus, BOOT_MAX_CPUS);
	KUNIT_EXPECT_EQ(test, bi.nr_cpus_ignored, 4);
	KUNIT_EXPECT_EQ(test, bi.cpus[BOOT_MAX_CPUS - 1], 0x103);
}

static struct kunit_case fdt_cpu_cases[] = { KUNIT_CASE(cpus_node_lists_mpidrs),
					     KUNIT_CASE(
						 more_cpus_than_nr_cpus_are_counted_not_kept),
					     {} };

static struct kunit_suite fdt_cpu_suite = {
	.name = "fdt_cpus",
	.test_cases = fdt_cpu_cases,
};
kunit_test_suite(fdt_cpu_suite);
