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
#include <kernel/irq.h>
#include <kernel/task.h>
#include <mm/lazy_mmu_types.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#if __has_include(<asm/lazy_mmu.h>)
#include <asm/lazy_mmu.h>
#endif

static inline void lazy_mmu_mode_enable(void);
static inline void lazy_mmu_mode_disable(void);
void lazy_mmu_mode_pause(void);
void lazy_mmu_mode_resume(void);
/* In a section that is not paused, and not in interrupt context. */
bool is_lazy_mmu_mode_active(void);

struct task;
/*
 * The context-switch rule, called only by the scheduler (kernel/sched.c), interrupts masked:
 * switching out a task (current) whose section is active completes its batch and leaves
 * the arch mode; switching in a task (current again) whose section is active re-enters it.
 * Neither changes the task's counts. Counted as switch_leave / switch_enter.
 */
void lazy_mmu_switch_out(struct task *prev);
void lazy_mmu_switch_in(struct task *next);

/*
 * Which maintenance policy pte_update() follows, switchable at run time so that tests and
 * benchmarks compare them in one boot:
 *   LAZY_MMU_BATCHED  defer inside active sections (the real thing; the default)
 *   LAZY_MMU_EAGER    complete every update at once, sections or not
 * (The benchmark's floor - bare stores, no maintenance at all - is no backend anyone can
 * select: see pgtable_floor_begin() in <mm/mm.h>.)
 *
 * Switching inside an active section first flushes it (arch_flush_lazy_mmu_mode()), so
 * nothing queued under the old policy is left behind; the section stays open. Switching
 * from interrupt context, or to a value that is not a backend, warns once and is refused.
 */
enum lazy_mmu_backend {
	LAZY_MMU_BATCHED,
	LAZY_MMU_EAGER,
};

void lazy_mmu_set_backend(enum lazy_mmu_backend backend);
enum lazy_mmu_backend lazy_mmu_get_backend(void);
/* "batched" or "eager". */
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
/* Whether the trace is on; and one line of the caller's own in it (the user-mm sections
 * say what each did: mm/memory.c). */
bool lazy_mmu_trace_enabled(void);
void lazy_mmu_trace_note(const char *fmt, ...) __printf(1, 2);

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
/* The flush hook only drains the task's batch: an empty batch needs no call (the fast path). */
#define LAZY_MMU_GENERIC_FLUSH
static inline void arch_flush_lazy_mmu_mode(void)
{
	tlb_batch_flush_current();
}
#endif

/*
 * The fast paths: the transitions that change no arch state, inline, with no interrupt
 * masking. Everything else - and every call while tracing, in interrupt context, paused or
 * at a limit - goes to the out-of-line helpers in mm/lazy_mmu.c, which mask interrupts
 * around the whole transition (see the comment there for why).
 *
 * Why these two need no masking: a nested enable() (count 1..254 -> +1) and a nested
 * disable() whose flush has nothing to do (count 2..255 -> -1, empty batch) leave
 * is_lazy_mmu_mode_active() true before and after and call no hook that changes anything.
 * Whatever runs in between - an interrupt handler (for which every helper is a no-op and
 * which never writes the task's counts), or a context switch (whose switch rule reads the
 * counts: active before, active after) - sees a consistent state whichever side of the one
 * store it lands on. Only the task itself ever writes its counts, so the load-modify-store
 * cannot lose an update. The nested disable() still counts its arch_flush: it is the
 * generic flush hook's call, found to have nothing to drain.
 *
 * "Both counts at once": enable_count is the low byte of the u16 (little-endian on both
 * arches), so state - 1 < 254 means pause_count == 0 and enable_count in 1..254, and
 * state - 2 < 254 means pause_count == 0 and enable_count in 2..255.
 */
void __lazy_mmu_mode_enable(void);
void __lazy_mmu_mode_disable(void);

/* Both counts as one number: enable_count + 256 * pause_count. */
static inline u32 lazy_mmu_state_word(const struct lazy_mmu_state *s)
{
	u16 w;

	__builtin_memcpy(&w, s, sizeof(w));
	return w;
}

/*
 * In interrupt context, or tracing (so that every call is traced): one per-CPU load says
 * whether either holds (struct cpu's lazy_mmu_slow).
 */
static inline bool lazy_mmu_fast_path_off(void)
{
	/*
	 * No ordering needed: irq_depth can't change under the code that reads it (a handler
	 * that raises it lowers it again before the code it interrupted goes on), and a trace
	 * switched on from another CPU may take effect a call late.
	 */
	return this_cpu_read(lazy_mmu_slow) != 0;
}

static inline void lazy_mmu_mode_enable(void)
{
	struct lazy_mmu_state *s = &current->lazy_mmu_state;
	u32 w = lazy_mmu_state_word(s);

	if (likely(!lazy_mmu_fast_path_off() && w - 1 < 254)) {
		s->enable_count++;
		return;
	}
	__lazy_mmu_mode_enable();
}

static inline void lazy_mmu_mode_disable(void)
{
#ifdef LAZY_MMU_GENERIC_FLUSH
	struct task *t = current;
	struct lazy_mmu_state *s = &t->lazy_mmu_state;
	u32 w = lazy_mmu_state_word(s);

	if (likely(!lazy_mmu_fast_path_off() && w - 2 < 254 && !t->tlb_batch.queued)) {
		count_tlb_event(arch_flush); /* first: then arm64 reuses its one TPIDR_EL1 read */
		s->enable_count--;
		return;
	}
#endif
	__lazy_mmu_mode_disable();
}
