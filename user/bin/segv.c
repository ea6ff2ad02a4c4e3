/*
 * Writes to page 0, which is never mapped: the kernel must kill this process alone, with
 * SIGSEGV as its wait status and a one-line report (tests/kernel/process.c). The address
 * comes through a volatile, so neither the compiler nor a checker treats it as a NULL
 * dereference: it is a store to address 0x10 like any other.
 */
#include <lazymmu/libc.h>

static volatile unsigned long target = 0x10;

int main(void)
{
	*(volatile int *)target = 1;
	printf("segv: the write to page 0 did not fault\n");
	return 0;
}
