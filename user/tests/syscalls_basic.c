/* Every simple system call once: getpid, write to the console, yield, exit through wait. */
#include <lazymmu/test.h>

static void check_write(void)
{
	static const char out[] = "syscalls_basic: a line written to fd 1\n";
	static const char err[] = "syscalls_basic: a line written to fd 2\n";
	const size_t n = sizeof(out) - 1;

	/* The console takes the whole buffer: the count is the length. */
	CHECK_EQ(write(1, out, n), n);
	CHECK_EQ(write(2, err, sizeof(err) - 1), sizeof(err) - 1);
	CHECK_EQ(write(1, out, 0), 0);

	/* Only 1 and 2 are open; the buffer is valid, so the fd alone is at fault. */
	CHECK_EQ(write(3, out, n), -EBADF);
	CHECK_EQ(write(-1, out, n), -EBADF);
	CHECK_EQ(write(1000, out, n), -EBADF);
	CHECK_EQ(write(0x7fffffff, out, n), -EBADF);
	printf("syscalls_basic: write returns the length on fd 1 and 2, -EBADF on 3, -1, 1000\n");
}

static void check_fork_exit_wait(pid_t parent)
{
	int status = -1;
	pid_t child = fork();

	if (child == 0) {
		/* A new process: its own pid, and its exit code travels to the parent. */
		pid_t self = getpid();

		if (self <= 0 || self == parent)
			exit(1);
		exit(42);
	}
	CHECK(child > 0);
	CHECK(child != parent);
	CHECK_EQ(wait(child, &status), child);
	CHECK_EXITED(status, 42);
	CHECK_EQ(wait(-1, &status), -ECHILD);
	printf("syscalls_basic: child %d exited 42, wait() returned its pid, then -ECHILD\n",
	       child);
}

int main(void)
{
	pid_t pid = getpid();

	printf("syscalls_basic: getpid() = %d\n", pid);
	CHECK(pid > 0);
	CHECK_EQ(getpid(), pid);

	check_write();

	CHECK_EQ(yield(), 0);
	printf("syscalls_basic: yield() = 0\n");

	check_fork_exit_wait(pid);
	printf("syscalls_basic: pass\n");
	return 0;
}
