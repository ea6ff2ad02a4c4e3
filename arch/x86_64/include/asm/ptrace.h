/* x86-64 register frame: struct pt_regs, built by every entry (traps, interrupts, syscall). */
#pragma once

#include <asm/desc.h>

/*
 * The frame on the kernel stack, lowest address first. entry.S pushes the general-purpose
 * registers, its stub the vector and (when the CPU pushes none) a 0 error code; the CPU
 * pushed rip..ss itself. The syscall entry builds the same frame by hand. Handlers may
 * change any field: the exit path restores every one of them.
 *
 *   +0    r15 r14 r13 r12 r11 r10 r9 r8 rdi rsi rbp rdx rcx rbx rax    (15 words)
 *   +120  vector                     X86_VEC_SYSCALL for a system call
 *   +128  error_code / orig_ax       the CPU's error code; for a syscall, its number
 *   +136  rip cs rflags rsp ss       what iretq pops (the CPU's own frame)
 *
 * An entry from ring 3 (interrupt, exception, syscall) lands at the very top of the task's
 * kernel stack (TSS.rsp0, this CPU's entry_stack), so the user's frame of a task in the
 * kernel is always (struct pt_regs *)stack_top - 1.
 */
#define PT_REGS_RAX	   (14 * 8)
#define PT_REGS_VECTOR	   (15 * 8)
#define PT_REGS_ERROR_CODE (16 * 8)
#define PT_REGS_RIP	   (17 * 8)
#define PT_REGS_CS	   (18 * 8)
#define PT_REGS_SIZE	   (22 * 8)

/*
 * Not a vector the CPU ever delivers (those are 0-255): the mark of a frame built by the
 * syscall entry.
 */
#define X86_VEC_SYSCALL 0x100

#ifndef __ASSEMBLY__
#include <lib/types.h>

struct pt_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rdi, rsi, rbp, rdx, rcx, rbx, rax;
	u64 vector;
	union {
		u64 error_code; /* an exception's, 0 when the CPU pushes none */
		u64 orig_ax;	/* a syscall's number, kept when rax becomes its result */
	};
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU (or the syscall entry) */
};

/* The privilege the frame was taken at: the RPL of the saved CS is the CPL that ran. */
static inline bool user_mode(const struct pt_regs *r)
{
	return (r->cs & 3) == 3;
}

static inline unsigned long instruction_pointer(const struct pt_regs *r)
{
	return r->rip;
}

static inline unsigned long user_stack_pointer(const struct pt_regs *r)
{
	return r->rsp;
}

static inline unsigned long syscall_get_nr(const struct pt_regs *r)
{
	return r->orig_ax;
}

/* The ABI's argument registers (user/include/lazymmu/syscall.h): rcx is the CPU's, not ours. */
static inline unsigned long syscall_get_arg(const struct pt_regs *r, unsigned int n)
{
	switch (n) {
	case 0:
		return r->rdi;
	case 1:
		return r->rsi;
	case 2:
		return r->rdx;
	case 3:
		return r->r10;
	case 4:
		return r->r8;
	case 5:
		return r->r9;
	default:
		return 0;
	}
}

static inline void syscall_set_return_value(struct pt_regs *r, long v)
{
	r->rax = (u64)v;
}

/*
 * The contract's kernel-stack hook (declared for generic code in <kernel/arch.h>): the task
 * about to run enters from ring 3 at stack_top - TSS.rsp0 and the syscall entry's stack.
 */
void arch_set_kernel_stack(unsigned long stack_top);

/* A fresh user register set: pc, sp, all else 0, ring 3, interrupts enabled. */
void start_thread(struct pt_regs *r, unsigned long pc, unsigned long sp);

/*
 * Leaves for ring 3 with *r, copied first to the top of the current task's kernel stack
 * (where the next entry from ring 3 will put its frame). Interrupts on or off; the current
 * task's mm is loaded. The caller has run exit_to_user_mode(). Never returns.
 */
__noreturn void arch_return_to_user(const struct pt_regs *r);
#endif
