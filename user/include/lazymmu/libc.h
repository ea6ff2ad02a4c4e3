/*
 * The user programs' tiny libc: memory and string helpers, printf to the console (fd 1),
 * and a pseudo-random generator. Everything else a program needs is a system call, from
 * <lazymmu/syscall.h>, which this header includes.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lazymmu/syscall.h>

#define PAGE_SIZE 4096UL

/*
 * The user address space, the same on both arches (/work/notes/user-interface.md): the
 * program image at USER_TEXT_BASE, the stack's USER_STACK_PAGES demand-zero pages just
 * below USER_STACK_TOP, mmap() without MAP_FIXED from USER_MMAP_BASE up, and nothing a
 * program may touch at or above TASK_SIZE (the kernel's half, or a hole).
 */
#define USER_TEXT_BASE	 0x400000UL
#define USER_MMAP_BASE	 0x0000100000000000UL
#define USER_STACK_TOP	 0x00007ffffff00000UL
#define USER_STACK_PAGES 16
#define TASK_SIZE	 0x0000800000000000UL

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn     __attribute__((noreturn))

/* Every program defines it; crt0's _start calls it and exits with its return value. */
int main(void);

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
/* memcpy that is right for overlapping buffers too. */
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/*
 * printf family. Conversions: %d %i %u %x %X %c %s %p %%, with the length modifiers hh, h,
 * l, ll and z, the flags '-' (left-justify), '0' (zero-pad) and '#' (0x before a non-zero
 * %x), a field width (digits or *),
 * and a precision for %s (at most that many characters). The return value is the number of
 * characters produced, as C's; printf returns -errno if write() fails.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
/* Formats into a buffer on the stack and writes it to fd 1 (one write() per 256 bytes). */
int vprintf(const char *fmt, va_list ap);
__printf(1, 2) int printf(const char *fmt, ...);
/* Formats as printf, to any file descriptor (2: the console too, unbuffered the same way). */
__printf(2, 3) int dprintf(int fd, const char *fmt, ...);
/* s and a newline, in one write(). Returns a non-negative number, or -errno. */
int puts(const char *s);

/*
 * xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators",
 * 2016): 64 bits of state, period 2^64 - 1, good enough to drive a fuzzer, and the same
 * sequence for the same seed on both arches. Not for anything that must be unpredictable.
 */
struct prng {
	uint64_t state; /* never 0: xorshift maps 0 to 0 forever */
};

void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform enough in [0, n) for n > 0 (the modulo bias is below n / 2^64). */
uint64_t prng_below(struct prng *p, uint64_t n);
