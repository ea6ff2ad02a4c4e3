/* x86-64 user mode: the syscall MSRs, entering ring 3, and what every entry from ring 3 calls. */
#define __KERNEL__
#include <lazymmu/syscall.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/irqflags.h>
#include <asm/percpu.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/traps.h>
#include <asm/user_session.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/preempt.h>
#include <kernel/process.h>
#include <kernel/task.h>
#include <lib/string.h>

_Static_assert(__builtin_offsetof(struct cpu, entry_stack) == CPU_ENTRY_STACK, "entry.S");
_Static_assert(__builtin_offsetof(struct cpu, entry_scratch) == CPU_ENTRY_SCRATCH, "entry.S");
_Static_assert(sizeof(struct pt_regs) == PT_REGS_SIZE, "entry.S pushes 22 words");
_Static_assert(PT_REGS_SIZE % 16 == 0, "the frame keeps the stack 16-byte aligned");
_Static_assert(__builtin_offsetof(struct pt_regs, rax) == PT_REGS_RAX, "entry.S");
_Static_assert(__builtin_offsetof(struct pt_regs, vector) == PT_REGS_VECTOR, "entry.S");
_Static_assert(__builtin_offsetof(struct pt_regs, error_code) == PT_REGS_ERROR_CODE, "entry.S");
_Static_assert(__builtin_offsetof(struct pt_regs, rip) == PT_REGS_RIP, "entry.S");
_Static_assert(__builtin_offsetof(struct pt_regs, cs) == PT_REGS_CS, "entry.S");

/*
 * What syscall clears in RFLAGS on the way in (SFMASK): IF, so nothing interrupts the
 * entry before it is on the kernel stack; TF, or the kernel would single-step its own
 * entry; DF, which the C ABI needs clear; AC, meaningless in ring 0 until SMAP; and NT,
 * because iretq with NT set faults in 64-bit mode - ring 3 may set it with popf, and
 * interrupt gates clear it, but syscall would carry it into the kernel.
 */
#define SYSCALL_RFLAGS_MASK \
	(X86_RFLAGS_IF | X86_RFLAGS_TF | X86_RFLAGS_DF | X86_RFLAGS_AC | X86_RFLAGS_NT)

/*
 * RFLAGS bits a user frame may carry: CF PF AF ZF SF TF IF DF OF (0x0fd5), RF (16), AC, ID
 * (21). Not IOPL or NT (bits 12-14), VM (17), VIF/VIP (19-20): ring 3 can't set them
 * itself, and iretq from ring 0 would install whatever the frame says.
 */
#define USER_RFLAGS_OK (0x0fd5UL | BIT(16) | X86_RFLAGS_AC | BIT(21))

