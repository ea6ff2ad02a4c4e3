/*
 * A thousand short-lived processes, eight at a time, each with its own page at the same
 * virtual address: none may ever see another's.
 *
 * Every address space gets an address-space ID (arm64 ASID, x86 PCID) so that the TLB
 * can keep several processes' translations at once; IDs are few (256 with 8-bit ASIDs), so
 * they are recycled, and a new generation must start with no translation of an old one
 * left anywhere (Linux's arch/arm64/mm/context.c). If one were left, a process given a
 * recycled ID would read, through it, the page of a process that had the ID before: here,
 * another process's pid instead of its own.
 */
#include <lazymmu/test.h>

#define PROCESSES 1024
#define AT_ONCE	  8
#define NPAGES	  4
/* The same address in every process (no mmap() without MAP_FIXED comes near it). */
#define SHARED_VA 0x0000300000000000UL

static unsigned long marker(pid_t pid, size_t page)
{
	return 0xa5a5000000000000UL | ((unsigned long)pid << 8) | page;
}

static volatile unsigned long *word(size_t page)
{
	return (volatile unsigned long *)(SHARED_VA + page * PAGE_SIZE);
}

/*
 * A child: replaces the inherited pages with fresh ones of its own, writes its marker,
 * and checks them across a few yields (other processes run in between, on this CPU or
 * another). Exit code: 0, 1 for a page that was not zero, 2 for a marker not its own.
 */
static __noreturn void child(void)
{
	pid_t self = getpid();

	if (mmap((void *)SHARED_VA, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) != (void *)SHARED_VA)
		exit(3);
	for (size_t i = 0; i < NPAGES; i++) {
		if (*word(i) != 0)
			exit(1);
		*word(i) = marker(self, i);
	}
	for (int round = 0; round < 3; round++) {
		yield();
		for (size_t i = 0; i < NPAGES; i++)
			if (*word(i) != marker(self, i))
				exit(2);
	}
	exit(0);
}

static void reap_one(void)
{
	int status;
	pid_t pid = wait(-1, &status);

	CHECK(pid > 0);
	if (status != 0)
		printf("address_space_reuse: child %d: status %#x (1: a fresh page was not zero,"
		       " 2: it saw another's marker, 3: mmap failed)\n",
		       pid, status);
	CHECK_EXITED(status, 0);
}

int main(void)
{
	pid_t self = getpid();
	int alive = 0, status;

	CHECK_EQ(mmap((void *)SHARED_VA, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
		 SHARED_VA);
	for (size_t i = 0; i < NPAGES; i++)
		*word(i) = marker(self, i);

	for (int n = 0; n < PROCESSES; n++) {
		if (alive == AT_ONCE) {
			reap_one();
			alive--;
		}
		pid_t pid = fork();

		if (pid == 0)
			child();
		CHECK(pid > 0);
		alive++;
	}
	while (alive--)
		reap_one();
	CHECK_EQ(wait(-1, &status), -ECHILD);

	for (size_t i = 0; i < NPAGES; i++)
		CHECK_EQ(*word(i), marker(self, i));
	printf("address_space_reuse: %d processes, %d at a time, each its own pages at %#lx:"
	       " none saw another's\n",
	       PROCESSES, AT_ONCE, SHARED_VA);
	printf("address_space_reuse: pass\n");
	return 0;
}
