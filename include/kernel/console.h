/* The teaching console (kernel/console.c): a prompt on the serial line after the suite. */
#pragma once

#include <lib/types.h>

/*
 * Runs the `lazymmu> ` prompt until `exit` or end of input (Ctrl-D, byte 0x04, on an empty
 * line), then ends the machine with kernel_exit(status): the caller passes the suite's
 * verdict, so a run whose tests failed still reports it. Call with interrupts enabled and
 * no lazy MMU section open.
 */
__noreturn void console_run(int status);
