/*
 * The system calls of design section 12. Every argument comes from user mode and is
 * untrusted: each is checked here or in mm/ (addresses against the user half and the VMAs,
 * lengths against wrapping), and a bad one gets its errno - never a kernel fault, since the
 * kernel reads and writes user memory only through copy_{from,to}_user_mm() (mm/memory.c).
 */
#include <kernel/arch.h>
#include <kernel/printk.h>
#include <kernel/process.h>
#include <kernel/sched.h>
#include <kernel/uapi.h>
#include <lib/errno.h>
#include <mm/user.h>
#include <asm/ptrace.h>

struct syscall_stats syscall_stats;

/* write(fd, buf, len): fd 1 and 2 are the console. Copied in chunks through a buffer. */
static long sys_write(unsigned long fd, unsigned long buf, unsigned long len)
{
	char chunk[128];
	unsigned long done = 0;

	if (fd != 1 && fd != 2)
		return -EBADF;
	if (buf >= TASK_SIZE || len > TASK_SIZE - buf)
		return -EFAULT;
	while (done < len) {
		size_t n = MIN(len - done, sizeof(chunk));

		if (copy_from_user_mm(current->mm, chunk, buf + done, n))
			return done ? (long)done : -EFAULT; /* as Linux: a short write */
		console_write(chunk, n);
		done += n;
	}
	return (long)done;
}

/* wait(pid, status): the status pointer is checked first, so a bad one reaps nothing. */
static long sys_wait(long pid, unsigned long status_ptr)
{
	int status = 0, zero = 0;
	long ret;

	if (pid < -1 || pid == 0 || pid > 0x7fffffff)
		return -ECHILD;
	if (status_ptr && copy_to_user_mm(current->mm, status_ptr, &zero, sizeof(zero)))
		return -EFAULT;
	ret = process_wait((int)pid, &status);
	if (ret > 0 && status_ptr &&
	    copy_to_user_mm(current->mm, status_ptr, &status, sizeof(status)))
		return -EFAULT;
	return ret;
}

void do_syscall(struct pt_regs *regs)
{
	unsigned long nr = syscall_get_nr(regs);
	unsigned long a0 = syscall_get_arg(regs, 0), a1 = syscall_get_arg(regs, 1);
	unsigned long a2 = syscall_get_arg(regs, 2), a3 = syscall_get_arg(regs, 3);
	struct mm_struct *mm = current->mm;
	long ret;

	__atomic_fetch_add(&syscall_stats.calls, 1, __ATOMIC_RELAXED);
	switch (nr) {
	case SYS_write:
		ret = sys_write(a0, a1, a2);
		break;
	case SYS_exit:
		do_exit(W_EXITCODE((int)a0, 0));
	case SYS_getpid:
		ret = current->pid;
		break;
	case SYS_yield:
		yield();
		ret = 0;
		break;
	case SYS_fork:
		ret = sys_fork(regs);
		break;
	case SYS_wait:
		ret = sys_wait((long)a0, a1);
		break;
	case SYS_mmap:
		/* The ABI's flags and prot are ints: higher bits are unknown flags too. */
		ret = (a2 >> 32 || a3 >> 32)
			  ? -EINVAL
			  : do_mmap(mm, a0, a1, (unsigned int)a2, (unsigned int)a3);
		break;
	case SYS_munmap:
		ret = do_munmap(mm, a0, a1);
		break;
	case SYS_mprotect:
		ret = a2 >> 32 ? -EINVAL : do_mprotect(mm, a0, a1, (unsigned int)a2);
		break;
	default:
		__atomic_fetch_add(&syscall_stats.unknown, 1, __ATOMIC_RELAXED);
		ret = -ENOSYS;
		break;
	}
	if (ret < 0)
		__atomic_fetch_add(&syscall_stats.errors, 1, __ATOMIC_RELAXED);
	syscall_set_return_value(regs, ret);
}
