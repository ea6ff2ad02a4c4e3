/*
 * Running out, gracefully: fork() until the kernel says no, then mmap() until it says no.
 * Either limit must come back as an error code (-EAGAIN or -ENOMEM, as Linux), never as a
 * crash, a hang or a process killed for no reason; and once everything is given back, the
 * same calls work again. The kernel's suite checks afterwards that every frame and
 * ASID/PCID came back.
 */
#include <lazymmu/test.h>

/*
 * What a process of the bomb saw, as bits of its exit code; each parent ORs in its
 * children's codes, so the root's code says what happened anywhere in the tree.
 */
#define SAW_EAGAIN	0x01
#define SAW_ENOMEM	0x02
#define SAW_OTHER_ERROR 0x04 /* fork() failed with neither */
#define CHILD_SIGNALED	0x08 /* a process of the tree died of a signal */
#define REAP_MISMATCH	0x10 /* wait(-1) did not return each child exactly once */
#define CODE_BITS	0x1f
/*
 * A bound on the tree's depth, so that it stays finite whatever the kernel does; when the
 * scheduler runs each new child first, the tree is a chain, as deep as the limit is high.
 */
#define MAX_DEPTH 8192

static int fork_error_bit(pid_t err)
{
	if (err == -EAGAIN)
		return SAW_EAGAIN;
	if (err == -ENOMEM)
		return SAW_ENOMEM;
	return SAW_OTHER_ERROR;
}

/*
 * The bomb: every process forks until its own fork() fails, every child does the same,
 * and only then does each reap its children, with wait(-1) until -ECHILD. Nobody exits
 * before having seen the system full (except at MAX_DEPTH), so the tree grows until the
 * kernel's limit whatever it is (a process count, or memory). A child starts the same loop
 * one level deeper: it is a new process, with a copy of the parent's variables to reset.
 */
static __noreturn void bomb(void)
{
	int depth = 0, children = 0, code = 0, status;
	pid_t pid;

	while (depth < MAX_DEPTH) {
		pid = fork();
		if (pid == 0) {
			depth++;
			children = 0;
			continue;
		}
		if (pid < 0) {
			code |= fork_error_bit(pid);
			break;
		}
		children++;
	}
	while ((pid = wait(-1, &status)) > 0) {
		children--;
		if (WIFSIGNALED(status))
			code |= CHILD_SIGNALED;
		else
			code |= WEXITSTATUS(status) & CODE_BITS;
	}
	if (pid != -ECHILD || children != 0)
		code |= REAP_MISMATCH;
	exit(code);
}

static void fork_until_refused(void)
{
	int status;
	pid_t root = fork();

	if (root == 0)
		bomb();
	CHECK(root > 0);
	CHECK_EQ(wait(root, &status), root);
	CHECK(WIFEXITED(status));

	int code = WEXITSTATUS(status);

	printf("fork_bomb: the tree saw%s%s%s%s%s\n", code & SAW_EAGAIN ? " -EAGAIN" : "",
	       code & SAW_ENOMEM ? " -ENOMEM" : "",
	       code & SAW_OTHER_ERROR ? " another error (not -EAGAIN or -ENOMEM)" : "",
	       code & CHILD_SIGNALED ? ", a process killed by a signal" : "",
	       code & REAP_MISMATCH ? ", a wait(-1) that lost or invented a child" : "");
	CHECK(code & (SAW_EAGAIN | SAW_ENOMEM));
	CHECK_EQ(code & ~(SAW_EAGAIN | SAW_ENOMEM), 0);
}

/* After the bomb: many children at once, each reaped exactly once, with its own code. */
#define WIDE 16

static void fork_and_reap_many(void)
{
	pid_t pids[WIDE];
	bool reaped[WIDE] = { false };
	int status;

	for (int i = 0; i < WIDE; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			/* Exit in a different order than created. */
			for (int y = 0; y < (WIDE - i) * 3; y++)
				yield();
			exit(i + 1);
		}
		CHECK(pids[i] > 0);
	}
	for (int n = 0; n < WIDE; n++) {
		pid_t pid = wait(-1, &status);
		int i = 0;

		while (i < WIDE && pids[i] != pid)
			i++;
		CHECK(i < WIDE);
		CHECK(!reaped[i]);
		reaped[i] = true;
		CHECK_EXITED(status, i + 1);
	}
	CHECK_EQ(wait(-1, &status), -ECHILD);
	printf("fork_bomb: after the bomb, %d children forked, each reaped once by wait(-1)\n",
	       WIDE);
}

