/* Spinlocks: ticket locks, fair and small, with the interrupt-saving variants Linux has. */
#pragma once

#include <lib/types.h>
#include <kernel/cpu.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/preempt.h>
#include <asm/processor.h>

/*
 * A ticket lock: a taker draws `next` and waits until `owner` reaches its number, so CPUs
 * get the lock in the order they asked for it. The unlock is a release store of owner+1:
 * every access made while holding the lock is visible to the next holder, whose acquire
 * load of owner orders its own accesses after it.
 *
 * Rules (as in Linux):
 *  - A lock that an interrupt handler also takes must be taken with interrupts saved
 *    (spin_lock_irqsave) everywhere else: otherwise the handler, interrupting the holder on
 *    the same CPU, would spin forever on a lock that can only be released by the code it
 *    interrupted. page_table_lock and the frame allocator's lock are such locks.
 *  - A holder never sleeps or yields: taking a lock raises the preemption count.
 *  - holder makes "this CPU already holds it" a clear panic instead of a silent hang.
 *  - All zeroes is an unlocked lock, so a lock inside a zeroed structure needs no init.
 */
typedef struct {
	u16 next;	     /* the next ticket to hand out */
	u16 owner;	     /* the ticket being served */
	unsigned int holder; /* the holding CPU's id + 1, 0 when free: for diagnostics only */
	const char *name;
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED(n)                                 \
	{                                                       \
		.next = 0, .owner = 0, .holder = 0, .name = (n) \
	}
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(#x)

static inline void spin_lock_init(spinlock_t *l)
{
	*l = (spinlock_t)__SPIN_LOCK_UNLOCKED("spinlock");
}

static inline void spin_lock(spinlock_t *l)
{
	u16 me;

	preempt_disable();
	if (unlikely(READ_ONCE(l->holder) == this_cpu()->id + 1))
		panic("spin_lock(%s): this CPU already holds it (recursive lock or a handler "
		      "taking a lock its interrupted task holds without irqsave)",
		      l->name ? l->name : "unnamed");
	me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		cpu_relax();
	WRITE_ONCE(l->holder, this_cpu()->id + 1);
}

/* Releases l, leaving the preemption count raised (the first half of every unlock). */
static inline void __spin_release(spinlock_t *l)
{
	WRITE_ONCE(l->holder, 0);
	__atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline void spin_unlock(spinlock_t *l)
{
	__spin_release(l);
	preempt_enable();
}

#define spin_lock_irqsave(l, flags)    \
	do {                           \
		local_irq_save(flags); \
		spin_lock(l);          \
	} while (0)

/*
 * As in Linux, interrupts come back before the preemption count drops, so that a reschedule
 * that came due while the lock was held (the tick found the slice used up) happens at the
 * preempt_enable() here rather than at some later interrupt.
 */
#define spin_unlock_irqrestore(l, flags)  \
	do {                              \
		__spin_release(l);        \
		local_irq_restore(flags); \
		preempt_enable();         \
	} while (0)

static inline bool spin_is_locked(const spinlock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

/* True when this CPU holds l: what a function that requires the lock can check. */
static inline bool spin_held_here(const spinlock_t *l)
{
	return READ_ONCE(l->holder) == this_cpu()->id + 1;
}
