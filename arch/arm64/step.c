/* arm64 software step exceptions (EC 0x33), handed to the generic step_trap(). */
#include <asm/debug-monitors.h>
#include <asm/esr.h>
#include <asm/sysreg.h>
#include <asm/traps.h>
#include <kernel/cpu.h>
#include <kernel/fault.h>
#include <kernel/step.h>

/*
 * Load/store-exclusive sequences can't be stepped. An exception return clears the local
 * exclusive monitor (Arm ARM; QEMU does it too), so between a stepped ldxr and its stxr
 * there is always an eret, the stxr always fails, and a retry loop such as
 *
 *	1:	ldxr	x1, [x0]
 *		add	x1, x1, #1
 *		stxr	w2, x1, [x0]
 *		cbnz	w2, 1b
 *
 * (every __atomic_* on ARMv8.0, which has no LSE atomics) would loop for ever. Debuggers
 * step over such sequences; so do we. When the next instruction to step is a
 * load-exclusive, we find its store-exclusive a few instructions on, stop stepping, and put
 * a hardware breakpoint on the instruction after the store (and one on the target of a
 * conditional branch that leaves the sequence early, as a compare-and-swap's "b.ne" does).
 * The sequence then runs at full speed, from the ldxr itself (the syndrome's EX bit, which
 * says an ldxr *was* stepped, comes too late: that step's eret has already cleared the
 * monitor); the breakpoint turns stepping back on. Its instructions are counted as steps
 * (step_count_unstepped()) but are no irq points: an interrupt inside an exclusive
 * sequence only makes the store fail and the loop retry, so it acts exactly like one at
 * the point before the ldxr, which is visited.
 */
#define EXCLUSIVE_WINDOW 16 /* instructions searched for the store-exclusive */

/* Encodings (Arm ARM C4.1, "Load/store exclusive"): size:001000:o2:L:o1..., o2 = 0. */
static bool is_load_exclusive(u32 insn)
{
	return (insn & 0x3fc00000) == 0x08400000;
}

static bool is_store_exclusive(u32 insn)
{
	return (insn & 0x3fc00000) == 0x08000000;
}

/* b.cond, cbz/cbnz, tbz/tbnz: the conditional branches a sequence may leave by. */
static bool conditional_branch_target(unsigned long pc, u32 insn, unsigned long *target)
{
	long off;

	if ((insn & 0xff000010) == 0x54000000 || (insn & 0x7e000000) == 0x34000000)
		off = (long)((u64)((insn >> 5) & 0x7ffff) << 45) >> 43; /* imm19 * 4 */
	else if ((insn & 0x7e000000) == 0x36000000)
		off = (long)((u64)((insn >> 5) & 0x3fff) << 50) >> 48; /* imm14 * 4 */
	else
		return false;
	*target = pc + off;
	return true;
}

/* Any other branch (b, bl, br, blr, ret, eret...): op0 = 101x. */
static bool is_branch(u32 insn)
{
	return (insn & 0x1c000000) == 0x14000000;
}

/*
 * The exclusive sequence stepped over on this CPU, if any: where its breakpoints are and
 * how many instructions each exit means. Only this CPU's debug exception handlers touch it
 * (interrupts and debug exceptions masked).
 */
struct step_over {
	bool active;
	unsigned int nr_exits;
	unsigned long exit[2];	/* breakpoint addresses */
	unsigned long insns[2]; /* instructions from the ldxr to that exit, both included */
};

static struct step_over step_overs[NR_CPUS];

static void set_breakpoint(unsigned int n, unsigned long addr)
{
	if (n == 0) {
		write_sysreg(addr, dbgbvr0_el1);
		write_sysreg(DBGBCR_EL1_ADDR, dbgbcr0_el1);
	} else {
		write_sysreg(addr, dbgbvr1_el1);
		write_sysreg(DBGBCR_EL1_ADDR, dbgbcr1_el1);
	}
}

/*
 * pc is a load-exclusive, about to run. Arms the step-over and returns true, or returns
 * false (and stepping goes on) when no store-exclusive follows within reach through
 * straight-line code: a lone ldxr (a wait loop) can be stepped.
 */
