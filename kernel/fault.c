/* Faults taken on purpose: the fault record, the exception table and nofault copies. */
#include <kernel/fault.h>
#include <asm/nofault.h>
#include <kernel/cpu.h>
#include <lib/errno.h>

extern const struct exception_table_entry __start___ex_table[];
extern const struct exception_table_entry __stop___ex_table[];

unsigned long search_exception_table(unsigned long pc)
{
	/* Counted by address: the bracketing symbols are distinct objects to the compiler. */
	size_t n = ((uintptr_t)__stop___ex_table - (uintptr_t)__start___ex_table) /
		   sizeof(__start___ex_table[0]);

	/* A handful of entries: a linear scan beats keeping the table sorted. */
	for (size_t i = 0; i < n; i++)
		if (__start___ex_table[i].insn == pc)
			return __start___ex_table[i].fixup;
	return 0;
}

void record_fault(unsigned long vector, unsigned long addr, unsigned long code, unsigned long pc)
{
	struct fault_info *f = &this_cpu()->last_fault;

	f->vector = vector;
	f->addr = addr;
	f->code = code;
	f->pc = pc;
	f->count++;
}

const struct fault_info *last_fault(void)
{
	return &this_cpu()->last_fault;
}

int copy_from_kernel_nofault(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	for (size_t i = 0; i < n; i++)
		if (arch_load_u8_nofault(s + i, d + i))
			return -EFAULT;
	return 0;
}

int copy_to_kernel_nofault(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	for (size_t i = 0; i < n; i++)
		if (arch_store_u8_nofault(d + i, s[i]))
			return -EFAULT;
	return 0;
}

int call_nofault(void (*fn)(void *), void *arg)
{
	struct cpu *cpu = this_cpu();
	/* irq_depth at arming: a fault in an interrupt handler that lands meanwhile stays fatal. */
	struct nofault_ctx ctx = { .irq_depth = cpu->irq_depth };
	struct nofault_ctx *prev = cpu->nofault;
	int ret;

	/* Armed before arch_call_nofault() fills ctx: nothing in between can fault. */
	cpu->nofault = &ctx;
	ret = arch_call_nofault(&ctx, fn, arg);
	cpu->nofault = prev;
	return ret;
}
