/*
 * The user rows of `make bench` (issue 13): the page-table loops of user address spaces,
 * where Linux opens its lazy MMU sections - mprotect (change_pte_range), munmap
 * (zap_pte_range) and fork (copy_pte_range) - timed per call for N touched pages, eager vs
 * batched, with the flush counters of each call. Each N has an address space of its own,
 * adopted by the benchmark's kernel thread (kthread_use_mm()), so its translations are
 * live in this CPU's TLB as a process's would be, and every invalidation is a real one
 * (with its ASID/PCID). With SMP, every other CPU has it loaded too (lazily, idle), as a
 * process with a thread on each CPU would: x86 flushes then reach them by IPI.
 *
 * Same method as the kernel rows (kernel/bench.c): rounds interleave sizes and modes, the
 * first round is a warm-up, the median of the rest is reported, and the counts must be
 * exactly the same in every round.
 *
 *   bench: user op=fork n=512 mode=batched ns_per_call=... min_ns=... max_ns=... samples=..
 *          pte_writes=... tlbi_page=... tlbi_range=... tlbi_all=... barriers=... batches=...
 *          ipis_sent=... shootdowns=...
 */
#include <kernel/arch.h>
#include <kernel/bench.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/printk.h>
#include <kernel/process.h>
#include <kernel/smp.h>
#include <kernel/sched.h>
#include <kernel/uapi.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>
#include <mm/user.h>

#define USER_RUNS 11 /* run 0 is the warm-up */

static const unsigned long user_sizes[] = { 1, 16, 512, 4096 };
#define USER_SIZES ARRAY_SIZE(user_sizes)

enum user_op { U_MPROTECT, U_MUNMAP, U_FORK, U_OPS };
static const char *const user_op_names[U_OPS] = { "mprotect", "munmap", "fork" };

static const struct {
	const char *name;
	enum lazy_mmu_backend backend;
} user_modes[] = { { "eager", LAZY_MMU_EAGER }, { "batched", LAZY_MMU_BATCHED } };
#define USER_MODES ARRAY_SIZE(user_modes)

struct user_result {
	u64 cycles[USER_RUNS];
	unsigned int nr;
	struct tlb_stats stats;
};

static struct user_result user_results[USER_SIZES][U_OPS][USER_MODES];

#define RW (PROT_READ | PROT_WRITE)

/* Maps n pages read-write at a fixed address and touches every one (untimed). */
static int populate(struct mm_struct *mm, unsigned long va, unsigned long n)
{
	long ret = do_mmap(mm, va, n * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);

	if (ret < 0)
		return (int)ret;
	for (unsigned long i = 0; i < n; i++) {
		int err = handle_mm_fault(mm, va + i * PAGE_SIZE, FAULT_WRITE);

		if (err)
			return err;
	}
	return 0;
}

/*
 * One timed call of op on n live, writable pages at va of mm (the loaded mm), leaving them
 * live and writable again afterwards (untimed), so that every round starts alike.
 */
static int user_step(struct mm_struct *mm, unsigned long va, unsigned long n, enum user_op op,
		     struct tlb_stats *stats, u64 *cycles)
{
	struct mm_struct *child = NULL;
	u64 t0, t1;
	int err;

	if (op == U_FORK) {
		child = mm_alloc();
		if (!child)
			return -ENOMEM;
	}
	/*
	 * Every timed call starts with the pages' translations in this CPU's TLB, as they
	 * would be in a process that just used them (and not cold after the untimed set-up,
	 * which would tax whichever mode runs first): one read through each user address.
	 */
	for (unsigned long i = 0; i < n; i++) {
		u8 b;

		if (copy_from_kernel_nofault(&b, (const void *)(va + i * PAGE_SIZE), 1))
			return -EFAULT;
	}
	tlb_stats_reset();
	t0 = arch_cycles();
	switch (op) {
	case U_MPROTECT:
		err = do_mprotect(mm, va, n * PAGE_SIZE, PROT_READ);
		break;
	case U_MUNMAP:
		err = do_munmap(mm, va, n * PAGE_SIZE);
		break;
	default:
		err = dup_mm(child, mm);
		break;
	}
	t1 = arch_cycles();
	tlb_stats_read(stats);
	*cycles = t1 - t0;
	if (child)
		mmput(child);
	if (err)
		return err;
	/* Back to n writable pages: after fork the parent's entries are read-only. */
	if (op == U_MUNMAP)
		return populate(mm, va, n);
	return do_mprotect(mm, va, n * PAGE_SIZE, RW);
}

