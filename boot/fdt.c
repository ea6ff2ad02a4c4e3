/* A small flattened-device-tree (DTB) reader: memory, bootargs, UART, GIC, PSCI and CPUs. */
#include <asm/boot.h>
#include <kernel/boot_info.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * The blob (devicetree specification, chapter 5), every number big-endian:
 *
 *   header      magic 0xd00dfeed, totalsize, and the offsets and sizes of the blocks below
 *   mem_rsvmap  {u64 address, u64 size} pairs, ended by {0, 0}: memory the OS must not use
 *   dt_struct   a token stream: BEGIN_NODE name, PROP len nameoff value, END_NODE, NOP, END
 *               (each token a u32; names and values padded to 4 bytes)
 *   dt_strings  the property names, NUL-terminated, that PROP tokens point into
 *
 * Nothing in the blob is trusted: every offset and length is checked against the block it
 * points into before it is followed.
 */
#define FDT_MAGIC	    0xd00dfeed
#define FDT_HEADER_SIZE	    40 /* version 17 */
#define FDT_VERSION_WE_READ 17
#define FDT_OLDEST_VERSION  16 /* same layout, minus size_dt_struct */
#define FDT_BEGIN_NODE	    1
#define FDT_END_NODE	    2
#define FDT_PROP	    3
#define FDT_NOP		    4
#define FDT_END		    9
#define FDT_MAX_DEPTH	    16
#define FDT_MAX_SIZE	    (16UL << 20)

/* Header fields: byte offsets of big-endian u32s. */
#define HDR_MAGIC	      0
#define HDR_TOTALSIZE	      4
#define HDR_OFF_DT_STRUCT     8
#define HDR_OFF_DT_STRINGS    12
#define HDR_OFF_MEM_RSVMAP    16
#define HDR_VERSION	      20
#define HDR_LAST_COMP_VERSION 24
#define HDR_SIZE_DT_STRINGS   32
#define HDR_SIZE_DT_STRUCT    36

struct fdt {
	const u8 *blob;
	u32 size;
	const u8 *st; /* structure block */
	u32 st_size;
	const char *strings;
	u32 strings_size;
};

/* A property value: bytes the blob owns, and how many. */
struct prop {
	const u8 *val;
	u32 len;
};

/* What we collect about one node while its properties go by. */
struct node {
	const char *name;
	/* For this node's children: how many u32 cells an address and a size take. */
	u32 addr_cells;
	u32 size_cells;
	bool has_ranges;
	bool empty_ranges; /* "ranges;" - child bus addresses are the parent's */
	struct prop reg, compatible, device_type, status, bootargs, method;
};

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 be64(const u8 *p)
{
	return (u64)be32(p) << 32 | be32(p + 4);
}

/* True if value holds exactly the string s, NUL included. */
static bool prop_is(const struct prop *p, const char *s)
{
	size_t n = strlen(s) + 1;

	return p->val && p->len == n && memcmp(p->val, s, n) == 0;
}

/* True if s is one of the NUL-separated strings of a string-list property. */
static bool prop_has_string(const struct prop *p, const char *s)
{
	u32 pos = 0;

	while (p->val && pos < p->len) {
		const char *str = (const char *)p->val + pos;
		size_t len = strnlen(str, p->len - pos);

		if (len == p->len - pos) /* not terminated inside the value */
			return false;
		if (strcmp(str, s) == 0)
			return true;
		pos += len + 1;
	}
	return false;
}

/* Disabled devices have status = "disabled" (or "fail..."); no status means enabled. */
static bool node_enabled(const struct node *n)
{
	return !n->status.val || prop_is(&n->status, "okay") || prop_is(&n->status, "ok");
}

/* Reads a number of 1 or 2 cells (the only widths we accept for addresses and sizes). */
static u64 read_cells(const u8 *p, u32 cells)
{
	return cells == 2 ? be64(p) : cells == 1 ? be32(p) : 0;
}

/*
 * The i-th (address, size) pair of node n's reg. Its cell counts are the *parent's*
 * #address-cells/#size-cells. Returns false if there is no such pair, or if reg is not
 * something we can interpret.
 */
static bool node_reg(const struct node *n, const struct node *parent, u32 i, u64 *addr, u64 *size)
{
	u32 ac = parent->addr_cells, sc = parent->size_cells;
	u32 entry = (ac + sc) * 4;

	if (!n->reg.val || ac < 1 || ac > 2 || sc > 2 || n->reg.len % entry)
		return false;
	if ((u64)(i + 1) * entry > n->reg.len)
		return false;
	*addr = read_cells(n->reg.val + i * entry, ac);
	*size = read_cells(n->reg.val + i * entry + ac * 4, sc);
	return true;
}

/*
 * A reg address is a CPU physical address only if every bus between the node and the root
 * passes addresses through unchanged ("ranges;" with no value). We don't translate
 * through non-empty ranges: a device behind one is skipped. QEMU virt puts everything we
 * need directly under the root.
 */
