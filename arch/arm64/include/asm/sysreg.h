/* arm64 system registers: read_sysreg/write_sysreg, and the register bits the kernel sets. */
#pragma once

/* Constants usable from both C and assembly (no UL suffix in .S files). */
#ifdef __ASSEMBLY__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif
#define _BITUL(n) (_UL(1) << (n))

/*
 * CurrentEL: the exception level we run at, in bits [3:2].
 */
#define CURRENTEL_EL1 (1 << 2)
#define CURRENTEL_EL2 (2 << 2)

/*
 * SCTLR_EL1, the EL1&0 system control register (only the bits we set or must know):
 *
 *   bit  0 M    stage 1 translation (the MMU) on
 *   bit  1 A    alignment checking: off, so C may do unaligned accesses to Normal memory
 *   bit  2 C    data and unified caches may allocate (Normal memory becomes cacheable)
 *   bit  3 SA   SP alignment check at EL1: a misaligned SP used as a base register faults
 *   bit 12 I    instruction cache may allocate
 *   bits 11, 20, 22, 23, 28, 29 are RES1 on ARMv8.0 (later versions gave them meanings
 *   whose value 1 is the backward-compatible one: exception entry/exit synchronise
 *   context, PAN left alone on entry, ...), so we always write them as 1.
 *   Everything else 0: little-endian (EE), no WXN, no pointer authentication, no BTI, no
 *   MTE - the features -cpu max offers stay off until someone enables them on purpose.
 */
#define SCTLR_EL1_M	  _BITUL(0)
#define SCTLR_EL1_A	  _BITUL(1)
#define SCTLR_EL1_C	  _BITUL(2)
#define SCTLR_EL1_SA	  _BITUL(3)
#define SCTLR_EL1_I	  _BITUL(12)
#define SCTLR_EL1_RES1	  (_BITUL(11) | _BITUL(20) | _BITUL(22) | _BITUL(23) | _BITUL(28) | _BITUL(29))
#define SCTLR_EL1_MMU_OFF (SCTLR_EL1_RES1 | SCTLR_EL1_SA)
#define SCTLR_EL1_KERNEL  (SCTLR_EL1_MMU_OFF | SCTLR_EL1_M | SCTLR_EL1_C | SCTLR_EL1_I)

/*
 * MAIR_EL1: eight 8-bit memory attribute encodings; a descriptor's AttrIndx picks one.
 *
 *   0xff  Normal, inner and outer write-back, read- and write-allocate, non-transient
 *   0x04  Device-nGnRE: no gathering, no reordering, early write acknowledgement
 *   0x00  Device-nGnRnE: like nGnRE but the write is acknowledged by the device itself
 *   0x44  Normal, inner and outer non-cacheable
 */
#define MT_NORMAL	     0
#define MT_DEVICE_nGnRE	     1
#define MT_DEVICE_nGnRnE     2
#define MT_NORMAL_NC	     3
#define MAIR_ATTR(attr, idx) (_UL(attr) << ((idx)*8))
#define MAIR_EL1_KERNEL                                                  \
	(MAIR_ATTR(0xff, MT_NORMAL) | MAIR_ATTR(0x04, MT_DEVICE_nGnRE) | \
	 MAIR_ATTR(0x00, MT_DEVICE_nGnRnE) | MAIR_ATTR(0x44, MT_NORMAL_NC))

/*
 * TCR_EL1, the translation control register. Two regions, each with its own root:
 *
 *   TTBR0_EL1: VAs [0, 2^48)              user space (and the boot identity map, briefly)
 *   TTBR1_EL1: VAs [2^64 - 2^48, 2^64)    the kernel: linear map, image, test windows
 *
 * Bit 55 of a VA picks the region, and every bit above the region size must equal it, or
 * the access faults (a "translation fault at level 0") without any walk.
 *
 *   bits  5:0  T0SZ   TTBR0 region size is 2^(64 - T0SZ): 16 -> 48-bit VA, 4 levels
 *   bits  9:8  IRGN0  walks of TTBR0 tables: inner write-back write-allocate (01)
 *   bits 11:10 ORGN0  ... and outer write-back write-allocate (01)
 *   bits 13:12 SH0    tables are inner shareable (11), like the memory they live in
 *   bits 15:14 TG0    4 KiB granule (00)
 *   bits 21:16 T1SZ   TTBR1 region size, the same 48 bits: 4 levels, one walker for both
 *   bit  22    A1     0: the current ASID is the one in TTBR0_EL1 (the user mm's)
 *   bits 25:24 IRGN1, bits 27:26 ORGN1, bits 29:28 SH1: as for TTBR0
 *   bits 31:30 TG1    4 KiB granule (10: TG1 encodes sizes differently from TG0). Range
 *                     TLBIs of kernel addresses must name this granule in their TG field.
 *   bits 34:32 IPS    intermediate physical address size: copied from
 *                     ID_AA64MMFR0_EL1.PARange at boot (at most 48 bits = 101)
 *   bit  36    AS     ASID size: 1 = 16 bits, set at boot when ID_AA64MMFR0_EL1.ASIDBits
 *                     says the CPU has them (else 8 bits, and TTBR0 bits 63:56 are RES0)
 *
 * EPD0 (bit 7) and EPD1 (bit 23) stay 0: both regions are always walked. A CPU with no
 * user mm loaded points TTBR0 at an empty table instead (arm64_empty_pgd, asm/mmu.h).
 */
