/*
 * Writes through a NULL pointer: the kernel must kill this process alone, with SIGSEGV as
 * its wait status and a one-line report (tests/kernel/process.c).
 */
#include <lazymmu/libc.h>

int main(void)
{
	volatile int *p = (volatile int *)0;

	*p = 1;
	printf("segv: the write to NULL did not fault\n");
	return 0;
}
