/* The generic lazy MMU layer: Linux's nesting and pause semantics over the three arch hooks. */
#include <mm/lazy_mmu.h>
#include <mm/tlb_stats.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/task.h>
#include <lib/printf.h>

/*
 * Why every helper runs with interrupts disabled, from its first look at the counts to the
 * return of the arch hook it calls:
 *
 * A helper does two things: it changes the task's counts, and it may call an arch hook that
 * changes what the CPU does with page-table updates (start queueing, drain the queue, stop
 * queueing). Anything that runs between the two sees counts and arch mode disagree. Linux's
 * Xen port shows what that costs: a task preempted just after enable_count++ but before
 * arch_enter_lazy_mmu_mode() is switched out as "in an active section" (the switch path
 * leaves the arch mode) and switched back in the same way (the switch path enters it) -
 * and then makes its own arch_enter call: entered twice. The mirror image loses a leave.
 *
 * With interrupts off, no tick can arrive between the two halves, so neither an interrupt
 * handler nor a scheduler (which only switches tasks from the tick or from explicit calls)
 * can observe a half-done transition: by construction, not by careful ordering. It costs a
 * few instructions per call; the hooks themselves are short, or are the flush we came for.
 * (Masking also keeps the trace buffer whole: a handler's helper call traces too.)
 *
 * Only the transitions that call a hook need this. lazy_mmu_mode_enable() and
 * lazy_mmu_mode_disable() are inline in <mm/lazy_mmu.h>: a nested call that changes no arch
 * state is one store there, with no masking (the comment there says why that is safe), and
 * only the rest comes here, to __lazy_mmu_mode_enable() and __lazy_mmu_mode_disable().
 */

/* What a helper did, as the trace reports it. */
#define DID_NONE   "(none)"
#define DID_IRQ	   "(no-op: interrupt)"
#define DID_PAUSED "(no-op: paused)"

static enum lazy_mmu_backend backend = LAZY_MMU_BATCHED;

static bool trace_on;
static char *trace_buf; /* NULL: trace to the console */
static size_t trace_size, trace_len;

/* Deep nesting is legal (255 levels) but a trace only needs to show its shape. */
#define TRACE_MAX_INDENT 8

static struct lazy_mmu_state *task_state(void)
{
	struct task *t = current;

	/* Only possible before task_init_boot(): name the boot-order bug instead of faulting. */
	if (unlikely(!t))
		panic("lazy MMU helper called before task_init_boot()");
	return &t->lazy_mmu_state;
}

static unsigned int nesting_depth(const struct lazy_mmu_state *s)
{
	return s->enable_count + s->pause_count;
}

/*
 * One trace line. The indent is the nesting depth outside the call - the smaller of the
 * depths before and after it - so an enable() and its matching disable() line up, as in
 * the worked sequence of the design.
 */
static void trace_line(const char *call, unsigned int depth_before, const struct lazy_mmu_state *s,
		       const char *did)
{
	unsigned int indent = MIN(MIN(depth_before, nesting_depth(s)), TRACE_MAX_INDENT);
	const struct task *t = current;
	char who[48], task[TASK_NAME_LEN + 3] = "", line[160];
	int n;

	/* Kernel threads (they have a function) are named; the boot flow's lines stay bare. */
	if (t && t->fn)
		snprintf(task, sizeof(task), "[%s] ", t->name);
	snprintf(who, sizeof(who), "%*s%s", (int)(2 * indent), "", call);
	snprintf(line, sizeof(line), "lazy_mmu: %s%-15s -> %-12s enable=%u pause=%u", task, who,
		 did, s->enable_count, s->pause_count);
	if (!trace_buf) {
		printk("    # %s\n", line);
		return;
	}
	n = snprintf(trace_buf + trace_len, trace_size - trace_len, "%s\n", line);
	trace_len = MIN(trace_len + (size_t)n, trace_size - 1);
}

bool lazy_mmu_trace_enabled(void)
{
	return READ_ONCE(trace_on);
}

void lazy_mmu_trace_note(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	int n;

	if (!READ_ONCE(trace_on))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!trace_buf) {
		printk("    # %s\n", line);
		return;
	}
	n = snprintf(trace_buf + trace_len, trace_size - trace_len, "%s\n", line);
	trace_len = MIN(trace_len + (size_t)n, trace_size - 1);
}

static inline void trace(const char *call, unsigned int depth_before,
			 const struct lazy_mmu_state *s, const char *did)
{
	if (unlikely(READ_ONCE(trace_on)))
		trace_line(call, depth_before, s, did);
}

