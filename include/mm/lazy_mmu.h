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
 * or pause at 255) warns once and leaves the state exactly as it was. The checks are made
 * in this order: interrupt context, then paused, then misuse - so disable() at 0 while
 * paused is a silent no-op, as in Linux.
 *
 * The arch hooks are arch_enter_lazy_mmu_mode(), arch_leave_lazy_mmu_mode() and
 * arch_flush_lazy_mmu_mode(): an arch may define them in <asm/lazy_mmu.h> (and #define their
 * names); a missing enter hook is a no-op, a missing leave or flush hook drains the task's
 * TLB batch (below). A hook is called with interrupts
 * disabled, after the counts have changed: it sees is_lazy_mmu_mode_active() as it will be
 * when the helper returns (true inside enter and flush, false inside leave).
 */
#pragma once

#include <lib/types.h>
#include <mm/tlb_batch.h>
#if __has_include(<asm/lazy_mmu.h>)
#include <asm/lazy_mmu.h>
#endif

struct lazy_mmu_state {
	u8 enable_count;
	u8 pause_count;
};

void lazy_mmu_mode_enable(void);
void lazy_mmu_mode_disable(void);
void lazy_mmu_mode_pause(void);
void lazy_mmu_mode_resume(void);
/* In a section that is not paused, and not in interrupt context. */
bool is_lazy_mmu_mode_active(void);

/*
 * Which maintenance policy pte_update() follows, switchable at run time so that tests and
 * benchmarks compare them in one boot:
 *   LAZY_MMU_BATCHED  defer inside active sections (the real thing; the default)
 *   LAZY_MMU_EAGER    complete every update at once, sections or not
 *   LAZY_MMU_FLOOR    no invalidation and no barrier at all: UNSAFE, benchmarks only, to
 *                     measure the bare PTE stores that no batching can go below
 *
 * Switching inside an active section first flushes it (arch_flush_lazy_mmu_mode()), so
 * nothing queued under the old policy is left behind; the section stays open. Switching
 * from interrupt context, or to a value that is not a backend, warns once and is refused.
 */
enum lazy_mmu_backend {
	LAZY_MMU_BATCHED,
	LAZY_MMU_EAGER,
	LAZY_MMU_FLOOR,
};

void lazy_mmu_set_backend(enum lazy_mmu_backend backend);
enum lazy_mmu_backend lazy_mmu_get_backend(void);
/* "batched", "eager" or "floor". */
const char *lazy_mmu_backend_name(enum lazy_mmu_backend backend);

/*
 * Teaching aid: when on, every helper call (and every backend switch) logs one line with
 * the arch hook it called and the counts after it, indented by nesting depth:
 *
 *   lazy_mmu: enable()        -> arch_enter   enable=1 pause=0
 *   lazy_mmu:   enable()      -> (none)       enable=2 pause=0
 *
 * Lines go to the console as KTAP diagnostics ("    # lazy_mmu: ..."), or, after
 * lazy_mmu_trace_to(buf, size), are appended to buf instead (without the "    # ", each
 * ending in "\n", always NUL-terminated, silently truncated when full) so a test can
 * compare them with the expected text. lazy_mmu_trace_to(NULL, 0) goes back to the console.
 * Both settings are global (one CPU for now).
 */
void lazy_mmu_set_trace(bool on);
void lazy_mmu_trace_to(char *buf, size_t size);

#ifndef arch_enter_lazy_mmu_mode
static inline void arch_enter_lazy_mmu_mode(void)
{
}
#endif
/*
 * Leaving and flushing are the same on every arch that batches in the task's struct
 * tlb_batch (both of ours): drain it. Leave because updates must be in effect once the
 * section ends (or pauses), flush because a nested disable() promises the same while the mode
 * stays on. Entering needs no work: pte_update() starts queueing as soon as the generic layer
 * says the section is active. An arch with other needs defines its own hook (and its name).
 */
#ifndef arch_leave_lazy_mmu_mode
static inline void arch_leave_lazy_mmu_mode(void)
{
	tlb_batch_flush_current();
}
#endif
#ifndef arch_flush_lazy_mmu_mode
static inline void arch_flush_lazy_mmu_mode(void)
{
	tlb_batch_flush_current();
}
#endif
