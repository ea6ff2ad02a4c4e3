/* PSCI (Power State Coordination Interface): firmware calls over hvc or smc. */
#pragma once

#include <lib/types.h>

/* Function IDs (PSCI 0.2+, SMC calling convention: fast call, 32-bit, standard service). */
#define PSCI_0_2_FN_SYSTEM_OFF 0x84000008
/* CPU_ON (SMC64): x1 = target MPIDR, x2 = entry physical address, x3 = context (-> x0). */
#define PSCI_0_2_FN64_CPU_ON 0xc4000003

/* PSCI return codes. */
#define PSCI_RET_SUCCESS	  0
#define PSCI_RET_INVALID_PARAMS	  -2
#define PSCI_RET_ALREADY_ON	  -4
#define PSCI_RET_ON_PENDING	  -5
#define PSCI_RET_INTERNAL_FAILURE -6
#define PSCI_RET_INVALID_ADDRESS  -9

/*
 * SMCCC: the function ID and arguments go in x0-x3, the result comes back in x0. Callers
 * of SMCCC 1.0 firmware must assume x1-x17 are clobbered too.
 */
#define SMCCC_CLOBBERS                                                                           \
	"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", \
	    "x15", "x16", "x17", "memory"

/* HVC #0: a call to EL2, where QEMU emulates PSCI when it starts us at EL1. */
static inline unsigned long psci_call_hvc(unsigned long fn)
{
	register unsigned long x0 __asm__("x0") = fn;

	__asm__ __volatile__("hvc #0" : "+r"(x0) : : SMCCC_CLOBBERS);
	return x0;
}

/* SMC #0: a call to EL3, where QEMU emulates PSCI when it starts us at EL2. */
static inline unsigned long psci_call_smc(unsigned long fn)
{
	register unsigned long x0 __asm__("x0") = fn;

	__asm__ __volatile__("smc #0" : "+r"(x0) : : SMCCC_CLOBBERS);
	return x0;
}

/* The same with three arguments (CPU_ON). */
static inline long psci_call3_hvc(unsigned long fn, unsigned long a1, unsigned long a2,
				  unsigned long a3)
{
	register unsigned long x0 __asm__("x0") = fn;
	register unsigned long x1 __asm__("x1") = a1;
	register unsigned long x2 __asm__("x2") = a2;
	register unsigned long x3 __asm__("x3") = a3;

	__asm__ __volatile__("hvc #0"
			     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			     :
			     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
			       "x14", "x15", "x16", "x17", "memory");
	return (long)x0;
}

static inline long psci_call3_smc(unsigned long fn, unsigned long a1, unsigned long a2,
				  unsigned long a3)
{
	register unsigned long x0 __asm__("x0") = fn;
	register unsigned long x1 __asm__("x1") = a1;
	register unsigned long x2 __asm__("x2") = a2;
	register unsigned long x3 __asm__("x3") = a3;

	__asm__ __volatile__("smc #0"
			     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			     :
			     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
			       "x14", "x15", "x16", "x17", "memory");
	return (long)x0;
}
