/* ESR_EL1, the exception syndrome: exception classes and the abort syndrome bits. */
#pragma once

/*
 *   63     56 55  32 31    26 25 24                                  0
 *  +---------+------+--------+--+-------------------------------------+
 *  |  RES0   | ISS2 |   EC   |IL|                 ISS                 |
 *  +---------+------+--------+--+-------------------------------------+
 *
 *   EC   exception class: what happened (the table below)
 *   IL   the trapped instruction was 32 bits wide
 *   ISS  instruction-specific syndrome; for aborts:
 *
 *   24  23 22 21  20  16 15 14  13   12  11 10  9   8    7    6   5      0
 *  +---+-----+---+------+--+--+----+---+----+---+--+----+-----+---+--------+
 *  |ISV| SAS |SSE| SRT  |SF|AR|VNCR|SET     |FnV|EA| CM |S1PTW|WnR|DFSC/IFSC|
 *  +---+-----+---+------+--+--+----+---+----+---+--+----+-----+---+--------+
 *
 *   FnV    FAR is not valid        CM     a cache maintenance instruction faulted
 *   S1PTW  the fault happened on a stage 2 walk for a stage 1 table access
 *   WnR    the access was a write (data aborts only)
 *   DFSC   fault status: what kind of fault, and at which translation level
 */
#define ESR_EC_SHIFT 26
#define ESR_EC_MASK  0x3f
#define ESR_IL	     (1UL << 25)
#define ESR_ISS_MASK 0x1ffffff

#define ESR_EC_UNKNOWN	   0x00 /* includes undefined instructions */
#define ESR_EC_WFX	   0x01
#define ESR_EC_FP_ACCESS   0x07
#define ESR_EC_BTI	   0x0d
#define ESR_EC_ILLEGAL	   0x0e
#define ESR_EC_SVC64	   0x15
#define ESR_EC_HVC64	   0x16
#define ESR_EC_SMC64	   0x17
#define ESR_EC_SYS64	   0x18
#define ESR_EC_SVE	   0x19
#define ESR_EC_FPAC	   0x1c
#define ESR_EC_IABT_LOW	   0x20
#define ESR_EC_IABT_CUR	   0x21
#define ESR_EC_PC_ALIGN	   0x22
#define ESR_EC_DABT_LOW	   0x24
#define ESR_EC_DABT_CUR	   0x25
#define ESR_EC_SP_ALIGN	   0x26
#define ESR_EC_FP_EXC64	   0x2c
#define ESR_EC_SERROR	   0x2f
#define ESR_EC_BREAKPT_LOW 0x30
#define ESR_EC_BREAKPT_CUR 0x31
#define ESR_EC_SOFTSTP_LOW 0x32
#define ESR_EC_SOFTSTP_CUR 0x33
#define ESR_EC_WATCHPT_LOW 0x34
#define ESR_EC_WATCHPT_CUR 0x35
#define ESR_EC_BRK64	   0x3c

#define ESR_ABT_FNV   (1UL << 10)
#define ESR_ABT_EA    (1UL << 9)
#define ESR_ABT_CM    (1UL << 8)
#define ESR_ABT_S1PTW (1UL << 7)
#define ESR_ABT_WNR   (1UL << 6)
#define ESR_ABT_FSC   0x3f

/* Fault status codes (DFSC/IFSC): the first four kinds carry the level in bits 1:0. */
#define FSC_ADDR_SIZE	  0x00 /* 0b0000LL */
#define FSC_TRANSLATION	  0x04 /* 0b0001LL */
#define FSC_ACCESS_FLAG	  0x08 /* 0b0010LL */
#define FSC_PERMISSION	  0x0c /* 0b0011LL */
#define FSC_SEA		  0x10 /* synchronous external abort */
#define FSC_TAG_CHECK	  0x11
#define FSC_SEA_WALK	  0x14 /* 0b0101LL: external abort on a table walk */
#define FSC_PARITY	  0x18
#define FSC_ALIGNMENT	  0x21
#define FSC_TLB_CONFLICT  0x30
#define FSC_UNSUPP_ATOMIC 0x31

static inline unsigned int esr_ec(unsigned long esr)
{
	return (esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
}
