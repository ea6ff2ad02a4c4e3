/* Arm semihosting: requests to the debugger/emulator (QEMU -semihosting) through hlt #0xf000. */
#pragma once

/*
 * The operation goes in x0, a pointer to its parameter block in x1 (for the calls we use);
 * the result comes back in x0. Ours:
 *   SYS_EXIT_EXTENDED (0x20): block {reason, subcode}; with reason
 *   ADP_Stopped_ApplicationExit (0x20026) QEMU exits with status = subcode.
 */
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT  0x20026

#ifndef __ASSEMBLY__
/*
 * semihosting.S: one semihosting call, or -ENOSYS if there is no semihosting: without
 * QEMU's -semihosting, hlt is an undefined instruction, and an exception-table entry turns
 * that fault into a return.
 */
long arm64_semihosting_call(unsigned long op, const void *param);
#endif
