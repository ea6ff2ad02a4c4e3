/*
 * The lazy MMU state machine on one CPU, for spin: the four helpers of mm/lazy_mmu.c, the
 * three arch hooks, interrupts and context switches with the switch rule (design 3, 10).
 *
 * Exactly one variant is selected with -D (tests/model/check runs them all):
 *   IRQ_MASKED        ours today: each helper masks interrupts from its first look at the
 *                     counts until its arch hook has returned (mm/lazy_mmu.c)
 *   PREEMPT_DISABLED  the alternative: preempt_disable() around the same span; interrupts
 *                     may arrive inside a helper, but no switch can happen there
 *   RACY_XEN          Linux 7.0's Xen PV race: nothing makes the count update and the arch
 *                     hook one step, and the switch hook leaves by the arch mode but
 *                     re-enters by the count. spin must find "entered twice".
 *   RACY_COUNTER      our switch rule (by the count both ways) over the same non-atomic
 *                     helpers: spin must find a flush of a mode nobody entered.
 * -DCHECK_TABLE (with IRQ_MASKED) instead runs every helper once from every state of the
 * bounded counts and checks it against tests/model/lazy_mmu_table.h, row by row. And one
 * -DMUTANT_... on top of IRQ_MASKED breaks ours on purpose, to show that the invariant it
 * targets is checked: MUTANT_NO_SWITCH_RULE, MUTANT_SWITCH_NO_FLUSH,
 * MUTANT_NESTED_DISABLE_NO_FLUSH (see docs/model.md).
 *
 * What is modelled, per step spin may interleave at:
 *  - NT tasks, each running an endless random mix of enable/disable/pause/resume (misuse
 *    included: the helpers must refuse it), page-table updates and yields.
 *  - An interrupt that may arrive between any two steps while interrupts are enabled. The
 *    handler calls all four helpers (which must change nothing), makes an update (which must
 *    take effect at once), and on its way out may preempt the task (the tick).
 *  - The switch rule: switching out a task in an active section flushes its batch and
 *    leaves the arch mode; switching in a task whose state is active enters it.
 *  - The arch mode is per CPU (arch_on, entered on behalf of arch_owner); the batch is the
 *    CPU's deferred work, one bit per task that has an update queued in it.
 *
 * The counts are bounded by MAXC instead of 255: the refusal logic is the same, and every
 * row of the table is reachable. Failures show as "assertion violated" with one of the
 * names below (a flag each, set and tested in one indivisible step).
 */
#include "lazy_mmu_table.h"

#if defined(IRQ_MASKED) + defined(PREEMPT_DISABLED) + defined(RACY_XEN) + defined(RACY_COUNTER) != 1
#error "select one variant: -DIRQ_MASKED, -DPREEMPT_DISABLED, -DRACY_XEN or -DRACY_COUNTER"
#endif

#ifndef NT
#define NT 2 /* tasks */
#endif
#ifndef MAXC
#define MAXC 2 /* the counts' bound: 255 in the kernel */
#endif

#define OP_ENABLE  0
#define OP_DISABLE 1
#define OP_PAUSE   2
#define OP_RESUME  3

#define H_NO_HOOK 0
#define H_ENTER	  1
#define H_LEAVE	  2
#define H_FLUSH	  3

/* --- the state --- */

byte en[NT];	    /* lazy_mmu_state.enable_count, per task */
byte pa[NT];	    /* lazy_mmu_state.pause_count, per task */
byte pc[NT];	    /* preempt_count, per task */
bit mid[NT];	    /* the task's counts changed, its arch hook has not returned yet */
byte cur;	    /* current: the task this CPU runs */
bit irqs_on = 1;    /* the CPU's interrupt flag */
bit in_irq;	    /* an interrupt handler runs (in_interrupt()) */
bit need_resched;   /* the tick asked for a switch that preempt_count held back */
bit arch_on;	    /* the arch lazy mode of the CPU */
byte arch_owner;    /* the task it was entered for */
byte batch;	    /* bit t: an update of task t waits in the CPU's batch */

