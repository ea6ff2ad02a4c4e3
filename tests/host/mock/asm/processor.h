/* The host mock's CPU hints: one CPU, so a spin never waits on anybody else. */
#pragma once

static inline void cpu_relax(void)
{
	__asm__ __volatile__("" : : : "memory");
}
