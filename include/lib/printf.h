/* Freestanding formatted output into buffers (lib/printf.c). */
#pragma once

#include <stdarg.h>
#include <lib/types.h>

/*
 * Supports %d %i %u %x %X %o %p %s %c %% with flags '-' '0' '+' ' ' '#', a width (or '*'), a
 * precision for strings and integers, and the length modifiers hh h l ll z t j.
 * Returns the length the full output would have had, like C99.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/*
 * Formats straight to a character sink without a size limit; printk() uses this so a
 * message is never truncated.
 */
typedef void (*putc_fn)(char c, void *ctx);
int vcbprintf(putc_fn out, void *ctx, const char *fmt, va_list ap);
