/*
 * The lazymmu system-call ABI: numbers, constants and one static inline wrapper per call.
 * User programs include it; so does the kernel (with __KERNEL__ defined it sees only the
 * numbers and constants), so both sides agree by construction.
 *
 *   x86-64: "syscall", rax = number, arguments in rdi, rsi, rdx, r10, r8, r9, result in rax;
 *           the CPU itself overwrites rcx (return rip) and r11 (rflags).
 *   arm64:  "svc #0", x8 = number, arguments in x0..x5, result in x0.
 *
 * Every call returns a value >= 0 on success and -errno on failure; mmap() returns the
 * address or (void *)-errno (user addresses are in the lower half, so (long)p < 0 fails).
 *
 * Assembly sources (user crt0, kernel entry code; both define __ASSEMBLY__) also see only
 * the numbers and constants.
 */
#pragma once

#define SYS_write    1
#define SYS_exit     2
#define SYS_getpid   3
#define SYS_yield    4
#define SYS_fork     5
#define SYS_wait     6
#define SYS_mmap     7
#define SYS_munmap   8
#define SYS_mprotect 9
#define NR_SYSCALLS  10

/* mmap()/mprotect() protections: any combination; PROT_NONE alone maps but forbids access. */
#define PROT_NONE  0x0
#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4

/* mmap() flags: anonymous private memory only; MAP_FIXED places it at addr exactly. */
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20

/* Signals a process can die of (wait status). */
#define SIGILL	4
#define SIGKILL 9
#define SIGSEGV 11

/* wait() status, as POSIX: exit code in bits 15:8, or the fatal signal in bits 6:0. */
#define WIFEXITED(s)	      (((s)&0x7f) == 0)
#define WEXITSTATUS(s)	      (((s) >> 8) & 0xff)
#define WIFSIGNALED(s)	      (((s)&0x7f) != 0)
#define WTERMSIG(s)	      ((s)&0x7f)
#define W_EXITCODE(code, sig) ((((code)&0xff) << 8) | ((sig)&0x7f))

/* The errnos the kernel returns (Linux's numbers). */
#define EPERM  1
#define ENOENT 2
#define ESRCH  3
#define EINTR  4
#define EBADF  9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EEXIST 17
#define EINVAL 22
#define ENOSYS 38

#if !defined(__KERNEL__) && !defined(__ASSEMBLY__)

typedef unsigned long size_t;
typedef long ssize_t;
typedef int pid_t;

#if defined(__x86_64__)
static inline long __syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long __syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a0;
	register long x1 __asm__("x1") = a1;
	register long x2 __asm__("x2") = a2;
	register long x3 __asm__("x3") = a3;
	register long x4 __asm__("x4") = a4;
	register long x5 __asm__("x5") = a5;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "lazymmu user programs are built for x86_64 or aarch64"
#endif

static inline ssize_t write(int fd, const void *buf, size_t len)
{
	return __syscall6(SYS_write, fd, (long)buf, (long)len, 0, 0, 0);
}

static inline __attribute__((noreturn)) void exit(int code)
{
	__syscall6(SYS_exit, code, 0, 0, 0, 0, 0);
	__builtin_unreachable();
}

static inline pid_t getpid(void)
{
	return (pid_t)__syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

static inline int yield(void)
{
	return (int)__syscall6(SYS_yield, 0, 0, 0, 0, 0, 0);
}

/* 0 in the child, the child's pid in the parent, or -errno. */
static inline pid_t fork(void)
{
	return (pid_t)__syscall6(SYS_fork, 0, 0, 0, 0, 0, 0);
}

/* Waits for child pid (-1: any child) to end; its pid, or -ECHILD when there is none. */
static inline pid_t wait(pid_t pid, int *status)
{
	return (pid_t)__syscall6(SYS_wait, pid, (long)status, 0, 0, 0, 0);
}

static inline void *mmap(void *addr, size_t len, int prot, int flags)
{
	return (void *)__syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, 0, 0);
}

static inline int munmap(void *addr, size_t len)
{
	return (int)__syscall6(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
}

static inline int mprotect(void *addr, size_t len, int prot)
{
	return (int)__syscall6(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
}

#endif /* !__KERNEL__ && !__ASSEMBLY__ */
