/* Test helper: another CPU caches a translation, waits, then reads through it again. */
#pragma once

#include <kernel/arch.h>
#include <kernel/smp.h>
#include <kunit/probe.h>
#include <lib/types.h>

/*
 * A remote probe runs as one cross-call on `cpu`, in interrupt context there (interrupts
 * masked, so nothing else runs on that CPU in between to evict its TLB entry):
 *
 *   remote: before = read(va)     the translation is now cached on that CPU
 *           phase = CACHED  ------>  caller: changes the mapping (and flushes, or not)
 *           spin until GO   <------  caller: smp_probe_finish()
 *           after = read(va)        what that CPU sees now
 *
 * A TLB shootdown (an NMI on x86) still reaches it while it spins; an ordinary interrupt
 * does not, so nothing but the flush under test can change what it sees.
 */
enum { SMP_PROBE_IDLE, SMP_PROBE_CACHED, SMP_PROBE_GO, SMP_PROBE_DONE };

struct smp_probe {
	unsigned long va;
	unsigned int cpu;
	int phase;
	s64 before, after; /* kunit_peek() results: the word read, or -1 for a fault */
};

static inline void smp_probe_fn(void *arg)
{
	struct smp_probe *p = arg;

	p->before = kunit_peek(p->va);
	__atomic_store_n(&p->phase, SMP_PROBE_CACHED, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != SMP_PROBE_GO)
		cpu_relax();
	p->after = kunit_peek(p->va);
	__atomic_store_n(&p->phase, SMP_PROBE_DONE, __ATOMIC_RELEASE);
}

/* Spins (bounded: 5 s) until p reaches phase; false if it never did. */
static inline bool smp_probe_wait(struct smp_probe *p, int phase)
{
	u64 start = arch_cycles(), limit = arch_cycles_hz() * 5;

	while (__atomic_load_n(&p->phase, __ATOMIC_ACQUIRE) != phase)
		if (arch_cycles() - start > limit)
			return false;
	return true;
}

/* Starts the probe on cpu and returns once it has read va once (false: it never did). */
static inline bool smp_probe_start(struct smp_probe *p, unsigned int cpu, unsigned long va)
{
	p->va = va;
	p->cpu = cpu;
	p->before = p->after = -2;
	__atomic_store_n(&p->phase, SMP_PROBE_IDLE, __ATOMIC_RELEASE);
	if (smp_call_function_single(cpu, smp_probe_fn, p, false))
		return false;
	return smp_probe_wait(p, SMP_PROBE_CACHED);
}

/* Lets the probe read again and waits for the result (false: it never answered). */
static inline bool smp_probe_finish(struct smp_probe *p)
{
	__atomic_store_n(&p->phase, SMP_PROBE_GO, __ATOMIC_RELEASE);
	return smp_probe_wait(p, SMP_PROBE_DONE);
}
