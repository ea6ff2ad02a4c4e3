/* The boot task of each CPU. The scheduler, when it comes, adds a switch hook here. */
#include <kernel/task.h>
#include <lib/string.h>

struct cpu cpus[NR_CPUS];
static struct task boot_tasks[NR_CPUS];

void task_init_boot(void)
{
	struct cpu *cpu = this_cpu();
	struct task *t = &boot_tasks[cpu->id];

	memset(t, 0, sizeof(*t));
	t->name = "boot";
	cpu->current_task = t;
}
