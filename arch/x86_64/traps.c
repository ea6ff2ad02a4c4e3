/* x86-64 trap handling: fixups, call_nofault recovery, interrupts, ring 3's traps, crash reports. */
#define __KERNEL__
#include <lazymmu/syscall.h>
#include <asm/apic.h>
#include <asm/debugreg.h>
#include <asm/nofault.h>
#include <asm/processor.h>
#include <asm/shootdown.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/exit.h>
#include <kernel/backtrace.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/process.h>
#include <kernel/sched.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kernel/timer.h>
#include <lib/errno.h>
#include <mm/pte.h>
#include <mm/user.h>

_Static_assert(__builtin_offsetof(struct nofault_ctx, rbx) == NOFAULT_RBX, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, rbp) == NOFAULT_RBP, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, r12) == NOFAULT_R12, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, r13) == NOFAULT_R13, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, r14) == NOFAULT_R14, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, r15) == NOFAULT_R15, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, rsp) == NOFAULT_RSP, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, rflags) == NOFAULT_RFLAGS, "nofault.S");
_Static_assert(__builtin_offsetof(struct nofault_ctx, resume_rip) == NOFAULT_RIP, "nofault.S");

static const char *const exception_names[X86_NR_EXCEPTIONS] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point error",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

static const char *exception_name(unsigned long vector)
{
	if (vector < X86_NR_EXCEPTIONS && exception_names[vector])
		return exception_names[vector];
	return vector < X86_NR_EXCEPTIONS ? "reserved" : "interrupt";
}

/*
 * Aborts cannot be resumed (#DF: the state that caused it is lost; #MC: the machine is
 * broken), and an NMI is not caused by the interrupted instruction: none of them may be
 * "fixed up" as if a nofault access had faulted.
 */
static bool exception_is_recoverable(unsigned long vector)
{
	return vector != X86_VEC_DF && vector != X86_VEC_MC && vector != X86_VEC_NMI;
}

static void print_pf_error(unsigned long code)
{
	printk("  error code %#lx: %s, %s, %s%s%s\n", code,
	       code & X86_PF_PRESENT ? "protection violation" : "not present",
	       code & X86_PF_WRITE ? "write" : "read", code & X86_PF_USER ? "user" : "kernel",
	       code & X86_PF_RSVD ? ", reserved bit set" : "",
	       code & X86_PF_INSTR ? ", instruction fetch" : "");
}

/* #TS/#NP/#SS/#GP: a selector (or IDT vector) error code, 0 when none is involved. */
static void print_selector_error(unsigned long code)
{
	static const char *const tables[] = { "GDT", "IDT", "LDT", "IDT" };

	if (code == 0) {
		printk("  error code 0 (no selector involved, e.g. a non-canonical address)\n");
		return;
	}
	printk("  error code %#lx: %s index %lu%s\n", code, tables[(code >> 1) & 3], code >> 3,
	       code & 1 ? " (external event)" : "");
}

/*
 * Follows the frame-pointer chain: with -fno-omit-frame-pointer every C frame begins with
 * [saved rbp][return address]. Reads go through the nofault accessor, so a corrupt chain
 * ends the trace instead of faulting inside the report.
 */
static void print_backtrace(unsigned long rip, unsigned long rbp)
{
	printk("  call trace (frame pointers):\n");
	printk("    %#018lx  <- faulting instruction\n", rip);
	print_frame_backtrace(rbp, 8);
}

