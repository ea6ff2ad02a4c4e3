/* Faults on purpose: the exception table, fault records, and nofault accessors. */
#pragma once

#include <lib/types.h>

/* What the arch exception handler recorded about the last fault. */
struct fault_info {
	unsigned long vector; /* x86: vector number (14 = #PF); arm64: ESR_EL1.EC */
	unsigned long addr;   /* x86: CR2 for #PF; arm64: FAR_EL1 (0 when not valid) */
	unsigned long code;   /* x86: error code; arm64: the whole ESR_EL1 */
	unsigned long pc;     /* the faulting instruction */
	unsigned long count;  /* faults recorded since boot */
};

/*
 * One entry per instruction that may fault on purpose: a fault at insn resumes at fixup.
 * Entries live in the "__ex_table" section; the linker script brackets it with
 * __start___ex_table / __stop___ex_table.
 */
struct exception_table_entry {
	unsigned long insn;
	unsigned long fixup;
};

/* The fixup address for a faulting pc, or 0 when pc may not fault. */
unsigned long search_exception_table(unsigned long pc);

/* Arch handlers call this for every synchronous fault before deciding what to do. */
void record_fault(unsigned long vector, unsigned long addr, unsigned long code, unsigned long pc);

/* The last fault recorded on this CPU. */
const struct fault_info *last_fault(void);

/* Copy n bytes; 0, or -EFAULT if an access faulted (the fault is recorded, not fatal). */
int copy_from_kernel_nofault(void *dst, const void *src, size_t n);
int copy_to_kernel_nofault(void *dst, const void *src, size_t n);

/*
 * Runs fn(arg). A fault anywhere inside it (including an instruction fetch from a
 * non-executable page) is recorded and makes call_nofault() return -EFAULT instead of
 * killing the kernel; otherwise returns 0. Not reentrant.
 */
int call_nofault(void (*fn)(void *), void *arg);

/* --- arch contract: single accesses with an exception-table entry (arch/<arch>/nofault.S) --- */
int arch_load_u8_nofault(const u8 *src, u8 *val);
int arch_store_u8_nofault(u8 *dst, u8 val);
/*
 * Saves the callee-saved state in ctx (struct nofault_ctx from <asm/nofault.h>), calls
 * fn(arg) and returns 0; a fault inside fn resumes here with -EFAULT instead.
 */
struct nofault_ctx;
int arch_call_nofault(struct nofault_ctx *ctx, void (*fn)(void *), void *arg);
