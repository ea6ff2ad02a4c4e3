/* The HPET main counter, and the TSC calibrated against it (arch_cycles, arch_cycles_hz). */
#include <asm/hpet.h>
#include <asm/io.h>
#include <asm/processor.h>
#include <kernel/arch.h>
#include <kernel/panic.h>
#include <mm/mm.h>

#define HPET_CAPABILITIES 0x000 /* [63:32] counter period in femtoseconds */
#define HPET_CONFIG	  0x010
#define HPET_COUNTER	  0x0f0

#define HPET_CONFIG_ENABLE     BIT(0)
#define HPET_CAP_COUNTER_64BIT BIT(13)
/* The specification caps the period at 100 ns (10 MHz); 0 or more means no HPET. */
#define HPET_MAX_PERIOD_FS 100000000ULL
#define FS_PER_SECOND	   1000000000000000ULL

static u64 hpet_hz;

static unsigned long hpet_reg(unsigned int offset)
{
	return (unsigned long)phys_to_virt(HPET_BASE + offset);
}

void x86_hpet_init(void)
{
	u64 cap, period;

	if (hpet_hz)
		return;
	cap = mmio_read64(hpet_reg(HPET_CAPABILITIES));
	period = cap >> 32;
	if (period == 0 || period > HPET_MAX_PERIOD_FS || !(cap & HPET_CAP_COUNTER_64BIT))
		panic("x86_64: no usable HPET at %#lx (capabilities %#llx)", HPET_BASE,
		      (unsigned long long)cap);
	hpet_hz = FS_PER_SECOND / period;
	/* The main counter runs only while ENABLE is set. */
	mmio_write64(hpet_reg(HPET_CONFIG),
		     mmio_read64(hpet_reg(HPET_CONFIG)) | HPET_CONFIG_ENABLE);
}

u64 x86_hpet_read(void)
{
	return mmio_read64(hpet_reg(HPET_COUNTER));
}

u64 x86_hpet_hz(void)
{
	return hpet_hz;
}

u64 arch_cycles(void)
{
	return rdtsc_ordered();
}

static u64 tsc_hz;

/* Ticks of a clock over an HPET interval -> the clock's rate, without 64-bit overflow. */
u64 x86_rate_from_hpet(u64 ticks, u64 hpet_ticks)
{
	return ticks * (hpet_hz / 1000) / hpet_ticks * 1000;
}

void x86_tsc_set_hz(u64 hz)
{
	tsc_hz = hz;
}

/*
 * The TSC rate: no CPUID leaf states it under QEMU TCG (no 0x15/0x16, no invariant-TSC
 * bit), so count TSC ticks across 10 ms of HPET time, once. Under TCG both clocks follow
 * the host's clock, so the ratio is stable; 10 ms keeps boot fast and the error small.
 * arch_irq_init() measures it in the same window as the LAPIC timer; this is the fallback
 * for a caller that comes first.
 */
u64 arch_cycles_hz(void)
{
	u64 h0, t0, h1, t1;

	if (tsc_hz)
		return tsc_hz;
	x86_hpet_init();
	h0 = x86_hpet_read();
	t0 = rdtsc_ordered();
	do {
		h1 = x86_hpet_read();
	} while (h1 - h0 < hpet_hz / 100);
	t1 = rdtsc_ordered();
	tsc_hz = x86_rate_from_hpet(t1 - t0, h1 - h0);
	return tsc_hz;
}
