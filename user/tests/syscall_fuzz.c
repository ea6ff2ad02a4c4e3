/*
 * 100,000 random system calls with random arguments, checked against what must hold
 * whatever the arguments: the kernel never crashes, never changes memory it was not asked
 * to, and answers each call with a result that call may give.
 *
 * The arguments come from pools (small numbers, -1, 0, kernel addresses, unaligned and
 * page-aligned addresses in a sandbox, huge values, random 64-bit words). mmap(MAP_FIXED),
 * munmap() and mprotect() only ever get a range that is either inside the area this
 * program owns (the mmap() area, see below) or one the kernel must refuse before changing
 * anything; so the program's own image and stack are never at risk. fork() is special: the
 * child checks and writes its copy of the sandbox window, exits, and is reaped at once.
 *
 * Inside the sandbox a 2 MiB window (across a leaf-table boundary) is modelled page by
 * page: whether it is mapped, with which protection, and the word last written to it. The
 * program reads and writes window pages the model says are accessible, so that the
 * page-table code has real entries to copy, protect and free, and checks their contents.
 *
 * At the end it prints how many calls of each kind returned what, unmaps everything, and
 * exits 0; the kernel's suite then checks that every frame and ASID/PCID came back.
 */
#include <lazymmu/test.h>

/* Change and rebuild to explore another sequence; the seed is printed at the start. */
#ifndef FUZZ_SEED
#define FUZZ_SEED 0x6c617a796d6d7531UL /* "lazymmu1" */
#endif
#define NR_CALLS 100000

/* Everything mmap() may return without MAP_FIXED: the fuzzer's own, to map over at will. */
#define OWN_START USER_MMAP_BASE
#define OWN_END	  (USER_STACK_TOP - (1UL << 30))

#define SANDBOX	      0x0000200000000000UL
#define SANDBOX_SIZE  (1UL << 30)
#define WINDOW	      (SANDBOX + (1UL << 20)) /* 1 MiB in: straddles SANDBOX + 2 MiB */
#define WINDOW_PAGES  512
#define WINDOW_END    (WINDOW + WINDOW_PAGES * PAGE_SIZE)
#define SANDBOX_PAGES (SANDBOX_SIZE / PAGE_SIZE)

static struct prng rng;

static uint64_t below(uint64_t n)
{
	return prng_below(&rng, n);
}

static bool one_in(uint64_t n)
{
	return below(n) == 0;
}

/* ---------------------------------------------------------------- the window's model */

enum page_state { UNMAPPED, MAPPED, UNKNOWN };

struct page_model {
	enum page_state state;
	int prot;	     /* MAPPED: PROT_* */
	unsigned long value; /* MAPPED: the first word of the page */
};

static struct page_model window[WINDOW_PAGES];
static unsigned long window_reads, window_writes; /* checked reads and writes done */

static volatile unsigned long *window_word(size_t i)
{
	return (volatile unsigned long *)(WINDOW + i * PAGE_SIZE);
}

/*
 * The window pages in [addr, addr + len) after rounding to pages, as [*first, *last);
 * false if none (or if the range wraps: the kernel refuses those).
 */
static bool window_pages(unsigned long addr, unsigned long len, size_t *first, size_t *last)
{
	unsigned long start = addr & ~(PAGE_SIZE - 1);
	unsigned long end = addr + len;

	if (end < addr || end > -PAGE_SIZE)
		return false;
	end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (end <= WINDOW || start >= WINDOW_END)
		return false;
	*first = start < WINDOW ? 0 : (start - WINDOW) / PAGE_SIZE;
	*last = end > WINDOW_END ? WINDOW_PAGES : (end - WINDOW) / PAGE_SIZE;
	return true;
}

static void model_set(unsigned long addr, unsigned long len, enum page_state state, int prot)
{
	size_t first, last;

	if (!window_pages(addr, len, &first, &last))
		return;
	for (size_t i = first; i < last; i++) {
		window[i].state = state;
		window[i].prot = prot;
		window[i].value = 0; /* new anonymous memory is zero */
	}
}