static bool reg_is_physical(const struct node *stack, int depth)
{
	for (int d = depth - 1; d >= 2; d--)
		if (!stack[d].empty_ranges)
			return false;
	return true;
}

/* A node is complete (all its properties seen): take what we need from it. */
static int fdt_use_node(const struct node *stack, int depth, struct boot_info *bi,
			enum psci_conduit *psci)
{
	const struct node *n = &stack[depth], *parent = &stack[depth - 1];
	u64 addr, size, addr2, size2;
	int err;

	if (depth == 1)
		return 0; /* the root: only its #address-cells/#size-cells matter */

	if (depth == 2 && strcmp(n->name, "chosen") == 0 && n->bootargs.val) {
		size_t len = strnlen((const char *)n->bootargs.val, n->bootargs.len);

		len = MIN(len, sizeof(bi->cmdline) - 1);
		memcpy(bi->cmdline, n->bootargs.val, len);
		bi->cmdline[len] = '\0';
		return 0;
	}
	/*
	 * /cpus/cpu@N: reg is the CPU's MPIDR affinity (in /cpus's #address-cells; its
	 * #size-cells is 0), not an address, so no bus translation applies. How to start it
	 * (enable-method) is left to the arch: QEMU virt says "psci".
	 */
	if (depth == 3 && strcmp(parent->name, "cpus") == 0 && prop_is(&n->device_type, "cpu")) {
		if (node_enabled(n) && node_reg(n, parent, 0, &addr, &size))
			boot_add_cpu(bi, addr);
		return 0;
	}
	if (!node_enabled(n) || !reg_is_physical(stack, depth))
		return 0;

	if (prop_is(&n->device_type, "memory")) {
		for (u32 i = 0; node_reg(n, parent, i, &addr, &size); i++) {
			err = boot_add_region(bi->ram, &bi->nr_ram, addr, size);
			if (err)
				return err;
		}
	} else if (prop_has_string(&n->compatible, "arm,pl011")) {
		/* The first enabled one is the console, as on Linux without stdout-path. */
		if (!bi->uart_base && node_reg(n, parent, 0, &addr, &size))
			bi->uart_base = addr;
	} else if (prop_has_string(&n->compatible, "arm,cortex-a15-gic")) {
		/* GICv2: reg = <distributor> <CPU interface> [<hyp control> <vCPU interface>]. */
		if (node_reg(n, parent, 0, &addr, &size) &&
		    node_reg(n, parent, 1, &addr2, &size2)) {
			bi->irqchip_dist = addr;
			bi->irqchip_cpu = addr2;
		}
	} else if (prop_has_string(&n->compatible, "arm,psci-1.0") ||
		   prop_has_string(&n->compatible, "arm,psci-0.2")) {
		if (prop_is(&n->method, "smc"))
			*psci = PSCI_CONDUIT_SMC;
		else if (prop_is(&n->method, "hvc"))
			*psci = PSCI_CONDUIT_HVC;
	}
	return 0;
}

/* Records one property of node n. */
static void fdt_prop(struct node *n, const char *name, struct prop p)
{
	if (strcmp(name, "#address-cells") == 0 && p.len == 4)
		n->addr_cells = be32(p.val);
	else if (strcmp(name, "#size-cells") == 0 && p.len == 4)
		n->size_cells = be32(p.val);
	else if (strcmp(name, "ranges") == 0) {
		n->has_ranges = true;
		n->empty_ranges = p.len == 0;
	} else if (strcmp(name, "reg") == 0)
		n->reg = p;
	else if (strcmp(name, "compatible") == 0)
		n->compatible = p;
	else if (strcmp(name, "device_type") == 0)
		n->device_type = p;
	else if (strcmp(name, "status") == 0)
		n->status = p;
	else if (strcmp(name, "bootargs") == 0)
		n->bootargs = p;
	else if (strcmp(name, "method") == 0)
		n->method = p;
}

