/* The scheduler: per-CPU run queues, round-robin preemption, kernel threads, msleep. */
#include <kernel/sched.h>
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/timer.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/user.h>
#include <asm/pgtable.h>
#include <asm/switch.h>

/*
 * One run queue per CPU. lock protects every field, and the scheduler fields of every task
 * whose t->cpu is this CPU (struct task says which). It is taken with interrupts saved: the
 * tick takes it in its handler. Lock order: a completion's lock, then a run-queue lock,
 * then the frame allocator's (the switch-out flush may free page-table pages). No other
 * lock is taken under a run-queue lock: the wake-up that finish_task_switch() finds is
 * done after it is dropped.
 *
 * The running task is current, not in the queue; the queue holds the tasks waiting for the
 * CPU, oldest first. A task that sleeps leaves the queue (on_rq false) and is put back by
 * the wake-up.
 */
struct rq {
	spinlock_t lock;
	struct task *head, *tail; /* runnable, waiting for this CPU; linked by rq_next */
	struct task *sleepers;	  /* TASK_SLEEPING in msleep(), unsorted; linked by sleep_next */
	struct task *idle;	  /* NULL until sched_init() ran on this CPU */
	struct task *prev;	  /* the task the switch in progress leaves (finish_task_switch) */
	/* The mm this CPU just stopped using: dropped once the lock is released. */
	struct mm_struct *drop_mm;
	u64 switches, preemptions, tasks;
};

static struct rq runqueues[NR_CPUS];

/* Every task, oldest first, linked by all_next: for sched_for_each_task(). */
static struct task *all_tasks, **all_tasks_tail = &all_tasks;
static DEFINE_SPINLOCK(tasks_lock); /* protects the list and every all_next */

static void task_list_add(struct task *t)
{
	unsigned long flags;

	spin_lock_irqsave(&tasks_lock, flags);
	t->all_next = NULL;
	*all_tasks_tail = t;
	all_tasks_tail = &t->all_next;
	spin_unlock_irqrestore(&tasks_lock, flags);
}

static void task_list_remove(struct task *t)
{
	unsigned long flags;

	spin_lock_irqsave(&tasks_lock, flags);
	for (struct task **pp = &all_tasks; *pp; pp = &(*pp)->all_next) {
		if (*pp == t) {
			*pp = t->all_next;
			if (all_tasks_tail == &t->all_next)
				all_tasks_tail = pp;
			break;
		}
	}
	spin_unlock_irqrestore(&tasks_lock, flags);
}

unsigned int sched_for_each_task(void (*fn)(const struct task *t, void *arg), void *arg)
{
	unsigned int n = 0;
	unsigned long flags;

	spin_lock_irqsave(&tasks_lock, flags);
	for (const struct task *t = all_tasks; t; t = t->all_next, n++)
		fn(t, arg);
	spin_unlock_irqrestore(&tasks_lock, flags);
	return n;
}

const char *task_state_name(enum task_state state)
{
	switch (state) {
	case TASK_RUNNING:
		return "running";
	case TASK_SLEEPING:
		return "sleeping";
	case TASK_BLOCKED:
		return "blocked";
	case TASK_DEAD:
		return "dead";
	}
	return "?";
}

static struct rq *this_rq(void)
{
	return &runqueues[this_cpu()->id];
}

/* Once sched_init() has run here, the tick and interrupt exits may switch tasks. */
static bool sched_running(const struct rq *rq)
{
	return READ_ONCE(rq->idle) != NULL;
}

static void enqueue(struct rq *rq, struct task *t)
{
	t->rq_next = NULL;
	if (rq->tail)
		rq->tail->rq_next = t;
	else
		rq->head = t;
	rq->tail = t;
	t->on_rq = true;
}

static struct task *dequeue_first(struct rq *rq)
{
	struct task *t = rq->head;

	if (t) {
		rq->head = t->rq_next;
		if (!rq->head)
			rq->tail = NULL;
		t->rq_next = NULL;
	}
	return t;
}

static void sleeper_remove(struct rq *rq, struct task *t)
{
	for (struct task **pp = &rq->sleepers; *pp; pp = &(*pp)->sleep_next) {
		if (*pp == t) {
			*pp = t->sleep_next;
			t->sleep_next = NULL;
			return;
		}
	}
}

/*
 * Makes a SLEEPING or BLOCKED task RUNNING, and queues it unless it still is queued or
 * running (a task that was preempted after setting its state but before calling
 * schedule() never left the CPU's care: it just finds its state RUNNING again). An idle CPU
 * is told to switch at its next interrupt exit.
 */
