/* x86-64 control registers, MSRs, CPUID and the TSC: one instruction per inline. */
#pragma once

#include <lib/types.h>

/* CR0: PG turns paging on; WP makes read-only pages read-only for the kernel too. */
#define X86_CR0_PE BIT(0)
#define X86_CR0_WP BIT(16)
#define X86_CR0_PG BIT(31)

/* CR4: PAE is required for long mode; PGE lets global entries survive CR3 writes. */
#define X86_CR4_PAE   BIT(5)
#define X86_CR4_PGE   BIT(7)
#define X86_CR4_PCIDE BIT(17)

/*
 * RFLAGS bits the kernel cares about:
 *   bit 1   always 1 (reserved)        IF (9)   maskable interrupts delivered
 *   TF (8)  a #DB after each insn       DF (10)  string instructions count down
 *   IOPL (13:12)  ring allowed to in/out/cli/sti   NT (14) nested task: iretq faults (#GP)
 *   AC (18) alignment checks in ring 3 (and, with SMAP, user access from ring 0)
 */
#define X86_RFLAGS_FIXED BIT(1)
#define X86_RFLAGS_IF	 BIT(9)
#define X86_RFLAGS_DF	 BIT(10)
#define X86_RFLAGS_IOPL	 (3UL << 12)
#define X86_RFLAGS_NT	 BIT(14)
#define X86_RFLAGS_AC	 BIT(18)

#define MSR_IA32_APIC_BASE 0x0000001b
#define MSR_EFER	   0xc0000080
#define EFER_SCE	   BIT(0)  /* the syscall/sysret instructions exist */
#define EFER_LME	   BIT(8)  /* long mode enable (takes effect when CR0.PG is set) */
#define EFER_NXE	   BIT(11) /* PTE bit 63 means "no execute" instead of being reserved */

/*
 * syscall reads three MSRs: STAR[47:32] is the kernel CS it loads (SS = that + 8), STAR[63:48]
 * the base sysret would derive the user selectors from; LSTAR the entry address; SFMASK the
 * RFLAGS bits it clears. It saves rip in rcx and rflags in r11, and changes nothing else:
 * not rsp, not GS base - the entry code must do both.
 */
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_SFMASK 0xc0000084

/*
 * swapgs exchanges IA32_GS_BASE (the base %gs accesses use) with IA32_KERNEL_GS_BASE. In the
 * kernel, GS_BASE is this CPU's struct cpu (asm/percpu.h) and KERNEL_GS_BASE parks the
 * user's; in ring 3 the other way round.
 */
#define MSR_KERNEL_GS_BASE 0xc0000102

static inline unsigned long read_cr0(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr0, %0" : "=r"(v));
	return v;
}

/* CR2 holds the linear address of the last page fault. */
static inline unsigned long read_cr2(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline unsigned long read_cr4(void)
{
	unsigned long v;

	__asm__ __volatile__("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* "memory": a CR4 write can flush the TLB, so no access may move across it. */
static inline void write_cr4(unsigned long v)
{
	__asm__ __volatile__("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ __volatile__("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

/*
 * rdtsc alone may execute before earlier instructions have finished, so a measured region
 * could appear shorter than it is. lfence waits for every earlier instruction to complete
 * locally before the next one starts (architectural on Intel; AMD makes it so on every CPU
 * with SSE2 that Linux runs on), which turns rdtsc into an ordered timestamp.
 */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

static inline unsigned long read_rflags(void)
{
	unsigned long flags;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(flags) : : "memory");
	return flags;
}

/* Stops the CPU until the next interrupt (or NMI). */
static inline void halt(void)
{
	__asm__ __volatile__("hlt" : : : "memory");
}

/* A spin-wait hint: saves power and tells the CPU this loop is a busy wait. */
static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" : : : "memory");
}
