/* The flush-instruction counters: sum and reset over every CPU's struct tlb_stats. */
#include <mm/tlb_stats.h>
#include <kernel/cpu.h>

/*
 * struct tlb_stats is nothing but u64 counters, so it is summed and reset as an array of
 * them: a counter added to the struct needs no change here.
 */
_Static_assert(sizeof(struct tlb_stats) % sizeof(u64) == 0,
	       "struct tlb_stats must hold only u64 counters");
#define TLB_STATS_COUNTERS (sizeof(struct tlb_stats) / sizeof(u64))

static u64 *counters(struct tlb_stats *s)
{
	return (u64 *)s;
}

/*
 * Relaxed atomic loads pair with the relaxed adds of count_tlb_event(): each counter is
 * read whole, never torn, while other CPUs keep counting. The sum is not a snapshot of one
 * instant - tests read it while nothing else is running.
 */
void tlb_stats_read(struct tlb_stats *s)
{
	u64 *sum = counters(s);

	for (size_t i = 0; i < TLB_STATS_COUNTERS; i++)
		sum[i] = 0;
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		const u64 *c = counters(&cpus[cpu].tlb_stats);

		for (size_t i = 0; i < TLB_STATS_COUNTERS; i++)
			sum[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
	}
	arch_tlb_stats_derive(s);
}

void tlb_stats_reset(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		u64 *c = counters(&cpus[cpu].tlb_stats);

		for (size_t i = 0; i < TLB_STATS_COUNTERS; i++)
			__atomic_store_n(&c[i], 0, __ATOMIC_RELAXED);
	}
}
