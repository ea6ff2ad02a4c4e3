/* arm64 barriers: dsb (wait for completion), dmb (order) and isb (resynchronise the pipeline). */
#pragma once

/*
 * dsb(opt): no instruction after it executes until every memory access, cache and TLB
 * maintenance operation before it has completed, for the observers in the named domain:
 *   sy all observers      ish inner shareable (every CPU of this machine)     nsh this CPU
 *   a "st" suffix (ishst) waits for stores only.
 * The page-table walker is such an observer: a table store is visible to walks only after
 * a dsb. The option is pasted into the instruction, so it must be a bare word: dsb(ishst).
 */
#define dsb(opt) __asm__ __volatile__("dsb " #opt : : : "memory")

/* dmb(opt): orders the accesses before it against those after it, without waiting. */
#define dmb(opt) __asm__ __volatile__("dmb " #opt : : : "memory")

/*
 * isb(): a context synchronization event. Instructions after it are fetched again, and see
 * every system-register write, completed TLB maintenance and interrupt unmasking before
 * it; anything the pipeline had already fetched or translated is thrown away.
 */
static inline void isb(void)
{
	__asm__ __volatile__("isb" : : : "memory");
}