static bool wake_locked(struct rq *rq, struct task *t)
{
	if (t->state == TASK_RUNNING || t->state == TASK_DEAD)
		return false;
	if (t->state == TASK_SLEEPING)
		sleeper_remove(rq, t);
	t->state = TASK_RUNNING;
	if (!t->on_rq) {
		enqueue(rq, t);
		if (cpus[t->cpu].current_task == rq->idle)
			rq->idle->need_resched = true;
	}
	return true;
}

void set_current_state(enum task_state state)
{
	struct rq *rq = this_rq();
	unsigned long flags;

	spin_lock_irqsave(&rq->lock, flags);
	current->state = state;
	spin_unlock_irqrestore(&rq->lock, flags);
}

bool wake_up_process(struct task *t)
{
	struct rq *rq = &runqueues[t->cpu];
	unsigned long flags;
	bool woke, kick;

	spin_lock_irqsave(&rq->lock, flags);
	woke = wake_locked(rq, t);
	kick = woke && cpus[t->cpu].current_task == rq->idle;
	spin_unlock_irqrestore(&rq->lock, flags);
	/* Another CPU's idle task would notice only at its next tick: interrupt it now. */
	if (kick)
		smp_send_reschedule(t->cpu);
	return woke;
}

/*
 * Runs in the task that was just switched in, with the run-queue lock still held (taken by
 * whoever switched to it). The task that left may be dead: only now, with its stack no
 * longer in use by anybody, may kthread_stop() free it. Returns the task to wake for that
 * once the lock is dropped.
 */
struct switch_tail {
	struct task *waiter;	/* to wake: kthread_stop() waits for the task that left */
	struct mm_struct *drop; /* the mm this CPU stopped using */
	struct task *dead;	/* a dead process that left: drop its reference */
};

static void finish_task_switch(struct rq *rq, struct switch_tail *tail)
{
	struct task *last = rq->prev;

	rq->prev = NULL;
	tail->drop = rq->drop_mm;
	rq->drop_mm = NULL;
	tail->waiter = NULL;
	tail->dead = NULL;
	if (last && last->state == TASK_DEAD) {
		last->exited = true;
		tail->waiter = last->stop_waiter;
		if (last->free_refs)
			tail->dead = last;
	}
}

/*
 * What finish_task_switch() found, done once the run-queue lock is dropped: none of it may
 * run under that lock (wake-ups take run-queue locks, the frees take the frame allocator's
 * and the page-table lock).
 */
static void finish_switch_tail(const struct switch_tail *tail)
{
	if (tail->waiter)
		wake_up_process(tail->waiter);
	if (tail->drop)
		mmdrop(tail->drop);
	if (tail->dead)
		task_put(tail->dead);
}

void task_put(struct task *t)
{
	if (__atomic_sub_fetch(&t->free_refs, 1, __ATOMIC_ACQ_REL) == 0)
		task_release(t);
}

/* Loads mm on this CPU if it isn't already (interrupts masked, run-queue lock held). */
static void switch_mm_irqs_off(struct rq *rq, struct cpu *cpu, struct mm_struct *mm)
{
	struct mm_struct *old = cpu->active_mm;

	if (mm == old)
		return;
	mmgrab(mm);
	arch_switch_mm(mm);
	if (old != &init_mm)
		__atomic_fetch_and(&old->cpumask, ~(1UL << cpu->id), __ATOMIC_RELAXED);
	cpu->active_mm = mm;
	rq->drop_mm = old;
}

void kthread_use_mm(struct mm_struct *mm)
{
	struct rq *rq;
	struct mm_struct *drop;
	unsigned long flags;

	local_irq_save(flags);
	rq = this_rq();
	spin_lock(&rq->lock);
	current->mm = mm;
	switch_mm_irqs_off(rq, this_cpu(), mm);
	drop = rq->drop_mm;
	rq->drop_mm = NULL;
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	if (drop)
		mmdrop(drop);
}

void kthread_unuse_mm(struct mm_struct *mm)
{
	WARN_ONCE(current->mm != mm, "kthread_unuse_mm(%s) by a task using another mm", mm->name);
	/* The tables stay loaded (lazy TLB) until this CPU needs another mm's. */
	current->mm = NULL;
}

/*
 * The switch itself, as a checklist after Linux's context_switch(). Interrupts are masked
 * and the run-queue lock held from here until the task switched to releases it.
 */
