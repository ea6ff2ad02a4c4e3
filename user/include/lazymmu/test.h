/*
 * Checks for the user test programs. A failed check prints "file:line: what (values)" and
 * exits with status 1, which the kernel's user_programs suite reports as the case failing;
 * a program that reaches the end of main() and returns 0 passed.
 */
#pragma once

#include <lazymmu/libc.h>

/* Prints "file:line: " and the message, then exit(1). */
__noreturn __printf(3, 4) void check_failed(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond))                                                         \
			check_failed(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
	} while (0)

/*
 * a == b, both converted to long: ints, longs, errnos and pointers alike (mmap()'s
 * (void *)-ENOMEM compares equal to (void *)-ENOMEM). Each side is evaluated once, and
 * printed in decimal and hex on failure: an errno reads well as -12, an address as hex.
 */
#define CHECK_EQ(a, b)                                                                           \
	do {                                                                                     \
		long check_a_ = (long)(a), check_b_ = (long)(b);                                 \
		if (check_a_ != check_b_)                                                        \
			check_failed(__FILE__, __LINE__,                                         \
				     "CHECK_EQ(%s, %s) failed (%ld 0x%lx != %ld 0x%lx)", #a, #b, \
				     check_a_, check_a_, check_b_, check_b_);                    \
	} while (0)

/*
 * Runs fn(arg) in a forked child and returns the child's wait() status. The child exits 0
 * if fn returns; a check failing inside fn exits 1; a fault kills it with SIGSEGV.
 */
int run_in_child(void (*fn)(void *arg), void *arg);

/* "exited 3" or "killed by signal 11 (SIGSEGV)", into buf; returns buf. */
const char *describe_status(int status, char *buf, size_t size);

/* The child's status must say it died of signal sig / exited with code. */
#define CHECK_STATUS(status, expected)                                                             \
	do {                                                                                       \
		int check_s_ = (status), check_e_ = (expected);                                    \
		char check_got_[40], check_want_[40];                                              \
		if (check_s_ != check_e_)                                                          \
			check_failed(__FILE__, __LINE__, "%s: child %s, expected %s", #status,     \
				     describe_status(check_s_, check_got_, sizeof(check_got_)),    \
				     describe_status(check_e_, check_want_, sizeof(check_want_))); \
	} while (0)
#define CHECK_SIGNALED(status, sig) CHECK_STATUS(status, W_EXITCODE(0, sig))
#define CHECK_EXITED(status, code)  CHECK_STATUS(status, W_EXITCODE(code, 0))

/* fn(arg) in a child must die of a segmentation fault. */
#define CHECK_SEGV(fn, arg) CHECK_SIGNALED(run_in_child(fn, arg), SIGSEGV)