/* Walks the structure block, node by node. */
static int fdt_walk(const struct fdt *fdt, struct boot_info *bi, enum psci_conduit *psci)
{
	struct node stack[FDT_MAX_DEPTH];
	int depth = 0;
	u32 pos = 0;

	for (;;) {
		u32 token;

		if (pos + 4 > fdt->st_size)
			return -EINVAL; /* ran off the block without FDT_END */
		token = be32(fdt->st + pos);
		pos += 4;

		switch (token) {
		case FDT_BEGIN_NODE: {
			const char *name = (const char *)fdt->st + pos;
			size_t len = strnlen(name, fdt->st_size - pos);

			if (len == fdt->st_size - pos || depth + 1 >= FDT_MAX_DEPTH)
				return -EINVAL;
			if (depth == 0 && len != 0)
				return -EINVAL; /* the root's name is empty */
			depth++;
			memset(&stack[depth], 0, sizeof(stack[depth]));
			stack[depth].name = name;
			/* The defaults the specification gives a node without these properties. */
			stack[depth].addr_cells = 2;
			stack[depth].size_cells = 1;
			pos = ALIGN_UP(pos + (u32)len + 1, 4);
			break;
		}
		case FDT_END_NODE: {
			int err;

			if (depth == 0)
				return -EINVAL;
			err = fdt_use_node(stack, depth, bi, psci);
			if (err)
				return err;
			depth--;
			break;
		}
		case FDT_PROP: {
			u32 len, nameoff;
			const char *name;

			if (depth == 0 || pos + 8 > fdt->st_size)
				return -EINVAL;
			len = be32(fdt->st + pos);
			nameoff = be32(fdt->st + pos + 4);
			pos += 8;
			if (len > fdt->st_size - pos || nameoff >= fdt->strings_size)
				return -EINVAL;
			name = fdt->strings + nameoff;
			if (strnlen(name, fdt->strings_size - nameoff) ==
			    fdt->strings_size - nameoff)
				return -EINVAL;
			fdt_prop(&stack[depth], name, (struct prop){ fdt->st + pos, len });
			pos = ALIGN_UP(pos + len, 4);
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return depth == 0 ? 0 : -EINVAL;
		default:
			return -EINVAL;
		}
	}
}

/* The memory reservation block: {address, size} pairs up to a {0, 0}. */
static int fdt_reserved(const struct fdt *fdt, u32 off, struct boot_info *bi)
{
	for (;; off += 16) {
		u64 addr, size;
		int err;

		if (off + 16 > fdt->size || off + 16 < off)
			return -EINVAL;
		addr = be64(fdt->blob + off);
		size = be64(fdt->blob + off + 8);
		if (addr == 0 && size == 0)
			return 0;
		err = boot_add_region(bi->reserved, &bi->nr_reserved, addr, size);
		if (err)
			return err;
	}
}

/* True if [off, off + size) lies inside [0, total) without wrapping. */
static bool block_fits(u32 off, u32 size, u32 total)
{
	return off <= total && size <= total - off;
}

int fdt_parse(const void *blob, size_t max_size, struct boot_info *bi, enum psci_conduit *psci)
{
	const u8 *b = blob;
	struct fdt fdt;
	u32 version, off_struct, off_strings, off_rsv;
	phys_addr_t pa = virt_to_phys(blob);
	int err;

	bi->protocol = "dtb";
	*psci = PSCI_CONDUIT_NONE;
	if (!blob || max_size < FDT_HEADER_SIZE || !IS_ALIGNED((uintptr_t)blob, 8))
		return -EINVAL;
	if (be32(b + HDR_MAGIC) != FDT_MAGIC)
		return -EINVAL;
	version = be32(b + HDR_VERSION);
	/* A newer tree is fine as long as it stays readable by a version-17 reader. */
	if (version < FDT_OLDEST_VERSION || be32(b + HDR_LAST_COMP_VERSION) > FDT_VERSION_WE_READ)
		return -EINVAL;

	fdt.blob = b;
	fdt.size = be32(b + HDR_TOTALSIZE);
	if (fdt.size < FDT_HEADER_SIZE || fdt.size > max_size || fdt.size > FDT_MAX_SIZE)
		return -EINVAL;
	off_struct = be32(b + HDR_OFF_DT_STRUCT);
	off_strings = be32(b + HDR_OFF_DT_STRINGS);
	off_rsv = be32(b + HDR_OFF_MEM_RSVMAP);
	fdt.strings_size = be32(b + HDR_SIZE_DT_STRINGS);
	/* Version 16 headers don't say how long the structure block is: up to the end. */
	fdt.st_size =
	    version >= 17 ? be32(b + HDR_SIZE_DT_STRUCT) : fdt.size - MIN(off_struct, fdt.size);
	if (!IS_ALIGNED(off_struct, 4) || !IS_ALIGNED(off_rsv, 8) ||
	    !block_fits(off_struct, fdt.st_size, fdt.size) ||
	    !block_fits(off_strings, fdt.strings_size, fdt.size) || off_rsv >= fdt.size)
		return -EINVAL;
	fdt.st = b + off_struct;
	fdt.strings = (const char *)b + off_strings;

	err = fdt_walk(&fdt, bi, psci);
	if (err)
		return err;
	err = fdt_reserved(&fdt, off_rsv, bi);
	if (err)
		return err;
	/*
	 * The blob itself must survive too: it describes more than we read today (CPUs for
	 * SMP, other devices). Reserved in whole pages, as frames are handed out.
	 */
	return boot_add_region(bi->reserved, &bi->nr_reserved, ALIGN_DOWN(pa, PAGE_SIZE),
			       ALIGN_UP(pa + fdt.size, PAGE_SIZE) - ALIGN_DOWN(pa, PAGE_SIZE));
}