static void context_switch(struct rq *rq, struct task *prev, struct task *next)
{
	struct cpu *cpu = this_cpu();

	/* 1. Prepare: the task that runs next learns from rq->prev who left (its finish). */
	rq->prev = prev;

	/*
	 * 2. Address space. A process's own mm is loaded; a kernel thread (mm NULL) borrows
	 *    whatever this CPU has loaded, as Linux's lazy TLB does, so running one between two
	 *    tasks of one process costs no reload at all. The CPU holds a reference on the mm
	 *    it has loaded (mmgrab), so an exited process's tables stay until the CPU moves on;
	 *    the old one is dropped after the run-queue lock (mmdrop() may free frames).
	 *    A CPU that leaves an mm leaves its cpumask: shootdowns for that mm stop coming
	 *    here, and the arch (x86 PCIDs) makes sure a later return finds no stale entry.
	 *    A lazy CPU stays in the cpumask of the mm it borrows, and so still receives its
	 *    shootdowns: simpler than Linux's skipping of lazy CPUs, and never stale.
	 */
	switch_mm_irqs_off(rq, cpu, next->mm ? next->mm : cpu->active_mm);
	arch_set_kernel_stack(next->stack_top);

	/*
	 * 3. The lazy MMU switch rule (design section 10): the state belongs to the task. The
	 *    outgoing task's active section is completed - its batch flushed, the arch mode
	 *    left - while it is still current (the arch hooks work on current's batch); the
	 *    incoming task's section is re-entered once it is current. Its counts never change
	 *    here: it resumes exactly as far into its sections as it was. call_nofault()'s
	 *    recovery point is per task for the same reason.
	 */
	lazy_mmu_switch_out(prev);
	prev->nofault = cpu->nofault;
	cpu->current_task = next;
	cpu->nofault = next->nofault;
	lazy_mmu_switch_in(next);

	/* 4. Registers and stack: returns when prev is switched back in, by a later switch. */
	arch_switch_to(&prev->sp, next->sp);

	/* 5. Finish: the caller, now running as prev again, calls finish_task_switch(). */
}

/*
 * Picks the next task and switches to it. preempt: the task is being preempted (at an
 * interrupt exit or preempt_enable()), so it stays queued whatever its state says - it may
 * have set SLEEPING or BLOCKED and not reached its schedule() yet, and taking it off the
 * queue now would lose it. Its own schedule() call takes it off later, if it still should.
 */
static void __schedule(bool preempt)
{
	struct task *prev = current, *next;
	struct switch_tail tail = { NULL, NULL, NULL };
	struct rq *rq = this_rq();
	unsigned long flags;

	spin_lock_irqsave(&rq->lock, flags);
	prev->need_resched = false;
	if (prev != rq->idle) {
		if (prev->state == TASK_RUNNING || (preempt && prev->state != TASK_DEAD))
			enqueue(rq, prev);
		else
			prev->on_rq = false;
	}
	next = dequeue_first(rq);
	if (!next)
		next = rq->idle;
	next->slice = SCHED_SLICE_TICKS;
	if (next != prev) {
		rq->switches++;
		if (preempt)
			rq->preemptions++;
		context_switch(rq, prev, next);
		/* prev runs again: this_rq() is still ours (tasks never change CPUs). */
		rq = this_rq();
		finish_task_switch(rq, &tail);
	}
	/*
	 * Unlock with interrupts still masked, then restore them: the count drops where no
	 * reschedule can start (one that came due meanwhile waits for the next interrupt exit
	 * or preemption point), so a switch never nests in the tail of the previous one.
	 */
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	finish_switch_tail(&tail);
}

void schedule(void)
{
	struct task *t = current;

	if (in_interrupt())
		panic("schedule() in interrupt context (task %s)", t->name);
	/* Switching away from a lock holder would deadlock whoever wants that lock next. */
	if (t->preempt_count)
		panic("schedule() by task %s with preempt_count %u: sleeping while atomic "
		      "(holding a spinlock?)",
		      t->name, t->preempt_count);
	if (!sched_running(this_rq()))
		return;
	__schedule(false);
}

void yield(void)
{
	schedule();
}

void cond_resched(void)
{
	if (READ_ONCE(current->need_resched) && preemptible() && !in_interrupt())
		schedule();
}

void preempt_schedule(void)
{
	if (in_interrupt() || arch_irqs_disabled() || current->preempt_count ||
	    !sched_running(this_rq()))
		return;
	__schedule(true);
}

