/* Completions: a count of "done" events and the tasks blocked until one arrives. */
#include <kernel/completion.h>
#include <kernel/panic.h>
#include <kernel/sched.h>

void init_completion(struct completion *c)
{
	spin_lock_init(&c->lock);
	c->lock.name = "completion";
	c->done = 0;
	c->waiters = NULL;
}

static void waiter_remove(struct completion *c, struct task *t)
{
	for (struct task **pp = &c->waiters; *pp; pp = &(*pp)->wait_next) {
		if (*pp == t) {
			*pp = t->wait_next;
			t->wait_next = NULL;
			return;
		}
	}
}

/* The oldest waiter, taken off the list and made runnable. */
static void wake_first(struct completion *c)
{
	struct task *t = c->waiters;

	if (t) {
		c->waiters = t->wait_next;
		t->wait_next = NULL;
		wake_up_process(t);
	}
}

void complete(struct completion *c)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (c->done != UINT32_MAX)
		c->done++;
	wake_first(c);
	spin_unlock_irqrestore(&c->lock, flags);
}

void complete_all(struct completion *c)
{
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	c->done = UINT32_MAX; /* every waiter, now and later, goes through */
	while (c->waiters)
		wake_first(c);
	spin_unlock_irqrestore(&c->lock, flags);
}

bool try_wait_for_completion(struct completion *c)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&c->lock, flags);
	ok = c->done > 0;
	if (ok && c->done != UINT32_MAX)
		c->done--;
	spin_unlock_irqrestore(&c->lock, flags);
	return ok;
}

/*
 * The state is set to BLOCKED under c->lock, and complete() wakes under the same lock, so
 * a complete() between our unlock and schedule() finds us listed and makes us RUNNING
 * again: schedule() then only yields, and the loop sees done. A wake-up from elsewhere
 * (kthread_stop() waking every sleeper) leaves us listed: re-check, remove, wait again.
 */
void wait_for_completion(struct completion *c)
{
	struct task *t = current;
	unsigned long flags;

	if (in_interrupt())
		panic("wait_for_completion() in interrupt context");
	spin_lock_irqsave(&c->lock, flags);
	while (!c->done) {
		struct task **tail = &c->waiters;

		while (*tail)
			tail = &(*tail)->wait_next;
		t->wait_next = NULL;
		*tail = t;
		set_current_state(TASK_BLOCKED);
		spin_unlock_irqrestore(&c->lock, flags);
		schedule();
		spin_lock_irqsave(&c->lock, flags);
		waiter_remove(c, t);
	}
	if (c->done != UINT32_MAX)
		c->done--;
	spin_unlock_irqrestore(&c->lock, flags);
}
