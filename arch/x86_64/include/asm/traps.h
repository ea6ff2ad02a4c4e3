/* x86-64 exception and interrupt entry: vector numbers and the frame every handler sees. */
#pragma once

/* CPU exceptions with a fixed vector. */
#define X86_VEC_DE	  0  /* divide error */
#define X86_VEC_DB	  1  /* debug: single step (RFLAGS.TF), breakpoints */
#define X86_VEC_NMI	  2  /* non-maskable interrupt */
#define X86_VEC_BP	  3  /* breakpoint (int3) */
#define X86_VEC_DF	  8  /* double fault */
#define X86_VEC_GP	  13 /* general protection */
#define X86_VEC_PF	  14 /* page fault */
#define X86_VEC_MC	  18 /* machine check */
#define X86_NR_EXCEPTIONS 32

/*
 * External interrupts use vectors 32-255. The 8259 PIC is moved to 0x20-0x2f before being
 * masked (its BIOS default, 0x08-0x0f, collides with #DF..#GP), the LAPIC timer gets 0x30,
 * the LAPIC spurious vector is 0xff.
 */
#define X86_PIC_VECTOR_BASE 0x20
#define X86_TIMER_VECTOR    0x30
#define X86_SPURIOUS_VECTOR 0xff

/* Every vector has a stub in entry.S, 16 bytes apart: stub(v) = x86_trap_stubs + 16 * v. */
#define X86_TRAP_STUB_SIZE 16

#ifndef __ASSEMBLY__
#include <lib/types.h>

/*
 * What entry.S leaves on the stack, lowest address first: the general-purpose registers it
 * pushes, the vector and error code (0 when the CPU pushes none), then the frame the CPU
 * pushed itself. The handler may change any field; iretq resumes with the result.
 */
struct x86_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rdi, rsi, rbp, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

extern const char x86_trap_stubs[];

/* Called by entry.S for every vector, interrupts masked (all gates are interrupt gates). */
void x86_handle_trap(struct x86_frame *f);
#endif