/*
 * Named assertions: spin prints the name of the one that failed. Each is set and tested in
 * one indivisible step and is 0 in every stored state, as are the table's scratch values.
 */
byte entered_twice, left_not_entered, flushed_not_entered, drained_foreign_update;
byte update_pending_after_disable, irq_helper_not_noop, irq_update_deferred;
byte update_outside_arch_mode, table_mismatch, table_rows_not_one;
byte mode_not_task_state, batch_holds_foreign_update, count_wrapped; /* the monitor's */
byte switched_mid_transition, irq_mid_transition; /* ours only: what makes them safe */
byte fast_path_lost_update;

/* The table's inputs while one helper call is checked (inside one d_step). */
byte lmt_e, lmt_p, lmt_rows, lmt_warn, lmt_i;
#ifdef CHECK_TABLE
byte lmt_hit[LAZY_MMU_TABLE_ROWS]; /* which rows the table check used */
#define LMT_HIT lmt_hit[lmt_i] = 1
#else
#define LMT_HIT skip
#endif

#define BIT(t) (1 << (t))
/* The task's own state, whatever context runs: enable_count > 0 && pause_count == 0. */
#define TASK_ACTIVE(t) (en[t] > 0 && pa[t] == 0)

/* --- the arch hooks (arch/<arch>/tlb.c), each one indivisible step at its call site --- */

/* Drains the CPU's batch on behalf of task t: it may only hold t's updates. */
inline drain(t)
{
	drained_foreign_update = ((batch & ~BIT(t)) != 0);
	assert(!drained_foreign_update);
	batch = 0
}

inline arch_enter(t)
{
	printf("      arch_enter for task %d\n", t);
	entered_twice = arch_on;
	assert(!entered_twice);
	arch_on = 1;
	arch_owner = t
}

inline arch_leave(t)
{
	printf("      arch_leave for task %d\n", t);
	left_not_entered = (!arch_on || arch_owner != t);
	assert(!left_not_entered);
	drain(t);
	arch_on = 0
}

inline arch_flush(t)
{
	printf("      arch_flush for task %d\n", t);
	flushed_not_entered = (!arch_on || arch_owner != t);
	assert(!flushed_not_entered);
	drain(t)
}

/* The hook a helper decided on, for the task it runs for. */
inline call_hook(h)
{
	if
	:: h == H_ENTER -> arch_enter(cur)
	:: h == H_LEAVE -> arch_leave(cur)
	:: h == H_FLUSH -> arch_flush(cur)
	:: else -> skip
	fi
}

/* --- the switch rule (design 10), with interrupts masked: one step --- */

inline switch_to_another()
{
#if defined(IRQ_MASKED) || defined(PREEMPT_DISABLED)
	/* Ours, by construction: never between a helper's count update and its hook. */
	switched_mid_transition = mid[cur];
	assert(!switched_mid_transition);
#endif
	select(lmt_i : 0 .. NT - 1);
	if
	:: lmt_i == cur -> lmt_i = (lmt_i + 1) % NT
	:: else -> skip
	fi;
	printf("    switch: task %d -> task %d\n", cur, lmt_i);
#ifdef RACY_XEN
	/* Xen's switch-out looks at the arch mode, not at the task's counts... */
	if
	:: arch_on -> arch_flush(cur); arch_leave(cur)
	:: else -> skip
	fi;
#elif defined(MUTANT_NO_SWITCH_RULE)
	skip; /* the mode is left as it is: the next task inherits it */
#elif defined(MUTANT_SWITCH_NO_FLUSH)
	if
	:: TASK_ACTIVE(cur) -> arch_on = 0 /* leaves, but its queued updates stay queued */
	:: else -> skip
	fi;
#else
	if
	:: TASK_ACTIVE(cur) -> arch_flush(cur); arch_leave(cur)
	:: else -> skip
	fi;
#endif
#ifndef MUTANT_NO_SWITCH_RULE
	/* ... while every variant's switch-in re-enters by the counts. */
	if
	:: TASK_ACTIVE(lmt_i) -> arch_enter(lmt_i)
	:: else -> skip
	fi;
#endif
	/*
	 * Last: from here on the old task's process is blocked by its provided clause (an
	 * atomic sequence that blocks loses its atomicity), and the new one runs.
	 */
	cur = lmt_i;
	lmt_i = 0
}

