/* x86-64 TLB shootdowns: one NMI per other CPU that may hold the batch's translations. */
#include <asm/apic.h>
#include <asm/irqflags.h>
#include <asm/processor.h>
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <mm/mm.h>
#include <mm/pte.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/*
 * x86 has no broadcast invalidation: invlpg and CR3 writes act on the executing CPU only.
 * A batch whose translations other CPUs may have cached is therefore completed by asking
 * each of them to invalidate too - a shootdown - and waiting until all have done it.
 *
 * The protocol (Linux's flush_tlb_info and Zircon's PendingTlbInvalidation in spirit):
 *
 *   initiator                                    each target CPU
 *   ---------                                    ---------------
 *   interrupts off (one shootdown at a time
 *     per CPU: the mailbox slot is ours)
 *   user mm: tlb_gen++, then read its cpumask
 *   mailbox[t].from[me] = &info   (release)
 *   NMI -> t, for every target t  ------------>  NMI handler:
 *   invalidate locally (overlaps the remotes)      for each initiator i:
 *   spin until every mailbox[t].from[me] == NULL     info = from[i] (acquire)
 *     (bounded: report the CPU and the batch,        invlpg each page / full flush
 *     then panic)                        <--------   from[i] = NULL (release) = the ack
 *   interrupts back on
 *
 * Why an NMI and not an ordinary vector: the target may be spinning with interrupts masked
 * - on a page-table lock taken with spin_lock_irqsave(), or in a shootdown of its own
 * towards us. An ordinary IPI would wait for it to unmask, which it never does while it
 * waits for us: a deadlock. An NMI gets through; the handler only invalidates TLB entries
 * (harmless at any instruction: the TLB is a cache) and clears a word. Two NMIs sent while
 * one is being handled collapse into one pending NMI, so the handler scans every initiator's
 * slot, and an NMI that finds nothing (its message was already served by the previous
 * pass) is normal.
 *
 * The info lives on the initiator's stack and points at the batch's ranges: both stay
 * unchanged until the last acknowledgement, which is when the initiator returns.
 *
 * Who gets one. The kernel's translations (init_mm) are global and may be cached by every
 * CPU: all online CPUs. A user mm's only by the CPUs that have it loaded - its cpumask,
 * which arch_switch_mm() joins before it reads tlb_gen and the scheduler leaves after the
 * CPU loaded another mm. A CPU that left keeps nothing usable: without PCIDs its CR3 load
 * flushed the mm's entries; with PCIDs they may stay cached under the mm's PCID, but the
 * flush's tlb_gen increment makes the next load of that PCID flush it (arch/x86_64/mm.c
 * has the argument for a CPU that is switching right now). So the target set can be exact.
 */

/* mailbox[t].from[i]: the shootdown CPU i asks of CPU t. Set by i, cleared by t. */
struct mailbox {
	const struct x86_flush_info *from[NR_CPUS];
};
static struct mailbox mailbox[NR_CPUS];

/* Per CPU, each written only by its CPU (relaxed atomics so readers never see a torn one). */
static struct x86_shootdown_stats remote_stats[NR_CPUS];
static u64 seq[NR_CPUS];

#define SHOOTDOWN_TIMEOUT_MS 5000

/* Test hooks (asm/shootdown.h). Written by tests while no shootdown is in flight. */
bool x86_shootdown_skip_ipis;
int x86_shootdown_deaf_cpu = -1;
unsigned int x86_shootdown_timeout_ms = SHOOTDOWN_TIMEOUT_MS;

#define count_remote(field, n) \
	__atomic_fetch_add(&remote_stats[smp_processor_id()].field, (n), __ATOMIC_RELAXED)

