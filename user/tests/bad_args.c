/*
 * Every system call with bad arguments gets its error code back, never a crash; and every
 * access a user program must not make (kernel memory, its own text, code in data) kills
 * it with SIGSEGV. The errnos are Linux's for the same call.
 */
#include <lazymmu/test.h>

/*
 * Kernel addresses of both arches: the start of the linear map (PAGE_OFFSET), the
 * kernel image in it (PAGE_OFFSET + its load address), and one page in. Each is in the
 * kernel half on both arches; on x86-64 the arm64 ones are non-canonical, a #GP rather
 * than a page fault: still SIGSEGV.
 */
static const unsigned long kernel_addrs[] = {
	0xffff800000000000UL, /* x86-64 PAGE_OFFSET */
	0xffff800000200000UL, /* x86-64 kernel image (loaded at 2 MiB) */
	0xffff000000000000UL, /* arm64 PAGE_OFFSET */
	0xffff000000001000UL,
	0xffff000040080000UL, /* arm64 kernel image (QEMU virt RAM + 0x80000) */
	0xfffffffffffff000UL, /* the very last page */
};

#if defined(__x86_64__)
#define KERNEL_IMAGE 0xffff800000200000UL
/* ret */
#define RET_BYTES    \
	{            \
		0xc3 \
	}
#else
#define KERNEL_IMAGE 0xffff000040080000UL
/* ret (x30), 0xd65f03c0, little-endian */
#define RET_BYTES                      \
	{                              \
		0xc0, 0x03, 0x5f, 0xd6 \
	}
#endif

/* An area nothing maps (mmap() without MAP_FIXED picks near USER_MMAP_BASE). */
#define FREE_AREA 0x0000300000000000UL

/* CHECK_EQ for the calls where Linux's errno and an equally good one both make sense. */
#define CHECK_ERR2(expr, e1, e2)                                                               \
	do {                                                                                   \
		long check_r_ = (long)(expr);                                                  \
		if (check_r_ != (e1) && check_r_ != (e2))                                      \
			check_failed(__FILE__, __LINE__, "%s = %ld, expected %s or %s", #expr, \
				     check_r_, #e1, #e2);                                      \
	} while (0)

static char *map_rw(void *addr, size_t len, int flags)
{
	char *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags);

	CHECK((long)p > 0);
	return p;
}

/* ---------------------------------------------------------------- write */

static void bad_write(void)
{
	static const char msg[] = "bad_args: this line must not be printed\n";
	char *none = map_rw(NULL, PAGE_SIZE, 0);

	CHECK_EQ(mprotect(none, PAGE_SIZE, PROT_NONE), 0);
	for (size_t i = 0; i < ARRAY_SIZE(kernel_addrs); i++)
		CHECK_EQ(write(1, (void *)kernel_addrs[i], 8), -EFAULT);
	CHECK_EQ(write(1, NULL, 8), -EFAULT);
	CHECK_EQ(write(1, (void *)FREE_AREA, 8), -EFAULT);
	CHECK_EQ(write(1, none, 8), -EFAULT);
	CHECK_EQ(write(1, (void *)(TASK_SIZE - 4), 8), -EFAULT); /* straddles the top */
	/* addr + len wraps around 2^64; or reaches far past the user half. */
	CHECK_EQ(write(1, msg, (size_t)-1), -EFAULT);
	CHECK_EQ(write(1, msg, (size_t)1 << 62), -EFAULT);
	CHECK_EQ(write(1, msg, TASK_SIZE), -EFAULT);
	CHECK_EQ(write(2, (void *)0xfffffffffffffff0UL, 0x20), -EFAULT);
	/* A bad fd is -EBADF whatever the buffer. */
	CHECK_EQ(write(3, msg, sizeof(msg) - 1), -EBADF);
	CHECK_EQ(write(-1, msg, sizeof(msg) - 1), -EBADF);
	CHECK_EQ(write(1 << 20, msg, sizeof(msg) - 1), -EBADF);
	CHECK_EQ(munmap(none, PAGE_SIZE), 0);
	printf("bad_args: write: kernel, NULL, unmapped, PROT_NONE, wrapping buffers -EFAULT;"
	       " bad fds -EBADF\n");
}

