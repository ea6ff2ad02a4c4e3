/* The lazy MMU benchmark: cycles per page and flush counts, eager vs batched vs floor. */
#include <kernel/arch.h>
#include <kernel/bench.h>
#include <kernel/boot_info.h>
#include <kernel/irq.h>
#include <kernel/printk.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kernel/step.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

/*
 * How one number is made (docs/bench.md says what the numbers mean):
 *
 * Ranges. For each size N, two vm_test_area() ranges of N pages: the timed one, and a twin
 * that only serves to warm up (below). Each has an "anchor" page mapped right after it for
 * the whole run. The anchor keeps alive every page table the range shares with it: for
 * N < 512 that is the range's leaf table and everything above, so map and unmap write leaf
 * entries only; for N >= 512 the N/512 leaf tables the range covers entirely are created by
 * map and freed by unmap (one table per 512 pages, the same in every mode). Every mode uses
 * the same range, so the table shape is identical.
 *
 * Frames. Every range maps the same 16 MiB of RAM, starting at the kernel image. Nothing is
 * ever read or written through these mappings, so aliasing the kernel's own memory is
 * harmless, and no frame is consumed.
 *
 * Rounds. BENCH_RUNS rounds; in each, for every size, every mode in turn runs the same
 * sequence on that size's range:
 *
 *   map RW | protect ->RO | protect ->RW | unmap
 *
 * so slow drift and bursts of host noise hit every mode and every size alike. Round 0 is a
 * warm-up and is not recorded; the median of the other rounds is reported (protect has two
 * samples per round, one per direction).
 *
 * Timed window. Interrupts off (a timer tick would land in some samples and not others),
 * counters reset, arch_cycles() just around the one call, counters read, interrupts back on.
 * The counts must come out the same in every recorded round, or the run fails.
 *
 * Floor. Between pgtable_floor_begin() and pgtable_floor_end() the same walk makes the same
 * entry stores with no invalidation and no barrier, so the tables and the TLB disagree
 * afterwards: each floor operation is followed, OUTSIDE the timed window, by
 * pgtable_floor_end(), whose full flush puts the machine right before anything else runs
 * (and which frees the table pages the floor's unmap unlinked, never before that flush).
 * The floor is no backend: nothing outside this file can turn it on.
 *
 * Warm start. A full flush (the floor's repair, or the batched backend above its flush
 * ceiling) also empties QEMU's software TLB, and refilling a translation costs ~100 ns under
 * TCG: the call after it would pay for refilling the translations of its code, stack and
 * tables - a cost of the call before, landing on whichever call comes next. So right before
 * each timed call, untimed, warm_up() makes the same call on the twin range with the eager
 * backend (the same walk and entry-update code as the other two modes, and it never flushes
 * everything), then walks the timed range's tables. Every timed call starts warm; the
 * refills a full flush causes later are charged to no one (see No touch).
 *
 * No touch. Nothing reads the pages of the range. Reading them (to time the refills that
 * follow an invalidation) was tried and dropped: under QEMU 7.2 it made every later full
 * flush slower, doubling from ~8 us to ~1 ms within a few rounds (QEMU's TLB doubled at each
 * full flush; its count of used entries appears to underflow when an invalidated page sits
 * in its victim TLB) - an emulator artefact that swamped every later measurement.
 */

#define BENCH_RUNS 31 /* run 0 is the warm-up */
/*
 * bench.runs=N (3..BENCH_RUNS) on the command line: fewer rounds, for runs whose eager
 * calls are slow (SMP x86: one shootdown per page, see docs/smp.md).
 */
static unsigned int bench_runs = BENCH_RUNS;
#define BENCH_SAMPLES_MAX (2 * (BENCH_RUNS - 1))
#define BENCH_MAX_PAGES	  4096UL

static const unsigned long bench_sizes[] = { 1, 8, 32, 64, 512, BENCH_MAX_PAGES };
#define BENCH_SIZES ARRAY_SIZE(bench_sizes)

enum bench_op {
	BENCH_MAP,
	BENCH_PROTECT,
	BENCH_UNMAP,
	BENCH_OPS,
};

