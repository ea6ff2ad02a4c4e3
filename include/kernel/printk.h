/* Kernel console output: printk() and friends (kernel/printk.c). */
#pragma once

#include <stdarg.h>
#include <lib/types.h>

int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);
/* Writes a string as is. Safe from exception handlers. */
void console_puts(const char *s);
