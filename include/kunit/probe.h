/* Test helpers that prove a mapping by touching memory through it, never crashing. */
#pragma once

#include <kernel/fault.h>
#include <lib/types.h>

/* What a 64-bit read through va returns, or -1 if the read faulted. */
static inline s64 kunit_peek(unsigned long va)
{
	u64 v;

	if (copy_from_kernel_nofault(&v, (const void *)va, sizeof(v)))
		return -1;
	return (s64)v;
}

/* Whether a write through va works (it writes back what is there, changing nothing). */
static inline bool kunit_can_write(unsigned long va)
{
	u64 v;

	if (copy_from_kernel_nofault(&v, (const void *)va, sizeof(v)))
		return false;
	return copy_to_kernel_nofault((void *)va, &v, sizeof(v)) == 0;
}
