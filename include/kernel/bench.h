/* The in-kernel benchmark (kernel/bench.c), run instead of the tests by the cmdline word "bench". */
#pragma once

/*
 * Times map, protect and unmap of 1..4096 pages under the eager, batched and floor
 * backends, and prints one "bench: op=... n=... mode=..." line per measurement (the format
 * tests/bench parses). Returns 0, or a negative errno after printing a "bench: ERROR" line:
 * a failed run never prints numbers for the measurement that failed.
 */
int bench_run(void);

/*
 * The lazy MMU hot path, counted by single-stepping (kernel/step.h): instructions retired
 * by a nested lazy_mmu_mode_enable() and by the matching lazy_mmu_mode_disable(), inside an
 * outer section the caller has NOT opened (this opens and closes it), with the batched
 * backend and an empty batch, so neither call changes any arch state (the nested disable()
 * does call arch_flush_lazy_mmu_mode(), which finds nothing to do: counted too, as Linux's
 * nested disable does the same). Each count includes the helper's own ret and every callee.
 * pair = enable + disable. Returns 0, or a negative errno from step_run().
 */
struct lazy_mmu_hotpath {
	unsigned long enable;
	unsigned long disable;
	unsigned long pair;
	unsigned long enable_irq_points;  /* of those, instructions after which an interrupt */
	unsigned long disable_irq_points; /* could arrive (interrupts enabled) */
};

int lazy_mmu_hotpath_count(struct lazy_mmu_hotpath *out);
