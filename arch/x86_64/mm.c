/* x86-64 hooks of the memory code: device windows, the shared kernel half, switching tables. */
#define __KERNEL__
#include <lazymmu/syscall.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/hpet.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <lib/errno.h>
#include <mm/mm.h>
#include <mm/user.h>

/* Both are a few registers in the first 4 KiB of their window. */
static const struct mem_region x86_mmio[] = {
	{ .base = LAPIC_BASE, .size = PAGE_SIZE },
	{ .base = HPET_BASE, .size = PAGE_SIZE },
};

unsigned int arch_mmio_regions(const struct mem_region **regions)
{
	*regions = x86_mmio;
	return ARRAY_SIZE(x86_mmio);
}

/*
 * 256 level-3 tables (1 MiB) for the whole kernel half, so that no kernel mapping ever needs
 * a new root entry: were one added to init_mm later, every other address space would have
 * to be found and given a copy (Linux's old pgd_list "sync"). The root is not loaded yet,
 * so plain stores suffice: no TLB can hold anything of it.
 */
void arch_preallocate_kernel_tables(struct mm_struct *mm)
{
	pte_t *root = phys_to_virt(mm->pgd);

	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++) {
		phys_addr_t pa;

		if (!pte_none(root[i]))
			continue;
		pa = alloc_frame();
		if (!pa)
			panic("mm_init: no frame for the kernel half's level-3 tables");
		WRITE_ONCE(root[i], mk_table_entry(pa));
	}
}

/*
 * A new address space's root (mm->pgd, zeroed by the caller) gets init_mm's kernel half:
 * the same 256 entries, so the same level-3 tables. They never change after mm_init()
 * (preallocated, pinned), so this copy is never stale, and no lock is needed to read them.
 */
int arch_pgd_init(struct mm_struct *mm)
{
	const pte_t *src = phys_to_virt(init_mm.pgd);
	pte_t *dst;

	if (!mm->pgd)
		return -EINVAL;
	dst = phys_to_virt(mm->pgd);
	for (unsigned int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++)
		WRITE_ONCE(dst[i], READ_ONCE(src[i]));
	return 0;
}

/*
 * x86 has no write-only or execute-only pages: any present page is readable. So WRITE
 * implies READ, EXEC implies READ, and WRITE wins over EXEC (data is never executable).
 */
pgprot_t vm_get_page_prot(unsigned int prot)
{
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return PAGE_NONE;
	if (prot & PROT_WRITE)
		return PAGE_USER_RW;
	if (prot & PROT_EXEC)
		return PAGE_USER_RX;
	return PAGE_USER_RO;
}

/* ---------------------------------------------------------------- address spaces */

struct x86_tlb_state x86_tlb_state[NR_CPUS];
bool x86_pcid_on, x86_invpcid_on;

/*
 * CR4.PCIDE may only be set while CR3's PCID is 0 and in long mode: at boot, on the boot
 * tables, before any address space has been loaded. The boot CPU decides for everybody.
 */
void x86_pcid_init_cpu(void)
{
	if (this_cpu()->id == 0) {
		x86_pcid_on = x86_cpu.pcid;
		x86_invpcid_on = x86_cpu.pcid && x86_cpu.invpcid;
	}
	if (!x86_pcid_on)
		return;
	if (!(cpuid(1).ecx & BIT(17)))
		panic("x86_64: CPU %u has no PCIDs, but the boot CPU had", this_cpu()->id);
	write_cr4(read_cr4() | X86_CR4_PCIDE);
}

int init_new_context(struct mm_struct *mm)
{
	mm->context.tlb_gen = 0;
	return 0;
}

/*
 * Nothing to free: PCID slots name the mm by its id, which is never reused, so a slot of a
 * dead mm simply never matches again and is recycled in turn. No CPU may still have it
 * loaded (the generic code drops lazy users first).
 */
void destroy_context(struct mm_struct *mm)
{
	WARN_ONCE(__atomic_load_n(&mm->cpumask, __ATOMIC_RELAXED),
		  "destroy_context(%s): still loaded on %#lx", mm->name, mm->cpumask);
}

/*
 * Loads mm on this CPU, interrupts masked. init_mm runs under PCID 0; a user mm under the
 * PCID of its slot here, with NF (keep what is cached) only when the slot has caught up with
 * every flush of mm (asm/pcid.h). Kernel mappings are global: no load drops them.
 *
 * The order is what makes shootdowns (arch/x86_64/shootdown.c) safe without a lock:
 *
 *   this CPU (switching to mm)              a CPU flushing mm's pages
 *   1. set our bit in mm->cpumask           a. change the entries
 *   2. read mm->context.tlb_gen = g         b. tlb_gen++ (seq_cst)
 *   3. load CR3 (flush the PCID if behind)  c. read mm->cpumask, NMI each CPU in it
 *   4. loaded_mm = mm                       d. NMI handler: invalidates only if its CPU's
 *   5. read tlb_gen again: if it moved        loaded_mm is mm (other PCIDs: gen catches up)
 *      since 2, flush the PCID now
 *
 * 1-2 and b-c are each a store then a load in opposite order on two variables (seq_cst,
 * as Dekker's mutual exclusion): either the flusher's c sees our bit, or our 2 sees its
 * increment. In the first case its NMI comes, and if it lands before 4 (when the handler
 * can't tell yet that mm is ours, and skips), the increment is already visible to 5; after
 * 4 the handler invalidates. In the second case the load at 3 flushes. No interleaving
 * leaves a stale entry of mm under its PCID. (Linux's flush IPIs wait for interrupts to be
 * unmasked, so they can't land mid-switch; ours are NMIs, hence step 5.)
 *
 * Leaving the previous mm's cpumask is the caller's job (kernel/sched.c), after this.
 */
void arch_switch_mm(struct mm_struct *mm)
{
	struct x86_tlb_state *st = &x86_tlb_state[this_cpu()->id];
	bool first = !st->loaded_mm, user = mm != &init_mm;
	unsigned long cr3 = mm->pgd;
	int slot = -1;
	u64 gen = 0;

	if (user) {
		__atomic_fetch_or(&mm->cpumask, 1UL << this_cpu()->id, __ATOMIC_SEQ_CST);
		gen = __atomic_load_n(&mm->context.tlb_gen, __ATOMIC_SEQ_CST);
		if (x86_pcid_on) {
			struct x86_pcid_choice ch = x86_pcid_choose(&st->pcid, mm->id, gen);

			slot = (int)ch.slot;
			cr3 |= x86_pcid_of_slot(ch.slot);
			if (!ch.flush)
				cr3 |= X86_CR3_NOFLUSH;
		}
	}
	write_cr3(cr3);
	WRITE_ONCE(st->loaded_mm, mm);
	st->loaded_slot = slot;
	if (user) {
		u64 now = __atomic_load_n(&mm->context.tlb_gen, __ATOMIC_SEQ_CST);

		if (now != gen) {
			x86_flush_tlb_current();
			if (slot >= 0)
				x86_pcid_flushed_all(&st->pcid, (unsigned int)slot, now);
		}
	}
	/*
	 * The first load on this CPU replaces the boot tables, whose translations must all go,
	 * and the CR3 write alone keeps global ones: drop everything, under every PCID.
	 */
	if (first)
		x86_flush_tlb_all();
}

/*
 * x86 keeps instruction fetch coherent with stores: code written through data accesses is
 * fetched as written (on this CPU, after any branch). Only the compiler must not sink the
 * stores past the point where the caller jumps to the code.
 */
void arch_sync_icache(const void *addr, size_t len)
{
	(void)addr;
	(void)len;
	barrier();
}
