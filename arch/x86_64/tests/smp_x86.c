/*
 * x86-64 shootdowns on real (emulated) CPUs: a skipped IPI leaves another CPU reading the
 * old frame; the message carries the ranges or the full-flush flag; a silent CPU is named.
 */
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <kernel/irq.h>
#include <kernel/smp.h>
#include <kunit/probe.h>
#include <kunit/smp_probe.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>

static u64 tag_of(unsigned int i)
{
	return 0x86a900000000ULL + i;
}

static phys_addr_t tagged_frame(unsigned int i)
{
	phys_addr_t pa = alloc_frame();

	if (pa)
		*(u64 *)phys_to_virt(pa) = tag_of(i);
	return pa;
}

static void need_smp(struct kunit *test)
{
	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: needs SMP=N with N > 1 (x86_64-pvh-smp4)");
}

/* Remaps va from a to b in a lazy section while CPU 1 holds a's translation; its view after. */
static s64 remote_view_after_remap(struct kunit *test, unsigned long va, phys_addr_t b,
				   bool skip_ipis)
{
	static struct smp_probe p;

	KUNIT_ASSERT_TRUE(test, smp_probe_start(&p, 1, va));
	KUNIT_EXPECT_EQ(test, p.before, tag_of(0));
	WRITE_ONCE(x86_shootdown_skip_ipis, skip_ipis);
	lazy_mmu_mode_enable();
	pte_update(&init_mm, va, pte_lookup(&init_mm, va), mk_pte(b, PAGE_KERNEL));
	lazy_mmu_mode_disable();
	WRITE_ONCE(x86_shootdown_skip_ipis, false);
	KUNIT_ASSERT_TRUE(test, smp_probe_finish(&p));
	return p.after;
}

/*
 * The demonstration: the same remap with the shootdown skipped (a test-only switch) leaves
 * CPU 1 reading the OLD frame after disable() - invlpg only ever acted on CPU 0. With the
 * real path CPU 1 reads the new one, and it took exactly one NMI to get there.
 */
static void skipped_shootdown_leaves_another_cpu_stale(struct kunit *test)
{
	struct x86_shootdown_stats before, after;
	unsigned long va;
	phys_addr_t a, b;
	s64 stale = -2, fresh;
	unsigned int attempt;

	need_smp(test);
	va = vm_test_area(1);
	a = tagged_frame(0);
	b = tagged_frame(1);
	KUNIT_ASSERT_TRUE(test, va && a && b);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, a, 1, PAGE_KERNEL), 0);

	/* A colliding access can evict CPU 1's entry by chance: a few attempts. */
	for (attempt = 1; attempt <= 5 && stale != (s64)tag_of(0); attempt++) {
		stale = remote_view_after_remap(test, va, b, true);
		/* Put things right: back to a, with a real shootdown. */
		pte_update(&init_mm, va, pte_lookup(&init_mm, va), mk_pte(a, PAGE_KERNEL));
	}
	kunit_info(test, "no IPI: CPU 1 read %s after disable() (attempt %u)",
		   stale == (s64)tag_of(0) ? "the OLD frame" : "the new frame", attempt - 1);
	KUNIT_EXPECT_EQ(test, stale, tag_of(0));

	x86_shootdown_stats_cpu(1, &before);
	fresh = remote_view_after_remap(test, va, b, false);
	x86_shootdown_stats_cpu(1, &after);
	KUNIT_EXPECT_EQ(test, fresh, tag_of(1));
	KUNIT_EXPECT_EQ(test, after.nmis - before.nmis, 1);
	KUNIT_EXPECT_EQ(test, after.pages - before.pages, 1);

	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(a);
	free_frame(b);
}

/*
 * What travels with the IPI: up to the ceiling, the ranges (each target invalidates those
 * pages); above it, the full-flush flag (each target flushes everything, page by page never).
 */
static void shootdown_carries_the_ranges_or_the_full_flag(struct kunit *test)
{
	const unsigned int n = 6, others = num_online_cpus() - 1;
	unsigned long va, ceiling = tlb_flush_ceiling;
	struct x86_shootdown_stats s0, s1, s2;
	phys_addr_t pa;

	need_smp(test);
	va = vm_test_area(n);
	pa = tagged_frame(0);
	KUNIT_ASSERT_TRUE(test, va && pa);
	for (unsigned int i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va + i * PAGE_SIZE, pa, 1, PAGE_KERNEL),
				0);

	x86_shootdown_stats_read(&s0);
	KUNIT_EXPECT_EQ(test, protect_pages(&init_mm, va, n, PAGE_KERNEL_RO), 0);
	x86_shootdown_stats_read(&s1);
	tlb_flush_ceiling = n - 1; /* the same batch is now "too big" */
	KUNIT_EXPECT_EQ(test, protect_pages(&init_mm, va, n, PAGE_KERNEL), 0);
	x86_shootdown_stats_read(&s2);
	tlb_flush_ceiling = ceiling;

	KUNIT_EXPECT_EQ(test, s1.pages - s0.pages, n * others);
	KUNIT_EXPECT_EQ(test, s1.full_flushes - s0.full_flushes, 0);
	KUNIT_EXPECT_EQ(test, s2.pages - s1.pages, 0);
	KUNIT_EXPECT_EQ(test, s2.full_flushes - s1.full_flushes, others);
	kunit_info(test,
		   "%u pages: targets invalidated %llu pages; over the ceiling: %llu full "
		   "flushes",
		   n, (unsigned long long)(s1.pages - s0.pages),
		   (unsigned long long)(s2.full_flushes - s1.full_flushes));
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, n), 0);
	free_frame(pa);
}

/*
 * A CPU that never answers: the initiator names it and the batch (the real path then
 * panics; this test-only variant waits 100 ms, reports, and lets the CPU answer after all).
 */
static void a_silent_cpu_is_reported(struct kunit *test)
{
	struct tlb_batch b;
	unsigned long va = vm_test_area(1);

	need_smp(test);
	tlb_batch_init(&b);
	tlb_batch_add(&b, va);
	tlb_batch_add(&b, va + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, x86_shootdown_test_unacked(&b, 100), 0); /* everyone answers */
	WRITE_ONCE(x86_shootdown_deaf_cpu, (int)num_online_cpus() - 1);
	KUNIT_EXPECT_EQ(test, x86_shootdown_test_unacked(&b, 100), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(x86_shootdown_deaf_cpu), -1);
}

static struct kunit_case smp_x86_cases[] = { KUNIT_CASE(skipped_shootdown_leaves_another_cpu_stale),
					     KUNIT_CASE(
						 shootdown_carries_the_ranges_or_the_full_flag),
					     KUNIT_CASE(a_silent_cpu_is_reported),
					     {} };

static struct kunit_suite smp_x86_suite = {
	.name = "smp_x86",
	.test_cases = smp_x86_cases,
};
kunit_test_suite(smp_x86_suite);