static void flush_for(const struct x86_flush_info *info)
{
	if (info->mm) {
		/*
		 * A user mm: our invlpg and CR3 reload act on the loaded PCID, so only if that
		 * is the mm's. Otherwise the CPU has switched away since the initiator read the
		 * cpumask, and the next load of the mm here sees the new tlb_gen and flushes.
		 */
		if (READ_ONCE(x86_tlb_state[smp_processor_id()].loaded_mm) != info->mm) {
			count_remote(not_loaded, 1);
			return;
		}
		if (info->flush_all) {
			x86_flush_tlb_current();
			count_remote(full_flushes, 1);
			return;
		}
	} else if (info->flush_all || (info->nonleaf && x86_pcid_on)) {
		/*
		 * The initiator's choice (generic policy: past tlb_flush_ceiling, flush_all is
		 * set); or a kernel table was unlinked while PCIDs are on: invlpg empties the
		 * paging-structure caches of the current PCID only, and the others may still
		 * walk through the freed table. The CR4.PGE toggle empties them all.
		 */
		x86_flush_tlb_all();
		count_remote(full_flushes, 1);
		return;
	}
	for (unsigned int i = 0; i < info->nr_ranges; i++) {
		unsigned long va = info->ranges[i].start;

		for (unsigned long n = 0; n < info->ranges[i].pages; n++, va += PAGE_SIZE)
			invlpg(va);
		count_remote(pages, info->ranges[i].pages);
	}
}

bool x86_handle_shootdown_nmi(void)
{
	unsigned int me = smp_processor_id();
	bool found = false;

	if ((int)me == READ_ONCE(x86_shootdown_deaf_cpu))
		return true; /* a test wants this CPU to play dead */
	count_remote(nmis, 1);
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		const struct x86_flush_info *info =
		    __atomic_load_n(&mailbox[me].from[i], __ATOMIC_ACQUIRE);

		if (!info)
			continue;
		found = true;
		flush_for(info);
		/* The ack: our invalidations are done (invlpg and CR writes serialize). */
		__atomic_store_n(&mailbox[me].from[i], NULL, __ATOMIC_RELEASE);
	}
	/* Nothing for us: fine if another CPU may have sent it (see above); else unexplained. */
	return found || num_online_cpus() > 1;
}

/* Posts info to every other online CPU in mask and sends the NMIs; returns how many. */
static unsigned int post(const struct x86_flush_info *info, unsigned long mask,
			 unsigned int *targets)
{
	unsigned int me = info->initiator, n = 0;

	for (unsigned int t = 0; t < NR_CPUS; t++) {
		if (t == me || !(mask & (1UL << t)) || !cpu_online(t))
			continue;
		__atomic_store_n(&mailbox[t].from[me], info, __ATOMIC_RELEASE);
		targets[n++] = t;
	}
	for (unsigned int i = 0; i < n; i++)
		x86_lapic_send_ipi((u32)cpu_hwid(targets[i]), ICR_NMI);
	return n;
}

static void report(const struct x86_flush_info *info, unsigned int cpu, unsigned int ms)
{
	printk("x86_64: TLB shootdown #%llu from CPU %u not acknowledged by CPU %u within %u "
	       "ms: batch of %lu page(s) in %u range(s)%s",
	       (unsigned long long)info->seq, info->initiator, cpu, ms, info->nr_pages,
	       info->nr_ranges, info->flush_all ? ", full flush" : "");
	for (unsigned int i = 0; i < info->nr_ranges && i < 4; i++)
		printk(" [%#lx +%lu]", info->ranges[i].start, info->ranges[i].pages);
	printk("\n");
}

/* Waits for every target's ack; returns how many never came within limit (reported). */
static unsigned int wait_acks(const struct x86_flush_info *info, const unsigned int *targets,
			      unsigned int n, unsigned int ms)
{
	unsigned int me = info->initiator, missing = 0;
	u64 start = arch_cycles(), limit = arch_cycles_hz() / 1000 * ms;

	for (unsigned int i = 0; i < n; i++) {
		while (__atomic_load_n(&mailbox[targets[i]].from[me], __ATOMIC_ACQUIRE)) {
			cpu_relax();
			if (arch_cycles() - start > limit) {
				report(info, targets[i], ms);
				missing++;
				break;
			}
		}
	}
	return missing;
}

static void fill_info(struct x86_flush_info *info, const struct tlb_batch *b)
{
	unsigned int me = smp_processor_id();
	const struct mm_struct *mm = tlb_batch_mm(b);

	*info = (struct x86_flush_info){
		.ranges = b->ranges,
		.nr_ranges = b->nr_ranges,
		.nr_pages = b->nr_pages,
		.flush_all = b->flush_all,
		.nonleaf = b->nonleaf,
		.mm = mm == &init_mm ? NULL : mm,
		.initiator = me,
		.seq = ++seq[me],
	};
}

