/* The GDT (flat 64-bit segments and the TSS) and the IDT with one gate per vector. */
#include <asm/desc.h>
#include <asm/layout.h>
#include <asm/traps.h>
#include <kernel/cpu.h>

/*
 * A code or data segment descriptor (8 bytes). In long mode base and limit are ignored;
 * what still matters is the type, DPL, P and, for code, L (64-bit) with D clear:
 *
 *   63    56 55 54  53 52  51   48 47 46 45 44 43   40 39      16 15       0
 *  +--------+--+---+--+---+-------+--+-----+--+-------+----------+----------+
 *  |base    |G |D/B|L |AVL|limit  |P | DPL |S | type  | base     | limit    |
 *  |31:24   |  |   |  |   |19:16  |  |     |  |       | 23:0     | 15:0     |
 *  +--------+--+---+--+---+-------+--+-----+--+-------+----------+----------+
 *
 *   kernel code 0x00af9b000000ffff: G=1 L=1 D=0, P=1 DPL=0 S=1, type 0xb (execute/read,
 *                                   accessed)
 *   kernel data 0x00cf93000000ffff: G=1 D=1,     P=1 DPL=0 S=1, type 0x3 (read/write, accessed)
 *   user data   0x00cff3000000ffff: the same with DPL=3 (bits 46:45)
 *   user code   0x00affb000000ffff: the same with DPL=3
 *
 * DPL 3 is what lets ring 3 load the selector at all (iretq checks it: a user frame whose
 * CS or SS named a DPL 0 descriptor would fault). The accessed bit is preset so that
 * loading a segment register never makes the CPU write to the table. The TSS descriptor
 * (slots 3-4) is added at run time: its base is an address.
 *
 * One GDT per CPU: the segments are the same everywhere, but each CPU's TSS descriptor
 * names its own TSS (and ltr marks it busy, so two CPUs can't share one). Each CPU writes
 * only its own; CPU 0's is the one boot.S and the AP trampoline load first.
 */
static u64 x86_gdt[NR_CPUS][GDT_ENTRIES] __aligned(16) = {
	[0 ... NR_CPUS - 1] = {
		[0] = 0,
		[GDT_KERNEL_CS / 8] = 0x00af9b000000ffffULL,
		[GDT_KERNEL_DS / 8] = 0x00cf93000000ffffULL,
		[GDT_USER_DS / 8] = 0x00cff3000000ffffULL,
		[GDT_USER_CS / 8] = 0x00affb000000ffffULL,
	},
};

const struct x86_desc_ptr x86_gdt_ptr = {
	.limit = sizeof(x86_gdt[0]) - 1,
	.base = (u64)(uintptr_t)x86_gdt[0],
};

/*
 * The same GDT by its physical address, for the 32-bit entry paths (asm/longmode.h): their
 * lgdt runs before paging and reads only the limit and the low 32 bits of the base.
 */
const struct x86_desc_ptr x86_boot_gdt_ptr = {
	.limit = sizeof(x86_gdt[0]) - 1,
	.base = (u64)(uintptr_t)x86_gdt[0] - PAGE_OFFSET,
};

/*
 * The 64-bit TSS holds no task state any more, only stack pointers: rsp0-2 for privilege
 * changes and the interrupt stack table. An interrupt or exception from ring 3 makes the
 * CPU load rsp0 (the running task's kernel stack top: arch_set_kernel_stack()) before it
 * pushes its frame; rsp1-2 would serve rings 1-2, which we never use. A gate with a
 * non-zero IST index makes the CPU switch to that stack unconditionally, which is the only
 * way to handle a fault caused by the stack itself: a kernel stack overflow faults while
 * pushing the #PF frame, that becomes a #DF, and #DF runs on IST1.
 */
struct x86_tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7]; /* IST1..IST7 */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base; /* beyond the limit: no I/O permission bitmap */
} __packed;

_Static_assert(sizeof(struct x86_tss) == 104, "the 64-bit TSS is 104 bytes");

#define IST_STACK_SIZE 8192

/* Per CPU, as the IST stacks: an NMI (a TLB shootdown) may hit every CPU at once. */
static struct x86_tss x86_tss[NR_CPUS];
static u8 double_fault_stack[NR_CPUS][IST_STACK_SIZE] __aligned(16);
static u8 nmi_stack[NR_CPUS][IST_STACK_SIZE] __aligned(16);

/*
 * A 64-bit TSS descriptor is 16 bytes, a system descriptor (S=0) of type 0x9 (available
 * 64-bit TSS; ltr turns it into 0xb, busy):
 *
 *   127            96 95                64
 *  +----------------+--------------------+
 *  |   reserved     |    base 63:32      |
 *  +----------------+--------------------+
 *   63    56 55 52 51  48 47 46 45 44 43 40 39      16 15       0
 *  +--------+-----+------+--+-----+--+-----+----------+----------+
 *  |base    |G .. |limit |P | DPL |0 | 0x9 | base     | limit    |
 *  |31:24   |     |19:16 |  |     |  |     | 23:0     | 15:0     |
 *  +--------+-----+------+--+-----+--+-----+----------+----------+
 */
