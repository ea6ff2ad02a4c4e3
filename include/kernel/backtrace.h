/* Crash-report helpers shared by both arches' exception handlers (kernel/backtrace.c). */
#pragma once

#include <lib/types.h>

/*
 * Prints up to 8 return addresses by following frame records from fp. Both arches build
 * the same record with -fno-omit-frame-pointer: { caller's frame pointer, return address },
 * at the address the frame pointer holds (x86-64 rbp, arm64 x29). Each record is read
 * with copy_from_kernel_nofault(), so a corrupt chain ends the trace, not the report.
 */
void print_frame_backtrace(unsigned long fp, unsigned long align);

/* True if addr lies in the unmapped page below the boot stack or the running task's stack. */
bool in_stack_guard(unsigned long addr);

/* "stack overflow: task NAME ran into ...": names the task whose guard page holds addr. */
void print_stack_overflow(unsigned long addr);