/* ---------------------------------------------------------------- mmap */

static void bad_mmap(void)
{
	const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;

	CHECK_EQ(mmap(NULL, 0, rw, anon), -EINVAL);
	CHECK_EQ(mmap((void *)(FREE_AREA + 1), PAGE_SIZE, rw, anon | MAP_FIXED), -EINVAL);
	CHECK_EQ(mmap((void *)(FREE_AREA + 0x800), PAGE_SIZE, rw, anon | MAP_FIXED), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(kernel_addrs); i++)
		CHECK_ERR2(mmap((void *)kernel_addrs[i], PAGE_SIZE, rw, anon | MAP_FIXED), -EINVAL,
			   -ENOMEM);
	CHECK_ERR2(mmap((void *)TASK_SIZE, PAGE_SIZE, rw, anon | MAP_FIXED), -EINVAL, -ENOMEM);
	CHECK_ERR2(mmap((void *)(TASK_SIZE - PAGE_SIZE), 2 * PAGE_SIZE, rw, anon | MAP_FIXED),
		   -EINVAL, -ENOMEM);
	CHECK_ERR2(mmap((void *)FREE_AREA, -FREE_AREA, rw, anon | MAP_FIXED), -EINVAL, -ENOMEM);

	/* Flags: private anonymous memory only, and nothing unknown. */
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, MAP_ANONYMOUS), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, MAP_PRIVATE), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, 0), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, MAP_ANONYMOUS | 0x01), -EINVAL); /* MAP_SHARED */
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, anon | 0x01), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, anon | 0x40), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, anon | 0x100000), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw, anon | (int)0x80000000), -EINVAL);

	/* Protections: any of READ, WRITE, EXEC, nothing else. */
	CHECK_EQ(mmap(NULL, PAGE_SIZE, 0x8, anon), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, rw | 0x100, anon), -EINVAL);
	CHECK_EQ(mmap(NULL, PAGE_SIZE, (int)0x80000000, anon), -EINVAL);

	/* More than the whole mmap() area, or a length that wraps when rounded to pages. */
	CHECK_EQ(mmap(NULL, TASK_SIZE, rw, anon), -ENOMEM);
	CHECK_EQ(mmap(NULL, (size_t)1 << 62, rw, anon), -ENOMEM);
	CHECK_EQ(mmap(NULL, (size_t)-PAGE_SIZE, rw, anon), -ENOMEM);
	CHECK_EQ(mmap(NULL, (size_t)-1, rw, anon), -ENOMEM);

	/* Not errors: a length is rounded up to pages; without MAP_FIXED an address is a hint. */
	char *p = mmap(NULL, 1, rw, anon);

	CHECK((long)p > 0);
	p[PAGE_SIZE - 1] = 1;
	CHECK_EQ(munmap(p, 1), 0);
	p = mmap((void *)0xffff800000000000UL, PAGE_SIZE, rw, anon);
	CHECK((long)p > 0 && (unsigned long)p < TASK_SIZE);
	p[0] = 1;
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	printf("bad_args: mmap: length 0, unaligned or kernel MAP_FIXED, bad flags, bad prot"
	       " -EINVAL; too long -ENOMEM\n");
}

/* ---------------------------------------------------------------- munmap, mprotect */

