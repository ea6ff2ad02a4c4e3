/* Kernel console output: printk() and friends (kernel/printk.c). */
#pragma once

#include <stdarg.h>
#include <lib/types.h>

int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);
/* Writes a string as is. Safe from exception handlers. */
void console_puts(const char *s);
/* n bytes to the console as they are (user write()s: NULs and all), "\n" as "\r\n". */
void console_write(const char *buf, size_t n);
