/* Fixed-width types and the small compiler helpers every layer shares. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* A physical address: never dereferenced without phys_to_virt(). */
typedef u64 phys_addr_t;

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define ALIGN_UP(x, a)	 ALIGN_DOWN((x) + (a)-1, (a))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define BIT(n)		 (1UL << (n))
/* Bits h..l set, inclusive: GENMASK(11, 0) == 0xfff. */
#define GENMASK(h, l) (((~0UL) << (l)) & (~0UL >> (63 - (h))))

#define __noreturn     __attribute__((noreturn))
#define __section(s)   __attribute__((section(s)))
#define __used	       __attribute__((used))
#define __unused       __attribute__((unused))
#define __aligned(n)   __attribute__((aligned(n)))
#define __packed       __attribute__((packed))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/*
 * READ_ONCE/WRITE_ONCE: one access of exactly this width, neither torn, merged nor elided.
 * Page-table entries are read by the hardware walker behind the compiler's back, so every
 * entry store goes through WRITE_ONCE.
 */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Stops the compiler from moving memory accesses across this point; the CPU still may. */
#define barrier() __asm__ __volatile__("" ::: "memory")