static void bad_munmap_mprotect(void)
{
	char *p = map_rw((void *)FREE_AREA, PAGE_SIZE, MAP_FIXED);

	/* Unaligned address. */
	CHECK_EQ(munmap(p + 1, PAGE_SIZE), -EINVAL);
	CHECK_EQ(mprotect(p + 1, PAGE_SIZE, PROT_READ), -EINVAL);
	/* Kernel range; a range ending above the user half; a range wrapping past 2^64. */
	for (size_t i = 0; i < ARRAY_SIZE(kernel_addrs); i++) {
		CHECK_EQ(munmap((void *)kernel_addrs[i], PAGE_SIZE), -EINVAL);
		/* Linux: -ENOMEM (no mapping there); the lead's ABI: -EINVAL. */
		CHECK_ERR2(mprotect((void *)kernel_addrs[i], PAGE_SIZE, PROT_READ), -EINVAL,
			   -ENOMEM);
	}
	CHECK_EQ(munmap((void *)(TASK_SIZE - PAGE_SIZE), 2 * PAGE_SIZE), -EINVAL);
	CHECK_ERR2(mprotect((void *)(TASK_SIZE - PAGE_SIZE), 2 * PAGE_SIZE, PROT_READ), -EINVAL,
		   -ENOMEM);
	CHECK_EQ(munmap(p, -(unsigned long)p + PAGE_SIZE), -EINVAL);
	CHECK_ERR2(mprotect(p, -(unsigned long)p + PAGE_SIZE, PROT_READ), -EINVAL, -ENOMEM);
	CHECK_EQ(munmap(p, (size_t)-1), -EINVAL);
	/*
	 * Length 0: munmap() says -EINVAL (as Linux); Linux's mprotect() has nothing to do and
	 * says 0, and -EINVAL, as for munmap(), is as good.
	 */
	CHECK_EQ(munmap(p, 0), -EINVAL);
	CHECK_ERR2(mprotect(p, 0, PROT_READ), 0, -EINVAL);
	/* Unknown protection bits. */
	CHECK_EQ(mprotect(p, PAGE_SIZE, 0x8), -EINVAL);
	CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_READ | 0x100), -EINVAL);
	/* mprotect() of what is not mapped, entirely or in part: -ENOMEM. */
	CHECK_EQ(mprotect(p + PAGE_SIZE, PAGE_SIZE, PROT_READ), -ENOMEM);
	CHECK_EQ(mprotect(p, 2 * PAGE_SIZE, PROT_READ), -ENOMEM);
	/* Linux: -ENOMEM; a kernel that keeps the lowest pages out of the user range: -EINVAL. */
	CHECK_ERR2(mprotect(NULL, PAGE_SIZE, PROT_READ), -ENOMEM, -EINVAL);

	/* None of the failures above touched the page. */
	CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	p[0] = 1;
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	printf("bad_args: munmap/mprotect: unaligned, kernel, wrapping -EINVAL; mprotect of"
	       " unmapped -ENOMEM\n");
}

/* ---------------------------------------------------------------- wait */

/* A child that exits at once, reaped or not by a wait() with a bad status pointer. */
static void bad_status_pointer(int *status_ptr, const char *what)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		exit(0);
	CHECK(pid > 0);
	long r = wait(pid, status_ptr);

	if (r != -EFAULT)
		check_failed(__FILE__, __LINE__, "wait(child, %s) = %ld, expected -EFAULT", what,
			     r);
	/* Linux has reaped the child anyway; keeping it for the next wait() is fine too. */
	r = wait(pid, &status);
	CHECK(r == pid || r == -ECHILD);
	if (r == pid)
		CHECK_EXITED(status, 0);
}

static const int readonly_status = 12345;

static void bad_wait(void)
{
	int status;
	char *none = map_rw(NULL, PAGE_SIZE, 0);

	CHECK_EQ(mprotect(none, PAGE_SIZE, PROT_NONE), 0);
	bad_status_pointer((int *)0xffff800000000000UL, "x86-64 PAGE_OFFSET");
	bad_status_pointer((int *)KERNEL_IMAGE, "kernel image");
	bad_status_pointer((int *)FREE_AREA, "unmapped");
	bad_status_pointer((int *)none, "PROT_NONE");
	/* Read-only memory: the kernel must not write it on our behalf either. */
	bad_status_pointer((int *)&readonly_status, "read-only .rodata");
	CHECK_EQ(*(volatile const int *)&readonly_status, 12345);
	CHECK_EQ(munmap(none, PAGE_SIZE), 0);

	CHECK_EQ(wait(-1, &status), -ECHILD);
	CHECK_EQ(wait(1, &status), -ECHILD);
	CHECK_EQ(wait(getpid(), &status), -ECHILD);
	CHECK_EQ(wait(123456, &status), -ECHILD);
	printf("bad_args: wait: kernel, unmapped, PROT_NONE, read-only status -EFAULT;"
	       " no such child -ECHILD\n");
}