void irq_exit_maybe_preempt(bool irqs_were_on)
{
	struct task *t = current;

	/*
	 * irqs_were_on: the interrupted code could have been interrupted anyway, so it holds no
	 * interrupt-masked state (a lazy MMU helper mid-transition, a lock taken irqsave).
	 * in_interrupt(): this handler interrupted another handler, whose stack frame we are on.
	 * preempt_count: the interrupted task holds a lock or asked not to be switched out.
	 */
	if (!irqs_were_on || in_interrupt() || !t || !READ_ONCE(t->need_resched) ||
	    t->preempt_count || !sched_running(this_rq()))
		return;
	__schedule(true);
}

void sched_tick(void)
{
	struct rq *rq = this_rq();
	struct task *t = current;
	u64 now = timer_ticks();

	if (!sched_running(rq))
		return;
	spin_lock(&rq->lock); /* interrupts are masked in the handler already */
	for (struct task **pp = &rq->sleepers; *pp;) {
		struct task *s = *pp;

		if (s->wake_tick <= now) {
			*pp = s->sleep_next;
			s->sleep_next = NULL;
			wake_locked(rq, s);
		} else {
			pp = &s->sleep_next;
		}
	}
	/* Round-robin: a used-up slice matters only when another task waits for the CPU. */
	if (t == rq->idle) {
		if (rq->head)
			t->need_resched = true;
	} else if (t->slice == 0 || --t->slice == 0) {
		if (rq->head)
			t->need_resched = true;
		else
			t->slice = SCHED_SLICE_TICKS;
	}
	spin_unlock(&rq->lock);
}

void msleep(unsigned int ms)
{
	struct task *t = current;
	struct rq *rq = this_rq();
	u64 ticks = ((u64)ms * timer_hz() + 999) / 1000, wake;
	unsigned long flags;

	if (WARN_ONCE(in_interrupt(), "msleep() in interrupt context, ignored"))
		return;
	/*
	 * Now is somewhere inside tick timer_ticks(); waking at the end of `ticks` more whole
	 * ticks after this one guarantees at least ms, and costs at most one tick more.
	 */
	wake = timer_ticks() + MAX(ticks, 1) + 1;
	spin_lock_irqsave(&rq->lock, flags);
	while (timer_ticks() < wake) {
		t->wake_tick = wake;
		t->state = TASK_SLEEPING;
		sleeper_remove(rq, t); /* after a spurious wake-up it may still be listed */
		t->sleep_next = rq->sleepers;
		rq->sleepers = t;
		spin_unlock_irqrestore(&rq->lock, flags);
		schedule();
		spin_lock_irqsave(&rq->lock, flags);
	}
	sleeper_remove(rq, t);
	t->state = TASK_RUNNING;
	spin_unlock_irqrestore(&rq->lock, flags);
}

/* ------------------------------------------------------------------ kernel threads */

/*
 * Stacks live in their own VA window, one slot each: an unmapped guard page, KSTACK_PAGES
 * mapped pages, then unmapped pages up to the next slot. The guard catches an overflow;
 * the gap below it (the previous slot's tail) keeps a frame that jumps past the guard from
 * landing in another task's stack. A slot is reused only after unmap_pages() returned,
 * which has completed the unmap's invalidation (kernel VAs are never made valid again
 * while a stale translation may exist: design section 9).
 */
#define KSTACK_SLOT_PAGES 8
#define KSTACK_SLOT_SIZE  (KSTACK_SLOT_PAGES * PAGE_SIZE)
#define KSTACK_SLOTS	  ((KSTACK_AREA_END - KSTACK_AREA_START) / KSTACK_SLOT_SIZE)
_Static_assert(KSTACK_PAGES + 2 <= KSTACK_SLOT_PAGES, "guard + stack + a gap fit in a slot");
_Static_assert(KSTACK_SIZE == KSTACK_PAGES * PAGE_SIZE, "KSTACK_SIZE assumes 4 KiB pages");
_Static_assert(sizeof(struct task) <= PAGE_SIZE, "a task is allocated as one frame");

static u64 kstack_used[KSTACK_SLOTS / 64]; /* protected by kstack_lock */
static DEFINE_SPINLOCK(kstack_lock);

static long kstack_slot_get(void)
{
	unsigned long flags;
	long slot = -1;

	spin_lock_irqsave(&kstack_lock, flags);
	for (unsigned long i = 0; i < KSTACK_SLOTS && slot < 0; i++) {
		if (!(kstack_used[i / 64] & (1ULL << (i % 64)))) {
			kstack_used[i / 64] |= 1ULL << (i % 64);
			slot = (long)i;
		}
	}
	spin_unlock_irqrestore(&kstack_lock, flags);
	return slot;
}