void x86_syscall_init(void)
{
	/*
	 * STAR: kernel CS in 47:32 (syscall loads SS as CS + 8 = GDT_KERNEL_DS); 63:48 is the
	 * base sysret would use (SS = base + 8, CS = base + 16), set to match the GDT although
	 * we return with iretq (entry.S says why).
	 */
	wrmsr(MSR_STAR, (u64)(GDT_USER_DS - 8) << 48 | (u64)GDT_KERNEL_CS << 32);
	wrmsr(MSR_LSTAR, (u64)(uintptr_t)x86_syscall_entry);
	wrmsr(MSR_SFMASK, SYSCALL_RFLAGS_MASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* The user's GS base, parked while the kernel runs: 0 until ring 3 loads a selector. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/*
 * Both places ring 3 enters through must point at the top of the task about to run: the
 * TSS's rsp0 (interrupts and exceptions) and entry_stack (syscall, which switches stacks
 * in software). Called by the scheduler with interrupts masked.
 */
void arch_set_kernel_stack(unsigned long stack_top)
{
	x86_tss_set_rsp0(this_cpu()->id, stack_top);
	this_cpu()->entry_stack = stack_top;
}

void start_thread(struct pt_regs *r, unsigned long pc, unsigned long sp)
{
	memset(r, 0, sizeof(*r));
	r->rip = pc;
	r->rsp = sp;
	r->cs = GDT_USER_CS;
	r->ss = GDT_USER_DS;
	r->rflags = X86_RFLAGS_FIXED | X86_RFLAGS_IF;
}

__noreturn void arch_return_to_user(const struct pt_regs *r)
{
	unsigned long top = current->stack_top;

	arch_local_irq_disable();
	arch_set_kernel_stack(top);
	x86_enter_user((struct pt_regs *)top - 1, r);
}

/*
 * The last look at a frame before iretq takes it to ring 3, interrupts masked: whatever the
 * generic code did to it, it leaves with ring 3's selectors, interrupts enabled, no IOPL
 * or NT, and a rip in the user half. A non-canonical rip would make iretq fault in ring 0
 * with the user's GS base already loaded; a kernel one is harmless (the fetch faults in
 * ring 3) but never meant, so both are refused.
 */
void x86_prepare_user_frame(struct pt_regs *regs)
{
	regs->cs = GDT_USER_CS;
	regs->ss = GDT_USER_DS;
	regs->rflags = (regs->rflags & USER_RFLAGS_OK) | X86_RFLAGS_FIXED | X86_RFLAGS_IF;
	if (regs->rip >= 1UL << VA_HALF_BITS)
		user_fatal_exception(regs, SIGSEGV, "return to a kernel or non-canonical address");
}

/* ---------------------------------------------------------------- sessions (tests) */

/* The session armed on each CPU; only that CPU reads or writes its slot. */
static struct x86_user_session *sessions[NR_CPUS];

static struct x86_user_session *this_session(void)
{
	struct x86_user_session *s = sessions[this_cpu()->id];

	return s && s->task == current ? s : NULL;
}

static __noreturn void session_enter(void *arg)
{
	struct x86_user_session *s = arg;
	/*
	 * Entries from ring 3 land here, well below this frame and the caller's (the task's
	 * stack top holds the frames of whoever called us).
	 */
	unsigned long top = ((unsigned long)__builtin_frame_address(0) - 256) & ~15UL;

	arch_local_irq_disable();
	arch_set_kernel_stack(top);
	x86_enter_user((struct pt_regs *)top - 1, &s->regs);
}

unsigned long x86_user_session_run(struct x86_user_session *s)
{
	preempt_disable();
	s->task = current;
	s->stack_top = current->stack_top;
	s->irqs = 0;
	s->nmis = 0;
	sessions[this_cpu()->id] = s;
	/*
	 * arch_call_nofault() keeps the callee-saved registers, rsp and rflags; the entry that
	 * ends the session irets to its resume point with them (x86_user_session_end()), and
	 * it returns as if session_enter() had.
	 */
	arch_call_nofault(&s->ctx, session_enter, s);
	preempt_enable();
	return s->regs.vector;
}

/* An exception or syscall from ring 3: ends the current task's session, if it has one. */
bool x86_user_session_end(struct pt_regs *f, unsigned long cr2)
{
	struct x86_user_session *s = this_session();

	if (!s)
		return false;
	s->regs = *f;
	s->cr2 = cr2;
	s->user_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	s->kernel_gs_base = rdmsr(MSR_IA32_GS_BASE);
	sessions[this_cpu()->id] = NULL;
	arch_set_kernel_stack(s->stack_top);
	/* iretq to arch_call_nofault()'s resume point, in ring 0: no swapgs on the way. */
	f->rbx = s->ctx.rbx;
	f->rbp = s->ctx.rbp;
	f->r12 = s->ctx.r12;
	f->r13 = s->ctx.r13;
	f->r14 = s->ctx.r14;
	f->r15 = s->ctx.r15;
	f->rsp = s->ctx.rsp;
	f->rflags = s->ctx.rflags;
	f->rip = s->ctx.resume_rip;
	f->cs = GDT_KERNEL_CS;
	f->ss = GDT_KERNEL_DS;
	f->rax = 0;
	return true;
}

/* An interrupt from ring 3 during a session: counted; it goes straight back to ring 3. */
bool x86_user_session_irq(void)
{
	struct x86_user_session *s = this_session();

	if (s)
		s->irqs++;
	return s;
}

/* An NMI from ring 3 during a session: counted (it resumes ring 3 by the paranoid path). */
void x86_user_session_nmi(void)
{
	struct x86_user_session *s = this_session();

	if (s)
		s->nmis++;
}

/* ---------------------------------------------------------------- entries from ring 3 */

void x86_handle_syscall(struct pt_regs *regs)
{
	if (x86_user_session_end(regs, 0))
		return;
	arch_local_irq_enable();
	do_syscall(regs);
	arch_local_irq_disable();
	exit_to_user_mode(regs);
	x86_prepare_user_frame(regs);
}