/* --- the four helpers, as mm/lazy_mmu.c writes them --- */

/* For the counterexample's summary: what a call did (spin prints it when replaying). */
inline say_call(o, h)
{
	printf("task %d: ", cur);
	if
	:: o == OP_ENABLE -> printf("enable() ")
	:: o == OP_DISABLE -> printf("disable()")
	:: o == OP_PAUSE -> printf("pause()  ")
	:: o == OP_RESUME -> printf("resume() ")
	fi;
	printf("  now enable=%d pause=%d", en[cur], pa[cur]);
	if
	:: h == H_ENTER -> printf(", arch_enter owed\n")
	:: h == H_LEAVE -> printf(", arch_leave owed\n")
	:: h == H_FLUSH -> printf(", arch_flush owed\n")
	:: else -> printf("\n")
	fi
}

/*
 * The decision and the count update of one call, for the current task, in the order of
 * the C code: interrupt context, then paused (enable/disable), then misuse, then the
 * effect. Sets h to the hook the call must make, and lmt_warn on a refused misuse.
 */
inline lm_decide(o, h)
{
	h = H_NO_HOOK;
	lmt_warn = 0;
	if
	:: o == OP_ENABLE ->
		if
		:: in_irq -> skip
		:: !in_irq && pa[cur] > 0 -> skip
		:: !in_irq && pa[cur] == 0 && en[cur] == MAXC -> lmt_warn = 1
		:: !in_irq && pa[cur] == 0 && en[cur] < MAXC ->
			en[cur]++;
			if
			:: en[cur] == 1 -> h = H_ENTER
			:: else -> skip
			fi
		fi
	:: o == OP_DISABLE ->
		if
		:: in_irq -> skip
		:: !in_irq && pa[cur] > 0 -> skip
		:: !in_irq && pa[cur] == 0 && en[cur] == 0 -> lmt_warn = 1
		:: !in_irq && pa[cur] == 0 && en[cur] > 0 ->
			en[cur]--;
			if
			:: en[cur] == 0 -> h = H_LEAVE
#ifndef MUTANT_NESTED_DISABLE_NO_FLUSH
			:: else -> h = H_FLUSH
#else
			:: else -> skip /* Linux before the nesting series: inner disable() no-op */
#endif
			fi
		fi
	:: o == OP_PAUSE ->
		if
		:: in_irq -> skip
		:: !in_irq && pa[cur] == MAXC -> lmt_warn = 1
		:: !in_irq && pa[cur] < MAXC ->
			pa[cur]++;
			if
			:: pa[cur] == 1 && en[cur] > 0 -> h = H_LEAVE
			:: else -> skip
			fi
		fi
	:: o == OP_RESUME ->
		if
		:: in_irq -> skip
		:: !in_irq && pa[cur] == 0 -> lmt_warn = 1
		:: !in_irq && pa[cur] > 0 ->
			pa[cur]--;
			if
			:: pa[cur] == 0 && en[cur] > 0 -> h = H_ENTER
			:: else -> skip
			fi
		fi
	fi
}

