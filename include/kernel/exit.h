/* How the kernel ends: a status line for the log, then the arch's exit to the host. */
#pragma once

#include <lib/types.h>

#define EXIT_PASS	  0 /* every suite passed */
#define EXIT_TESTS_FAILED 1
#define EXIT_PANIC	  2 /* panic() or an unexpected exception */

/* Prints "lazymmu: exit <code>" (the host runner reads it) and stops the machine. */
__noreturn void kernel_exit(int code);
