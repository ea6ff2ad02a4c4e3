/* The in-kernel benchmark (kernel/bench.c), run instead of the tests by the cmdline word "bench". */
#pragma once

#include <lib/types.h>

/*
 * Times map, protect and unmap of 1..4096 pages under the eager, batched and floor
 * backends, and prints one "bench: op=... n=... mode=..." line per measurement (the format
 * tests/bench parses). Returns 0, or a negative errno after printing a "bench: ERROR" line:
 * a failed run never prints numbers for the measurement that failed.
 * With "bench.flush" also on the command line it runs the flush-strategy sweep instead
 * ("bench: flush n=... mode=pages|full ..." lines; tests/platform -> docs/platform.md).
 */
int bench_run(void);

/*
 * The user rows (kernel/bench_user.c): mprotect, munmap and fork of N touched pages of a
 * user address space, eager vs batched, one "bench: user op=..." line each; adds the
 * number of lines printed to *lines. 0 or a negative errno (after a "bench: ERROR" line).
 */
int bench_user_run(u64 hz, unsigned int *lines);

/*
 * The lazy MMU hot path, counted by single-stepping (kernel/step.h): instructions retired
 * by a nested lazy_mmu_mode_enable() and by the matching lazy_mmu_mode_disable(), inside an
 * outer section the caller has NOT opened (this opens and closes it), with the batched
 * backend and an empty batch, so neither call changes any arch state (the nested disable()
 * does call arch_flush_lazy_mmu_mode(), which finds nothing to do: counted too, as Linux's
 * nested disable does the same). Each helper is stepped as a function of its own (an
 * out-of-line copy when the header makes it inline), so each count includes its ret and
 * every callee; inlined into a caller, the two rets go, the compiler may share address
 * set-up between the two, and the caller may pay a frame for the slow-path calls: the
 * out-of-line count is the one that does not depend on the caller.
 * pair = enable + disable. Returns 0, or a negative errno from step_run().
 */
struct lazy_mmu_hotpath {
	unsigned long enable;
	unsigned long disable;
	unsigned long pair;
	unsigned long enable_irq_points;  /* of those, instructions after which an interrupt */
	unsigned long disable_irq_points; /* could arrive (interrupts enabled) */
};

/* Each helper is stepped this many times, inside one outer section; the fewest steps count. */
#define HOTPATH_RUNS 3

int lazy_mmu_hotpath_count(struct lazy_mmu_hotpath *out);