static const char *const bench_op_names[BENCH_OPS] = {
	[BENCH_MAP] = "map",
	[BENCH_PROTECT] = "protect",
	[BENCH_UNMAP] = "unmap",
};

/* The two backends, and the floor: the batched walk with every flush and barrier removed. */
static const struct bench_mode {
	const char *name;
	enum lazy_mmu_backend backend;
	bool floor; /* timed between pgtable_floor_begin() and pgtable_floor_end() */
} bench_modes[] = {
	{ "eager", LAZY_MMU_EAGER, false },
	{ "batched", LAZY_MMU_BATCHED, false },
	{ "floor", LAZY_MMU_BATCHED, true },
};
#define BENCH_MODES ARRAY_SIZE(bench_modes)

/* One round's sequence: the operation, and whether it leaves the range read-only. */
static const struct {
	enum bench_op op;
	bool read_only;
} bench_sequence[] = {
	{ BENCH_MAP, false },
	{ BENCH_PROTECT, true },
	{ BENCH_PROTECT, false },
	{ BENCH_UNMAP, false },
};

/* N pages from va mapped to N frames from pa; an anchor page stays mapped at va + N pages. */
struct bench_range {
	unsigned long va;
	unsigned long pages;
	phys_addr_t pa;
};

/* One size: the range that is timed, and its twin that warms the caches before each call. */
struct bench_area {
	struct bench_range timed;
	struct bench_range twin;
};

struct bench_result {
	u64 cycles[BENCH_SAMPLES_MAX]; /* one timed window each */
	unsigned int nr;
	struct tlb_stats stats; /* of the first recorded window; every later one must match */
};

/* [size][operation][mode] */
static struct bench_result results[BENCH_SIZES][BENCH_OPS][BENCH_MODES];

static pgprot_t bench_prot(bool read_only)
{
	return read_only ? PAGE_KERNEL_RO : PAGE_KERNEL;
}

/* BENCH_MAX_PAGES of RAM from the kernel image on, all inside one RAM region. */
static int bench_frames(phys_addr_t *pa)
{
	phys_addr_t base = ALIGN_DOWN(virt_to_phys(_kernel_start), PAGE_SIZE);
	u64 len = BENCH_MAX_PAGES * PAGE_SIZE;

	for (unsigned int i = 0; i < boot_info.nr_ram; i++) {
		const struct mem_region *r = &boot_info.ram[i];

		if (base >= r->base && base - r->base <= r->size &&
		    r->size - (base - r->base) >= len) {
			*pa = base;
			return 0;
		}
	}
	return -ENOMEM;
}

static int run_op(const struct bench_range *a, enum bench_op op, pgprot_t prot)
{
	switch (op) {
	case BENCH_MAP:
		return map_pages(&init_mm, a->va, a->pa, a->pages, prot);
	case BENCH_PROTECT:
		return protect_pages(&init_mm, a->va, a->pages, prot);
	case BENCH_UNMAP:
		return unmap_pages(&init_mm, a->va, a->pages);
	case BENCH_OPS:
		break;
	}
	return -EINVAL;
}

/*
 * After an operation, untimed: the first and last page are as it promised (-EFAULT
 * otherwise). Never emit a number for an operation that did not do its job.
 */
static int check_range(const struct bench_range *a, bool mapped, pgprot_t prot)
{
	const unsigned long index[2] = { 0, a->pages - 1 };

	for (unsigned int i = 0; i < ARRAY_SIZE(index); i++) {
		unsigned long va = a->va + index[i] * PAGE_SIZE;
		phys_addr_t pa;
		pgprot_t got;
		int err = query_page(&init_mm, va, &pa, &got);

		if (!mapped) {
			if (err != -ENOENT)
				return -EFAULT;
			continue;
		}
		if (err)
			return err;
		if (pa != a->pa + index[i] * PAGE_SIZE || pgprot_val(got) != pgprot_val(prot))
			return -EFAULT;
	}
	return 0;
}