static void set_tss_descriptor(u64 *slot, u64 base, u32 limit)
{
	slot[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (0x9ULL << 40) |
		  (1ULL << 47) | ((u64)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	slot[1] = base >> 32;
}

static void x86_tss_init(unsigned int cpu)
{
	struct x86_tss *tss = &x86_tss[cpu];

	/* The CPU pushes onto IST stacks from the top: stacks grow down. */
	tss->ist[IST_DOUBLE_FAULT - 1] = (u64)(uintptr_t)(double_fault_stack[cpu] + IST_STACK_SIZE);
	tss->ist[IST_NMI - 1] = (u64)(uintptr_t)(nmi_stack[cpu] + IST_STACK_SIZE);
	tss->iomap_base = sizeof(*tss);
	set_tss_descriptor(&x86_gdt[cpu][GDT_TSS / 8], (u64)(uintptr_t)tss, sizeof(*tss) - 1);
}

void x86_tss_set_rsp0(unsigned int cpu, unsigned long stack_top)
{
	/* Read by the CPU at the next entry from ring 3; this CPU only, interrupts masked. */
	x86_tss[cpu].rsp[0] = stack_top;
}

void x86_gdt_init(void)
{
	x86_tss_init(0);
	/*
	 * boot.S loaded this GDT already. No reload is needed: the CPU reads a descriptor
	 * from memory when a selector is loaded, so ltr finds the slots just written.
	 */
	ltr(GDT_TSS);
}

void x86_gdt_init_secondary(unsigned int cpu)
{
	struct x86_desc_ptr p = {
		.limit = sizeof(x86_gdt[cpu]) - 1,
		.base = (u64)(uintptr_t)x86_gdt[cpu],
	};

	x86_tss_init(cpu);
	/*
	 * The trampoline ran on CPU 0's GDT. Ours has the same code and data descriptors at
	 * the same selectors, so the loaded CS/DS/SS stay valid without a reload.
	 */
	lgdt(&p);
	ltr(GDT_TSS);
}

/*
 * An IDT gate (16 bytes):
 *
 *   127             96 95                          64
 *  +-----------------+-------------------------------+
 *  |    reserved     |        offset 63:32           |
 *  +-----------------+-------------------------------+
 *   63          48 47 46 45 44 43  40 39  35 34 32 31        16 15          0
 *  +--------------+--+-----+--+------+------+-----+------------+-------------+
 *  | offset 31:16 |P | DPL |0 | type | 0    | IST | selector   | offset 15:0 |
 *  +--------------+--+-----+--+------+------+-----+------------+-------------+
 *
 * Type 0xe is an interrupt gate: the CPU clears IF on entry, so no handler is ever
 * interrupted by a maskable interrupt (a trap gate, 0xf, would leave IF alone).
 */
struct x86_idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;

#define IDT_INTERRUPT_GATE 0x8e /* P=1, DPL=0, type 0xe */
#define IDT_DPL3	   0x60 /* DPL=3: "int n" from ring 3 may use the gate */

static struct x86_idt_gate x86_idt[256] __aligned(16);

static void set_gate(unsigned int vector, unsigned int ist, u8 dpl)
{
	u64 handler = (u64)(uintptr_t)(x86_trap_stubs + X86_TRAP_STUB_SIZE * vector);
	struct x86_idt_gate *g = &x86_idt[vector];

	g->offset_lo = handler & 0xffff;
	g->selector = GDT_KERNEL_CS;
	g->ist = ist;
	g->type_attr = IDT_INTERRUPT_GATE | dpl;
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

/* One IDT for every CPU: the gates are the same; the IST stacks they name are per-CPU TSS. */
void x86_idt_load(void)
{
	struct x86_desc_ptr idt_ptr = {
		.limit = sizeof(x86_idt) - 1,
		.base = (u64)(uintptr_t)x86_idt,
	};

	lidt(&idt_ptr);
}

void x86_idt_init(void)
{
	for (unsigned int v = 0; v < ARRAY_SIZE(x86_idt); v++)
		set_gate(v, 0, 0);
	/*
	 * A double fault may come from a broken stack; an NMI may arrive at any instruction,
	 * including the syscall entry's first, still on the user's stack (entry.S). Both stubs
	 * take the paranoid path, which doesn't trust the frame's CS to tell whose GS is live.
	 */
	set_gate(X86_VEC_DF, IST_DOUBLE_FAULT, 0);
	set_gate(X86_VEC_NMI, IST_NMI, 0);
	/*
	 * The gate DPL only matters for "int n" (the CPU ignores it for hardware interrupts and
	 * exceptions): with DPL 0, ring 3's int3 would be a #GP. DPL 3 makes it the #BP it says.
	 * No other vector may be raised by ring 3 at will: a user "int 0x30" must not pose as
	 * the timer.
	 */
	set_gate(X86_VEC_BP, 0, IDT_DPL3);
	x86_idt_load();
}
