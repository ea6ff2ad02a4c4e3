/* kmain: the generic half of boot, from a working console to the test verdict. */
#include <kernel/arch.h>
#include <kernel/bench.h>
#include <kernel/boot_info.h>
#include <kernel/console.h>
#include <kernel/exit.h>
#include <kernel/irq.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kernel/task.h>
#include <mm/mm.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/tlb_batch.h>

/*
 * After every case: a case that leaves a lazy MMU section open, another backend selected
 * or interrupts masked fails, and the state is repaired so the next case starts clean. A
 * case that leaves kernel threads running or preemption disabled fails too (the sched
 * suites' .exit stops their threads before this runs).
 */
static void check_case_left_clean(struct kunit *test)
{
	struct lazy_mmu_state *s = &current->lazy_mmu_state;
	struct sched_stats sched;

	if (s->enable_count || s->pause_count) {
		kunit_fail(test, false, __FILE__, __LINE__,
			   "case left lazy MMU mode on: enable=%u pause=%u", s->enable_count,
			   s->pause_count);
		while (s->pause_count)
			lazy_mmu_mode_resume();
		while (s->enable_count)
			lazy_mmu_mode_disable();
	}
	if (lazy_mmu_get_backend() != LAZY_MMU_BATCHED) {
		kunit_fail(test, false, __FILE__, __LINE__, "case left the %s backend selected",
			   lazy_mmu_backend_name(lazy_mmu_get_backend()));
		lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	}
	if (__atomic_load_n(&init_mm.tlb_flush_pending, __ATOMIC_RELAXED)) {
		/* A leaked count would send every later make into a needless flush. */
		kunit_fail(test, false, __FILE__, __LINE__, "case left %ld batch(es) pending",
			   init_mm.tlb_flush_pending);
		__atomic_store_n(&init_mm.tlb_flush_pending, 0, __ATOMIC_RELAXED);
	}
	if (irqs_disabled()) {
		kunit_fail(test, false, __FILE__, __LINE__, "case left interrupts masked");
		local_irq_enable();
	}
	sched_stats_read(&sched);
	if (sched.tasks || current->preempt_count)
		kunit_fail(test, false, __FILE__, __LINE__,
			   "case left %llu kernel threads running, preempt_count %u",
			   (unsigned long long)sched.tasks, current->preempt_count);
}

__noreturn void kmain(void)
{
	char glob[64];
	int failed;

	printk("lazymmu: booted via %s, cmdline \"%s\"\n", boot_info.protocol, boot_info.cmdline);
	arch_describe_cpu();
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		printk("lazymmu: ram %#llx-%#llx\n", (unsigned long long)boot_info.ram[i].base,
		       (unsigned long long)(boot_info.ram[i].base + boot_info.ram[i].size - 1));

	/*
	 * Never hand out the kernel image, nor the first MiB (x86's BIOS data, real-mode IVT
	 * and page 0; below RAM on arm64, so a no-op there).
	 */
	boot_add_region(boot_info.reserved, &boot_info.nr_reserved, 0, 0x100000);
	boot_add_region(boot_info.reserved, &boot_info.nr_reserved, virt_to_phys(_kernel_start),
			virt_to_phys(_kernel_end) - virt_to_phys(_kernel_start));
	frames_init(&boot_info);
	task_init_boot();
	mm_init();
	sched_init(); /* the boot flow is CPU 0's first task; the suites run on it */
	arch_irq_init();
	local_irq_enable();
	smp_init();

	/* "bench" on the command line: the benchmarks instead of the tests (make bench). */
	if (cmdline_has(&boot_info, "bench"))
		kernel_exit(bench_run() ? EXIT_TESTS_FAILED : EXIT_PASS);

	kunit_post_case = check_case_left_clean;
	failed = kunit_run_all(
	    cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)) ? glob : NULL);
	/* "console" (make run, make debug): the teaching prompt after the suite; it exits. */
	if (cmdline_has(&boot_info, "console"))
		console_run(failed ? EXIT_TESTS_FAILED : EXIT_PASS);
	kernel_exit(failed ? EXIT_TESTS_FAILED : EXIT_PASS);
}
