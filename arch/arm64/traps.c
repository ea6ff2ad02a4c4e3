/* arm64 exception handling: fixups, call_nofault recovery, IRQ dispatch and crash reports. */
#include <asm/debug-monitors.h>
#include <asm/esr.h>
#include <asm/gic.h>
#include <asm/irqflags.h>
#include <asm/nofault.h>
#include <asm/smp.h>
#include <asm/sysreg.h>
#include <asm/traps.h>
#include <kernel/cpu.h>
#include <kernel/exit.h>
#include <kernel/backtrace.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/process.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/task.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <mm/user.h>
#include <kernel/uapi.h>
#include <mm/pte.h>

_Static_assert(sizeof(struct pt_regs) == FRAME_SIZE, "vectors.S frame layout");
_Static_assert(__builtin_offsetof(struct pt_regs, sp) == FRAME_SP, "vectors.S");
_Static_assert(__builtin_offsetof(struct pt_regs, elr) == FRAME_ELR, "vectors.S");
_Static_assert(__builtin_offsetof(struct pt_regs, spsr) == FRAME_SPSR, "vectors.S");
_Static_assert(__builtin_offsetof(struct pt_regs, esr) == FRAME_ESR, "vectors.S");
_Static_assert(__builtin_offsetof(struct pt_regs, far) == FRAME_FAR, "vectors.S");
_Static_assert(__builtin_offsetof(struct pt_regs, tpidr_el0) == FRAME_TPIDR, "vectors.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, x19_x28) == NOFAULT_X19, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, x19_x28[2]) == NOFAULT_X21, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, x19_x28[4]) == NOFAULT_X23, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, x19_x28[6]) == NOFAULT_X25, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, x19_x28[8]) == NOFAULT_X27, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, fp) == NOFAULT_X29, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, lr) == NOFAULT_X29 + 8, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, sp) == NOFAULT_SP, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, resume_pc) == NOFAULT_PC, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, daif) == NOFAULT_DAIF, "nofault.S");

static const char *const ec_names[ESR_EC_MASK + 1] = {
	[ESR_EC_UNKNOWN] = "unknown reason (undefined instruction?)",
	[ESR_EC_WFX] = "trapped WFI/WFE",
	[ESR_EC_FP_ACCESS] = "trapped FP/SIMD access",
	[ESR_EC_BTI] = "branch target (BTI) exception",
	[ESR_EC_ILLEGAL] = "illegal execution state",
	[ESR_EC_SVC64] = "SVC",
	[ESR_EC_HVC64] = "HVC",
	[ESR_EC_SMC64] = "SMC",
	[ESR_EC_SYS64] = "trapped MSR/MRS/system instruction",
	[ESR_EC_SVE] = "trapped SVE access",
	[ESR_EC_FPAC] = "pointer authentication failure",
	[ESR_EC_IABT_LOW] = "instruction abort from a lower EL",
	[ESR_EC_IABT_CUR] = "instruction abort (same EL)",
	[ESR_EC_PC_ALIGN] = "PC alignment fault",
	[ESR_EC_DABT_LOW] = "data abort from a lower EL",
	[ESR_EC_DABT_CUR] = "data abort (same EL)",
	[ESR_EC_SP_ALIGN] = "SP alignment fault",
	[ESR_EC_FP_EXC64] = "floating-point exception",
	[ESR_EC_SERROR] = "SError interrupt",
	[ESR_EC_BREAKPT_LOW] = "breakpoint from a lower EL",
	[ESR_EC_BREAKPT_CUR] = "breakpoint (same EL)",
	[ESR_EC_SOFTSTP_LOW] = "software step from a lower EL",
	[ESR_EC_SOFTSTP_CUR] = "software step (same EL)",
	[ESR_EC_WATCHPT_LOW] = "watchpoint from a lower EL",
	[ESR_EC_WATCHPT_CUR] = "watchpoint (same EL)",
	[ESR_EC_BRK64] = "BRK instruction",
};

static const char *const vector_names[] = {
	"sync from EL1 on SP_EL0",
	"IRQ from EL1 on SP_EL0",
	"FIQ from EL1 on SP_EL0",
	"SError from EL1 on SP_EL0",
	"sync from EL1",
	"IRQ from EL1",
	"FIQ from EL1",
	"SError from EL1",
	"sync from EL0 (AArch64)",
	"IRQ from EL0 (AArch64)",
	"FIQ from EL0 (AArch64)",
	"SError from EL0 (AArch64)",
	"sync from EL0 (AArch32)",
	"IRQ from EL0 (AArch32)",
	"FIQ from EL0 (AArch32)",
	"SError from EL0 (AArch32)",
};

static bool ec_is_abort(unsigned int ec)
{
	return ec == ESR_EC_IABT_LOW || ec == ESR_EC_IABT_CUR || ec == ESR_EC_DABT_LOW ||
	       ec == ESR_EC_DABT_CUR;
}

static bool ec_is_data_abort(unsigned int ec)
{
	return ec == ESR_EC_DABT_LOW || ec == ESR_EC_DABT_CUR;
}

/*
 * FAR_EL1 is only meaningful for some classes: aborts (unless ISS.FnV says otherwise),
 * PC alignment faults (it holds the PC) and watchpoints. For the others it is UNKNOWN.
 */
static unsigned long fault_address(const struct pt_regs *f)
{
	unsigned int ec = esr_ec(f->esr);

	if (ec_is_abort(ec))
		return (f->esr & ESR_ABT_FNV) ? 0 : f->far;
	if (ec == ESR_EC_PC_ALIGN || ec == ESR_EC_WATCHPT_LOW || ec == ESR_EC_WATCHPT_CUR)
		return f->far;
	return 0;
}

static const char *fsc_name(unsigned int fsc)
{
	switch (fsc & ~3U) {
	case FSC_ADDR_SIZE:
		return "address size fault";
	case FSC_TRANSLATION:
		return "translation fault";
	case FSC_ACCESS_FLAG:
		return "access flag fault";
	case FSC_PERMISSION:
		return "permission fault";
	case FSC_SEA_WALK:
		return "synchronous external abort on a table walk";
	}
	switch (fsc) {
	case FSC_SEA:
		return "synchronous external abort";
	case FSC_TAG_CHECK:
		return "tag check fault";
	case FSC_PARITY:
		return "parity/ECC error";
	case FSC_ALIGNMENT:
		return "alignment fault";
	case FSC_TLB_CONFLICT:
		return "TLB conflict abort";
	case FSC_UNSUPP_ATOMIC:
		return "unsupported atomic hardware update";
	}
	return "reserved/unknown fault status";
}

/* Kinds whose low two bits are the translation level at which the walk stopped. */
static bool fsc_has_level(unsigned int fsc)
{
	unsigned int kind = fsc & ~3U;

	return kind == FSC_ADDR_SIZE || kind == FSC_TRANSLATION || kind == FSC_ACCESS_FLAG ||
	       kind == FSC_PERMISSION || kind == FSC_SEA_WALK;
}

static void print_abort(unsigned long esr)
{
	unsigned int fsc = esr & ESR_ABT_FSC;
	bool data = ec_is_data_abort(esr_ec(esr));

	printk("  %s %#04x: %s", data ? "DFSC" : "IFSC", fsc, fsc_name(fsc));
	if (fsc_has_level(fsc))
		printk(", level %u", fsc & 3);
	if (data)
		printk(", %s", esr & ESR_ABT_WNR ? "write (WnR=1)" : "read (WnR=0)");
	printk("%s%s%s%s\n", esr & ESR_ABT_CM ? ", cache maintenance" : "",
	       esr & ESR_ABT_S1PTW ? ", on a stage 1 table walk" : "",
	       esr & ESR_ABT_EA ? ", external abort" : "",
	       esr & ESR_ABT_FNV ? ", FAR not valid" : "");
}

/*
 * A frame-pointer walk: with -fno-omit-frame-pointer every function keeps a frame record
 * {previous x29, return address} at x29. Reads go through the nofault accessor, so a
 * corrupt chain ends the trace instead of faulting inside the report.
 */
static void print_backtrace(unsigned long pc, unsigned long lr, unsigned long fp)
{
	printk("  call trace (frame pointers; return addresses):\n");
	printk("    %#018lx  <- exception here\n", pc);
	printk("    %#018lx  <- lr (if the function had not saved it yet)\n", lr);
	print_frame_backtrace(fp, 16);
}

static void print_report(const struct pt_regs *f, const char *what)
{
	unsigned int ec = esr_ec(f->esr);
	const char *name = ec_names[ec] ? ec_names[ec] : "reserved exception class";

	printk("\narm64: unexpected %s: EC %#04x, %s\n", what, ec, name);
	if (ec_is_abort(ec))
		print_abort(f->esr);
	printk("  ESR %#018lx  FAR %#018lx%s\n", (unsigned long)f->esr, (unsigned long)f->far,
	       fault_address(f) || ec_is_abort(ec) ? "" : " (not valid for this class)");
	printk("  ELR %#018lx  SPSR %#010lx (EL%lu%s, DAIF %#lx)\n", (unsigned long)f->elr,
	       (unsigned long)f->spsr, (unsigned long)(f->spsr >> 2) & 3, (f->spsr & 1) ? "h" : "t",
	       (unsigned long)(f->spsr >> 6) & 0xf);
	printk("  SP  %#018lx  TTBR0 %#018lx  TTBR1 %#018lx  SCTLR %#010lx\n", (unsigned long)f->sp,
	       (unsigned long)read_sysreg(ttbr0_el1), (unsigned long)read_sysreg(ttbr1_el1),
	       (unsigned long)read_sysreg(sctlr_el1));
	for (int i = 0; i < 30; i += 3)
		printk("  x%-2d %#018lx  x%-2d %#018lx  x%-2d %#018lx\n", i, (unsigned long)f->x[i],
		       i + 1, (unsigned long)f->x[i + 1], i + 2, (unsigned long)f->x[i + 2]);
	printk("  x30 %#018lx (lr)\n", (unsigned long)f->x[30]);
	if (in_stack_guard(f->sp))
		print_stack_overflow(f->sp);
	else if (ec_is_data_abort(ec) && in_stack_guard(fault_address(f)))
		print_stack_overflow(fault_address(f));
	print_backtrace(f->elr, f->x[30], f->x[29]);
}

static __noreturn void report_and_panic(const struct pt_regs *f, const char *what)
{
	static bool reporting;

	/* A fault while reporting a fault: say so with the bare minimum and stop. */
	if (reporting) {
		console_puts("\narm64: exception while reporting an exception\n");
		kernel_exit(EXIT_PANIC);
	}
	reporting = true;
	print_report(f, what);
	panic("unexpected exception");
}

/*
 * Makes the interrupted arch_call_nofault() return -EFAULT: the callee-saved registers,
 * the link register and the stack pointer it saved go into the frame, and eret installs
 * them. Only DAIF is taken from the saved state; the rest of SPSR (EL1h, condition flags
 * that nobody expects to survive a call) stays as the fault left it.
 */
static void resume_nofault(struct pt_regs *f, const struct nofault_ctx *ctx)
{
	this_cpu()->nofault = NULL;
	for (int i = 0; i < 10; i++)
		f->x[19 + i] = ctx->x19_x28[i];
	f->x[29] = ctx->fp;
	f->x[30] = ctx->lr;
	f->sp = ctx->sp;
	f->elr = ctx->resume_pc;
	f->spsr = (f->spsr & ~SPSR_DAIF) | (ctx->daif & SPSR_DAIF);
	f->x[0] = (u64)-EFAULT;
}

void arm64_handle_sync(struct pt_regs *f)
{
	struct nofault_ctx *ctx = this_cpu()->nofault;
	unsigned long fixup;

	/*
	 * Single steps first: a step is no fault, and its ELR (the *next* instruction) may be
	 * one with an exception-table entry, which the fixup search below would act on.
	 */
	if (esr_ec(f->esr) == ESR_EC_SOFTSTP_CUR) {
		if (arm64_step_trap(f))
			return;
		report_and_panic(f, "software step exception outside step_run()");
	}
	if (esr_ec(f->esr) == ESR_EC_BREAKPT_CUR) {
		if (arm64_step_breakpoint(f))
			return;
		report_and_panic(f, "breakpoint exception nobody set");
	}
	record_fault(esr_ec(f->esr), fault_address(f), f->esr, f->elr);
	fixup = search_exception_table(f->elr);
	if (fixup) {
		f->elr = fixup;
		return;
	}
	if (ctx && ctx->irq_depth == this_cpu()->irq_depth) {
		resume_nofault(f, ctx);
		return;
	}
	report_and_panic(f, "synchronous exception");
}

/* One interrupt, acknowledged, handled and ended at the GIC, in interrupt context. */
static void dispatch_irq(void)
{
	u32 iar = arm64_gic_ack();
	unsigned int intid = iar & GIC_INTID_MASK;

	/* Spurious: whatever was pending went away before we acknowledged it; no EOI. */
	if (intid >= GIC_SPECIAL)
		return;
	irq_enter();
	if (intid == GIC_INTID_VTIMER) {
		arm64_timer_interrupt();
	} else if (intid == GIC_SGI_CALL) {
		smp_handle_call_ipi();
	} else {
		/* Nobody enabled it on purpose: say so, and disable it so it can't storm. */
		printk("arm64: unexpected interrupt %u, disabling it\n", intid);
		arm64_gic_disable(intid);
	}
	arm64_gic_eoi(iar);
	irq_exit();
}

void arm64_handle_irq(struct pt_regs *f)
{
	dispatch_irq();
	irq_exit_maybe_preempt(!(f->spsr & SPSR_I));
}

/*
 * An interrupt in user mode: handled like any other; then, instead of preempting from
 * inside the handler, the way back to user mode reschedules if the tick asked for it
 * (exit_to_user_mode()), with the user frame safely at the top of the task's stack.
 */
void arm64_handle_el0_irq(struct pt_regs *regs)
{
	dispatch_irq();
	exit_to_user_mode(regs);
}

/* ---------------------------------------------------------------- from user mode */

/* The EL0 run of arm64_run_user() on each CPU (interrupts masked throughout), or NULL. */
struct user_run {
	struct nofault_ctx ctx;
	struct pt_regs *out;
};
static struct user_run *user_runs[NR_CPUS];

void arm64_run_user(const struct pt_regs *in, struct pt_regs *out)
{
	struct user_run run = { .out = out };
	struct pt_regs r = *in;
	unsigned long flags;

	BUG_ON(!user_mode(in));
	/* At EL0 only SError may interrupt: the code under test runs alone, start to trap. */
	r.spsr = (r.spsr & ~SPSR_DAIF) | SPSR_D | SPSR_I | SPSR_F;
	local_irq_save(flags);
	user_runs[smp_processor_id()] = &run;
	arm64_user_call_enter(&run.ctx, &r);
	local_irq_restore(flags);
}

/* Translation, access flag or permission fault: what the fault handler may resolve. */
static bool fsc_is_mm_fault(unsigned int fsc)
{
	unsigned int kind = fsc & ~3U;

	return kind == FSC_TRANSLATION || kind == FSC_ACCESS_FLAG || kind == FSC_PERMISSION;
}

/*
 * An abort from EL0. Translation, access-flag and permission faults with a valid FAR go to
 * the generic fault handler with the access that faulted: an instruction abort is an
 * execution; a data abort says read or write in ESR.WnR. Anything else (an alignment fault,
 * an external abort, a TLB conflict) is nothing a page could fix: the process dies.
 */
static void el0_abort(struct pt_regs *regs, unsigned int ec)
{
	unsigned int fsc = regs->esr & ESR_ABT_FSC, access;

	if (!fsc_is_mm_fault(fsc) || (regs->esr & ESR_ABT_FNV))
		user_fatal_exception(regs, SIGSEGV, fsc_name(fsc));
	if (ec == ESR_EC_IABT_LOW)
		access = FAULT_EXEC;
	else
		access = (regs->esr & ESR_ABT_WNR) ? FAULT_WRITE : FAULT_READ;
	do_user_fault(regs, regs->far, access);
}

/*
 * A synchronous exception from user mode. Interrupts (and SErrors) are unmasked while the
 * system call or fault is served - it may sleep, take page-table locks, be preempted - and
 * masked again for exit_to_user_mode() and the way out. Debug exceptions stay masked: the
 * kernel never debugs user mode.
 */
void arm64_handle_el0_sync(struct pt_regs *regs)
{
	struct user_run *run = user_runs[smp_processor_id()];
	unsigned int ec = esr_ec(regs->esr);

	if (run) {
		/* arm64_run_user(): the exception ends the run, whatever it is. */
		user_runs[smp_processor_id()] = NULL;
		*run->out = *regs;
		arm64_user_call_resume(&run->ctx);
	}
	arm64_enable_irq_serror();
	switch (ec) {
	case ESR_EC_SVC64:
		do_syscall(regs);
		break;
	case ESR_EC_DABT_LOW:
	case ESR_EC_IABT_LOW:
		el0_abort(regs, ec);
		break;
	case ESR_EC_PC_ALIGN:
		user_fatal_exception(regs, SIGSEGV, "PC alignment fault");
	case ESR_EC_SP_ALIGN:
		user_fatal_exception(regs, SIGSEGV, "SP alignment fault");
	case ESR_EC_UNKNOWN:
		user_fatal_exception(regs, SIGILL, "undefined instruction");
	case ESR_EC_BRK64:
		user_fatal_exception(regs, SIGILL, "breakpoint instruction (brk)");
	default:
		user_fatal_exception(regs, SIGILL,
				     ec_names[ec] ? ec_names[ec] : "reserved exception class");
	}
	arch_local_irq_disable();
	exit_to_user_mode(regs);
}

__noreturn void arm64_handle_unexpected(struct pt_regs *f, unsigned long vector)
{
	char what[48];
	const char *v = vector < ARRAY_SIZE(vector_names) ? vector_names[vector] : "?";

	/* An SError's ESR is its own syndrome; a FIQ or an IRQ here has none. */
	if ((vector & 3) != VEC_SYNC && (vector & 3) != VEC_SERROR)
		f->esr = 0;
	/* Interrupted while on SP_EL0: that is the stack pointer it was using, not SP_EL1. */
	if (vector < VEC_CUR_SPX)
		f->sp = read_sysreg(sp_el0);
	snprintf(what, sizeof(what), "exception (%s)", v);
	report_and_panic(f, what);
}

__noreturn void arm64_handle_bad_stack(struct pt_regs *f, unsigned long vector)
{
	const char *v = vector < ARRAY_SIZE(vector_names) ? vector_names[vector] : "?";

	if (!IS_ALIGNED(f->sp, 16))
		printk("\narm64: %s with a misaligned sp %#lx\n", v, (unsigned long)f->sp);
	else
		printk("\narm64: kernel stack overflow in task %s: %s with sp %#lx, whose "
		       "exception frame would land in an unmapped page (a stack's guard); "
		       "reporting from the emergency stack\n",
		       current ? current->name : "?", v, (unsigned long)f->sp);
	report_and_panic(f, "exception on a bad stack");
}