static bool start_step_over(struct step_over *o, unsigned long pc)
{
	unsigned long target, branch_target = 0, branch_insns = 0, store_insns = 0;

	for (unsigned int i = 1; i < EXCLUSIVE_WINDOW && !store_insns; i++) {
		unsigned long at = pc + 4 * i;
		u32 insn;

		/* The window may run past the end of the text: read it as if it could fault. */
		if (copy_from_kernel_nofault(&insn, (const void *)at, sizeof(insn)))
			return false;
		if (is_store_exclusive(insn)) {
			store_insns = i + 1;
		} else if (conditional_branch_target(at, insn, &target)) {
			/* Architecturally at least two breakpoints exist: one early exit fits. */
			if (branch_insns)
				return false;
			branch_target = target;
			branch_insns = i + 1;
		} else if (is_branch(insn)) {
			return false;
		}
	}
	if (!store_insns)
		return false;
	o->nr_exits = 0;
	if (branch_insns) {
		/* An exit back into the sequence would resume stepping between ldxr and stxr. */
		if (branch_target >= pc && branch_target < pc + 4 * store_insns)
			return false;
		o->exit[o->nr_exits] = branch_target;
		o->insns[o->nr_exits++] = branch_insns;
	}
	o->exit[o->nr_exits] = pc + 4 * store_insns;
	o->insns[o->nr_exits++] = store_insns;
	for (unsigned int n = 0; n < o->nr_exits; n++)
		set_breakpoint(n, o->exit[n]);
	/* Breakpoints on, stepping off; the eret that follows synchronises both. */
	write_sysreg((read_sysreg(mdscr_el1) | MDSCR_EL1_MDE) & ~(u64)MDSCR_EL1_SS, mdscr_el1);
	o->active = true;
	return true;
}

/* A breakpoint exception (EC 0x31): the end of a stepped-over sequence, stepping resumes. */
bool arm64_step_breakpoint(struct pt_regs *f)
{
	struct step_over *o = &step_overs[this_cpu()->id];
	unsigned int n;

	if (!o->active)
		return false;
	for (n = 0; n < o->nr_exits && o->exit[n] != f->elr; n++)
		;
	if (n == o->nr_exits)
		return false;
	write_sysreg(0, dbgbcr0_el1);
	write_sysreg(0, dbgbcr1_el1);
	write_sysreg((read_sysreg(mdscr_el1) | MDSCR_EL1_SS) & ~(u64)MDSCR_EL1_MDE, mdscr_el1);
	o->active = false;
	step_count_unstepped(o->insns[n]);
	/* The instruction at the breakpoint is stepped, as any other. */
	f->spsr |= SPSR_SS;
	return true;
}

/*
 * Called for a software step exception. Taking any exception to EL1 sets PSTATE.D, so this
 * handler, at_point and whatever they fault on run unstepped; the stepped code's PSTATE
 * (D clear) waits in f->spsr for eret.
 *
 * The step state machine lives in PSTATE.SS: the exception just taken cleared it, and
 * eret loads it from SPSR.SS, so each return sets SPSR.SS again to let one more
 * instruction run. Other exceptions taken while stepping need nothing from us: an IRQ
 * arrives before the next instruction runs, so its SPSR.SS is still 1 and its eret steps
 * that instruction as if nothing happened; a fault raised *by* the stepped instruction
 * (a nofault access) saves SPSR.SS = 0, so its eret (to the fixup) takes a step exception
 * at once, with ISV = 0: nothing retired, and we only re-arm.
 */
bool arm64_step_trap(struct pt_regs *f)
{
	bool retired = f->esr & ESR_SS_ISV;
	bool irqs_on = !(f->spsr & SPSR_I);

	switch (step_trap(f->elr, retired, irqs_on)) {
	case STEP_CONTINUE:
		if (is_load_exclusive(*(const u32 *)f->elr) &&
		    start_step_over(&step_overs[this_cpu()->id], f->elr))
			return true;
		f->spsr |= SPSR_SS;
		return true;
	case STEP_DONE:
		/* Back to arch_step_return as the kernel normally runs: D masked, not stepping. */
		write_sysreg(read_sysreg(mdscr_el1) & ~(u64)(MDSCR_EL1_SS | MDSCR_EL1_KDE),
			     mdscr_el1);
		f->spsr = (f->spsr & ~(u64)SPSR_SS) | SPSR_D;
		return true;
	case STEP_STRAY:
		break;
	}
	return false;
}