/*
 * Untimed, before a timed call (see Warm start): the same call on the twin range, eagerly,
 * which leaves the twin in the state the timed range is about to reach; then a walk of every
 * table of the timed range.
 */
static int warm_up(const struct bench_area *a, enum bench_op op, pgprot_t prot)
{
	enum lazy_mmu_backend mode = lazy_mmu_get_backend();
	const struct bench_range *r = &a->timed;
	int err;

	lazy_mmu_set_backend(LAZY_MMU_EAGER);
	err = run_op(&a->twin, op, prot);
	lazy_mmu_set_backend(mode);
	for (unsigned long i = 0; i < r->pages; i += PTRS_PER_TABLE)
		(void)pte_lookup(&init_mm, r->va + i * PAGE_SIZE);
	(void)pte_lookup(&init_mm, r->va + (r->pages - 1) * PAGE_SIZE);
	return err;
}

static int bench_step(const struct bench_area *a, const struct bench_mode *mode, enum bench_op op,
		      bool read_only, struct bench_result *r, bool record)
{
	const char *name = mode->name;
	unsigned long pages = a->timed.pages;
	pgprot_t prot = bench_prot(read_only);
	struct tlb_stats stats;
	unsigned long flags;
	u64 t0, t1;
	int err;

	err = warm_up(a, op, prot);
	if (err) {
		printk("bench: ERROR op=%s n=%lu mode=%s: the warm-up call on the twin range "
		       "returned %d\n",
		       bench_op_names[op], pages, name, err);
		return err;
	}

	local_irq_save(flags);
	if (mode->floor)
		pgtable_floor_begin();
	tlb_stats_reset();
	t0 = arch_cycles();
	err = run_op(&a->timed, op, prot);
	t1 = arch_cycles();
	tlb_stats_read(&stats);
	/*
	 * The floor skipped every invalidation: its end makes the TLB agree with the tables
	 * (one full flush) and only then frees the table pages unmap unlinked. Untimed.
	 */
	if (mode->floor)
		pgtable_floor_end();
	local_irq_restore(flags);
	if (err) {
		printk("bench: ERROR op=%s n=%lu mode=%s: the call returned %d\n",
		       bench_op_names[op], pages, name, err);
		return err;
	}
	err = check_range(&a->timed, op != BENCH_UNMAP, prot);
	if (err) {
		printk("bench: ERROR op=%s n=%lu mode=%s: the range is not as the call left it "
		       "(%d)\n",
		       bench_op_names[op], pages, name, err);
		return err;
	}
	if (!record)
		return 0;
	if (r->nr == 0) {
		r->stats = stats;
	} else if (memcmp(&r->stats, &stats, sizeof(stats)) != 0) {
		printk("bench: ERROR op=%s n=%lu mode=%s: the counts differ between rounds\n",
		       bench_op_names[op], pages, name);
		return -EIO;
	}
	if (r->nr >= BENCH_SAMPLES_MAX)
		return -ERANGE;
	r->cycles[r->nr++] = t1 - t0;
	return 0;
}