/* Also sends the inline fast paths to the traced slow ones, on every CPU. */
void lazy_mmu_set_trace(bool on)
{
	WRITE_ONCE(trace_on, on);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		WRITE_ONCE(cpus[cpu].lazy_mmu_tracing, on);
}

void lazy_mmu_trace_to(char *buf, size_t size)
{
	unsigned long flags;

	/* Interrupts off: a helper in an interrupt handler must not see half a new buffer. */
	local_irq_save(flags);
	trace_buf = size ? buf : NULL;
	trace_size = size;
	trace_len = 0;
	if (trace_buf)
		trace_buf[0] = '\0';
	local_irq_restore(flags);
}

/*
 * The only three places the arch hooks are called. Each is counted here, once for both
 * arches, so the counters mean the same thing everywhere.
 */
static const char *call_arch_enter(void)
{
	count_tlb_event(arch_enter);
	arch_enter_lazy_mmu_mode();
	return "arch_enter";
}

static const char *call_arch_leave(void)
{
	count_tlb_event(arch_leave);
	arch_leave_lazy_mmu_mode();
	return "arch_leave";
}

static const char *call_arch_flush(void)
{
	count_tlb_event(arch_flush);
	arch_flush_lazy_mmu_mode();
	return "arch_flush";
}

/*
 * The four helpers test the same conditions in the same order, the order of the contract
 * table's columns: interrupt context, then "paused" (enable/disable only), then misuse,
 * then the effect. Misuse is checked before anything changes, so a refused call leaves the
 * state exactly as it was: Linux warns and lets the u8 wrap (255 + 1 = 0 would silently
 * end the section); we refuse instead.
 */
void __lazy_mmu_mode_enable(void)
{
	struct lazy_mmu_state *s;
	unsigned long flags;
	unsigned int depth;
	const char *did;

	local_irq_save(flags);
	s = task_state();
	depth = nesting_depth(s);
	if (in_interrupt())
		did = DID_IRQ;
	else if (s->pause_count > 0)
		did = DID_PAUSED;
	else if (WARN_ONCE(s->enable_count == UINT8_MAX,
			   "lazy_mmu_mode_enable(): enable_count is 255, refused"))
		did = "(refused: enable_count 255)";
	else if (s->enable_count++ == 0)
		did = call_arch_enter();
	else
		did = DID_NONE;
	trace("enable()", depth, s, did);
	local_irq_restore(flags);
}

void __lazy_mmu_mode_disable(void)
{
	struct lazy_mmu_state *s;
	unsigned long flags;
	unsigned int depth;
	const char *did;

	local_irq_save(flags);
	s = task_state();
	depth = nesting_depth(s);
	if (in_interrupt())
		did = DID_IRQ;
	else if (s->pause_count > 0)
		did = DID_PAUSED;
	else if (WARN_ONCE(s->enable_count == 0,
			   "lazy_mmu_mode_disable(): enable_count is 0, ignored"))
		did = "(refused: enable_count 0)";
	else if (--s->enable_count == 0)
		did = call_arch_leave();
	else
		/*
		 * Leaving a nested section: the mode stays on, but the caller is promised that
		 * its updates are in effect when disable() returns - so the batch is drained now.
		 */
		did = call_arch_flush();
	trace("disable()", depth, s, did);
	local_irq_restore(flags);
}

void lazy_mmu_mode_pause(void)
{
	struct lazy_mmu_state *s;
	unsigned long flags;
	unsigned int depth;
	const char *did;

	local_irq_save(flags);
	s = task_state();
	depth = nesting_depth(s);
	if (in_interrupt())
		did = DID_IRQ;
	else if (WARN_ONCE(s->pause_count == UINT8_MAX,
			   "lazy_mmu_mode_pause(): pause_count is 255, refused"))
		did = "(refused: pause_count 255)";
	else if (s->pause_count++ == 0 && s->enable_count > 0)
		/*
		 * Paused code expects every update to take effect at once (it may be about to
		 * touch the memory it maps), so pausing leaves the arch mode entirely rather
		 * than flushing and staying in it.
		 */
		did = call_arch_leave();
	else
		did = DID_NONE;
	trace("pause()", depth, s, did);
	local_irq_restore(flags);
}