static void print_report(const struct pt_regs *f, unsigned long cr2)
{
	printk("\nx86_64: unexpected %s %lu (%s)\n",
	       f->vector < X86_NR_EXCEPTIONS ? "exception" : "interrupt vector", f->vector,
	       exception_name(f->vector));
	if (f->vector == X86_VEC_PF)
		print_pf_error(f->error_code);
	else if (f->vector >= 10 && f->vector <= 13)
		print_selector_error(f->error_code);
	else
		printk("  error code %#lx\n", f->error_code);
	printk("  RIP %#018lx  CS %#06lx  RFLAGS %#010lx%s\n", f->rip, f->cs, f->rflags,
	       f->rflags & X86_RFLAGS_IF ? " (IF)" : "");
	printk("  RSP %#018lx  SS %#06lx\n", f->rsp, f->ss);
	if (f->vector == X86_VEC_PF)
		printk("  CR2 %#018lx (the faulting address)\n", cr2);
	printk("  CR3 %#018lx  CR0 %#010lx  CR4 %#010lx\n", (unsigned long)read_cr3(), read_cr0(),
	       read_cr4());
	printk("  RAX %#018lx  RBX %#018lx  RCX %#018lx\n", f->rax, f->rbx, f->rcx);
	printk("  RDX %#018lx  RSI %#018lx  RDI %#018lx\n", f->rdx, f->rsi, f->rdi);
	printk("  RBP %#018lx  R8  %#018lx  R9  %#018lx\n", f->rbp, f->r8, f->r9);
	printk("  R10 %#018lx  R11 %#018lx  R12 %#018lx\n", f->r10, f->r11, f->r12);
	printk("  R13 %#018lx  R14 %#018lx  R15 %#018lx\n", f->r13, f->r14, f->r15);
	/*
	 * An overflow faults on the guard page, and delivering that #PF needs the same stack,
	 * so it arrives as a #DF (on its own IST stack): CR2 still names the guard page then.
	 */
	if (in_stack_guard(f->rsp))
		print_stack_overflow(f->rsp);
	else if (f->vector == X86_VEC_PF && in_stack_guard(cr2))
		print_stack_overflow(cr2);
	else if (f->vector == X86_VEC_DF && in_stack_guard(read_cr2()))
		print_stack_overflow(read_cr2());
	print_backtrace(f->rip, f->rbp);
}

static __noreturn void report_and_panic(const struct pt_regs *f, unsigned long cr2)
{
	static bool reporting;

	/* A fault while reporting a fault: say so with the bare minimum and stop. */
	if (reporting) {
		console_puts("\nx86_64: exception while reporting an exception\n");
		kernel_exit(EXIT_PANIC);
	}
	reporting = true;
	print_report(f, cr2);
	panic("unexpected exception");
}

/*
 * Makes the interrupted arch_call_nofault() return -EFAULT: the callee-saved registers, the
 * stack pointer and the flags it saved go into the frame, and iretq installs them. The
 * frame's CS and SS stay: both contexts run at ring 0 with the same segments.
 */
static void resume_nofault(struct pt_regs *f, struct nofault_ctx *ctx)
{
	this_cpu()->nofault = NULL;
	f->rbx = ctx->rbx;
	f->rbp = ctx->rbp;
	f->r12 = ctx->r12;
	f->r13 = ctx->r13;
	f->r14 = ctx->r14;
	f->r15 = ctx->r15;
	f->rsp = ctx->rsp;
	f->rflags = ctx->rflags;
	f->rip = ctx->resume_rip;
	f->rax = (u64)-EFAULT;
}

static void handle_exception(struct pt_regs *f)
{
	/* Read CR2 first: a fault in anything below would overwrite it. */
	unsigned long cr2 = f->vector == X86_VEC_PF ? read_cr2() : 0;
	struct nofault_ctx *ctx = this_cpu()->nofault;
	unsigned long fixup;

	record_fault(f->vector, cr2, f->error_code, f->rip);
	if (exception_is_recoverable(f->vector)) {
		fixup = search_exception_table(f->rip);
		if (fixup) {
			f->rip = fixup;
			return;
		}
		if (ctx && ctx->irq_depth == this_cpu()->irq_depth) {
			resume_nofault(f, ctx);
			return;
		}
	}
	report_and_panic(f, cr2);
}

enum irq_result {
	IRQ_HANDLED,	/* a handler ran: a reschedule may be due */
	IRQ_SPURIOUS,	/* nothing happened */
	IRQ_UNEXPECTED, /* a vector nobody sends */
};

/* An interrupt (vector >= 32), from either ring. */
static enum irq_result handle_interrupt(struct pt_regs *f)
{
	switch (f->vector) {
	case X86_TIMER_VECTOR:
		irq_enter();
		timer_tick();
		x86_lapic_eoi();
		irq_exit();
		return IRQ_HANDLED;
	case X86_CALL_VECTOR:
		irq_enter();
		smp_handle_call_ipi();
		x86_lapic_eoi();
		irq_exit();
		return IRQ_HANDLED;
	case X86_SPURIOUS_VECTOR:
	case X86_PIC_VECTOR_BASE + 7:
	case X86_PIC_VECTOR_BASE + 15:
		/*
		 * Spurious: the interrupt vanished before the CPU acknowledged it (LAPIC), or a
		 * masked 8259 glitched on its lowest-priority line. Nothing is in service, so
		 * there must be no EOI.
		 */
		return IRQ_SPURIOUS;
	default:
		return IRQ_UNEXPECTED;
	}
}

