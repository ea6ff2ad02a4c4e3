/* x86-64 exception and interrupt entry: vector numbers and the frame every handler sees. */
#pragma once

/* CPU exceptions with a fixed vector. */
#define X86_VEC_DE	  0  /* divide error */
#define X86_VEC_DB	  1  /* debug: single step (RFLAGS.TF), breakpoints */
#define X86_VEC_NMI	  2  /* non-maskable interrupt */
#define X86_VEC_BP	  3  /* breakpoint (int3) */
#define X86_VEC_UD	  6  /* invalid opcode */
#define X86_VEC_DF	  8  /* double fault */
#define X86_VEC_GP	  13 /* general protection */
#define X86_VEC_PF	  14 /* page fault */
#define X86_VEC_MC	  18 /* machine check */
#define X86_NR_EXCEPTIONS 32

/* The #PF error code, bit by bit. */
#define X86_PF_PRESENT 0x01 /* 0: the entry was not present; 1: a protection violation */
#define X86_PF_WRITE   0x02
#define X86_PF_USER    0x04 /* the access was made in ring 3 */
#define X86_PF_RSVD    0x08 /* a reserved bit was set in some entry */
#define X86_PF_INSTR   0x10 /* instruction fetch (NX, or U/S for ring 3) */

/*
 * External interrupts use vectors 32-255. The 8259 PIC is moved to 0x20-0x2f before being
 * masked (its BIOS default, 0x08-0x0f, collides with #DF..#GP), the LAPIC timer gets 0x30,
 * cross-calls 0x31, the LAPIC spurious vector is 0xff. TLB shootdowns come as NMIs
 * (vector 2; see arch/x86_64/shootdown.c for why).
 */
#define X86_PIC_VECTOR_BASE 0x20
#define X86_TIMER_VECTOR    0x30
#define X86_CALL_VECTOR	    0x31 /* smp_call_function_*(): kernel/smp.c */
#define X86_SPURIOUS_VECTOR 0xff

/*
 * Every vector has a stub in entry.S, 16 bytes apart: stub(v) = x86_trap_stubs + 16 * v. The
 * vectors of IST gates (NMI, #DF, #MC) go to the paranoid path, which can't trust the
 * frame's CS to say whose GS base is loaded (entry.S).
 */
#define X86_VEC_IS_PARANOID(v) ((v) == 2 || (v) == 8 || (v) == 18)
#define X86_TRAP_STUB_SIZE     16

#ifndef __ASSEMBLY__
#include <lib/types.h>
#include <asm/ptrace.h>

extern const char x86_trap_stubs[];

/*
 * Called by entry.S for every vector, interrupts masked (all gates are interrupt gates).
 * An entry from ring 3 returns with exit_to_user_mode() done (except for an NMI).
 */
void x86_handle_trap(struct pt_regs *f);
/* The C half of the syscall entry (entry.S), interrupts masked on entry and on return. */
void x86_handle_syscall(struct pt_regs *regs);
/* This CPU's syscall MSRs (STAR, LSTAR, SFMASK, EFER.SCE) and its user GS base (0). */
void x86_syscall_init(void);
/* entry.S: the entry the syscall instruction jumps to (LSTAR). */
void x86_syscall_entry(void);
/* entry.S: copies regs to frame (the kernel stack's top), then iretq to ring 3. */
__noreturn void x86_enter_user(struct pt_regs *frame, const struct pt_regs *regs);
/* The last check of a frame about to go to ring 3 (arch/x86_64/user.c), interrupts masked. */
void x86_prepare_user_frame(struct pt_regs *regs);
/* A session (asm/user_session.h) ends at this entry from ring 3, or counts this interrupt. */
bool x86_user_session_end(struct pt_regs *f, unsigned long cr2);
bool x86_user_session_irq(void);
void x86_user_session_nmi(void);
#endif