void x86_shootdown_begin(struct x86_shootdown *sd, const struct tlb_batch *b)
{
	struct mm_struct *mm = tlb_batch_mm(b);
	unsigned long mask = ~0UL;

	sd->flags = arch_local_irq_save();
	sd->n = 0;
	sd->tlb_gen = 0;
	/*
	 * The batch's entry stores must be visible before we read who is online (x86 may let
	 * a load pass an earlier store). Pairs with secondary_start(): a CPU that is not yet
	 * online when we look drops every translation after going online (its compare-and-
	 * swap is a full barrier), so its later walks see our stores. For a user mm, the
	 * locked increment is that barrier, and it must come before the cpumask is read
	 * (arch/x86_64/mm.c, arch_switch_mm()).
	 */
	if (mm != &init_mm) {
		sd->tlb_gen = __atomic_add_fetch(&mm->context.tlb_gen, 1, __ATOMIC_SEQ_CST);
		mask = __atomic_load_n(&mm->cpumask, __ATOMIC_SEQ_CST);
	} else {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (num_online_cpus() == 1 || READ_ONCE(x86_shootdown_skip_ipis))
		return;
	fill_info(&sd->info, b);
	sd->n = post(&sd->info, mask, sd->targets);
	if (sd->n) {
		this_cpu_add(tlb_stats.ipis_sent, sd->n);
		count_tlb_event(shootdowns);
	}
}

void x86_shootdown_end(struct x86_shootdown *sd)
{
	if (sd->n && wait_acks(&sd->info, sd->targets, sd->n, READ_ONCE(x86_shootdown_timeout_ms)))
		panic("x86_64: TLB shootdown never acknowledged (see above)");
	arch_local_irq_restore(sd->flags);
}

unsigned int x86_shootdown_test_unacked(const struct tlb_batch *b, unsigned int timeout_ms)
{
	struct x86_shootdown sd;
	unsigned int missing;

	sd.flags = arch_local_irq_save();
	fill_info(&sd.info, b);
	sd.n = post(&sd.info, ~0UL, sd.targets);
	missing = wait_acks(&sd.info, sd.targets, sd.n, timeout_ms);
	/* Let the silent CPU answer after all, so that no slot stays pointing at our stack. */
	WRITE_ONCE(x86_shootdown_deaf_cpu, -1);
	for (unsigned int i = 0; i < sd.n; i++)
		x86_lapic_send_ipi((u32)cpu_hwid(sd.targets[i]), ICR_NMI);
	if (wait_acks(&sd.info, sd.targets, sd.n, SHOOTDOWN_TIMEOUT_MS))
		panic("x86_64: TLB shootdown never acknowledged (see above)");
	arch_local_irq_restore(sd.flags);
	return missing;
}

void x86_shootdown_stats_read(struct x86_shootdown_stats *s)
{
	*s = (struct x86_shootdown_stats){ 0 };
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		s->nmis += __atomic_load_n(&remote_stats[cpu].nmis, __ATOMIC_RELAXED);
		s->pages += __atomic_load_n(&remote_stats[cpu].pages, __ATOMIC_RELAXED);
		s->full_flushes +=
		    __atomic_load_n(&remote_stats[cpu].full_flushes, __ATOMIC_RELAXED);
		s->not_loaded += __atomic_load_n(&remote_stats[cpu].not_loaded, __ATOMIC_RELAXED);
	}
}

void x86_shootdown_stats_cpu(unsigned int cpu, struct x86_shootdown_stats *s)
{
	s->nmis = __atomic_load_n(&remote_stats[cpu].nmis, __ATOMIC_RELAXED);
	s->pages = __atomic_load_n(&remote_stats[cpu].pages, __ATOMIC_RELAXED);
	s->full_flushes = __atomic_load_n(&remote_stats[cpu].full_flushes, __ATOMIC_RELAXED);
	s->not_loaded = __atomic_load_n(&remote_stats[cpu].not_loaded, __ATOMIC_RELAXED);
}
