/*
 * mprotect() over 1 to 4096 pages: read-only really forbids writes, PROT_NONE forbids reads,
 * read-write gives both back, and the data survives every change.
 *
 * The sizes straddle the page-table boundaries: 511, 512 and 513 pages end just before, on,
 * and just after one full leaf table (512 entries: 2 MiB), and 4096 pages (16 MiB) span
 * several, so the kernel's range walks (change_pte_range() in Linux) must get the first,
 * the last and every middle table right. A fault is observed from a child: the parent
 * forks, the child touches one page, and wait() says whether it died of SIGSEGV.
 */
#include <lazymmu/test.h>

static const size_t sizes[] = { 1, 2, 3, 16, 511, 512, 513, 4096 };

/* The word stored at the start of page i: different for every page and every size. */
static unsigned long pattern(size_t npages, size_t i)
{
	return 0x5a5a000000000000UL ^ (npages << 32) ^ i;
}

static volatile unsigned long *page(char *base, size_t i)
{
	return (volatile unsigned long *)(base + i * PAGE_SIZE);
}

static void write_page(void *p)
{
	*(volatile unsigned long *)p = 1;
}

static void read_page(void *p)
{
	(void)*(volatile unsigned long *)p;
}

static void check_pattern(char *base, size_t npages)
{
	for (size_t i = 0; i < npages; i++)
		CHECK_EQ(*page(base, i), pattern(npages, i));
}

static void check_size(size_t npages)
{
	const size_t len = npages * PAGE_SIZE;
	/* The pages a child touches: first, middle, last (the same page when npages is 1). */
	const size_t probes[] = { 0, npages / 2, npages - 1 };
	char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

	CHECK((long)base > 0);
	for (size_t i = 0; i < npages; i++) {
		CHECK_EQ(*page(base, i), 0); /* demand-zero */
		*page(base, i) = pattern(npages, i);
	}

	/* Read-only: every page still reads back; a write anywhere is a fault. */
	CHECK_EQ(mprotect(base, len, PROT_READ), 0);
	check_pattern(base, npages);
	for (size_t p = 0; p < ARRAY_SIZE(probes); p++) {
		CHECK_SEGV(write_page, (void *)page(base, probes[p]));
		/* The child inherited read access: a read is no fault. */
		CHECK_EXITED(run_in_child(read_page, (void *)page(base, probes[p])), 0);
	}

	/* PROT_NONE: not even a read. */
	CHECK_EQ(mprotect(base, len, PROT_NONE), 0);
	for (size_t p = 0; p < ARRAY_SIZE(probes); p++)
		CHECK_SEGV(read_page, (void *)page(base, probes[p]));

	/* Read-write again: the data was kept all along, and writes work. */
	CHECK_EQ(mprotect(base, len, PROT_READ | PROT_WRITE), 0);
	check_pattern(base, npages);
	for (size_t i = 0; i < npages; i++)
		*page(base, i) = ~pattern(npages, i);
	for (size_t i = 0; i < npages; i++)
		CHECK_EQ(*page(base, i), ~pattern(npages, i));

	/*
	 * One page in the middle read-only: the mapping splits in three, and only that page
	 * refuses a write; its neighbours on both sides stay writable.
	 */
	if (npages >= 3) {
		size_t mid = npages / 2;

		CHECK_EQ(mprotect((void *)page(base, mid), PAGE_SIZE, PROT_READ), 0);
		CHECK_SEGV(write_page, (void *)page(base, mid));
		CHECK_EXITED(run_in_child(write_page, (void *)page(base, mid - 1)), 0);
		CHECK_EXITED(run_in_child(write_page, (void *)page(base, mid + 1)), 0);
		CHECK_EQ(*page(base, mid), ~pattern(npages, mid));
	}

	CHECK_EQ(munmap(base, len), 0);
	printf("mprotect_pages: %4lu pages: RO, NONE, RW (and one page RO) as expected\n",
	       (unsigned long)npages);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		check_size(sizes[i]);
	printf("mprotect_pages: pass\n");
	return 0;
}