static void kstack_slot_put(unsigned long guard)
{
	unsigned long i = (guard - KSTACK_AREA_START) / KSTACK_SLOT_SIZE, flags;

	spin_lock_irqsave(&kstack_lock, flags);
	kstack_used[i / 64] &= ~(1ULL << (i % 64));
	spin_unlock_irqrestore(&kstack_lock, flags);
}

/* The frame allocator and map/unmap_pages() take their own locks (design section 9). */
static void kstack_free(struct task *t)
{
	unsigned long base = t->stack_guard + PAGE_SIZE;

	for (unsigned int i = 0; i < KSTACK_PAGES; i++) {
		if (!t->stack_frames[i])
			continue;
		if (unmap_pages(&init_mm, base + i * PAGE_SIZE, 1))
			panic("task %s: its stack page %#lx was not mapped", t->name,
			      base + i * PAGE_SIZE);
		free_frame(t->stack_frames[i]);
		t->stack_frames[i] = 0;
	}
	kstack_slot_put(t->stack_guard);
}

static int kstack_alloc(struct task *t)
{
	long slot = kstack_slot_get();
	unsigned long base;
	int err = 0;

	if (slot < 0)
		return -1;
	t->stack_guard = KSTACK_AREA_START + (unsigned long)slot * KSTACK_SLOT_SIZE;
	base = t->stack_guard + PAGE_SIZE;
	for (unsigned int i = 0; i < KSTACK_PAGES && !err; i++) {
		phys_addr_t pa = alloc_frame();

		if (!pa) {
			err = -1;
		} else if (map_pages(&init_mm, base + i * PAGE_SIZE, pa, 1, PAGE_KERNEL)) {
			free_frame(pa);
			err = -1;
		} else {
			t->stack_frames[i] = pa;
		}
	}
	if (err) {
		kstack_free(t);
		return err;
	}
	t->stack_top = base + KSTACK_SIZE;
	return 0;
}

void task_release(struct task *t)
{
	struct rq *rq = &runqueues[t->cpu];
	unsigned long flags;

	task_list_remove(t);
	kstack_free(t);
	spin_lock_irqsave(&rq->lock, flags);
	rq->tasks--;
	spin_unlock_irqrestore(&rq->lock, flags);
	free_frame(virt_to_phys(t));
}

/* A task ready to be switched to for the first time, not queued yet. */
static struct task *task_create(int (*fn)(void *), void *data, unsigned int cpu, const char *name)
{
	struct task *t;
	phys_addr_t pa;

	pa = alloc_frame(); /* zeroed: every field starts 0, NULL or false */
	if (!pa)
		return NULL;
	t = phys_to_virt(pa);
	snprintf(t->name_buf, sizeof(t->name_buf), "%s", name ? name : "kthread");
	t->name = t->name_buf;
	if (kstack_alloc(t)) {
		free_frame(pa);
		return NULL;
	}
	tlb_batch_init(&t->tlb_batch);
	t->fn = fn;
	t->data = data;
	t->cpu = cpu;
	t->state = TASK_RUNNING;
	/*
	 * Its first run starts where every switched-in task resumes: after arch_switch_to(),
	 * holding the run-queue lock its predecessor took - and so with the preempt count that
	 * lock raised, which kthread_entry()'s unlock lowers back to 0.
	 */
	t->preempt_count = 1;
	t->sp = arch_init_switch_frame(t->stack_top);
	task_list_add(t);
	return t;
}

__noreturn void task_exit(int code)
{
	struct task *t = current;
	struct lazy_mmu_state *s = &t->lazy_mmu_state;

	if (s->enable_count || s->pause_count) {
		WARN_ONCE(true, "task %s returned inside a lazy MMU section (enable=%u pause=%u)",
			  t->name, s->enable_count, s->pause_count);
		while (s->pause_count)
			lazy_mmu_mode_resume();
		while (s->enable_count)
			lazy_mmu_mode_disable();
	}
	WARN_ONCE(t->preempt_count, "task %s returned with preempt_count %u", t->name,
		  t->preempt_count);
	t->exit_code = code;
	/* From DEAD to the switch nothing may preempt it: a preempted dead task would be queued. */
	t->preempt_count = 1;
	t->state = TASK_DEAD;
	__schedule(false);
	panic("dead task %s was switched in again", t->name);
}

