/* The boot task of each CPU: the flow that booted it becomes its first task. */
#include <kernel/task.h>
#include <kernel/sections.h>
#include <lib/string.h>
#include <mm/mm.h>

struct cpu cpus[NR_CPUS] = { [0] = { .self = &cpus[0] } };
static struct task boot_tasks[NR_CPUS];

void task_init_boot(void)
{
	struct cpu *cpu = this_cpu();
	struct task *t = &boot_tasks[cpu->id];

	memset(t, 0, sizeof(*t));
	t->name = "boot";
	t->state = TASK_RUNNING;
	t->on_rq = true;
	t->cpu = cpu->id;
	/* Only CPU 0 runs on the linker's boot stack; others set their own when they start. */
	if (cpu->id == 0) {
		t->stack_guard = (unsigned long)__stack_guard;
		t->stack_top = (unsigned long)__stack_top;
	}
	cpu->current_task = t;
	cpu->active_mm = &init_mm; /* the only tables there are at boot */
}

struct task *boot_task(unsigned int cpu)
{
	return cpu < NR_CPUS ? &boot_tasks[cpu] : NULL;
}
