/*
 * Mock arch hooks for host tests: each call is recorded with the state it saw (mock_arch.c),
 * so tests check the exact hook sequence and the context every hook ran in.
 */
#pragma once

#include <lib/types.h>

void arch_enter_lazy_mmu_mode(void);
void arch_leave_lazy_mmu_mode(void);
void arch_flush_lazy_mmu_mode(void);
#define arch_enter_lazy_mmu_mode arch_enter_lazy_mmu_mode
#define arch_leave_lazy_mmu_mode arch_leave_lazy_mmu_mode
#define arch_flush_lazy_mmu_mode arch_flush_lazy_mmu_mode

enum mock_hook {
	MOCK_HOOK_ENTER = 1,
	MOCK_HOOK_LEAVE,
	MOCK_HOOK_FLUSH,
};

/* One recorded hook call: which hook, and what the generic layer looked like inside it. */
struct mock_hook_call {
	enum mock_hook hook;
	u8 enable_count; /* current->lazy_mmu_state while the hook ran */
	u8 pause_count;
	bool active;	    /* is_lazy_mmu_mode_active() inside the hook */
	bool irqs_disabled; /* must always be true: the helpers call hooks with interrupts off */
	bool in_interrupt;
};

#define MOCK_HOOK_LOG_MAX 64

/* Whether the mock arch mode is entered (enter sets it, leave clears it). */
extern bool mock_lazy_mode_entered;
/* Hook calls that made no sense in the mock's arch state: enter twice, leave twice, ... */
extern unsigned int mock_hook_misorder;

/* Forgets the recorded calls. */
void mock_hook_log_reset(void);
/* Calls since the last reset (only the first MOCK_HOOK_LOG_MAX are kept). */
unsigned int mock_hook_log_len(void);
/* The i-th recorded call, or NULL if i is past the kept ones. */
const struct mock_hook_call *mock_hook_log(unsigned int i);
const char *mock_hook_name(enum mock_hook hook);

/*
 * Optional: a host test file that needs the hooks to do real work (flush the task's
 * tlb_batch, say) defines this; it runs after the call is recorded.
 */
void mock_lazy_mmu_hook_extra(enum mock_hook hook) __attribute__((weak));
