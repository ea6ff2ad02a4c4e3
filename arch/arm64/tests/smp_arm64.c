/*
 * arm64 across CPUs: a local-only TLBI (vale1) leaves another CPU reading the old frame; the
 * broadcast forms the backend uses reach every CPU with no IPI at all.
 */
#include <asm/barrier.h>
#include <asm/pgtable.h>
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
	return 0xa64500000000ULL + i;
}

static phys_addr_t tagged_frame(unsigned int i)
{
	phys_addr_t pa = alloc_frame();

	if (pa)
		*(u64 *)phys_to_virt(pa) = tag_of(i);
	return pa;
}

/*
 * Break-before-make done by hand with the LOCAL invalidation: clear, dsb, tlbi vale1 (this
 * CPU only), dsb nsh (waits for this CPU only), then the new entry and its publishing
 * barrier. Correct on a uniprocessor; wrong on SMP, which is the point.
 */
static void remap_with_local_tlbi(unsigned long va, pte_t *ptep, phys_addr_t pa)
{
	WRITE_ONCE(*ptep, __pte(0));
	dsb(ishst);
	tlbi_vale1(tlbi_va_operand(va));
	dsb(nsh);
	isb();
	WRITE_ONCE(*ptep, mk_pte(pa, PAGE_KERNEL));
	dsb(ishst);
	isb();
}

static void local_tlbi_leaves_another_cpu_stale(struct kunit *test)
{
	static struct smp_probe p;
	struct tlb_stats s;
	unsigned long va;
	phys_addr_t a, b;
	pte_t *ptep;
	s64 stale = -2;
	unsigned int attempt;

	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: needs SMP=N with N > 1 (arm64-max-smp4)");
	va = vm_test_area(1);
	a = tagged_frame(0);
	b = tagged_frame(1);
	KUNIT_ASSERT_TRUE(test, va && a && b);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, va, a, 1, PAGE_KERNEL), 0);
	ptep = pte_lookup(&init_mm, va);

	/* A colliding access can evict CPU 1's entry by chance: a few attempts. */
	for (attempt = 1; attempt <= 5 && stale != (s64)tag_of(0); attempt++) {
		KUNIT_ASSERT_TRUE(test, smp_probe_start(&p, 1, va));
		KUNIT_EXPECT_EQ(test, p.before, tag_of(0));
		remap_with_local_tlbi(va, ptep, b);
		KUNIT_ASSERT_TRUE(test, smp_probe_finish(&p));
		stale = p.after;
		/* Put things right: every CPU drops everything, then back to a. */
		arch_flush_tlb_all();
		pte_update(&init_mm, va, ptep, mk_pte(a, PAGE_KERNEL));
	}
	kunit_info(test, "tlbi vale1 on CPU 0: CPU 1 then read %s (attempt %u)",
		   stale == (s64)tag_of(0) ? "the OLD frame" : "the new frame", attempt - 1);
	KUNIT_EXPECT_EQ(test, stale, tag_of(0));

	/* The real path: pte_update() in a section, broadcast TLBI at disable(). No IPI. */
	KUNIT_ASSERT_TRUE(test, smp_probe_start(&p, 1, va));
	tlb_stats_reset();
	lazy_mmu_mode_enable();
	pte_update(&init_mm, va, ptep, mk_pte(b, PAGE_KERNEL));
	lazy_mmu_mode_disable();
	tlb_stats_read(&s);
	KUNIT_ASSERT_TRUE(test, smp_probe_finish(&p));
	KUNIT_EXPECT_EQ(test, p.after, tag_of(1));
	KUNIT_EXPECT_EQ(test, s.ipis_sent, 0);
	KUNIT_EXPECT_EQ(test, s.shootdowns, 0);
	KUNIT_EXPECT_GT(test, s.tlbi_page + s.tlbi_range + s.tlbi_all, 0);

	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, va, 1), 0);
	free_frame(a);
	free_frame(b);
}

static struct kunit_case smp_arm64_cases[] = { KUNIT_CASE(local_tlbi_leaves_another_cpu_stale),
					       {} };

static struct kunit_suite smp_arm64_suite = {
	.name = "smp_arm64",
	.test_cases = smp_arm64_cases,
};
kunit_test_suite(smp_arm64_suite);