void lazy_mmu_mode_resume(void)
{
	struct lazy_mmu_state *s;
	unsigned long flags;
	unsigned int depth;
	const char *did;

	local_irq_save(flags);
	s = task_state();
	depth = nesting_depth(s);
	if (in_interrupt())
		did = DID_IRQ;
	else if (WARN_ONCE(s->pause_count == 0,
			   "lazy_mmu_mode_resume(): pause_count is 0, ignored"))
		did = "(refused: pause_count 0)";
	else if (--s->pause_count == 0 && s->enable_count > 0)
		did = call_arch_enter();
	else
		did = DID_NONE;
	trace("resume()", depth, s, did);
	local_irq_restore(flags);
}

/*
 * Interrupt handlers share the task's `current` but not its section: whatever they write
 * must take effect at once, so for them the mode is never active.
 */
bool is_lazy_mmu_mode_active(void)
{
	const struct lazy_mmu_state *s;

	if (in_interrupt())
		return false;
	s = task_state();
	return s->enable_count > 0 && s->pause_count == 0;
}

const char *lazy_mmu_backend_name(enum lazy_mmu_backend b)
{
	switch (b) {
	case LAZY_MMU_BATCHED:
		return "batched";
	case LAZY_MMU_EAGER:
		return "eager";
	}
	return "?";
}

enum lazy_mmu_backend lazy_mmu_get_backend(void)
{
	return READ_ONCE(backend);
}

/*
 * Switching inside an active section flushes first: updates queued under the old policy
 * are completed before the new one applies, so no backend ever finds (or forgets) work the
 * other one left. Refusing the switch would be the other safe choice, but benchmarks and
 * tests switch between runs, and a flush is exactly what a well-behaved switch needs.
 *
 * From interrupt context the switch is refused: the interrupted task's batch belongs to the
 * task, and draining it from a handler (where is_lazy_mmu_mode_active() is false anyway)
 * would run its maintenance behind its back.
 */
void lazy_mmu_set_backend(enum lazy_mmu_backend to)
{
	struct lazy_mmu_state *s;
	unsigned long flags;
	unsigned int depth;
	const char *did;

	local_irq_save(flags);
	s = task_state();
	depth = nesting_depth(s);
	if (WARN_ONCE(in_interrupt(), "lazy_mmu_set_backend() in interrupt context, refused")) {
		did = "(refused: interrupt)";
	} else if (WARN_ONCE((unsigned int)to > LAZY_MMU_EAGER,
			     "lazy_mmu_set_backend(%u): no such backend, refused",
			     (unsigned int)to)) {
		did = "(refused: no such backend)";
	} else if (to == backend) {
		did = DID_NONE;
	} else {
		did = is_lazy_mmu_mode_active() ? call_arch_flush() : DID_NONE;
		WRITE_ONCE(backend, to);
	}
	if (unlikely(READ_ONCE(trace_on))) {
		char call[32];

		snprintf(call, sizeof(call), "set_backend(%s)", lazy_mmu_backend_name(to));
		trace_line(call, depth, s, did);
	}
	local_irq_restore(flags);
}

/*
 * The context-switch rule (design section 10), in one place. The scheduler's
 * context_switch() calls lazy_mmu_switch_out() while prev is still current and
 * lazy_mmu_switch_in() once next is, with interrupts masked throughout.
 *
 * Why the counts can be trusted here: every helper changes the counts and calls its arch
 * hook inside one interrupts-masked stretch, and the scheduler switches tasks only at an
 * interrupt exit whose interrupted code had interrupts on, or at an explicit call that no
 * helper makes. So a task is never switched out between its count update and its hook -
 * the Xen race (entered twice, or a leave lost) cannot happen - and "active" here means the
 * arch mode really is on for it.
 *
 * Unlike in the helpers, the counts still say "active" while the leave hook runs: the
 * section is suspended, not ended, and switching back in re-enters it with the same counts.
 */
void lazy_mmu_switch_out(struct task *prev)
{
	const struct lazy_mmu_state *s = &prev->lazy_mmu_state;

	if (s->enable_count == 0 || s->pause_count > 0)
		return;
	count_tlb_event(switch_leave);
	arch_leave_lazy_mmu_mode(); /* drains current's (prev's) batch: its updates take effect */
	trace("switch_out", nesting_depth(s), s, "arch_leave");
}

void lazy_mmu_switch_in(struct task *next)
{
	const struct lazy_mmu_state *s = &next->lazy_mmu_state;

	if (s->enable_count == 0 || s->pause_count > 0)
		return;
	count_tlb_event(switch_enter);
	arch_enter_lazy_mmu_mode();
	trace("switch_in", nesting_depth(s), s, "arch_enter");
}
