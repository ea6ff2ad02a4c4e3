/* x86-64 single-step traps: #DB with DR6.BS, handed to the generic step_trap(). */
#include <asm/debugreg.h>
#include <asm/processor.h>
#include <asm/traps.h>
#include <kernel/cpu.h>
#include <kernel/step.h>

#define X86_OPCODE_STI 0xfb

/*
 * Where the last step trap resumed, per CPU: the next trap follows the instruction there.
 * Only this CPU's #DB handler touches it (interrupts masked); 0 when no step is running.
 */
static unsigned long prev_rip[NR_CPUS];

/*
 * sti delays interrupts until after the next instruction (the interrupt shadow), and holds
 * a single-step trap back the same way: QEMU, like Intel hardware (whose VMX state has a
 * "pending single-step during STI blocking" for exactly this), traps once, after sti *and*
 * the instruction after it. That trap counts both; the point after the lone sti, where no
 * interrupt could have arrived either, is simply never offered. A CPU that did trap right
 * after sti would get that point declared no irq point. (mov ss and pop ss have such a
 * shadow too; the kernel never executes them after boot.)
 */
static bool is_sti(unsigned long rip)
{
	return rip && *(const u8 *)rip == X86_OPCODE_STI;
}

/*
 * Called for every #DB. Every gate is an interrupt gate, so the CPU cleared TF and IF on
 * the way in: this handler, at_point and any exception inside them run unstepped, and the
 * stepped code's TF waits in f->rflags for iretq. Exceptions the stepped code itself
 * raises (a nofault #PF, the timer interrupt) work the same way: their handlers run
 * unstepped, and iretq restores TF, so the next trap follows the next instruction that
 * really retires (the faulting one does not; its fixup does).
 */
bool x86_step_trap(struct pt_regs *f)
{
	unsigned long dr6 = read_dr6();
	unsigned int cpu = this_cpu()->id;
	bool irqs_on;

	if (!(dr6 & X86_DR6_BS))
		return false; /* a breakpoint or icebp: nobody sets those */
	/* DR6 is sticky: clear it, or the next #DB of any kind would look like a step too. */
	write_dr6(X86_DR6_RESET);
	irqs_on = f->rflags & X86_RFLAGS_IF;
	if (is_sti(prev_rip[cpu])) {
		if (f->rip == prev_rip[cpu] + 1)
			irqs_on = false; /* right after sti: inside its shadow */
		else
			step_count_unstepped(1); /* sti, retired with the instruction after it */
	}
	switch (step_trap(f->rip, true, irqs_on)) {
	case STEP_CONTINUE:
		prev_rip[cpu] = f->rip;
		return true;
	case STEP_DONE:
		/* iretq to arch_step_return with TF clear: stepping is off from here on. */
		f->rflags &= ~(u64)X86_RFLAGS_TF;
		prev_rip[cpu] = 0;
		return true;
	case STEP_STRAY:
		break;
	}
	return false;
}