__noreturn void kthread_entry(void)
{
	struct rq *rq = this_rq();
	struct switch_tail tail;
	struct task *t;

	/* The second half of the switch that started this task (see __schedule()). */
	finish_task_switch(rq, &tail);
	spin_unlock(&rq->lock);
	local_irq_enable();
	finish_switch_tail(&tail);
	t = current;
	task_exit(t->fn(t->data));
}

struct task *task_create_on_cpu(int (*fn)(void *data), void *data, unsigned int cpu,
				const char *name)
{
	if (WARN_ONCE(in_interrupt(), "kthread_run() in interrupt context, refused"))
		return NULL;
	if (cpu >= NR_CPUS || !sched_running(&runqueues[cpu]))
		return NULL;
	return task_create(fn, data, cpu, name);
}

void task_start(struct task *t)
{
	unsigned int cpu = t->cpu;
	struct rq *rq = &runqueues[cpu];
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&rq->lock, flags);
	rq->tasks++;
	enqueue(rq, t);
	kick = cpus[cpu].current_task == rq->idle;
	if (kick)
		rq->idle->need_resched = true;
	spin_unlock_irqrestore(&rq->lock, flags);
	if (kick)
		smp_send_reschedule(cpu);
}

struct task *kthread_run_on_cpu(int (*fn)(void *data), void *data, unsigned int cpu,
				const char *name)
{
	struct task *t = task_create_on_cpu(fn, data, cpu, name);

	if (t)
		task_start(t);
	return t;
}

struct task *kthread_run(int (*fn)(void *data), void *data, const char *name)
{
	return kthread_run_on_cpu(fn, data, this_cpu()->id, name);
}

bool kthread_should_stop(void)
{
	return READ_ONCE(current->should_stop);
}

int kthread_stop(struct task *t)
{
	struct rq *rq;
	unsigned long flags;
	int code;

	if (!t || t == current || !t->fn || t == runqueues[t->cpu].idle)
		panic("kthread_stop(%s): not a kernel thread another task may stop",
		      t ? t->name : "NULL");
	rq = &runqueues[t->cpu];
	WRITE_ONCE(t->should_stop, true);
	wake_up_process(t);
	spin_lock_irqsave(&rq->lock, flags);
	while (!t->exited) {
		t->stop_waiter = current;
		current->state = TASK_BLOCKED;
		spin_unlock_irqrestore(&rq->lock, flags);
		schedule();
		spin_lock_irqsave(&rq->lock, flags);
	}
	current->state = TASK_RUNNING;
	spin_unlock_irqrestore(&rq->lock, flags);
	code = t->exit_code;
	task_release(t);
	return code;
}

/* ------------------------------------------------------------------ idle and start */

/*
 * The idle task: runs only when nothing else can. It checks for work with interrupts
 * masked and then halts: arch_wait_for_interrupt() unmasks and halts in one step, so the
 * interrupt that makes a task runnable cannot slip in between, and that interrupt's exit
 * switches to the task (the wake-up set need_resched here).
 */
static int idle_fn(void *unused)
{
	(void)unused;
	for (;;) {
		local_irq_disable();
		if (READ_ONCE(current->need_resched)) {
			local_irq_enable();
			schedule();
			continue;
		}
		arch_wait_for_interrupt();
		local_irq_enable();
	}
	return 0;
}

void sched_init(void)
{
	struct rq *rq = this_rq();
	unsigned int cpu = this_cpu()->id;
	struct task *idle;

	spin_lock_init(&rq->lock);
	rq->lock.name = "runqueue";
	task_list_add(current); /* the boot task: first in the list */
	idle = task_create(idle_fn, NULL, cpu, "idle");
	if (!idle)
		panic("sched_init: no memory for the idle task of CPU %u", cpu);
	current->slice = SCHED_SLICE_TICKS;
	/* Last: from here on the tick and interrupt exits may switch tasks on this CPU. */
	WRITE_ONCE(rq->idle, idle);
}

struct task *idle_task(unsigned int cpu)
{
	return cpu < NR_CPUS ? READ_ONCE(runqueues[cpu].idle) : NULL;
}

void sched_stats_read(struct sched_stats *s)
{
	*s = (struct sched_stats){ 0 };
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		s->switches += READ_ONCE(runqueues[cpu].switches);
		s->preemptions += READ_ONCE(runqueues[cpu].preemptions);
		s->tasks += READ_ONCE(runqueues[cpu].tasks);
	}
}
