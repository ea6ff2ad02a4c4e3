/* Frame-pointer backtraces and the stack-guard test for exception reports. */
#include <kernel/backtrace.h>
#include <kernel/fault.h>
#include <kernel/printk.h>
#include <kernel/sections.h>
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

bool in_stack_guard(unsigned long addr)
{
	return addr >= (unsigned long)__stack_guard &&
	       addr < (unsigned long)__stack_guard + PAGE_SIZE;
}
