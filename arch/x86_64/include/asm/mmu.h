/* x86-64 per-address-space MMU state: the flush generation that PCID slots are checked against. */
#pragma once

#include <lib/types.h>

/*
 * tlb_gen counts the flushes of this mm's translations (arch_tlb_flush_batch() adds 1 to it,
 * atomically, after the entry stores and before it looks at mm->cpumask). A CPU remembers,
 * per PCID slot, the tlb_gen it had caught up with (asm/pcid.h); a slot that is behind must
 * be flushed before the mm runs under it again. Without PCIDs every switch flushes anyway
 * and the counter only closes the race of a shootdown that arrives mid-switch (mm.c).
 */
typedef struct {
	u64 tlb_gen;
} mm_context_t;
