/*
 * Processes: spawn (a program from user/), fork, exit, wait, and the deaths the arch's
 * user-mode entry reports. A process is a task with an mm; it runs in user mode from the
 * register frame it was started or forked with, and comes back into the kernel only through
 * a system call, a fault or an interrupt (arch entry code -> do_syscall(), do_user_fault()).
 *
 * proc_lock protects the table below and every task's pid, parent, zombie and wait_status.
 * Lock order: proc_lock, then a run-queue lock (wake_up_process()). A parent blocks in
 * process_wait(); a child wakes it from do_exit().
 */
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/process.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/uapi.h>
#include <kernel/user_programs.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/user.h>
#include <asm/ptrace.h>

static DEFINE_SPINLOCK(proc_lock);
static struct task *procs[NR_PROCS]; /* proc_lock; NULL: free slot */
static int next_pid = 1;	     /* proc_lock */

unsigned int nr_processes(void)
{
	unsigned int n = 0;
	unsigned long flags;

	spin_lock_irqsave(&proc_lock, flags);
	for (unsigned int i = 0; i < NR_PROCS; i++)
		n += procs[i] != NULL;
	spin_unlock_irqrestore(&proc_lock, flags);
	return n;
}

/* A slot taken by a process being created (it has no task yet). */
static struct task slot_reserved;

