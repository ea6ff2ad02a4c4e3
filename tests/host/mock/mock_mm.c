/* Host mock of the arch TLB contract: records what a flush would have issued. */
#include <asm/lazy_mmu.h>
#include <kernel/task.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#include <string.h>

bool mock_arm64_rules;
/* The last batch handed to the arch, as it was: tests look inside. */
struct tlb_batch mock_last_batch;
unsigned long mock_flushes;
/* frames_free() when the arch was asked to flush: table pages must still be allocated. */
unsigned long mock_free_at_flush;

/*
 * An x86-like backend: one page invalidation per queued page, or one full flush when the
 * generic code said so (flush_all, which includes a batch over the ceiling); with arm64 rules, a barrier pair when only new entries await publication.
 */
void arch_tlb_flush_batch(const struct tlb_batch *b)
{
	mock_last_batch = *b;
	mock_flushes++;
	mock_free_at_flush = frames_free();
	if (b->flush_all) {
		count_tlb_event(tlbi_all);
	} else if (b->nr_pages) {
		for (unsigned long i = 0; i < b->nr_pages; i++)
			count_tlb_event(tlbi_page);
	} else if (b->sync_pending) {
		count_tlb_event(barriers);
	}
}

void arch_flush_tlb_all(void)
{
	count_tlb_event(tlbi_all);
}

unsigned long arch_default_flush_ceiling(void)
{
	return 33;
}

bool arch_has_range_tlbi(void)
{
	return false;
}

/* The mock hooks drain the task's batch as both real backends do on flush and leave. */
void mock_lazy_mmu_hook_extra(enum mock_hook hook)
{
	if (hook == MOCK_HOOK_FLUSH || hook == MOCK_HOOK_LEAVE)
		tlb_batch_flush(&current->tlb_batch);
}
