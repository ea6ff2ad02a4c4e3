/* arm64 address-space switches: TTBR0 with the mm's ASID, from the allocator of asm/asid.h. */
#include <asm/asid.h>
#include <asm/barrier.h>
#include <asm/mmu.h>
#include <asm/pgtable.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <mm/mm.h>

_Static_assert(NR_CPUS <= ASID_MAX_CPUS, "asm/asid.h: one flush_pending bit per CPU");

/*
 * The allocator. asid_lock protects everything in it but the atomics (generation, active[])
 * that the switch's fast path reads without it. Taken with interrupts masked: the
 * scheduler switches address spaces with its run-queue lock held (lock order: run queue,
 * then asid_lock), and drop_lazy_mms() does from interrupt context.
 */
static struct asid_allocator asids;
static DEFINE_SPINLOCK(asid_lock);
static u64 local_flushes; /* atomic */

/* ID_AA64MMFR0_EL1.ASIDBits (asm/sysreg.h): 8 or 16 bits; head.S sets TCR_EL1.AS to match. */
void arm64_asid_init(void)
{
	u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	unsigned int field = (mmfr0 >> ID_AA64MMFR0_ASIDBITS_SHIFT) & 0xf;

	asid_allocator_init(&asids, field == ID_AA64MMFR0_ASIDBITS_16 ? 16 : 8, NR_CPUS);
}

unsigned int arm64_asid_bits(void)
{
	return asids.bits;
}

unsigned long arm64_mm_asid(const struct mm_struct *mm)
{
	if (mm == &init_mm)
		return 0;
	return asid_of(&asids, __atomic_load_n(&mm->context.id, __ATOMIC_RELAXED));
}

unsigned long arm64_asid_set_limit(unsigned long limit)
{
	unsigned long flags, now;

	spin_lock_irqsave(&asid_lock, flags);
	now = asid_set_limit(&asids, limit ? limit : 1UL << asids.bits);
	spin_unlock_irqrestore(&asid_lock, flags);
	return now;
}

void arm64_asid_stats(struct arm64_asid_stats *s)
{
	unsigned long flags;

	spin_lock_irqsave(&asid_lock, flags);
	s->generation = asids.generation >> asids.bits;
	s->rollovers = asids.rollovers;
	spin_unlock_irqrestore(&asid_lock, flags);
	s->local_flushes = __atomic_load_n(&local_flushes, __ATOMIC_RELAXED);
}

/* A new mm has no ASID until its first switch (mm_alloc() zeroed its context). */
int init_new_context(struct mm_struct *mm)
{
	__atomic_store_n(&mm->context.id, 0, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Nothing to give back: the ASID stays marked in use until the next rollover frees every
 * number at once (as in Linux: a bitmap clear per exit would let the number be reused
 * within the generation, while this CPU's TLB may still hold the dead mm's entries).
 * exit_mmap() already invalidated every user page under it.
 */
void destroy_context(struct mm_struct *mm)
{
	(void)mm;
}

/*
 * This CPU's whole TLB (local: the rollover asked each CPU to clean its own): entries
 * tagged with numbers a new generation hands to other mms must not survive until this CPU
 * runs one of them. dsb nsh: complete on this CPU; isb: nothing fetched before runs on.
 */
static void local_flush_tlb_all(void)
{
	dsb(nshst);
	tlbi_vmalle1();
	dsb(nsh);
	isb();
	__atomic_fetch_add(&local_flushes, 1, __ATOMIC_RELAXED);
}

/*
 * init_mm: no user address space, so TTBR0 gets the empty table under ASID 0, which tags
 * nothing: no flush needed. The first call, from mm_init(), also replaces the boot tables
 * in TTBR1 with init_mm's: they map the same addresses with 1 GiB blocks where these use
 * pages, hence the switch through an empty TTBR1 in mmu.S (which leaves TTBR0 empty too).
 * Secondary CPUs start with init_mm's tables in TTBR1 already (head.S).
 */
static void switch_to_kernel_only(void)
{
	if ((read_sysreg(ttbr1_el1) & PTE_ADDR_MASK) != init_mm.pgd) {
		arm64_replace_ttbr1(init_mm.pgd);
		return;
	}
	write_sysreg(virt_to_phys(arm64_empty_pgd), ttbr0_el1);
	isb();
}

/*
 * A user mm: its context from the allocator - the fast path when it is of the current
 * generation, else under the lock, which may start a new generation - then TTBR0 := its
 * root with its ASID in bits 63:48 (one write changes both, so no moment mixes the old
 * ASID with the new tables or the reverse), and this CPU joins mm->cpumask.
 *
 * Interrupts are masked throughout (the scheduler's contract; checked): between reading the
 * context and loading TTBR0, a rollover on this CPU would otherwise be possible.
 */
void arch_switch_mm(struct mm_struct *mm)
{
	unsigned int cpu = smp_processor_id();
	unsigned long flags;
	bool flush = false;
	u64 ctx;

	BUG_ON(!IS_ALIGNED(mm->pgd, PAGE_SIZE));
	local_irq_save(flags);
	if (mm == &init_mm) {
		switch_to_kernel_only();
		local_irq_restore(flags);
		return;
	}
	WARN_ONCE(!(flags & DAIF_I), "arch_switch_mm(%s) with interrupts enabled", mm->name);
	if (!asid_switch_fast(&asids, cpu, &mm->context.id, &ctx)) {
		spin_lock(&asid_lock);
		ctx = asid_switch_slow(&asids, cpu, &mm->context.id, &flush);
		spin_unlock(&asid_lock);
	}
	if (flush)
		local_flush_tlb_all();
	__atomic_fetch_or(&mm->cpumask, 1UL << cpu, __ATOMIC_RELAXED);
	write_sysreg(mm->pgd | ((u64)asid_of(&asids, ctx) << 48), ttbr0_el1);
	isb(); /* the new TTBR0 and ASID apply to everything after */
	local_irq_restore(flags);
}