/* Takes a free slot of the table: its index, or -EAGAIN when the table is full. */
static int proc_reserve(void)
{
	unsigned long flags;
	int slot = -EAGAIN;

	spin_lock_irqsave(&proc_lock, flags);
	for (unsigned int i = 0; i < NR_PROCS; i++) {
		if (!procs[i]) {
			procs[i] = &slot_reserved;
			slot = (int)i;
			break;
		}
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	return slot;
}

/* Fills a reserved slot with t (or frees it, t NULL); returns t's new pid. */
static int proc_fill(int slot, struct task *t)
{
	unsigned long flags;
	int pid = 0;

	spin_lock_irqsave(&proc_lock, flags);
	procs[slot] = t;
	if (t) {
		pid = next_pid++;
		t->pid = pid;
		t->parent = current;
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	return pid;
}

/* The CPU for a new process: round robin over the online CPUs. */
static unsigned int next_cpu(void)
{
	static unsigned int turn; /* atomic */
	unsigned int n = num_online_cpus();

	return __atomic_fetch_add(&turn, 1, __ATOMIC_RELAXED) % (n ? n : 1);
}

/*
 * How a process starts: its creator fills this in (a frame of its own, freed by the child
 * once copied onto its stack), the new task enters user mode with it.
 */
struct proc_start {
	struct pt_regs regs;
};

static int process_entry(void *data)
{
	struct proc_start *s = data;
	struct pt_regs regs = s->regs;

	free_frame(virt_to_phys(s));
	/*
	 * The scheduler loaded current->mm when it switched here (context_switch()): the
	 * first instruction in user mode finds its tables.
	 */
	local_irq_disable();
	exit_to_user_mode(&regs);
	arch_return_to_user(&regs);
}

/*
 * Creates the task for a process with mm and start registers, registered as the current
 * task's child, and queues it. Its pid, or a negative errno (mm is then the caller's to put).
 */
static int process_create(struct mm_struct *mm, const struct pt_regs *regs, const char *name,
			  int cpu)
{
	int slot = proc_reserve(), pid;
	struct proc_start *s;
	struct task *t;
	phys_addr_t pa;

	if (slot < 0)
		return slot;
	pa = alloc_frame();
	if (!pa) {
		proc_fill(slot, NULL);
		return -ENOMEM;
	}
	s = phys_to_virt(pa);
	s->regs = *regs;
	t = task_create_on_cpu(process_entry, s, cpu < 0 ? next_cpu() : (unsigned int)cpu, name);
	if (!t) {
		free_frame(pa);
		proc_fill(slot, NULL);
		return -ENOMEM;
	}
	t->mm = mm;
	t->free_refs = 2; /* its parent's reap, and its own last switch (task_put()) */
	pid = proc_fill(slot, t);
	task_start(t);
	return pid;
}

int process_spawn(const char *name, int cpu)
{
	const struct user_program *p = find_user_program(name);
	struct mm_struct *mm;
	struct pt_regs regs;
	unsigned long entry;
	int err;

	if (!p)
		return -ENOENT;
	mm = mm_alloc();
	if (!mm)
		return -ENOMEM;
	err = load_user_program(mm, p, &entry);
	if (!err) {
		start_thread(&regs, entry, USER_STACK_TOP);
		err = process_create(mm, &regs, p->name, cpu);
	}
	if (err < 0)
		mmput(mm);
	return err;
}

long sys_fork(struct pt_regs *regs)
{
	struct task *parent = current;
	struct mm_struct *mm = mm_alloc();
	struct pt_regs child_regs = *regs;
	int err;

	if (!mm)
		return -ENOMEM;
	err = dup_mm(mm, parent->mm);
	if (!err) {
		syscall_set_return_value(&child_regs, 0); /* fork() returns 0 in the child */
		err = process_create(mm, &child_regs, parent->name, -1);
	}
	if (err < 0)
		mmput(mm);
	return err;
}

__noreturn void do_exit(int status)
{
	struct task *t = current, *parent;
	struct mm_struct *mm = t->mm;
	unsigned long flags;

	/* The user half goes now, in lazy sections (exit_mmap()); the CPU keeps the root
	 * loaded, referenced, until it switches to another mm. */
	t->mm = NULL;
	mmput(mm);

	spin_lock_irqsave(&proc_lock, flags);
	parent = t->parent;
	/* Orphans go to our parent, who (like init) must reap them. */
	for (unsigned int i = 0; i < NR_PROCS; i++)
		if (procs[i] && procs[i]->parent == t)
			procs[i]->parent = parent;
	t->wait_status = status;
	t->zombie = true;
	/*
	 * Woken here, under proc_lock: while we hold it, our parent can't have been reaped
	 * (its own exit would have given us a new parent first). It may reap us before our
	 * last switch; then that switch frees us (task_put()).
	 */
	if (parent)
		wake_up_process(parent);
	spin_unlock_irqrestore(&proc_lock, flags);
	task_exit(status);
}

/* A child of the current task matching pid (-1: any); *zombie one that can be reaped. */
static int find_child(int pid, struct task **zombie, unsigned int *slot)
{
	int found = 0;

	*zombie = NULL;
	for (unsigned int i = 0; i < NR_PROCS; i++) {
		struct task *c = procs[i];

		if (!c || c->parent != current || (pid != -1 && c->pid != pid))
			continue;
		found++;
		if (c->zombie) {
			*zombie = c;
			*slot = i;
			return found;
		}
	}
	return found;
}

int process_wait(int pid, int *status)
{
	unsigned long flags;

	if (pid < -1 || pid == 0)
		return -ECHILD;
	for (;;) {
		struct task *z;
		unsigned int slot = 0;
		int found;

		spin_lock_irqsave(&proc_lock, flags);
		found = find_child(pid, &z, &slot);
		if (z) {
			procs[slot] = NULL;
			spin_unlock_irqrestore(&proc_lock, flags);
			*status = z->wait_status;
			pid = z->pid;
			/*
			 * A zombie is past its last look at the table, but it may still be
			 * running its last steps to the switch, on its own stack: the second
			 * of us to let go frees it (its CPU, right after the switch, or here).
			 */
			task_put(z);
			return pid;
		}
		if (!found) {
			spin_unlock_irqrestore(&proc_lock, flags);
			return -ECHILD;
		}
		/*
		 * BLOCKED before proc_lock is dropped: a child that exits after our look
		 * wakes us (its finish_task_switch() calls wake_up_process(parent)), and a
		 * wake-up that comes before schedule() just makes schedule() return at once.
		 */
		set_current_state(TASK_BLOCKED);
		spin_unlock_irqrestore(&proc_lock, flags);
		schedule();
		set_current_state(TASK_RUNNING);
	}
}

/* ------------------------------------------------------------------ from the arch entry */

static const char *access_name(unsigned int access)
{
	return access & FAULT_WRITE ? "write" : access & FAULT_EXEC ? "exec" : "read";
}

void do_user_fault(struct pt_regs *regs, unsigned long addr, unsigned int access)
{
	struct task *t = current;
	int err = handle_mm_fault(t->mm, addr, access);

	if (!err)
		return;
	printk("lazymmu: pid %d (%s): %s at %#lx, %s, pc %#lx\n", t->pid, t->name,
	       err == -ENOMEM ? "SIGKILL (out of memory)" : "SIGSEGV", addr, access_name(access),
	       instruction_pointer(regs));
	do_exit(W_EXITCODE(0, err == -ENOMEM ? SIGKILL : SIGSEGV));
}

__noreturn void user_fatal_exception(struct pt_regs *regs, int sig, const char *what)
{
	struct task *t = current;

	printk("lazymmu: pid %d (%s): %s (signal %d), pc %#lx\n", t->pid, t->name, what, sig,
	       instruction_pointer(regs));
	do_exit(W_EXITCODE(0, sig));
}

void exit_to_user_mode(struct pt_regs *regs)
{
	(void)regs;
	while (READ_ONCE(current->need_resched)) {
		local_irq_enable();
		schedule();
		local_irq_disable();
	}
}

/* ------------------------------------------------------------------ lazy mms */

/*
 * On each CPU: a CPU that still has the tables of an mm nobody uses any more loaded (the
 * lazy TLB of the last task that ran there) loads init_mm's instead and drops its reference,
 * which frees that mm. Runs in interrupt context on every CPU; the mm of a task that still
 * uses it is left alone. For tests that count frames, and for the console's `ps`.
 */
static void drop_lazy_mm(void *unused)
{
	struct cpu *cpu = this_cpu();
	struct mm_struct *mm = cpu->active_mm;

	(void)unused;
	if (mm == &init_mm || __atomic_load_n(&mm->users, __ATOMIC_ACQUIRE))
		return;
	arch_switch_mm(&init_mm);
	__atomic_fetch_and(&mm->cpumask, ~(1UL << cpu->id), __ATOMIC_RELAXED);
	cpu->active_mm = &init_mm;
	mmdrop(mm);
}

void drop_lazy_mms(void)
{
	on_each_cpu(drop_lazy_mm, NULL, true);
}
