/*
 * A fork to watch (docs: the console's trace): a process touches a few hundred pages,
 * forks, the child writes one of them, and both exit. Each step is printed first, so that
 * the kernel's trace of it follows on the console:
 *
 *   fork        one lazy MMU section copies every page-table entry and write-protects
 *               the parent's entries (copy-on-write), then one flush of the parent's TLB;
 *   child write one copy-on-write fault: a new frame, one entry, one invalidation (the
 *               child's stack and printf's buffer in .bss are copied on their first write
 *               too: 3 copies in all; after the child's exit the parent's next writes to
 *               those two find the frames unshared and reuse them);
 *   exits       each address space is torn down in one section (zap), one flush each.
 */
#include <lazymmu/libc.h>

#define NPAGES 300

int main(void)
{
	int status;
	char *p =
	    mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

	if ((long)p < 0) {
		printf("forktrace: mmap: %ld\n", (long)p);
		return 1;
	}
	printf("forktrace: pid %d touches %d pages at %p\n", getpid(), NPAGES, p);
	for (int i = 0; i < NPAGES; i++)
		p[i * PAGE_SIZE] = (char)i;

	printf("forktrace: fork\n");
	pid_t pid = fork();

	if (pid == 0) {
		/* The write first, so that its fault is the first thing the child does. */
		p[0] = 'c';
		printf("forktrace: child %d wrote page 0 (copy-on-write); exits\n", getpid());
		return 0;
	}
	if (pid < 0) {
		printf("forktrace: fork: %d\n", pid);
		return 1;
	}
	if (wait(pid, &status) != pid || status != 0) {
		printf("forktrace: child %d: status %#x\n", pid, status);
		return 1;
	}
	/* The parent's page 0 is still its own: the child's write made a copy. */
	printf("forktrace: parent %d: child done, page 0 still %d; parent exits\n", getpid(), p[0]);
	return 0;
}
