/* arm64 side of user mode: a fresh register set, the first return to EL0, the entry stack. */
#include <asm/irqflags.h>
#include <asm/ptrace.h>
#include <asm/traps.h>
#include <kernel/panic.h>
#include <kernel/task.h>
#include <lib/string.h>

/*
 * pc and sp, everything else 0: PSTATE EL0t (AArch64, EL0, on SP_EL0) with D, A, I and F
 * clear - user mode always runs with interrupts enabled - NZCV clear, and TPIDR_EL0 0.
 */
void start_thread(struct pt_regs *r, unsigned long pc, unsigned long sp)
{
	memset(r, 0, sizeof(*r));
	r->elr = pc;
	r->sp = sp;
	r->spsr = SPSR_MODE_EL0t;
}

/*
 * Nothing to do on arm64. An exception from EL0 runs on SP_EL1, a register of its own
 * that the CPU does not reload from anywhere: it holds whatever it held at the eret to EL0.
 * ret_to_user (vectors.S) erets with SP_EL1 at the top of the current task's kernel stack,
 * and a context switch moves SP_EL1 itself (arch_switch_to()), so each task's entries from
 * user mode land on that task's own stack. x86-64 must be told, because its CPU takes the
 * stack for an entry from ring 3 from a fixed place (TSS.rsp0).
 */
void arch_set_kernel_stack(unsigned long stack_top)
{
	(void)stack_top;
}

/*
 * The frame goes to the top of the task's kernel stack - where ret_to_user wants it, so that
 * sp ends at the stack top and the next entry from EL0 starts there. r itself may lie in
 * that very region (a caller's local on the same stack), hence memmove; our own frame and
 * memmove's lie below it (deeper calls), so nothing we still need is overwritten.
 */
__noreturn void arch_return_to_user(const struct pt_regs *r)
{
	struct pt_regs *frame = (struct pt_regs *)current->stack_top - 1;

	BUG_ON(!user_mode(r));
	arch_local_irq_disable();
	memmove(frame, r, sizeof(*frame));
	arm64_ret_to_user_from(frame);
}
