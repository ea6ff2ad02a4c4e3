/* kmain: the generic half of boot, from a working console to the test verdict. */
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/exit.h>
#include <kernel/irq.h>
#include <kernel/printk.h>
#include <kernel/sections.h>
#include <kernel/task.h>
#include <mm/mm.h>
#include <kunit/test.h>

__noreturn void kmain(void)
{
	char glob[64];
	int failed;

	printk("lazymmu: booted via %s, cmdline \"%s\"\n", boot_info.protocol, boot_info.cmdline);
	arch_describe_cpu();
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		printk("lazymmu: ram %#llx-%#llx\n", (unsigned long long)boot_info.ram[i].base,
		       (unsigned long long)(boot_info.ram[i].base + boot_info.ram[i].size - 1));

	/*
	 * Never hand out the kernel image, nor the first MiB (x86's BIOS data, real-mode IVT
	 * and page 0; below RAM on arm64, so a no-op there).
	 */
	boot_add_region(boot_info.reserved, &boot_info.nr_reserved, 0, 0x100000);
	boot_add_region(boot_info.reserved, &boot_info.nr_reserved, virt_to_phys(_kernel_start),
			virt_to_phys(_kernel_end) - virt_to_phys(_kernel_start));
	frames_init(&boot_info);
	task_init_boot();
	mm_init();
	arch_irq_init();
	local_irq_enable();

	failed = kunit_run_all(
	    cmdline_get(&boot_info, "kunit.filter_glob", glob, sizeof(glob)) ? glob : NULL);
	kernel_exit(failed ? EXIT_TESTS_FAILED : EXIT_PASS);
}
