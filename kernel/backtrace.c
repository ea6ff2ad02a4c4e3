/* Frame-pointer backtraces and the stack-guard test for exception reports. */
#include <kernel/backtrace.h>
#include <kernel/fault.h>
#include <kernel/printk.h>
#include <kernel/sections.h>
#include <kernel/task.h>
#include <mm/pte.h>

void print_frame_backtrace(unsigned long fp, unsigned long align)
{
	for (int depth = 0; depth < 8 && fp && IS_ALIGNED(fp, align); depth++) {
		unsigned long record[2];

		if (copy_from_kernel_nofault(record, (const void *)fp, sizeof(record)))
			break;
		if (!record[1])
			break;
		printk("    %#018lx\n", record[1]);
		/* Callers' frames sit higher on the stack; anything else is corruption. */
		if (record[0] <= fp)
			break;
		fp = record[0];
	}
}

static bool in_page(unsigned long addr, unsigned long page)
{
	return page && addr >= page && addr < page + PAGE_SIZE;
}

bool in_stack_guard(unsigned long addr)
{
	const struct task *t = current;

	return in_page(addr, (unsigned long)__stack_guard) || (t && in_page(addr, t->stack_guard));
}

void print_stack_overflow(unsigned long addr)
{
	const struct task *t = current;
	const char *who = "boot";
	unsigned long guard = (unsigned long)__stack_guard;

	if (t && in_page(addr, t->stack_guard)) {
		who = t->name;
		guard = t->stack_guard;
	}
	printk("  stack overflow: task %s ran into the guard page below its stack [%#lx, %#lx)\n",
	       who, guard, guard + PAGE_SIZE);
}
