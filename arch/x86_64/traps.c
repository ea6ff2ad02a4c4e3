/* x86-64 trap handling: fixups, call_nofault recovery, the timer interrupt and crash reports. */
#include <asm/apic.h>
#include <asm/debugreg.h>
#include <asm/nofault.h>
#include <asm/processor.h>
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
#include <kernel/sched.h>
#include <kernel/sections.h>
#include <kernel/timer.h>
#include <lib/errno.h>
#include <mm/pte.h>

_Static_assert(sizeof(struct x86_frame) == 22 * 8, "entry.S pushes 22 words");
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

/* The #PF error code, bit by bit. */
#define PF_PRESENT BIT(0) /* 0: the entry was not present; 1: a protection violation */
#define PF_WRITE   BIT(1)
#define PF_USER	   BIT(2)
#define PF_RSVD	   BIT(3) /* a reserved bit was set in some entry */
#define PF_INSTR   BIT(4) /* instruction fetch (NX) */

static void print_pf_error(unsigned long code)
{
	printk("  error code %#lx: %s, %s, %s%s%s\n", code,
	       code & PF_PRESENT ? "protection violation" : "not present",
	       code & PF_WRITE ? "write" : "read", code & PF_USER ? "user" : "kernel",
	       code & PF_RSVD ? ", reserved bit set" : "",
	       code & PF_INSTR ? ", instruction fetch" : "");
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

static void print_report(const struct x86_frame *f, unsigned long cr2)
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

static __noreturn void report_and_panic(const struct x86_frame *f, unsigned long cr2)
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
static void resume_nofault(struct x86_frame *f, struct nofault_ctx *ctx)
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

static void handle_exception(struct x86_frame *f)
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

void x86_handle_trap(struct x86_frame *f)
{
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
	switch (f->vector) {
	case X86_TIMER_VECTOR:
		irq_enter();
		timer_tick();
		x86_lapic_eoi();
		irq_exit();
		irq_exit_maybe_preempt(f->rflags & X86_RFLAGS_IF);
		return;
	case X86_SPURIOUS_VECTOR:
	case X86_PIC_VECTOR_BASE + 7:
	case X86_PIC_VECTOR_BASE + 15:
		/*
		 * Spurious: the interrupt vanished before the CPU acknowledged it (LAPIC), or a
		 * masked 8259 glitched on its lowest-priority line. Nothing is in service, so
		 * there must be no EOI.
		 */
		return;
	default:
		report_and_panic(f, 0);
	}
}