/* The table, expanded into one check per row: the row that applies must be this call's. */
#define LMT_E	lmt_e
#define LMT_P	lmt_p
#define LMT_IRQ in_irq
#define LMT_MAX MAXC
#define ROW(call, outcome, when, e_after, p_after, hook, misuse)                              \
	if                                                                                    \
	:: o == OP_##call && (when) ->                                                        \
		lmt_rows++;                                                                   \
		LMT_HIT;                                                                      \
		table_mismatch = (en[cur] != (e_after) || pa[cur] != (p_after) ||             \
				  h != H_##hook || lmt_warn != (misuse));                     \
		assert(!table_mismatch)                                                       \
	:: else -> skip                                                                       \
	fi;                                                                                   \
	lmt_i++;

/* The call o made from counts lmt_e, lmt_p must have done what its one row says. */
inline lmt_check(o, h)
{
	lmt_rows = 0;
	lmt_i = 0;
#ifndef MUTANT_NESTED_DISABLE_NO_FLUSH /* (that mutant disagrees with the table) */
	LAZY_MMU_TABLE(ROW)
#else
	lmt_rows = 1;
#endif
	table_rows_not_one = (lmt_rows != 1);
	assert(!table_rows_not_one);
	lmt_e = 0; lmt_p = 0; lmt_rows = 0; lmt_warn = 0; lmt_i = 0
}

/* One helper's decision (the out-of-line code), checked against the table. */
inline lm_decide_checked(o, h)
{
	lmt_e = en[cur];
	lmt_p = pa[cur];
	lm_decide(o, h);
	lmt_check(o, h)
}

/*
 * What a helper does before its first look at the counts (LM_BEGIN), and after its hook
 * returned (LM_END, then LM_RESCHED when the variant has one).
 */
#if defined(IRQ_MASKED)
#define LM_BEGIN(flags) flags = irqs_on; irqs_on = 0 /* local_irq_save() */
#define LM_END(flags) irqs_on = flags		      /* local_irq_restore() */
#define LM_RESCHED skip
#elif defined(PREEMPT_DISABLED)
#define LM_BEGIN(flags) pc[cur]++ /* preempt_disable() */
#define LM_END(flags) pc[cur]--	  /* preempt_enable(), which then ... */
/* ... switches now if the tick asked for it while the count held it back. */
#define LM_RESCHED                                                                            \
	atomic {                                                                              \
		if                                                                            \
		:: pc[cur] == 0 && need_resched && irqs_on && !in_irq ->                      \
			need_resched = 0;                                                     \
			switch_to_another()                                                   \
		:: else -> skip                                                               \
		fi                                                                            \
	}
#else /* the racy variants protect nothing */
#define LM_BEGIN(flags) skip
#define LM_END(flags) skip
#define LM_RESCHED skip
#endif

/*
 * One helper call by the running task. Between its steps spin may run an interrupt (when
 * the variant leaves them enabled) and with it a switch (when nothing holds it back).
 */
inline task_call(o, h, flags)
{
	d_step { LM_BEGIN(flags) };
	d_step { lm_decide_checked(o, h); mid[cur] = (h != H_NO_HOOK); say_call(o, h) };
	d_step {
		if
		:: h != H_NO_HOOK -> printf("task %d: the helper makes its hook call\n", cur)
		:: else -> skip
		fi;
		call_hook(h);
		mid[cur] = 0;
		h = H_NO_HOOK
	};
	d_step { LM_END(flags) };
	LM_RESCHED;
	/* Design 3: after any disable(), every earlier update of the caller is in effect. */
	d_step {
		update_pending_after_disable = (o == OP_DISABLE && (batch & BIT(cur)) != 0);
		assert(!update_pending_after_disable);
		flags = 0
	}
}

/*
 * The inline fast paths of <mm/lazy_mmu.h> (ours only): a nested enable() and a nested
 * disable() with nothing queued in the task's batch change one count with a plain load and
 * store - no masking, no preempt_disable() - and call no hook. The load and the store are
 * separate steps, so an interrupt and a switch may come between them; the store writes
 * what the load read, plus or minus one, as the C code does, and asserts that nothing
 * changed the counts in between. Anything else falls through to the out-of-line helper.
 * (In a task lazy_mmu_slow is 0 unless tracing, which changes nothing the model sees.)
 */
#if defined(IRQ_MASKED) || defined(PREEMPT_DISABLED)
#define FAST_PATHS
#endif

inline fast_store(o, h, fast, we, wp)
{
	d_step {
		fast_path_lost_update = (en[cur] != we || pa[cur] != wp);
		assert(!fast_path_lost_update);
		lmt_e = we;
		lmt_p = wp;
		lmt_warn = 0;
		if
		:: o == OP_ENABLE -> en[cur] = we + 1; h = H_NO_HOOK
		/* the generic flush, counted, with nothing to drain: the hook is not called */
		:: else -> en[cur] = we - 1; h = H_FLUSH
		fi;
		say_call(o, H_NO_HOOK);
		printf("task %d:   (the inline fast path: one store, no hook call)\n", cur);
		lmt_check(o, h);
		h = H_NO_HOOK; fast = 0; we = 0; wp = 0
	}
}

inline task_enable(h, flags, fast, we, wp)
{
#ifdef FAST_PATHS
	d_step {
		we = en[cur];
		wp = pa[cur];
		fast = (wp == 0 && we >= 1 && we < MAXC) /* 1 <= state word < 255 */
	};
	if
	:: fast -> fast_store(OP_ENABLE, h, fast, we, wp)
	:: else -> d_step { we = 0; wp = 0 }; task_call(OP_ENABLE, h, flags)
	fi
#else
	task_call(OP_ENABLE, h, flags)
#endif
}

inline task_disable(h, flags, fast, we, wp)
{
#ifdef FAST_PATHS
	d_step {
		we = en[cur];
		wp = pa[cur];
#ifndef MUTANT_FAST_DISABLE_IGNORES_BATCH
		fast = (wp == 0 && we >= 2 && (batch & BIT(cur)) == 0) /* !tlb_batch.queued */
#else
		fast = (wp == 0 && we >= 2)
#endif
	};
	if
	:: fast ->
		fast_store(OP_DISABLE, h, fast, we, wp);
		d_step {
			update_pending_after_disable = ((batch & BIT(cur)) != 0);
			assert(!update_pending_after_disable)
		}
	:: else -> d_step { we = 0; wp = 0 }; task_call(OP_DISABLE, h, flags)
	fi
#else
	task_call(OP_DISABLE, h, flags)
#endif
}

#ifndef CHECK_TABLE

/* --- the tasks --- */

active [NT] proctype task() provided (cur == _pid && !in_irq)
{
	byte h, we, wp; /* we, wp: what a fast path loaded */
	bit flags, fast;

end:
	do
	:: task_enable(h, flags, fast, we, wp)
	:: task_disable(h, flags, fast, we, wp)
	:: task_call(OP_PAUSE, h, flags)
	:: task_call(OP_RESUME, h, flags)
	:: d_step { /* pte_update(): pgtable.c defers iff is_lazy_mmu_mode_active() */
		if
		:: TASK_ACTIVE(cur) ->
			printf("task %d: pte update, queued in the batch\n", cur);
			update_outside_arch_mode = (!arch_on || arch_owner != cur);
			assert(!update_outside_arch_mode);
			batch = batch | BIT(cur)
		:: else -> skip /* in effect at once */
		fi
	   }
	:: atomic { /* schedule(), which masks interrupts while it switches */
		irqs_on -> printf("task %d: schedule()\n", cur); switch_to_another()
	   }
	od
}

/* --- the interrupt: one indivisible step, since nothing else runs on this CPU meanwhile --- */

active proctype irq()
{
	byte h, e0, p0, a0, b0;
	bit flags;

end:
	do
	:: atomic {
		irqs_on && !in_irq -> /* the CPU masks interrupts when it takes one */
		in_irq = 1;
		irqs_on = 0;
		printf("  interrupt in task %d\n", cur);
#ifdef IRQ_MASKED
		/* mm/lazy_mmu.c's claim: no interrupt sees a half-done transition */
		irq_mid_transition = mid[cur];
		assert(!irq_mid_transition);
#endif
		d_step {
			/* a handler's helper calls must change nothing: no count, no hook */
			e0 = en[cur]; p0 = pa[cur]; a0 = arch_on; b0 = batch;
			LM_BEGIN(flags); lm_decide_checked(OP_DISABLE, h); call_hook(h); LM_END(flags);
			LM_BEGIN(flags); lm_decide_checked(OP_PAUSE, h); call_hook(h); LM_END(flags);
			LM_BEGIN(flags); lm_decide_checked(OP_RESUME, h); call_hook(h); LM_END(flags);
			LM_BEGIN(flags); lm_decide_checked(OP_ENABLE, h); call_hook(h); LM_END(flags);
			irq_helper_not_noop = (en[cur] != e0 || pa[cur] != p0 || arch_on != a0 ||
					       batch != b0 || h != H_NO_HOOK);
			assert(!irq_helper_not_noop);
			/* pte_update() from a handler: is_lazy_mmu_mode_active() is false: at once */
			irq_update_deferred = (!in_irq || batch != b0);
			assert(!irq_update_deferred);
			e0 = 0; p0 = 0; a0 = 0; b0 = 0; flags = 0
		};
		/* the tick may ask for a switch; the exit path makes it if preemption is allowed */
		if
		:: need_resched = 1
		:: skip
		fi;
		if
		:: need_resched && pc[cur] == 0 ->
			printf("  the tick preempts task %d\n", cur);
			need_resched = 0;
			switch_to_another()
		:: else -> skip
		fi;
		in_irq = 0;
		irqs_on = 1
	   }
	od
}

/*
 * The invariants, checked in every reachable state: while no helper is mid-transition the
 * arch mode is exactly the running task's active state (and was entered for it), the batch
 * never holds another task's update, and no count ever leaves 0..MAXC (a wrap would).
 */
#define MODE_FOLLOWS_TASK (mid[cur] || (arch_on == TASK_ACTIVE(cur) && (!arch_on || arch_owner == cur)))
#define BATCH_IS_CURRENTS ((batch & ~BIT(cur)) == 0)
#define COUNTS_IN_RANGE (en[0] <= MAXC && pa[0] <= MAXC && en[1] <= MAXC && pa[1] <= MAXC && \
			 en[NT - 1] <= MAXC && pa[NT - 1] <= MAXC)