/* A successful mprotect(): every page it covered was mapped, and keeps its contents. */
static void model_protect(unsigned long addr, unsigned long len, int prot)
{
	size_t first, last;

	if (!window_pages(addr, len, &first, &last))
		return;
	for (size_t i = first; i < last; i++) {
		if (window[i].state == UNMAPPED)
			check_failed(__FILE__, __LINE__,
				     "mprotect(%#lx, %#lx) succeeded over unmapped window page %lu",
				     addr, len, (unsigned long)i);
		window[i].prot = prot;
	}
}

/* Touches one window page as the model allows: reads and compares, or writes. */
static void touch_window(void)
{
	size_t i = below(WINDOW_PAGES);
	struct page_model *m = &window[i];

	if (m->state != MAPPED)
		return;
	if (m->prot & PROT_READ) {
		if (*window_word(i) != m->value)
			check_failed(__FILE__, __LINE__,
				     "window page %lu: read %#lx, model says %#lx",
				     (unsigned long)i, *window_word(i), m->value);
		window_reads++;
	}
	if (m->prot & PROT_WRITE) {
		m->value = prng_next(&rng);
		*window_word(i) = m->value;
		window_writes++;
	}
}

/* In a fork()ed child: every accessible page as the model says; then write them all. */
static int child_checks_window(void)
{
	for (size_t i = 0; i < WINDOW_PAGES; i++) {
		if (window[i].state != MAPPED)
			continue;
		if ((window[i].prot & PROT_READ) && *window_word(i) != window[i].value) {
			printf("syscall_fuzz: fork child: window page %lu: read %#lx, model says"
			       " %#lx\n",
			       (unsigned long)i, *window_word(i), window[i].value);
			return 1;
		}
		if (window[i].prot & PROT_WRITE)
			*window_word(i) = ~window[i].value;
	}
	return 0;
}

/* ---------------------------------------------------------------- argument pools */

static const unsigned long kernel_addrs[] = {
	0xffff800000000000UL, 0xffff800000200000UL, 0xffff000000000000UL,
	0xffff000040080000UL, 0xffffffff80000000UL, 0xfffffffffffff000UL,
};

static const unsigned long huge_values[] = {
	TASK_SIZE,    TASK_SIZE - PAGE_SIZE,
	1UL << 46,    1UL << 48,
	1UL << 63,    0x7fffffffffffffffUL,
	0xffffffffUL, 1UL << 32,
	-PAGE_SIZE,   -1UL - 1,
};

static unsigned long sandbox_page(void)
{
	/* Half the time in the window, where pages are touched. */
	if (one_in(2))
		return WINDOW + below(WINDOW_PAGES) * PAGE_SIZE;
	return SANDBOX + below(SANDBOX_PAGES) * PAGE_SIZE;
}

static unsigned long any_value(void)
{
	switch (below(8)) {
	case 0:
		return below(17);
	case 1:
		return -1UL;
	case 2:
		return 0;
	case 3:
		return kernel_addrs[below(ARRAY_SIZE(kernel_addrs))] + below(4) * PAGE_SIZE;
	case 4:
		return sandbox_page() + 1 + below(PAGE_SIZE - 1); /* unaligned */
	case 5:
		return sandbox_page();
	case 6:
		return huge_values[below(ARRAY_SIZE(huge_values))];
	default:
		return prng_next(&rng);
	}
}

/*
 * Mostly lengths that can succeed: the kernel promises a frame for every page it maps
 * (strict commit accounting, as Linux's overcommit_memory=2), so long mappings that stay
 * would soon leave nothing for fork() and the rest.
 */
static unsigned long any_len(void)
{
	switch (below(10)) {
	case 0:
	case 1:
	case 2:
		return (1 + below(16)) * PAGE_SIZE;
	case 3:
	case 4:
	case 5:
		return (1 + below(WINDOW_PAGES)) * PAGE_SIZE;
	case 6:
		return (1 + below(SANDBOX_PAGES)) * PAGE_SIZE - below(2) * below(PAGE_SIZE);
	default:
		return any_value();
	}
}

