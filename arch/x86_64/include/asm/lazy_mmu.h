/* x86-64's lazy MMU hooks: the batch lives in the task; these drain it (arch/x86_64/tlb.c). */
#pragma once

/*
 * Entering needs no work: pte_update() starts queueing as soon as the generic layer says
 * the section is active. Flushing and leaving both drain the task's batch: leave because
 * updates must be in effect once the section ends (or pauses), flush because a nested
 * disable() promises the same while the mode stays on.
 */
void arch_flush_lazy_mmu_mode(void);
void arch_leave_lazy_mmu_mode(void);
#define arch_flush_lazy_mmu_mode arch_flush_lazy_mmu_mode
#define arch_leave_lazy_mmu_mode arch_leave_lazy_mmu_mode
/* The flush hook only drains the task's batch: an empty batch needs no call (the fast path). */
#define LAZY_MMU_GENERIC_FLUSH
