/* The host's stand-in for an architecture: one CPU, one task, stdout console, recorded hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>

#include <mock_arch.h>
#include <asm/lazy_mmu.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/preempt.h>
#include <kernel/printk.h>
#include <kunit/test.h>
#include <mm/lazy_mmu.h>
#include <mm/user.h>

struct cpu cpus[NR_CPUS] = { [0] = { .self = &cpus[0] } };
struct task mock_task = { .name = "host" };
bool mock_irqs_on = true;
void (*mock_irq_window_fn)(void);
bool mock_lazy_mode_entered;
unsigned int mock_hook_misorder;

/* A simulated interrupt: the handler runs with interrupts masked, and never nests here. */
void mock_irq_window(void)
{
	static bool in_window;

	if (in_window)
		return;
	in_window = true;
	mock_irqs_on = false;
	mock_irq_window_fn();
	mock_irqs_on = true;
	in_window = false;
}

void mock_arch_init(void)
{
	cpus[0].id = 0;
	cpus[0].irq_depth = 0;
	cpus[0].current_task = &mock_task;
	mock_irqs_on = true;
	mock_irq_window_fn = NULL;
	mock_lazy_mode_entered = false;
	mock_hook_misorder = 0;
	/* Unbuffered: a sanitizer report or abort() must not swallow the lines before it. */
	setvbuf(stdout, NULL, _IONBF, 0);
}

/* --- console --- */

int vprintk(const char *fmt, va_list ap)
{
	return vprintf(fmt, ap);
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

void console_puts(const char *s)
{
	fputs(s, stdout);
}

/* --- panic and warnings, as kernel/panic.c prints them --- */

static unsigned long warnings;

void warn_report(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	warnings++;
	printf("    # WARNING: %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

unsigned long warn_count(void)
{
	return warnings;
}

__noreturn void panic(const char *fmt, ...)
{
	const char *test = kunit_current_test();
	va_list ap;

	printf("\nPANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (test)
		printf("PANIC: while running test %s\n", test);
	abort();
}

/* --- the recording arch hooks --- */

static struct mock_hook_call hook_log[MOCK_HOOK_LOG_MAX];
static unsigned int hook_calls;

static void record_hook(enum mock_hook hook)
{
	if (hook_calls < MOCK_HOOK_LOG_MAX) {
		struct mock_hook_call *c = &hook_log[hook_calls];
		const struct lazy_mmu_state *s = &current->lazy_mmu_state;

		c->hook = hook;
		c->enable_count = s->enable_count;
		c->pause_count = s->pause_count;
		c->active = is_lazy_mmu_mode_active();
		c->irqs_disabled = irqs_disabled();
		c->in_interrupt = in_interrupt();
	}
	hook_calls++;
	if (mock_lazy_mmu_hook_extra)
		mock_lazy_mmu_hook_extra(hook);
}

/*
 * Like a real backend, the mock tracks whether the CPU is in the arch mode. Entering twice
 * (Linux's Xen race), leaving twice, or flushing outside the mode is a misordering.
 */
void arch_enter_lazy_mmu_mode(void)
{
	mock_hook_misorder += mock_lazy_mode_entered;
	mock_lazy_mode_entered = true;
	record_hook(MOCK_HOOK_ENTER);
}

void arch_leave_lazy_mmu_mode(void)
{
	mock_hook_misorder += !mock_lazy_mode_entered;
	mock_lazy_mode_entered = false;
	record_hook(MOCK_HOOK_LEAVE);
}

void arch_flush_lazy_mmu_mode(void)
{
	mock_hook_misorder += !mock_lazy_mode_entered;
	record_hook(MOCK_HOOK_FLUSH);
}

void mock_hook_log_reset(void)
{
	hook_calls = 0;
}

unsigned int mock_hook_log_len(void)
{
	return hook_calls;
}

const struct mock_hook_call *mock_hook_log(unsigned int i)
{
	return i < hook_calls && i < MOCK_HOOK_LOG_MAX ? &hook_log[i] : NULL;
}

const char *mock_hook_name(enum mock_hook hook)
{
	switch (hook) {
	case MOCK_HOOK_ENTER:
		return "arch_enter";
	case MOCK_HOOK_LEAVE:
		return "arch_leave";
	case MOCK_HOOK_FLUSH:
		return "arch_flush";
	}
	return "?";
}

/*
 * preempt_enable() calls this when a reschedule is pending (<kernel/preempt.h>). The host
 * has one task and no scheduler: need_resched is never set there, so it is never reached.
 */
void preempt_schedule(void)
{
	panic("preempt_schedule() on the host: nothing sets need_resched there");
}

/* User address spaces: no kernel half to share and no ASIDs on the host. */
int arch_pgd_init(struct mm_struct *mm)
{
	(void)mm;
	return 0;
}

int init_new_context(struct mm_struct *mm)
{
	(void)mm;
	return 0;
}

void destroy_context(struct mm_struct *mm)
{
	(void)mm;
}