static void sort_u64(u64 *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		u64 x = v[i];
		unsigned int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/*
 * Fixed point with three decimals: printk has no floating point (the kernel never touches
 * the FPU), so values are carried in thousandths.
 */
#define MILLI_FMT    "%llu.%03llu"
#define MILLI_ARG(v) (unsigned long long)((v) / 1000), (unsigned long long)((v) % 1000)

/* Thousandths of a nanosecond from thousandths of a cycle: x * 1e9 / hz, as x * 1e6 / kHz. */
static int milli_ns(u64 milli_cycles, u64 khz, u64 *out)
{
	if (milli_cycles > ~0ULL / 1000000)
		return -ERANGE;
	*out = milli_cycles * 1000000 / khz;
	return 0;
}

static int print_result(const struct bench_result *r, enum bench_op op, unsigned int m,
			unsigned long pages, u64 khz)
{
	u64 sorted[BENCH_SAMPLES_MAX];
	u64 med, lo, hi, med_ns, lo_ns, hi_ns;
	const struct tlb_stats *s = &r->stats;

	if (r->nr == 0) {
		printk("bench: ERROR op=%s n=%lu mode=%s: no samples\n", bench_op_names[op], pages,
		       bench_modes[m].name);
		return -EIO;
	}
	memcpy(sorted, r->cycles, r->nr * sizeof(sorted[0]));
	sort_u64(sorted, r->nr);
	/* Per page, in thousandths of a cycle; an even count takes the mean of the middle two. */
	if (r->nr % 2)
		med = sorted[r->nr / 2] * 1000 / pages;
	else
		med = (sorted[r->nr / 2 - 1] + sorted[r->nr / 2]) * 500 / pages;
	lo = sorted[0] * 1000 / pages;
	hi = sorted[r->nr - 1] * 1000 / pages;
	if (milli_ns(med, khz, &med_ns) || milli_ns(lo, khz, &lo_ns) || milli_ns(hi, khz, &hi_ns)) {
		printk("bench: ERROR op=%s n=%lu mode=%s: cycle count out of range\n",
		       bench_op_names[op], pages, bench_modes[m].name);
		return -ERANGE;
	}
	printk("bench: op=%s n=%lu mode=%s cycles_per_page=" MILLI_FMT " ns_per_page=" MILLI_FMT
	       " min_ns_per_page=" MILLI_FMT " max_ns_per_page=" MILLI_FMT " samples=%u"
	       " pte_writes=%llu tlbi_page=%llu tlbi_range=%llu tlbi_all=%llu barriers=%llu"
	       " batches=%llu bbm_flushes=%llu ipis_sent=%llu shootdowns=%llu\n",
	       bench_op_names[op], pages, bench_modes[m].name, MILLI_ARG(med), MILLI_ARG(med_ns),
	       MILLI_ARG(lo_ns), MILLI_ARG(hi_ns), r->nr, (unsigned long long)s->pte_writes,
	       (unsigned long long)s->tlbi_page, (unsigned long long)s->tlbi_range,
	       (unsigned long long)s->tlbi_all, (unsigned long long)s->barriers,
	       (unsigned long long)s->batches, (unsigned long long)s->bbm_flushes,
	       (unsigned long long)s->ipis_sent, (unsigned long long)s->shootdowns);
	return 0;
}

/* A fresh test area for pages, and its anchor page. */
static int range_setup(struct bench_range *r, unsigned long pages, phys_addr_t pa)
{
	int err;

	r->va = vm_test_area(pages + 1);
	r->pages = pages;
	r->pa = pa;
	if (!r->va) {
		printk("bench: ERROR n=%lu: no test area left\n", pages);
		return -ENOMEM;
	}
	err = map_pages(&init_mm, r->va + pages * PAGE_SIZE, pa, 1, PAGE_KERNEL_RO);
	if (err) {
		printk("bench: ERROR n=%lu: mapping the anchor page failed (%d)\n", pages, err);
		r->va = 0;
	}
	return err;
}

/*
 * Leaves nothing mapped. After a failure the range may still be mapped, but whole or not
 * at all (map_pages() undoes a partial map), so one unmap cleans it up; -ENOENT from it
 * only means "not mapped".
 */
static int range_teardown(const struct bench_range *r)
{
	int err;

	if (!r->va)
		return 0;
	(void)unmap_pages(&init_mm, r->va, r->pages);
	err = unmap_pages(&init_mm, r->va + r->pages * PAGE_SIZE, 1);
	if (err)
		printk("bench: ERROR n=%lu: unmapping the anchor page failed (%d)\n", r->pages,
		       err);
	return err;
}

/* Tears down n areas, all of them even after a failure; returns err, or the first new one. */
static int areas_teardown(const struct bench_area *areas, unsigned int n, int err)
{
	for (unsigned int i = 0; i < n; i++) {
		int err1 = range_teardown(&areas[i].timed);
		int err2 = range_teardown(&areas[i].twin);

		if (!err)
			err = err1 ? err1 : err2;
	}
	return err;
}

/*
 * Round by round, every size and every mode: a burst of host noise (this is an emulator,
 * often in a VM) then spreads over a few rounds of every size instead of spoiling every
 * round of one size, and the median discards it.
 */
static int bench_rounds(const struct bench_area *areas)
{
	int err = 0;

	for (unsigned int run = 0; run < bench_runs && !err; run++) {
		for (unsigned int s = 0; s < BENCH_SIZES && !err; s++) {
			for (unsigned int m = 0; m < BENCH_MODES && !err; m++) {
				lazy_mmu_set_backend(bench_modes[m].backend);
				for (unsigned int i = 0; i < ARRAY_SIZE(bench_sequence) && !err;
				     i++) {
					enum bench_op op = bench_sequence[i].op;

					err = bench_step(&areas[s], &bench_modes[m], op,
							 bench_sequence[i].read_only,
							 &results[s][op][m], run > 0);
				}
			}
		}
	}
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	return err;
}

static unsigned int bench_runs_from_cmdline(void)
{
	char buf[8];
	unsigned int n = 0;

	if (!cmdline_get(&boot_info, "bench.runs", buf, sizeof(buf)))
		return BENCH_RUNS;
	for (const char *c = buf; *c >= '0' && *c <= '9'; c++)
		n = n * 10 + (unsigned int)(*c - '0');
	return n >= 3 && n <= BENCH_RUNS ? n : BENCH_RUNS;
}

/*
 * The flush-strategy sweep (command line "bench bench.flush"; tests/platform turns it into
 * docs/platform.md). The same protect_pages() call on N live pages, batched, drained either
 * one page at a time (or by range TLBIs where the CPU has them: tlb_flush_ceiling = ~0) or
 * by one full flush (tlb_flush_ceiling = 0). Where the two cross is what the flush ceiling
 * should be on this machine. Same method as above: rounds interleave sizes and modes, the
 * first is a warm-up, each timed call starts warm (warm_up()), counts must repeat exactly.
 * Times are per call, not per page: a full flush costs about the same at any N.
 */
#define FLUSH_RUNS 21

static const unsigned long flush_sizes[] = { 1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128, 512 };
#define FLUSH_SIZES ARRAY_SIZE(flush_sizes)

enum { FLUSH_PAGES, FLUSH_FULL, FLUSH_MODES };
static const char *const flush_mode_names[FLUSH_MODES] = { "pages", "full" };

/* [size][mode]; cycles[] holds per-call counts here. */
static struct bench_result flush_results[FLUSH_SIZES][FLUSH_MODES];

static int flush_step(const struct bench_area *a, unsigned int mode, bool read_only,
		      struct bench_result *r, bool record)
{
	unsigned long saved = tlb_flush_ceiling, pages = a->timed.pages, flags;
	pgprot_t prot = bench_prot(read_only);
	struct tlb_stats stats;
	u64 t0, t1;
	int err;

	err = warm_up(a, BENCH_PROTECT, prot);
	if (err) {
		printk("bench: ERROR flush n=%lu: the warm-up call returned %d\n", pages, err);
		return err;
	}
	tlb_flush_ceiling = mode == FLUSH_FULL ? 0 : ~0UL;
	local_irq_save(flags);
	tlb_stats_reset();
	t0 = arch_cycles();
	err = protect_pages(&init_mm, a->timed.va, pages, prot);
	t1 = arch_cycles();
	tlb_stats_read(&stats);
	local_irq_restore(flags);
	tlb_flush_ceiling = saved;
	if (!err)
		err = check_range(&a->timed, true, prot);
	if (err) {
		printk("bench: ERROR flush n=%lu mode=%s: protect failed or left the range wrong "
		       "(%d)\n",
		       pages, flush_mode_names[mode], err);
		return err;
	}
	if (!record)
		return 0;
	if (r->nr == 0) {
		r->stats = stats;
	} else if (memcmp(&r->stats, &stats, sizeof(stats)) != 0) {
		printk("bench: ERROR flush n=%lu mode=%s: the counts differ between rounds\n",
		       pages, flush_mode_names[mode]);
		return -EIO;
	}
	if (r->nr >= BENCH_SAMPLES_MAX)
		return -ERANGE;
	r->cycles[r->nr++] = t1 - t0;
	return 0;
}

static int flush_print(const struct bench_result *r, unsigned long pages, unsigned int mode,
		       u64 khz)
{
	u64 sorted[BENCH_SAMPLES_MAX], med, med_ns, lo_ns, hi_ns;

	if (r->nr == 0)
		return -EIO;
	memcpy(sorted, r->cycles, r->nr * sizeof(sorted[0]));
	sort_u64(sorted, r->nr);
	med = r->nr % 2 ? sorted[r->nr / 2] * 1000
			: (sorted[r->nr / 2 - 1] + sorted[r->nr / 2]) * 500;
	if (milli_ns(med, khz, &med_ns) || milli_ns(sorted[0] * 1000, khz, &lo_ns) ||
	    milli_ns(sorted[r->nr - 1] * 1000, khz, &hi_ns))
		return -ERANGE;
	printk("bench: flush n=%lu mode=%s ns_per_call=" MILLI_FMT " min_ns=" MILLI_FMT
	       " max_ns=" MILLI_FMT " samples=%u tlbi_page=%llu tlbi_range=%llu tlbi_all=%llu\n",
	       pages, flush_mode_names[mode], MILLI_ARG(med_ns), MILLI_ARG(lo_ns), MILLI_ARG(hi_ns),
	       r->nr, (unsigned long long)r->stats.tlbi_page,
	       (unsigned long long)r->stats.tlbi_range, (unsigned long long)r->stats.tlbi_all);
	return 0;
}

static int bench_flush_run(phys_addr_t pa, u64 hz)
{
	static struct bench_area areas[FLUSH_SIZES];
	unsigned int lines = 0;
	int err = 0;

	printk("bench: flush sweep runs=%u warmup=1\n", FLUSH_RUNS);
	for (unsigned int i = 0; i < FLUSH_SIZES && !err; i++) {
		err = range_setup(&areas[i].timed, flush_sizes[i], pa);
		if (!err)
			err = range_setup(&areas[i].twin, flush_sizes[i], pa);
		/* protect needs live pages: both ranges are mapped for the whole sweep. */
		if (!err)
			err =
			    map_pages(&init_mm, areas[i].timed.va, pa, flush_sizes[i], PAGE_KERNEL);
		if (!err)
			err =
			    map_pages(&init_mm, areas[i].twin.va, pa, flush_sizes[i], PAGE_KERNEL);
	}
	for (unsigned int run = 0; run < FLUSH_RUNS && !err; run++)
		for (unsigned int s = 0; s < FLUSH_SIZES && !err; s++)
			for (unsigned int m = 0; m < FLUSH_MODES && !err; m++)
				for (unsigned int ro = 0; ro < 2 && !err; ro++)
					err = flush_step(&areas[s], m, ro == 0,
							 &flush_results[s][m], run > 0);
	for (unsigned int s = 0; s < FLUSH_SIZES && !err; s++) {
		for (unsigned int m = 0; m < FLUSH_MODES && !err; m++) {
			err = flush_print(&flush_results[s][m], flush_sizes[s], m, hz / 1000);
			lines++;
		}
	}
	err = areas_teardown(areas, FLUSH_SIZES, err);
	if (err) {
		printk("bench: ERROR flush sweep failed (%d)\n", err);
		return err;
	}
	printk("bench: end lines=%u\n", lines);
	return 0;
}

/*
 * step_run() takes a void (*)(void *); the helpers take no argument. Calling them through
 * the cast is safe on both ABIs (the unused argument register is simply ignored) and lets
 * the count be exactly the helper's own instructions, with no wrapper around it. The cast
 * through void (*)(void) is the form GCC accepts as a deliberate function-type change.
 */
static void (*as_step_fn(void (*fn)(void)))(void *)
{
	return (void (*)(void *))(void (*)(void))fn;
}

/*
 * The fewest steps of HOTPATH_RUNS runs. Interrupts stay on (the irq points are part of the
 * answer), and a real tick that lands inside an exclusive load/store sequence - the arm64
 * counter increment, which the harness runs unstepped - makes its store fail and the loop
 * run again: a retry only ever adds instructions, so the smallest count is the path's.
 */
int lazy_mmu_hotpath_count(struct lazy_mmu_hotpath *out)
{
	enum lazy_mmu_backend mode = lazy_mmu_get_backend();
	struct step_result en = { ~0UL, 0 }, dis = { ~0UL, 0 }, r;
	int err = 0;

	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	lazy_mmu_mode_enable();
	for (unsigned int i = 0; i < HOTPATH_RUNS && !err; i++) {
		err = step_run(as_step_fn(lazy_mmu_mode_enable), NULL, NULL, NULL, &r);
		if (err)
			break;
		if (r.steps < en.steps)
			en = r;
		err = step_run(as_step_fn(lazy_mmu_mode_disable), NULL, NULL, NULL, &r);
		if (err) {
			lazy_mmu_mode_disable(); /* the nested level is still open */
			break;
		}
		if (r.steps < dis.steps)
			dis = r;
	}
	lazy_mmu_mode_disable();
	lazy_mmu_set_backend(mode);
	if (err)
		return err;
	out->enable = en.steps;
	out->disable = dis.steps;
	out->pair = en.steps + dis.steps;
	out->enable_irq_points = en.irq_points;
	out->disable_irq_points = dis.irq_points;
	return 0;
}

/* One line tests/bench reads into the "hot path" table of docs/bench.md. */
static int bench_hotpath(void)
{
	struct lazy_mmu_hotpath h;
	int err = lazy_mmu_hotpath_count(&h);

	if (err) {
		printk("bench: ERROR hotpath: step_run() returned %d\n", err);
		return err;
	}
	printk("bench: hotpath name=lazy_mmu_nested enable=%lu disable=%lu pair=%lu "
	       "enable_irq_points=%lu disable_irq_points=%lu\n",
	       h.enable, h.disable, h.pair, h.enable_irq_points, h.disable_irq_points);
	return 0;
}

int bench_run(void)
{
	static struct bench_area areas[BENCH_SIZES];
	u64 hz = arch_cycles_hz();
	unsigned int lines = 0;
	phys_addr_t pa;
	int err;

	printk("bench: begin\n");
	arch_describe_cpu();
	bench_runs = bench_runs_from_cmdline();
	if (hz < 1000) {
		printk("bench: ERROR the cycle counter rate (%llu Hz) is unusable\n",
		       (unsigned long long)hz);
		return -EINVAL;
	}
	err = bench_frames(&pa);
	if (err) {
		printk("bench: ERROR no RAM region holds %lu pages from the kernel image on\n",
		       BENCH_MAX_PAGES);
		return err;
	}
	printk("bench: cycles_hz=%llu flush_ceiling=%lu range_tlbi=%d runs=%u warmup=1 "
	       "cpus=%u frames=%#llx\n",
	       (unsigned long long)hz, tlb_flush_ceiling, arch_has_range_tlbi() ? 1 : 0, bench_runs,
	       num_online_cpus(), (unsigned long long)pa);
	if (cmdline_has(&boot_info, "bench.flush"))
		return bench_flush_run(pa, hz);

	for (unsigned int i = 0; i < BENCH_SIZES && !err; i++) {
		err = range_setup(&areas[i].timed, bench_sizes[i], pa);
		if (!err)
			err = range_setup(&areas[i].twin, bench_sizes[i], pa);
	}
	if (!err)
		err = bench_hotpath();
	if (!err)
		err = bench_rounds(areas);
	for (unsigned int s = 0; s < BENCH_SIZES && !err; s++) {
		for (unsigned int op = 0; op < BENCH_OPS && !err; op++) {
			for (unsigned int m = 0; m < BENCH_MODES && !err; m++) {
				err = print_result(&results[s][op][m], op, m, bench_sizes[s],
						   hz / 1000);
				lines++;
			}
		}
	}
	err = areas_teardown(areas, BENCH_SIZES, err);
	if (!err)
		err = bench_user_run(hz, &lines);
	if (err)
		return err;
	printk("bench: end lines=%u\n", lines);
	return 0;
}
