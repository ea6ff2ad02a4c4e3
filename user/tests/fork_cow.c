/*
 * fork() and copy-on-write: after a fork both processes see the same data, and from then
 * on a write by either one is seen by that one only.
 *
 * The kernel shares every private page between parent and child, write-protected in both
 * (copy_pte_range() in Linux, inside a lazy MMU section), and copies a page at the first
 * write fault. The dangerous direction is the parent's: its own TLB may still hold the
 * writable translation from before the fork, and unless fork flushed it, the parent's
 * next store goes straight into the frame the child is still reading.
 */
#include <lazymmu/test.h>

#define NPAGES 64

/* Several words per page: the first, one in the middle, and the last. */
static const size_t offsets[] = { 0, PAGE_SIZE / 2, PAGE_SIZE - sizeof(unsigned long) };

static unsigned long pattern(unsigned long seed, size_t page, size_t off)
{
	return seed ^ (page << 16) ^ off;
}

static volatile unsigned long *at(char *base, size_t page, size_t off)
{
	return (volatile unsigned long *)(base + page * PAGE_SIZE + off);
}

static void fill(char *base, size_t npages, unsigned long seed)
{
	for (size_t i = 0; i < npages; i++)
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++)
			*at(base, i, offsets[o]) = pattern(seed, i, offsets[o]);
}

/* Whether every word holds seed's pattern (no CHECK: a child exits with a code instead). */
static bool holds(char *base, size_t npages, unsigned long seed)
{
	for (size_t i = 0; i < npages; i++)
		for (size_t o = 0; o < ARRAY_SIZE(offsets); o++)
			if (*at(base, i, offsets[o]) != pattern(seed, i, offsets[o]))
				return false;
	return true;
}

#define SEED_PARENT 0x1111111100000000UL
#define SEED_CHILD  0x2222222200000000UL
#define SEED_LATER  0x3333333300000000UL

/* Exit codes of the children below: which check failed. */
enum { CHILD_OK, CHILD_NOT_INHERITED, CHILD_OWN_WRITE_LOST, CHILD_SAW_PARENT_WRITE };

static char *map_pages(size_t npages)
{
	char *p =
	    mmap(NULL, npages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

	CHECK((long)p > 0);
	return p;
}

/* The child writes every page; the parent, waiting, must still see its own data. */
static void child_writes(char *base)
{
	int status;

	fill(base, NPAGES, SEED_PARENT);
	pid_t pid = fork();

	if (pid == 0) {
		if (!holds(base, NPAGES, SEED_PARENT))
			exit(CHILD_NOT_INHERITED);
		fill(base, NPAGES, SEED_CHILD);
		exit(holds(base, NPAGES, SEED_CHILD) ? CHILD_OK : CHILD_OWN_WRITE_LOST);
	}
	CHECK(pid > 0);
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, CHILD_OK);
	CHECK(holds(base, NPAGES, SEED_PARENT));

	/* The child is gone: the parent is the pages' only user and writes them as usual. */
	fill(base, NPAGES, SEED_LATER);
	CHECK(holds(base, NPAGES, SEED_LATER));
	printf("fork_cow: child saw the parent's %d pages, wrote its own; parent unaffected\n",
	       NPAGES);
}

/*
 * The parent writes every page right after fork() while the child reads its copy again
 * and again, yielding in between: whenever it runs, before, during or after the parent's
 * writes, it must see the data as it was at the fork.
 */
#define CHILD_ROUNDS 200

static void parent_writes(char *base)
{
	int status;

	fill(base, NPAGES, SEED_PARENT);
	pid_t pid = fork();

	if (pid == 0) {
		for (int round = 0; round < CHILD_ROUNDS; round++) {
			if (!holds(base, NPAGES, SEED_PARENT))
				exit(CHILD_SAW_PARENT_WRITE);
			yield();
		}
		exit(CHILD_OK);
	}
	CHECK(pid > 0);
	fill(base, NPAGES, SEED_CHILD);
	CHECK(holds(base, NPAGES, SEED_CHILD));
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, CHILD_OK);
	CHECK(holds(base, NPAGES, SEED_CHILD));
	printf("fork_cow: parent wrote its %d pages after fork; child kept the old data\n", NPAGES);
}

/*
 * A page mapped, written, forked, then unmapped in the parent: the child's mapping is its
 * own and keeps the page (and the frame stays alive for it).
 */
static void unmapped_in_parent(void)
{
	int status;
	char *p = map_pages(1);

	fill(p, 1, SEED_PARENT);
	pid_t pid = fork();

	if (pid == 0) {
		/* Give the parent time to unmap first. */
		for (int i = 0; i < 50; i++)
			yield();
		if (!holds(p, 1, SEED_PARENT))
			exit(CHILD_NOT_INHERITED);
		fill(p, 1, SEED_CHILD);
		exit(holds(p, 1, SEED_CHILD) ? CHILD_OK : CHILD_OWN_WRITE_LOST);
	}
	CHECK(pid > 0);
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, CHILD_OK);
	printf("fork_cow: a page unmapped by the parent after fork stays in the child\n");
}

/* Memory that is not from mmap() is copied-on-write the same: .bss, and the stack. */
static unsigned long counter;

static void data_and_stack(void)
{
	int status;
	/* volatile: a real stack slot, read and written in memory by both processes. */
	volatile unsigned long local = 5;

	counter = 1;
	pid_t pid = fork();

	if (pid == 0) {
		for (int i = 0; i < 50; i++)
			yield();
		exit(counter == 1 && local == 5 ? CHILD_OK : CHILD_SAW_PARENT_WRITE);
	}
	CHECK(pid > 0);
	counter = 2;
	local = 6;
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, CHILD_OK);
	CHECK_EQ(counter, 2);
	printf("fork_cow: .bss and stack are copied on write too\n");
}

/* Three generations share the pages; each writes, and each sees only its own writes. */
static void grandchild(char *base)
{
	int status;

	fill(base, NPAGES, SEED_PARENT);
	pid_t pid = fork();

	if (pid == 0) {
		pid_t gpid = fork();

		if (gpid == 0) {
			fill(base, NPAGES, SEED_LATER);
			exit(holds(base, NPAGES, SEED_LATER) ? CHILD_OK : CHILD_OWN_WRITE_LOST);
		}
		if (gpid < 0 || wait(gpid, &status) != gpid || status != W_EXITCODE(0, 0))
			exit(CHILD_OWN_WRITE_LOST);
		if (!holds(base, NPAGES, SEED_PARENT))
			exit(CHILD_SAW_PARENT_WRITE);
		fill(base, NPAGES, SEED_CHILD);
		exit(holds(base, NPAGES, SEED_CHILD) ? CHILD_OK : CHILD_OWN_WRITE_LOST);
	}
	CHECK(pid > 0);
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, CHILD_OK);
	CHECK(holds(base, NPAGES, SEED_PARENT));
	printf("fork_cow: child and grandchild each wrote; the parent kept its data\n");
}

int main(void)
{
	char *base = map_pages(NPAGES);

	child_writes(base);
	parent_writes(base);
	grandchild(base);
	CHECK_EQ(munmap(base, NPAGES * PAGE_SIZE), 0);
	unmapped_in_parent();
	data_and_stack();
	printf("fork_cow: pass\n");
	return 0;
}
