/* x86-64 SMP: where the AP trampoline runs, the IPI vectors, the shootdown hooks. */
#pragma once

/*
 * The page the AP trampoline is copied to: below 1 MiB (real mode can't reach higher),
 * 4 KiB aligned (a SIPI vector is a page number), and in the first MiB that kmain() never
 * gives to the frame allocator, so nothing else lives there.
 */
#define X86_TRAMPOLINE_PA 0x8000

#ifndef __ASSEMBLY__
#include <lib/types.h>

extern const char x86_trampoline_start[], x86_trampoline_end[];
/* The stack top of the AP with each initial APIC ID (0: none), read by trampoline.S. */
extern u64 x86_ap_stack[256];

__noreturn void x86_secondary_start(u32 apic_id);
#endif