#define TCR_T0SZ(bits) ((64 - (bits)) << 0)
#define TCR_IRGN0_WBWA (_UL(1) << 8)
#define TCR_ORGN0_WBWA (_UL(1) << 10)
#define TCR_SH0_INNER  (_UL(3) << 12)
#define TCR_TG0_4K     (_UL(0) << 14)
#define TCR_T1SZ(bits) ((64 - (bits)) << 16)
#define TCR_IRGN1_WBWA (_UL(1) << 24)
#define TCR_ORGN1_WBWA (_UL(1) << 26)
#define TCR_SH1_INNER  (_UL(3) << 28)
#define TCR_TG1_4K     (_UL(2) << 30)
#define TCR_IPS_SHIFT  32
#define TCR_AS	       _BITUL(36)
#define TCR_EL1_KERNEL                                                                 \
	(TCR_T0SZ(48) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K | \
	 TCR_T1SZ(48) | TCR_IRGN1_WBWA | TCR_ORGN1_WBWA | TCR_SH1_INNER | TCR_TG1_4K)

/*
 * ID_AA64MMFR0_EL1.PARange (bits 3:0): 0 = 32 bits ... 5 = 48 bits, 6 = 52 bits.
 * ASIDBits (bits 7:4): 0 = 8-bit ASIDs, 2 = 16-bit ASIDs.
 */
#define ID_AA64MMFR0_PARANGE_MASK   0xf
#define ID_AA64MMFR0_PARANGE_48	    5
#define ID_AA64MMFR0_ASIDBITS_SHIFT 4
#define ID_AA64MMFR0_ASIDBITS_16    2

/*
 * CPACR_EL1: FPEN (bits 21:20) = 00 traps every FP/SIMD instruction at EL1 and EL0 (and
 * ZEN, SVE, likewise). The kernel and user programs are built -mgeneral-regs-only and the
 * kernel never saves FP registers: a program that uses them dies of SIGILL instead of
 * corrupting another's. Written 0 at boot: its reset value is UNKNOWN.
 */
#define CPACR_EL1_ALL_TRAPPED 0

/*
 * CNTKCTL_EL1: what EL0 may do with the generic timer. Reset value UNKNOWN, and one that
 * let EL0 reach the virtual timer could reprogram the kernel's tick. We allow only
 * EL0VCTEN (bit 1): reading the virtual counter, as Linux does (it reveals nothing but the
 * time). EL0PCTEN (bit 0, the physical counter), EL0PTEN and EL0VTEN (bits 9 and 8, the
 * timers) stay 0: those accesses trap to EL1 (EC 0x18).
 */
#define CNTKCTL_EL1_EL0VCTEN _BITUL(1)

/*
 * HCR_EL2, the hypervisor configuration, when we only pass through EL2:
 *   bit 31 RW  EL1 is AArch64. Every other bit 0: no stage 2 (VM), no interrupt routing to
 *   EL2 (IMO/FMO/AMO), no traps - EL1 owns the machine as if EL2 did not exist.
 */
#define HCR_EL2_RW _BITUL(31)

/* CNTHCTL_EL2 (with HCR_EL2.E2H == 0): EL1PCTEN (0) and EL1PCEN (1) let EL1 use the
 * physical counter and timer without trapping to EL2. The virtual timer is never trapped. */
#define CNTHCTL_EL2_EL1PCTEN _BITUL(0)
#define CNTHCTL_EL2_EL1PCEN  _BITUL(1)

/* CPTR_EL2 (E2H == 0): bits 13:12 and 9:0 are RES1; TFP (bit 10) = 0 leaves FP/SIMD to EL1. */
#define CPTR_EL2_RES1 0x33ff

/*
 * SPSR_ELx, the saved PSTATE that eret restores:
 *   bits 3:0 M    mode: 0b0101 = EL1h (EL1, using SP_EL1), 0b0100 = EL1t (SP_EL0),
 *                 0b0000 = EL0t (user mode, on SP_EL0); bit 4: AArch32
 *   bits 9:6 DAIF debug, SError, IRQ and FIQ masks
 */
#define SPSR_MODE_MASK	  0xf
#define SPSR_MODE_AARCH32 0x10 /* M[4]: the interrupted code ran in AArch32 */
#define SPSR_MODE_EL0t	  0x0
#define SPSR_MODE_EL1t	  0x4
#define SPSR_MODE_EL1h	  0x5
#define SPSR_F		  _BITUL(6)
#define SPSR_I		  _BITUL(7)
#define SPSR_A		  _BITUL(8)
#define SPSR_D		  _BITUL(9)
#define SPSR_DAIF	  (SPSR_D | SPSR_A | SPSR_I | SPSR_F)

/* The DAIF register has the same bits at the same places as SPSR. */
#define DAIF_I SPSR_I

/* "msr daifset/daifclr, #imm": the immediate's bits are D (8), A (4), I (2), F (1). */
#define DAIFSET_IRQ    2
#define DAIFSET_SERROR 4

#ifndef __ASSEMBLY__
#include <lib/types.h>

/* The register name goes into the instruction text: it must be a literal. */
#define read_sysreg(reg)                                             \
	({                                                           \
		u64 __val;                                           \
		__asm__ __volatile__("mrs %0, " #reg : "=r"(__val)); \
		__val;                                               \
	})

/*
 * "memory": a write that changes translation, caching or masking must not have the
 * compiler move loads and stores across it. "Z" lets a constant 0 become xzr.
 */
#define write_sysreg(val, reg) \
	__asm__ __volatile__("msr " #reg ", %x0" : : "rZ"((u64)(val)) : "memory")
#endif
