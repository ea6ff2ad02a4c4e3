/* The smallest user program: one line on the console, and exit status 0. */
#include <lazymmu/libc.h>

int main(void)
{
	printf("hello from user space: pid %d\n", getpid());
	return 0;
}
