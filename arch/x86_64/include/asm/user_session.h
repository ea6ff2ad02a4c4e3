/* Ring 3 for arch tests: run user code until its first way back into the kernel, and look. */
#pragma once

#include <lib/types.h>
#include <asm/nofault.h>
#include <asm/ptrace.h>

struct task;

/*
 * A session enters ring 3 with `regs` through the same exit path as a process
 * (arch_return_to_user()), and the first exception or syscall from ring 3 ends it: its
 * frame comes back in `regs`, as the kernel's entry saw it, instead of going to the process
 * code (do_syscall(), do_user_fault(), ...). Interrupts from ring 3 are handled as usual and
 * resume the user code; they are counted. No process is needed: a test builds an mm, loads
 * it with arch_switch_mm(), and runs code it mapped there.
 */
struct x86_user_session {
	struct pt_regs regs; /* in: where ring 3 starts (start_thread()); out: the entry's frame */
	unsigned long cr2;   /* the faulting address, when the entry was a #PF */
	u64 user_gs_base;    /* IA32_KERNEL_GS_BASE at the entry: where swapgs parked ring 3's */
	u64 kernel_gs_base;  /* IA32_GS_BASE at the entry: must be this CPU's struct cpu */
	unsigned long irqs;  /* interrupts taken from ring 3 during the session */
	unsigned long nmis;  /* NMIs taken from ring 3 during the session (paranoid path) */

	/* private to arch/x86_64/user.c */
	struct nofault_ctx ctx; /* the kernel context the ending entry resumes */
	struct task *task;
	unsigned long stack_top; /* the task's own, given back to TSS.rsp0 at the end */
};

/*
 * Runs s->regs in ring 3 on this CPU, with the current mm, until the first exception or
 * syscall from there; returns its vector (X86_VEC_SYSCALL for a syscall). Preemption is
 * off meanwhile (the entries from ring 3 land below the caller's stack frame, not at the
 * task's stack top, so no other task may run in between).
 */
unsigned long x86_user_session_run(struct x86_user_session *s);