/*
 * A few pages inside the window: mprotect() succeeds only on a range that is mapped from
 * end to end, and random ranges rarely are; the window's pages often are.
 */
static void window_range(unsigned long *addr, unsigned long *len)
{
	size_t first = below(WINDOW_PAGES);
	size_t n = 1 + below(16);

	*addr = WINDOW + first * PAGE_SIZE;
	*len = (first + n > WINDOW_PAGES ? WINDOW_PAGES - first : n) * PAGE_SIZE;
}

/* Where mmap() without MAP_FIXED puts things: the kernel picks the lowest gap from here. */
static unsigned long mmap_area_page(void)
{
	return OWN_START + below(4096) * PAGE_SIZE;
}

static unsigned long any_addr(void)
{
	switch (below(10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return sandbox_page();
	case 4:
		return mmap_area_page();
	default:
		return any_value();
	}
}

static int any_prot(void)
{
	return one_in(8) ? (int)any_value() : (int)below(8);
}

static int any_flags(void)
{
	switch (below(5)) {
	case 0:
	case 1:
		return MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	case 2:
		return MAP_PRIVATE | MAP_ANONYMOUS;
	case 3:
		return (int)below(0x40);
	default:
		return (int)any_value();
	}
}

/*
 * Whether a MAP_FIXED mmap(), a munmap() or an mprotect() of [addr, addr + len) cannot
 * hurt this program: the kernel must refuse it outright (no length, unaligned, not in the
 * user half, or running off its end from the area we own), or it lies in the area we own.
 * (Linux's mprotect() may change a prefix before it fails: starting in our area, that is
 * still ours, and a hole always lies between it and the stack.)
 */
static bool range_is_safe(unsigned long addr, unsigned long len)
{
	if (len == 0 || (addr & (PAGE_SIZE - 1)) || addr >= TASK_SIZE)
		return true;
	if (len > TASK_SIZE - addr)
		return addr >= OWN_START;
	unsigned long end = (addr + len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	return addr >= OWN_START && end <= OWN_END;
}

/* A range munmap() must accept: aligned, not empty, inside our area (no wrap-around). */
static bool range_is_valid(unsigned long addr, unsigned long len)
{
	return len != 0 && !(addr & (PAGE_SIZE - 1)) && addr >= OWN_START && addr < OWN_END &&
	       len <= OWN_END - addr;
}

/* ---------------------------------------------------------------- results */

enum call {
	C_WRITE,
	C_GETPID,
	C_YIELD,
	C_FORK,
	C_WAIT,
	C_MMAP,
	C_MUNMAP,
	C_MPROTECT,
	C_UNKNOWN,
	NR_CALL_KINDS
};

static const char *const call_names[NR_CALL_KINDS] = {
	[C_WRITE] = "write",   [C_GETPID] = "getpid",	  [C_YIELD] = "yield",
	[C_FORK] = "fork",     [C_WAIT] = "wait",	  [C_MMAP] = "mmap",
	[C_MUNMAP] = "munmap", [C_MPROTECT] = "mprotect", [C_UNKNOWN] = "unknown nr",
};

/* Column 0 counts successes, column e the result -e, the last column anything else. */
#define NR_RESULTS 41
static unsigned long counts[NR_CALL_KINDS][NR_RESULTS];

static long count(enum call c, long r)
{
	counts[c][r >= 0 ? 0 : (r >= -(NR_RESULTS - 2) ? -r : NR_RESULTS - 1)]++;
	return r;
}

/* The errnos the kernel returns, by name; NULL for any other. */
static const char *errno_name(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case ESRCH:
		return "ESRCH";
	case EBADF:
		return "EBADF";
	case ECHILD:
		return "ECHILD";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	case EEXIST:
		return "EEXIST";
	case EINVAL:
		return "EINVAL";
	case ENOSYS:
		return "ENOSYS";
	case NR_RESULTS - 1:
		return "other";
	default:
		return NULL;
	}
}

static void print_counts(void)
{
	char line[256];

	for (int c = 0; c < NR_CALL_KINDS; c++) {
		int n = snprintf(line, sizeof(line), "syscall_fuzz: %-10s", call_names[c]);

		for (int r = 0; r < NR_RESULTS && n < (int)sizeof(line); r++) {
			const char *name = errno_name(r);

			if (!counts[c][r])
				continue;
			if (name)
				n += snprintf(line + n, sizeof(line) - n, " %s %lu", name,
					      counts[c][r]);
			else
				n += snprintf(line + n, sizeof(line) - n, " -%d %lu", r,
					      counts[c][r]);
		}
		printf("%s\n", line);
	}
}

/* ---------------------------------------------------------------- the calls */

static pid_t self;
static unsigned long scratch[4]; /* a valid place for wait() to store a status */

/* Lengths no buffer can have: each reaches past the user half, or wraps. */
static const unsigned long impossible_lens[] = { TASK_SIZE, 1UL << 48, 1UL << 63, -PAGE_SIZE,
						 -1UL };

static void fuzz_write(void)
{
	long fd = one_in(2) ? (long)below(4) : (long)any_value();
	unsigned long buf = any_addr(), len = any_len();
	/*
	 * The console (fd 1 and 2; maybe 0 too, maybe any number whose low 32 bits say so, as
	 * Linux's unsigned int fd): only buffers the kernel must refuse, or nothing at all, so
	 * that no random bytes reach the log the test runner reads.
	 */
	bool console = (int)fd >= 0 && (int)fd <= 2;

	if (console) {
		switch (below(3)) {
		case 0:
			len = 0;
			break;
		case 1:
			buf = kernel_addrs[below(ARRAY_SIZE(kernel_addrs))];
			len = 1 + below(64);
			break;
		default:
			len = impossible_lens[below(ARRAY_SIZE(impossible_lens))];
			break;
		}
	}
	long r = count(C_WRITE,
		       __syscall6(SYS_write, fd, buf, len, any_value(), any_value(), any_value()));
	bool refused = len == 0 ? r == 0 || r == -EFAULT : r == -EFAULT;

	if (!console ? r != -EBADF : (fd == 1 || fd == 2) ? !refused : !refused && r != -EBADF)
		check_failed(__FILE__, __LINE__, "write(%ld, %#lx, %#lx) = %ld", fd, buf, len, r);
}

/*
 * The last few mappings mmap() placed itself: the oldest is unmapped when a new one comes,
 * so that what the fuzzer holds, and must keep a frame promised for, stays bounded.
 */
#define NR_OWNED 4
static struct {
	unsigned long addr, len;
} owned[NR_OWNED];
static unsigned int owned_next;

static void own(unsigned long addr, unsigned long len)
{
	unsigned int i = owned_next++ % NR_OWNED;

	if (owned[i].len) {
		count(C_MUNMAP, munmap((void *)owned[i].addr, owned[i].len));
		model_set(owned[i].addr, owned[i].len, UNKNOWN, 0);
	}
	owned[i].addr = addr;
	owned[i].len = len;
}

static void fuzz_mmap(void)
{
	unsigned long addr = any_addr(), len = any_len();
	int prot = any_prot(), flags = any_flags();

	if (one_in(3))
		window_range(&addr, &len);
	while ((flags & MAP_FIXED) && !range_is_safe(addr, len)) {
		addr = any_addr();
		len = any_len();
	}
	long r =
	    count(C_MMAP, __syscall6(SYS_mmap, addr, len, prot, flags, any_value(), any_value()));

	if (r < 0) {
		/* A failed MAP_FIXED may have unmapped the old pages already (as Linux). */
		if (flags & MAP_FIXED)
			model_set(addr, len, UNKNOWN, 0);
		return;
	}
	if ((r & (PAGE_SIZE - 1)) || (unsigned long)r + len > TASK_SIZE ||
	    ((flags & MAP_FIXED) && (unsigned long)r != addr))
		check_failed(__FILE__, __LINE__, "mmap(%#lx, %#lx, %#x, %#x) = %#lx", addr, len,
			     prot, flags, r);
	/* Flags or protections beyond the ABI's (a kernel may accept some, as Linux does with
	   its many more): the model cannot say what such memory does, say at fork(). */
	bool known = (flags & ~MAP_FIXED) == (MAP_PRIVATE | MAP_ANONYMOUS) && !(prot & ~7);

	model_set(r, len, known ? MAPPED : UNKNOWN, prot);
	if (!(flags & MAP_FIXED))
		own((unsigned long)r, len);
}

static void fuzz_munmap(void)
{
	unsigned long addr = any_addr(), len = any_len();

	if (one_in(3))
		window_range(&addr, &len);
	while (!range_is_safe(addr, len)) {
		addr = any_addr();
		len = any_len();
	}
	long r = count(C_MUNMAP, __syscall6(SYS_munmap, addr, len, any_value(), any_value(),
					    any_value(), any_value()));

	/* A valid range is unmapped; only splitting an area may run out of room (as Linux). */
	if (range_is_valid(addr, len) && r != 0 && r != -ENOMEM)
		check_failed(__FILE__, __LINE__, "munmap(%#lx, %#lx) = %ld", addr, len, r);
	model_set(addr, len, r == 0 ? UNMAPPED : UNKNOWN, 0);
}

static void fuzz_mprotect(void)
{
	unsigned long addr = any_addr(), len = any_len();
	int prot = any_prot();

	if (one_in(3))
		window_range(&addr, &len);
	while (!range_is_safe(addr, len)) {
		addr = any_addr();
		len = any_len();
	}
	long r = count(C_MPROTECT, __syscall6(SYS_mprotect, addr, len, prot, any_value(),
					      any_value(), any_value()));

	if (r == 0 && !(prot & ~7))
		model_protect(addr, len, prot);
	else
		model_set(addr, len, UNKNOWN, 0); /* may have changed a prefix, as Linux */
}

static int *any_status_pointer(void)
{
	switch (below(4)) {
	case 0:
		return (int *)scratch;
	case 1:
		return (int *)((char *)scratch + 1 + below(3)); /* unaligned, still valid */
	case 2:
		return (int *)kernel_addrs[below(ARRAY_SIZE(kernel_addrs))];
	default:
		return NULL;
	}
}

static void fuzz_wait(void)
{
	long r = count(C_WAIT, __syscall6(SYS_wait, (long)any_value(), (long)any_status_pointer(),
					  any_value(), any_value(), any_value(), any_value()));

	/*
	 * No child is alive outside fuzz_fork(): nothing to wait for, whatever the pid. Mostly
	 * -ECHILD; Linux says -ESRCH for pid INT_MIN, and a kernel may check the status
	 * pointer first (-EFAULT) or refuse a pid outright (-EINVAL).
	 */
	if (r != -ECHILD && r != -ESRCH && r != -EFAULT && r != -EINVAL)
		check_failed(__FILE__, __LINE__, "wait() without children = %ld", r);
}

/*
 * fork(): the child checks the window as the model says, writes its own copy, and exits.
 * The parent first waits with random arguments, then reaps properly: the child must be
 * gone exactly when the first wait() reaped it (or, as Linux, failed to store its status).
 */
static void fuzz_fork(void)
{
	int status = -1;
	long pid = count(C_FORK, __syscall6(SYS_fork, any_value(), any_value(), any_value(),
					    any_value(), any_value(), any_value()));

	if (pid == 0)
		exit(child_checks_window());
	if (pid < 0)
		return;
	long want = one_in(2) ? pid : (one_in(2) ? -1 : (long)any_value());
	long r = count(C_WAIT, __syscall6(SYS_wait, want, (long)any_status_pointer(), 0, 0, 0, 0));
	long again = wait(pid, &status);
	/*
	 * Reaped by the first wait(): gone for the second. Not reaped (another pid, or -EFAULT
	 * for the status pointer): still there, except that Linux reaps a child even when it
	 * cannot store the status.
	 */
	bool consistent =
	    r == pid ? again == -ECHILD : again == pid || (r == -EFAULT && again == -ECHILD);

	if (!consistent)
		check_failed(__FILE__, __LINE__, "fork child %ld: wait(%ld) = %ld, then %ld", pid,
			     want, r, again);
	if (again == pid && status != W_EXITCODE(0, 0))
		check_failed(__FILE__, __LINE__,
			     "fork child: status %#x (1: the window differed from the model)",
			     status);
}

/* A number no system call has (not even in its low 32 or 8 bits, for a sloppy kernel). */
static long unknown_nr(void)
{
	for (;;) {
		long nr = (long)any_value();

		if ((nr & 0xff) == 0 || (nr & 0xff) >= NR_SYSCALLS)
			return nr;
	}
}

static void fuzz_unknown(void)
{
	long nr = unknown_nr();
	long r = count(C_UNKNOWN, __syscall6(nr, any_value(), any_value(), any_value(), any_value(),
					     any_value(), any_value()));

	if (r != -ENOSYS)
		check_failed(__FILE__, __LINE__, "syscall %#lx = %ld, expected -ENOSYS", nr, r);
}

static void one_call(void)
{
	unsigned long pick = below(100);

	if (pick < 15) {
		fuzz_write();
	} else if (pick < 18) {
		CHECK_EQ(count(C_GETPID, __syscall6(SYS_getpid, any_value(), any_value(),
						    any_value(), 0, 0, 0)),
			 self);
	} else if (pick < 21) {
		CHECK_EQ(count(C_YIELD, __syscall6(SYS_yield, any_value(), 0, 0, 0, 0, 0)), 0);
	} else if (pick < 22) {
		fuzz_fork();
	} else if (pick < 27) {
		fuzz_wait();
	} else if (pick < 50) {
		fuzz_mmap();
	} else if (pick < 65) {
		fuzz_munmap();
	} else if (pick < 90) {
		fuzz_mprotect();
	} else {
		fuzz_unknown();
	}
}

/*
 * Every 1000 calls, the sandbox outside the window is emptied: whatever accumulated there
 * (up to the commit limit) would otherwise starve fork() and mmap() for the rest of the run.
 * Each is a valid range, so it succeeds, unless splitting an area finds no room (-ENOMEM).
 */
static void trim_sandbox(void)
{
	long r1 = count(C_MUNMAP, munmap((void *)SANDBOX, WINDOW - SANDBOX));
	long r2 = count(C_MUNMAP, munmap((void *)WINDOW_END, SANDBOX + SANDBOX_SIZE - WINDOW_END));

	if ((r1 && r1 != -ENOMEM) || (r2 && r2 != -ENOMEM))
		check_failed(__FILE__, __LINE__,
			     "munmap() of the sandbox around the window: %ld, %ld", r1, r2);
}

int main(void)
{
	self = getpid();
	prng_seed(&rng, FUZZ_SEED);
	printf("syscall_fuzz: seed %#lx, %d calls\n", FUZZ_SEED, NR_CALLS);

	for (int n = 1; n <= NR_CALLS; n++) {
		one_call();
		/* Between two calls, a few window pages are used the way the model allows. */
		for (int t = 0; t < 4; t++)
			touch_window();
		if (n % 1000 == 0)
			trim_sandbox();
		if (n % 20000 == 0)
			printf("syscall_fuzz: %d calls\n", n);
	}
	print_counts();
	printf("syscall_fuzz: window pages read and checked %lu times, written %lu times\n",
	       window_reads, window_writes);

	/* Give everything back: the sandbox, then the whole area mmap() could have used. */
	CHECK_EQ(munmap((void *)SANDBOX, SANDBOX_SIZE), 0);
	CHECK_EQ(munmap((void *)OWN_START, OWN_END - OWN_START), 0);
	printf("syscall_fuzz: pass\n");
	return 0;
}
