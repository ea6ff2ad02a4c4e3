/* Fatal errors and once-only warnings (kernel/panic.c). */
#pragma once

#include <lib/types.h>

/* Prints the message, the test that was running, and exits QEMU with status 2. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* Prints "WARNING: file:line: message" and counts it (see warn_count()). */
void warn_report(const char *file, int line, const char *fmt, ...) __printf(3, 4);

/* How many warnings have been printed since boot: tests use it to check "warns once". */
unsigned long warn_count(void);

#define BUG_ON(cond)                                                          \
	do {                                                                  \
		if (unlikely(cond))                                           \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/*
 * WARN_ONCE(cond, fmt, ...): evaluates to cond; the first time cond is true at this call
 * site it prints a warning. Later hits stay silent, as in Linux.
 */
#define WARN_ONCE(cond, fmt, ...)                                            \
	({                                                                   \
		static bool __warned;                                        \
		bool __c = !!(cond);                                         \
		if (unlikely(__c) && !__warned) {                            \
			__warned = true;                                     \
			warn_report(__FILE__, __LINE__, fmt, ##__VA_ARGS__); \
		}                                                            \
		__c;                                                         \
	})

#define WARN_ON_ONCE(cond) WARN_ONCE(cond, "%s", #cond)
