/* The Arm generic timer: the counter and the EL1 virtual timer (CNTV), one inline per register. */
#pragma once

#include <lib/types.h>
#include <asm/barrier.h>
#include <asm/sysreg.h>

/*
 * The system counter runs at CNTFRQ_EL0 Hz (62.5 MHz on QEMU virt), the same for every
 * CPU. The virtual timer compares the virtual count (CNTVCT_EL0 = physical count -
 * CNTVOFF_EL2) with CNTV_CVAL_EL0 and, while enabled and not masked, holds its interrupt
 * (PPI 27) asserted as long as count >= CVAL: a level, which a new CVAL in the future
 * drops again.
 *
 * CNTV_CTL_EL0: bit 0 ENABLE, bit 1 IMASK (interrupt masked), bit 2 ISTATUS (condition met).
 */
#define CNTV_CTL_ENABLE	 BIT(0)
#define CNTV_CTL_IMASK	 BIT(1)
#define CNTV_CTL_ISTATUS BIT(2)

static inline u64 arch_counter_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

/*
 * The isb keeps the read in program order: without it, the CPU may read the counter
 * early (speculatively, before instructions it is supposed to follow), and a measured
 * interval could come out shorter than the work it timed.
 */
static inline u64 arch_counter_read(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static inline void arch_timer_set_cval(u64 cval)
{
	write_sysreg(cval, cntv_cval_el0);
}

static inline void arch_timer_set_ctl(u64 ctl)
{
	write_sysreg(ctl, cntv_ctl_el0);
}

static inline u64 arch_timer_get_ctl(void)
{
	return read_sysreg(cntv_ctl_el0);
}