/* khz: the cycle counter's rate in kHz (ns = cycles * 10^6 / kHz: no overflow here). */
static int user_print(const struct user_result *r, unsigned long n, enum user_op op, unsigned int m,
		      u64 khz)
{
	u64 sorted[USER_RUNS], med;
	const struct tlb_stats *s = &r->stats;

	if (r->nr == 0)
		return -EIO;
	memcpy(sorted, r->cycles, r->nr * sizeof(u64));
	for (unsigned int i = 1; i < r->nr; i++)
		for (unsigned int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			u64 t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	med = r->nr % 2 ? sorted[r->nr / 2] : (sorted[r->nr / 2 - 1] + sorted[r->nr / 2]) / 2;
	printk("bench: user op=%s n=%lu mode=%s ns_per_call=%llu min_ns=%llu max_ns=%llu "
	       "samples=%u pte_writes=%llu tlbi_page=%llu tlbi_range=%llu tlbi_all=%llu "
	       "barriers=%llu batches=%llu ipis_sent=%llu shootdowns=%llu\n",
	       user_op_names[op], n, user_modes[m].name,
	       (unsigned long long)(med * 1000000ULL / khz),
	       (unsigned long long)(sorted[0] * 1000000ULL / khz),
	       (unsigned long long)(sorted[r->nr - 1] * 1000000ULL / khz), r->nr,
	       (unsigned long long)s->pte_writes, (unsigned long long)s->tlbi_page,
	       (unsigned long long)s->tlbi_range, (unsigned long long)s->tlbi_all,
	       (unsigned long long)s->barriers, (unsigned long long)s->batches,
	       (unsigned long long)s->ipis_sent, (unsigned long long)s->shootdowns);
	return 0;
}

/* A kernel thread that loads mm on its CPU and leaves it loaded there (lazy TLB). */
static int adopt_mm(void *data)
{
	kthread_use_mm(data);
	kthread_unuse_mm(data);
	return 0;
}

/*
 * Every other online CPU loads mm and keeps it loaded while it idles: it stays in
 * mm->cpumask, so (on x86-64) every flush of mm must reach it by IPI - what a process with
 * threads on every CPU costs. 0, or -ENOMEM.
 */
static int load_on_other_cpus(struct mm_struct *mm)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct task *t;

		if (cpu == this_cpu()->id || !cpu_online(cpu))
			continue;
		t = kthread_run_on_cpu(adopt_mm, mm, cpu, "bench-lazy");
		if (!t)
			return -ENOMEM;
		kthread_stop(t);
	}
	return 0;
}

int bench_user_run(u64 hz, unsigned int *lines)
{
	struct mm_struct *mms[USER_SIZES] = { NULL };
	enum lazy_mmu_backend saved = lazy_mmu_get_backend();
	int err = 0;

	/* One address space per size: a fork then copies exactly its N pages. */
	for (unsigned int s = 0; s < USER_SIZES && !err; s++) {
		mms[s] = mm_alloc();
		err = mms[s] ? populate(mms[s], USER_MMAP_BASE, user_sizes[s]) : -ENOMEM;
	}
	for (unsigned int run = 0; run < USER_RUNS && !err; run++) {
		for (unsigned int s = 0; s < USER_SIZES && !err; s++) {
			struct mm_struct *mm = mms[s];

			err = load_on_other_cpus(mm);
			if (!err) {
				kthread_use_mm(mm);
				/*
				 * The switch of tables emptied the TLB (QEMU's too, kernel
				 * entries and all): one untimed round trip brings the code and
				 * data the timed calls use back in, as in a running process.
				 */
				err = do_mprotect(mm, USER_MMAP_BASE, user_sizes[s] * PAGE_SIZE,
						  PROT_READ);
				if (!err)
					err = do_mprotect(mm, USER_MMAP_BASE,
							  user_sizes[s] * PAGE_SIZE, RW);
			}
			for (unsigned int op = 0; op < U_OPS && !err; op++) {
				for (unsigned int k = 0; k < USER_MODES && !err; k++) {
					/* Modes alternate which goes first, so neither pays
					 * alone for a cold start after the switch of mm. */
					unsigned int m = run & 1 ? USER_MODES - 1 - k : k;
					struct user_result *r = &user_results[s][op][m];
					struct tlb_stats st;
					u64 c;

					lazy_mmu_set_backend(user_modes[m].backend);
					err = user_step(mm, USER_MMAP_BASE, user_sizes[s], op, &st,
							&c);
					if (err || run == 0)
						continue;
					if (r->nr == 0) {
						r->stats = st;
					} else if (memcmp(&r->stats, &st, sizeof(st))) {
						printk("bench: ERROR user op=%s n=%lu mode=%s: the "
						       "counts differ between rounds\n",
						       user_op_names[op], user_sizes[s],
						       user_modes[m].name);
						err = -EIO;
					}
					r->cycles[r->nr++] = c;
				}
			}
			if (current->mm)
				kthread_unuse_mm(mm);
		}
	}
	lazy_mmu_set_backend(saved);
	for (unsigned int s = 0; s < USER_SIZES; s++)
		if (mms[s])
			mmput(mms[s]);
	drop_lazy_mms(); /* the other CPUs let go of the last ones */
	if (err) {
		printk("bench: ERROR user rows failed (%d)\n", err);
		return err;
	}
	for (unsigned int s = 0; s < USER_SIZES && !err; s++)
		for (unsigned int op = 0; op < U_OPS && !err; op++)
			for (unsigned int m = 0; m < USER_MODES && !err; m++) {
				err = user_print(&user_results[s][op][m], user_sizes[s], op, m,
						 hz / 1000);
				(*lines)++;
			}
	return err;
}
