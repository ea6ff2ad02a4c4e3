/*
 * munmap() really removes pages: an access afterwards faults, a partial unmap keeps the
 * rest, and unmapping what is not mapped is no error (POSIX). MAP_FIXED over a mapping
 * replaces it with fresh zero pages, as Linux does.
 */
#include <lazymmu/test.h>

/* An address no program mapping uses (USER_MMAP_BASE picks far below it): for MAP_FIXED. */
#define FIXED_AREA 0x0000300000000000UL

static void read_page(void *p)
{
	(void)*(volatile unsigned long *)p;
}

static void write_page(void *p)
{
	*(volatile unsigned long *)p = 1;
}

static void *map_pages(void *addr, size_t npages, int flags)
{
	void *p = mmap(addr, npages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags);

	CHECK((long)p > 0);
	return p;
}

static volatile unsigned long *word(char *base, size_t page)
{
	return (volatile unsigned long *)(base + page * PAGE_SIZE);
}

static void whole_mapping(void)
{
	char *p = map_pages(NULL, 1, 0);

	*word(p, 0) = 0x1234;
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	CHECK_SEGV(read_page, p);
	CHECK_SEGV(write_page, p);
	printf("munmap_access: a touched page, unmapped: read and write fault\n");
}

static void middle_page(void)
{
	char *p = map_pages(NULL, 3, 0);

	for (size_t i = 0; i < 3; i++)
		*word(p, i) = 100 + i;
	CHECK_EQ(munmap(p + PAGE_SIZE, PAGE_SIZE), 0);
	CHECK_SEGV(read_page, (void *)word(p, 1));
	CHECK_EQ(*word(p, 0), 100);
	CHECK_EQ(*word(p, 2), 102);
	*word(p, 0) = 200;
	*word(p, 2) = 202;
	CHECK_EQ(*word(p, 0), 200);
	CHECK_EQ(*word(p, 2), 202);
	printf("munmap_access: middle page of 3 unmapped: it faults, both neighbours keep data\n");

	/* Not mapped any more: unmapping it again is still 0. So is a range with a hole. */
	CHECK_EQ(munmap(p + PAGE_SIZE, PAGE_SIZE), 0);
	CHECK_EQ(munmap(p, 3 * PAGE_SIZE), 0);
	CHECK_SEGV(read_page, (void *)word(p, 0));
	CHECK_SEGV(read_page, (void *)word(p, 2));
	printf("munmap_access: unmapping an unmapped page, and a range around a hole: 0\n");
}

static void never_mapped(void)
{
	CHECK_EQ(munmap((void *)FIXED_AREA, PAGE_SIZE), 0);
	CHECK_EQ(munmap((void *)FIXED_AREA, 1024 * PAGE_SIZE), 0);
	/* The length is rounded up to whole pages, as Linux does. */
	CHECK_EQ(munmap((void *)FIXED_AREA, 1), 0);
	printf("munmap_access: munmap of a never-mapped range: 0\n");
}

static void remap_is_fresh(void)
{
	char *p = map_pages((void *)FIXED_AREA, 4, MAP_FIXED);

	CHECK_EQ(p, FIXED_AREA);
	for (size_t i = 0; i < 4; i++)
		*word(p, i) = 0xabc0 + i;

	/* MAP_FIXED over pages 1 and 2: they are replaced by zero pages; 0 and 3 are kept. */
	CHECK_EQ(map_pages(p + PAGE_SIZE, 2, MAP_FIXED), p + PAGE_SIZE);
	CHECK_EQ(*word(p, 0), 0xabc0);
	CHECK_EQ(*word(p, 1), 0);
	CHECK_EQ(*word(p, 2), 0);
	CHECK_EQ(*word(p, 3), 0xabc3);

	/* Unmapped and mapped again: zero, not what was there before. */
	CHECK_EQ(munmap(p, 4 * PAGE_SIZE), 0);
	CHECK_EQ(map_pages(p, 4, MAP_FIXED), p);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ(*word(p, i), 0);
	CHECK_EQ(munmap(p, 4 * PAGE_SIZE), 0);
	printf("munmap_access: MAP_FIXED over a mapping, and a remap after munmap: zero pages\n");
}

/* A child unmaps a page it shares with its parent (copy-on-write): only its own copy goes. */
static void unmap_in_child(void *p)
{
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
}

static void child_unmaps(void)
{
	char *p = map_pages(NULL, 1, 0);

	*word(p, 0) = 77;
	CHECK_EXITED(run_in_child(unmap_in_child, p), 0);
	CHECK_EQ(*word(p, 0), 77);
	CHECK_EQ(munmap(p, PAGE_SIZE), 0);
	printf("munmap_access: a child's munmap leaves the parent's page\n");
}

int main(void)
{
	whole_mapping();
	middle_page();
	never_mapped();
	remap_is_fresh();
	child_unmaps();
	printf("munmap_access: pass\n");
	return 0;
}
