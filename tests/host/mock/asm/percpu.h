/* The host mock's per-CPU register: there is one CPU, cpus[0]. */
#pragma once

struct cpu;
extern struct cpu cpus[];

static inline struct cpu *arch_this_cpu(void)
{
	return &cpus[0];
}