active proctype monitor()
{
end:
	atomic {
		if
		:: !MODE_FOLLOWS_TASK -> mode_not_task_state = 1; assert(!mode_not_task_state)
		:: !BATCH_IS_CURRENTS -> batch_holds_foreign_update = 1;
					 assert(!batch_holds_foreign_update)
		:: !COUNTS_IN_RANGE -> count_wrapped = 1; assert(!count_wrapped)
		fi
	}
}

#else /* CHECK_TABLE */

/*
 * Every helper from every state of the bounded counts, in and out of interrupt context,
 * with the arch mode as the invariant says it is: each call must match exactly one row
 * (lm_decide_checked asserts it), leave the mode as its new state says, and between them
 * the calls must use every row of the table.
 */
init {
	byte e, p, i, o, h;

	for (e : 0 .. MAXC) {
		for (p : 0 .. MAXC) {
			for (i : 0 .. 1) {
				for (o : OP_ENABLE .. OP_RESUME) {
					d_step {
						en[0] = e; pa[0] = p; in_irq = i; cur = 0;
						arch_on = TASK_ACTIVE(0); arch_owner = 0;
						batch = arch_on;
						lm_decide_checked(o, h);
						call_hook(h);
						mid[0] = 0;
						assert(arch_on == TASK_ACTIVE(0))
					}
				}
			}
		}
	}
	for (i : 0 .. LAZY_MMU_TABLE_ROWS - 1) {
		assert(lmt_hit[i])
	}
	printf("table check: %d rows, all used\n", LAZY_MMU_TABLE_ROWS)
}

#endif
