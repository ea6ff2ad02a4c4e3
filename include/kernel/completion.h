/* Completions: wait until another task (or an interrupt handler) says something is done. */
#pragma once

#include <lib/types.h>
#include <kernel/spinlock.h>

struct task;

/*
 * Linux's semantics: complete() lets one wait_for_completion() through (now or later; the
 * completions are counted), complete_all() lets every present and future waiter through.
 * lock protects done and the waiter list; it is taken with interrupts saved, so an interrupt
 * handler may call complete().
 */
struct completion {
	spinlock_t lock;
	u32 done;	      /* UINT32_MAX after complete_all() */
	struct task *waiters; /* blocked in wait_for_completion(), linked by task->wait_next */
};

void init_completion(struct completion *c);
void complete(struct completion *c);
void complete_all(struct completion *c);
/* Blocks (not spinning) until c is completed; task context only, preemptible. */
void wait_for_completion(struct completion *c);
/* Non-blocking: consumes one completion and returns true, or returns false. */
bool try_wait_for_completion(struct completion *c);