/* The #PF error code's kind of access, in the process code's terms. */
static unsigned int pf_access(unsigned long code)
{
	if (code & X86_PF_INSTR)
		return FAULT_EXEC;
	return code & X86_PF_WRITE ? FAULT_WRITE : FAULT_READ;
}

/*
 * What an exception in ring 3 kills the process with: SIGILL for the ones about the
 * instruction itself (undefined, divide, breakpoint, debug trap, FPU), SIGSEGV for the ones
 * about memory and segments (#GP: a privileged instruction or a non-canonical address; #SS,
 * #AC, ...).
 */
static int user_signal(unsigned long vector)
{
	switch (vector) {
	case X86_VEC_DE:
	case X86_VEC_DB:
	case X86_VEC_BP:
	case 4: /* #OF */
	case 5: /* #BR */
	case X86_VEC_UD:
	case 7:	 /* #NM */
	case 16: /* #MF */
	case 19: /* #XM */
		return SIGILL;
	default:
		return SIGSEGV;
	}
}

/*
 * Everything that enters from ring 3 except NMIs and syscalls, interrupts masked, on the
 * task's stack top. Exceptions go to the process code (with interrupts enabled: it may
 * sleep, allocate, or kill); interrupts are handled as in the kernel, but a reschedule
 * they ask for happens in exit_to_user_mode(), the last step before every return to ring 3.
 */
static void handle_user_trap(struct pt_regs *f)
{
	unsigned long cr2 = f->vector == X86_VEC_PF ? read_cr2() : 0;

	if (f->vector >= X86_NR_EXCEPTIONS) {
		if (handle_interrupt(f) == IRQ_UNEXPECTED)
			report_and_panic(f, 0);
		if (x86_user_session_irq())
			return;
	} else if (f->vector == X86_VEC_DF || f->vector == X86_VEC_MC ||
		   (f->vector == X86_VEC_PF && (f->error_code & X86_PF_RSVD))) {
		/* The machine or our tables are broken: nothing the process did. */
		report_and_panic(f, cr2);
	} else if (x86_user_session_end(f, cr2)) {
		return;
	} else if (f->vector == X86_VEC_PF) {
		arch_local_irq_enable();
		do_user_fault(f, cr2, pf_access(f->error_code));
		arch_local_irq_disable();
	} else {
		if (f->vector == X86_VEC_DB)
			write_dr6(
			    X86_DR6_RESET); /* sticky: the kernel's own steps must not see it */
		arch_local_irq_enable();
		user_fatal_exception(f, user_signal(f->vector), exception_name(f->vector));
	}
	exit_to_user_mode(f);
	x86_prepare_user_frame(f);
}

void x86_handle_trap(struct pt_regs *f)
{
	/*
	 * TLB shootdowns arrive as NMIs: handled here, with nothing else to do or report. From
	 * either ring: an NMI never takes the ring 3 path (entry.S, x86_paranoid_common).
	 */
	if (f->vector == X86_VEC_NMI && user_mode(f))
		x86_user_session_nmi();
	if (f->vector == X86_VEC_NMI && x86_handle_shootdown_nmi())
		return;
	if (user_mode(f) && f->vector != X86_VEC_NMI) {
		handle_user_trap(f);
		return;
	}
	/*
	 * #DB first: it is no fault, and its rip (the *next* instruction) may be one with an
	 * exception-table entry, which handle_exception() would "fix up". Only step_run()'s
	 * single steps are expected; any other #DB is reported.
	 */
	if (f->vector == X86_VEC_DB) {
		if (x86_step_trap(f))
			return;
		report_and_panic(f, 0);
	}
	if (f->vector < X86_NR_EXCEPTIONS) {
		handle_exception(f);
		return;
	}
	switch (handle_interrupt(f)) {
	case IRQ_HANDLED:
		irq_exit_maybe_preempt(f->rflags & X86_RFLAGS_IF);
		return;
	case IRQ_SPURIOUS:
		return;
	case IRQ_UNEXPECTED:
		report_and_panic(f, 0);
	}
}
