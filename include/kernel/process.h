/*
 * Processes (kernel/process.c): a task with a user address space (current->mm), a pid, a
 * parent that wait()s for it, and a user register frame it enters user mode with. Design
 * section 12; docs/user.md.
 *
 * Who protects what: proc_lock (kernel/process.c) protects the process table, every
 * task's pid, parent, zombie and wait_status; a task's mm pointer is written only by the
 * task itself (and by its creator before it first runs).
 */
#pragma once

#include <lib/types.h>
#include <kernel/task.h>

struct pt_regs;
struct user_program;

/* At most this many processes at once: fork() beyond it fails with -EAGAIN. */
#define NR_PROCS 64

/*
 * Starts program `name` (from user/, embedded) as a new process whose parent is the caller,
 * on `cpu` (-1: the next CPU in turn). Its pid, or -ENOENT (no such program), -EAGAIN (table
 * full), -ENOMEM.
 */
int process_spawn(const char *name, int cpu);

/*
 * wait() for kernel callers: for child pid (-1: any) of the current task; its pid, with its
 * wait status in *status, or -ECHILD. Blocks until one has exited.
 */
int process_wait(int pid, int *status);

/* Ends the current process with a wait status (W_EXITCODE()); never returns. */
__noreturn void do_exit(int status);

/* How many processes exist (zombies included). */
unsigned int nr_processes(void);

/*
 * Makes every CPU that still has a dead process's tables loaded (lazy TLB) load the
 * kernel's instead, freeing them: afterwards every frame of every exited process is free.
 */
void drop_lazy_mms(void);

/* Finds an embedded user program by name, or NULL. */
const struct user_program *find_user_program(const char *name);

/*
 * Builds the address space of program p into mm (no CPU has it loaded yet): its PT_LOAD
 * segments with their protections, and the stack. 0 with *entry set, or a negative errno
 * (-ENOEXEC for a file that is not a program for this arch).
 */
int load_user_program(struct mm_struct *mm, const struct user_program *p, unsigned long *entry);

/* --- called by the arch's user-mode entry code --- */

/* A system call: number and arguments in regs, the result written back into regs. */
void do_syscall(struct pt_regs *regs);
/*
 * A page fault or abort taken in user mode at addr with access FAULT_READ/WRITE/EXEC
 * (<mm/user.h>). Returns when the access may be retried; otherwise the process dies of
 * SIGSEGV (or SIGKILL when out of memory) with a one-line report.
 */
void do_user_fault(struct pt_regs *regs, unsigned long addr, unsigned int access);
/* Any other exception from user mode: a report, and the process dies of sig. */
__noreturn void user_fatal_exception(struct pt_regs *regs, int sig, const char *what);
/* Last thing before every return to user mode, interrupts masked: reschedules if asked. */
void exit_to_user_mode(struct pt_regs *regs);

/* System calls since boot, over every CPU (atomics). */
struct syscall_stats {
	u64 calls;
	u64 errors;  /* returned a negative errno */
	u64 unknown; /* ... of them -ENOSYS for an unknown number */
};
extern struct syscall_stats syscall_stats;

/* --- the syscalls themselves (kernel/syscall.c), for do_syscall() and tests --- */
long sys_fork(struct pt_regs *regs);