/* ---------------------------------------------------------------- unknown numbers */

static void unknown_syscalls(void)
{
	CHECK_EQ(__syscall6(0, 0, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(__syscall6(NR_SYSCALLS, 0, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(__syscall6(9999, 0, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(__syscall6(-1, 0, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(__syscall6((long)(1UL << 63), 0, 0, 0, 0, 0, 0), -ENOSYS);
	/*
	 * The number is 64 bits: one whose low half is SYS_write is still unknown. A kernel
	 * that truncated it to an int would run write(-1, ...) and say -EBADF.
	 */
	CHECK_EQ(__syscall6(0x100000000L | SYS_write, -1, 0, 0, 0, 0, 0), -ENOSYS);
	printf("bad_args: syscall numbers 0, %d, 9999, -1, 1<<63, 2^32+SYS_write: -ENOSYS\n",
	       NR_SYSCALLS);
}

/* ---------------------------------------------------------------- faults */

static void read_at(void *p)
{
	(void)*(volatile unsigned char *)p;
}

static void write_at(void *p)
{
	*(volatile unsigned char *)p = 0;
}

static void call_at(void *p)
{
	((void (*)(void))p)();
}

static const unsigned char ret_in_rodata[] = RET_BYTES;
static unsigned char ret_in_data[] = RET_BYTES;

static void call_on_stack(void *unused)
{
	volatile unsigned char code[16] = RET_BYTES;

	(void)unused;
	((void (*)(void))code)();
}

static void kernel_access(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kernel_addrs); i++) {
		CHECK_SEGV(read_at, (void *)kernel_addrs[i]);
		CHECK_SEGV(write_at, (void *)kernel_addrs[i]);
	}
	CHECK_SEGV(call_at, (void *)KERNEL_IMAGE);
	/* The edges of the user half: nothing mapped at 0, just below TASK_SIZE, or at it. */
	CHECK_SEGV(read_at, NULL);
	CHECK_SEGV(read_at, (void *)(TASK_SIZE - 1));
	CHECK_SEGV(read_at, (void *)TASK_SIZE);
	printf("bad_args: reading, writing, calling kernel memory: SIGSEGV\n");
}

static void own_image(void)
{
	/* The text is readable, but not writable; neither is .rodata. */
	CHECK_EXITED(run_in_child(read_at, (void *)main), 0);
	CHECK_SEGV(write_at, (void *)main);
	CHECK_SEGV(write_at, (void *)ret_in_rodata);
	/* Only the text is executable: not .rodata, .data or the stack. */
	CHECK_SEGV(call_at, (void *)ret_in_rodata);
	CHECK_SEGV(call_at, ret_in_data);
	CHECK_SEGV(call_on_stack, NULL);
	printf("bad_args: writing own text or .rodata, executing .rodata, .data, stack: SIGSEGV\n");
}

static void no_exec_mapping(void)
{
	static const unsigned char ret[] = RET_BYTES;
	char *p = map_rw(NULL, PAGE_SIZE, 0);

	memcpy(p, ret, sizeof(ret));
	CHECK_SEGV(call_at, p);
#if defined(__x86_64__)
	/*
	 * The control: the same bytes, made executable, do run (and return). x86 keeps
	 * instruction fetches coherent with stores. arm64 would need the data cache cleaned
	 * and the instruction cache invalidated to the point of unification first, and user
	 * mode may not do that here (SCTLR_EL1.UCI is clear), so the control is x86's only.
	 */
	CHECK_EQ(mprotect(p, PAGE_SIZE, PROT_READ | PROT_EXEC), 0);
	CHECK_EXITED(run_in_child(call_at, p), 0);
#endif
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	printf("bad_args: executing a PROT_READ|PROT_WRITE page: SIGSEGV (NX)\n");
}

int main(void)
{
	bad_write();
	bad_mmap();
	bad_munmap_mprotect();
	bad_wait();
	unknown_syscalls();
	kernel_access();
	own_image();
	no_exec_mapping();
	printf("bad_args: pass\n");
	return 0;
}