/* ---------------------------------------------------------------- memory */

#define CHUNK_PAGES 256 /* 1 MiB per mmap() */
/* More than the machine has (256 MiB under QEMU): reaching it means mmap() never failed. */
#define MAX_CHUNKS 1024

static char *chunks[MAX_CHUNKS];

/* Exit codes of the child that exhausts memory, and what each means. */
enum { MEM_OK, MEM_NEVER_FAILED, MEM_WRONG_ERROR, MEM_UNMAP_FAILED, MEM_NOT_BACK };
static const char *const mem_results[] = {
	[MEM_OK] = "ok",
	[MEM_NEVER_FAILED] = "mmap() never failed, with 1 GiB touched",
	[MEM_WRONG_ERROR] = "mmap() failed with another error than -ENOMEM",
	[MEM_UNMAP_FAILED] = "munmap() of a chunk failed",
	[MEM_NOT_BACK] = "after munmap() of everything, mmap() failed again",
};

/*
 * Touches the next 16 KiB of stack now, while memory is plentiful: the stack pages are
 * shared copy-on-write with the parent, and a first write to one after memory runs out
 * would need a frame the kernel no longer has.
 */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char buf[16384];

	for (size_t i = 0; i < sizeof(buf); i += PAGE_SIZE)
		buf[i] = 1;
}

static void *map_chunk(void)
{
	return mmap(NULL, CHUNK_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS);
}

static void touch_chunk(char *p)
{
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		p[i * PAGE_SIZE] = 1;
}

/*
 * In a child: mmap() 1 MiB at a time, writing every page (so each really takes a frame),
 * until mmap() fails; then give it all back and map and touch again. Nothing is printed
 * while memory is exhausted: printing may need a page too.
 */
static __noreturn void exhaust_memory(void)
{
	long err = 0;
	int n = 0;

	touch_stack();
	while (n < MAX_CHUNKS) {
		char *p = map_chunk();

		if ((long)p < 0) {
			err = (long)p;
			break;
		}
		chunks[n++] = p;
		touch_chunk(p);
	}
	for (int i = 0; i < n; i++)
		if (munmap(chunks[i], CHUNK_PAGES * PAGE_SIZE) != 0)
			exit(MEM_UNMAP_FAILED);
	if (n == MAX_CHUNKS)
		exit(MEM_NEVER_FAILED);
	if (err != -ENOMEM)
		exit(MEM_WRONG_ERROR);
	printf("fork_bomb: mmap() returned -ENOMEM after %d MiB, every page touched\n", n);

	/* Everything given back: as much can be mapped and touched again. */
	for (int i = 0; i < n; i++) {
		char *p = map_chunk();

		if ((long)p < 0)
			exit(MEM_NOT_BACK);
		touch_chunk(p);
		chunks[i] = p;
	}
	for (int i = 0; i < n; i++)
		munmap(chunks[i], CHUNK_PAGES * PAGE_SIZE);
	printf("fork_bomb: after munmap(), the same %d MiB mapped and touched again\n", n);
	exit(MEM_OK);
}

static void mmap_until_refused(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		exhaust_memory();
	CHECK(pid > 0);
	CHECK_EQ(wait(pid, &status), pid);
	/*
	 * Killed by a signal: most likely a page of a successful mmap() could not be given a
	 * frame at its first touch, that is, mmap() promised memory it did not have.
	 */
	if (WIFSIGNALED(status))
		printf("fork_bomb: the child exhausting memory was killed by signal %d\n",
		       WTERMSIG(status));
	else if (WEXITSTATUS(status) < ARRAY_SIZE(mem_results))
		printf("fork_bomb: the child exhausting memory: %s\n",
		       mem_results[WEXITSTATUS(status)]);
	CHECK_EXITED(status, MEM_OK);

	/* And in this process, after the child's exit freed everything: */
	char *p = map_chunk();

	CHECK((long)p > 0);
	touch_chunk(p);
	CHECK_EQ(munmap(p, CHUNK_PAGES * PAGE_SIZE), 0);
}

int main(void)
{
	int status;

	fork_until_refused();
	fork_and_reap_many();
	mmap_until_refused();

	/* Last: fork still works, and nothing is left to reap. */
	pid_t pid = fork();

	if (pid == 0)
		exit(7);
	CHECK(pid > 0);
	CHECK_EQ(wait(pid, &status), pid);
	CHECK_EXITED(status, 7);
	CHECK_EQ(wait(-1, &status), -ECHILD);
	printf("fork_bomb: pass\n");
	return 0;
}
