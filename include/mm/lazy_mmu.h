/*
 * The generic lazy MMU mode (mm/lazy_mmu.c), with Linux's names and semantics.
 *
 * Inside a section, page-table updates may be batched: their TLB invalidations and barriers
 * are deferred until the section is flushed. The state is per task and nests:
 *
 *   lazy_mmu_mode_enable()   enable_count++;  0 -> 1 enters the arch mode
 *   lazy_mmu_mode_disable()  --enable_count;  reaching 0 leaves the arch mode, otherwise
 *                            flushes it: after ANY disable() every earlier update is in effect
 *   lazy_mmu_mode_pause()    pause_count++;   0 -> 1 while enabled leaves the arch mode
 *   lazy_mmu_mode_resume()   --pause_count;   reaching 0 while enabled re-enters it
 *
 * enable()/disable() do nothing while paused; all four do nothing in interrupt context
 * (updates made there always take effect at once). Misuse (disable or resume at 0, enable
 * or pause at 255) warns once and leaves the state exactly as it was.
 *
 * The arch hooks are arch_enter_lazy_mmu_mode(), arch_leave_lazy_mmu_mode() and
 * arch_flush_lazy_mmu_mode(): an arch defines them in <asm/lazy_mmu.h> (and #defines their
 * names); a missing hook is a no-op.
 */
#pragma once

#include <lib/types.h>
#include <asm/lazy_mmu.h>

struct lazy_mmu_state {
	u8 enable_count;
	u8 pause_count;
};

void lazy_mmu_mode_enable(void);
void lazy_mmu_mode_disable(void);
void lazy_mmu_mode_pause(void);
void lazy_mmu_mode_resume(void);
bool is_lazy_mmu_mode_active(void);

/*
 * Which maintenance policy pte_update() follows, switchable at run time so that tests and
 * benchmarks compare them in one boot:
 *   LAZY_MMU_BATCHED  defer inside active sections (the real thing; the default)
 *   LAZY_MMU_EAGER    complete every update at once, sections or not
 *   LAZY_MMU_FLOOR    no invalidation and no barrier at all: UNSAFE, benchmarks only, to
 *                     measure the bare PTE stores that no batching can go below
 */
enum lazy_mmu_backend {
	LAZY_MMU_BATCHED,
	LAZY_MMU_EAGER,
	LAZY_MMU_FLOOR,
};

void lazy_mmu_set_backend(enum lazy_mmu_backend backend);
enum lazy_mmu_backend lazy_mmu_get_backend(void);

/* Teaching aid: when on, every helper and arch-hook call prints the counts after it. */
void lazy_mmu_set_trace(bool on);

#ifndef arch_enter_lazy_mmu_mode
static inline void arch_enter_lazy_mmu_mode(void)
{
}
#endif
#ifndef arch_leave_lazy_mmu_mode
static inline void arch_leave_lazy_mmu_mode(void)
{
}
#endif
#ifndef arch_flush_lazy_mmu_mode
static inline void arch_flush_lazy_mmu_mode(void)
{
}
#endif
