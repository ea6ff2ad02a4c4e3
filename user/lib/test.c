/* The test programs' helpers behind <lazymmu/test.h>: failure reports and child processes. */
#include <lazymmu/test.h>

void check_failed(const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	/* One printf() is one write(): the line is never split by another process's output. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s:%d: %s\n", file, line, msg);
	exit(1);
}

int run_in_child(void (*fn)(void *arg), void *arg)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		exit(0);
	}
	if (pid < 0)
		check_failed(__FILE__, __LINE__, "fork() = %d", pid);
	pid_t got = wait(pid, &status);

	if (got != pid)
		check_failed(__FILE__, __LINE__, "wait(%d) = %d", pid, got);
	return status;
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGILL:
		return "SIGILL";
	case SIGKILL:
		return "SIGKILL";
	case SIGSEGV:
		return "SIGSEGV";
	default:
		return "?";
	}
}

const char *describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 signal_name(WTERMSIG(status)));
	return buf;
}
