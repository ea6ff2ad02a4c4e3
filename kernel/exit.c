/* kernel_exit(): the last line of every boot, then the arch exit that QEMU turns into a status. */
#include <kernel/exit.h>
#include <kernel/arch.h>
#include <kernel/printk.h>

__noreturn void kernel_exit(int code)
{
	printk("lazymmu: exit %d\n", code);
	arch_exit(code);
}
