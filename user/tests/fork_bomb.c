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
#define CHILD_SIGNALED	0x08 /* a process of the bomb died of a signal */
#define REAP_MISMATCH	0x10 /* wait() did not return each child exactly once */
#define NEVER_REFUSED	0x20 /* a chain reached MAX_DEPTH without one fork() failing */
#define CODE_BITS	0x3f

/* Chains of processes, each as long as the kernel allows, and a bound on that. */
#define CHAINS	  4
#define MAX_DEPTH 4096

static int fork_error_bit(pid_t err)
{
	if (err == -EAGAIN)
		return SAW_EAGAIN;
	if (err == -ENOMEM)
		return SAW_ENOMEM;
	return SAW_OTHER_ERROR;
}

/* What wait() said about one child, as bits of the exit code. */
static int child_code(int status)
{
	return WIFSIGNALED(status) ? CHILD_SIGNALED : WEXITSTATUS(status) & CODE_BITS;
}

/*
 * One chain: this process forks a child and waits for it; the child does the same, one
 * level deeper (it is a new process, with a copy of its parent's depth to increment); and
 * so on, until a fork() fails: the system is full. Then each process, from the deepest
 * up, exits with what it and its descendants saw. Every process of the chain stays alive,
 * blocked in wait(), until the failure, so the chain always reaches the kernel's limit
 * (a process count, or memory), whatever the scheduler does; and each process forks once,
 * so the chain ends: nothing grows back into the slots its collapse frees.
 */
static __noreturn void chain(void)
{
	int depth = 0, status;
	pid_t pid;

	for (;;) {
		if (depth == MAX_DEPTH)
			exit(NEVER_REFUSED);
		pid = fork();
		if (pid == 0) {
			depth++;
			continue;
		}
		if (pid < 0)
			exit(fork_error_bit(pid));
		if (wait(pid, &status) != pid)
			exit(REAP_MISMATCH);
		exit(child_code(status));
	}
}

/*
 * The bomb: CHAINS chains at once, from one process that then reaps them all with
 * wait(-1) until -ECHILD. The first chain to fill the system stops the others growing;
 * when it collapses, another may grow into the freed slots until it is refused in turn.
 * Every chain ends with a refusal (at most CHAINS times the limit forks in all).
 */
static __noreturn void bomb(void)
{
	int children = 0, code = 0, status;
	pid_t pid;

	for (int i = 0; i < CHAINS; i++) {
		pid = fork();
		if (pid == 0)
			chain();
		if (pid < 0) {
			code |= fork_error_bit(pid);
			break;
		}
		children++;
	}
	while ((pid = wait(-1, &status)) > 0) {
		children--;
		code |= child_code(status);
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

	printf("fork_bomb: %d chains saw%s%s%s%s%s%s\n", CHAINS,
	       code & SAW_EAGAIN ? " -EAGAIN" : "", code & SAW_ENOMEM ? " -ENOMEM" : "",
	       code & SAW_OTHER_ERROR ? " another error (not -EAGAIN or -ENOMEM)" : "",
	       code & CHILD_SIGNALED ? ", a process killed by a signal" : "",
	       code & REAP_MISMATCH ? ", a wait() that lost or invented a child" : "",
	       code & NEVER_REFUSED ? ", a chain of MAX_DEPTH processes never refused" : "");
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

/*
 * Mappings start at 16 MiB and halve on each refusal, down to one page: so the last
 * refusal means not even one more page, and a few dozen mappings cover all of memory
 * (a kernel may limit how many areas a process has; that limit is not what this tests).
 */
#define FIRST_CHUNK (16UL << 20)
#define MAX_CHUNKS  256 /* 4 GiB of 16 MiB chunks: more than QEMU's 256 MiB */

static struct chunk {
	char *p;
	size_t len;
} chunks[MAX_CHUNKS];

/* Exit codes of the child that exhausts memory, and what each means. */
enum { MEM_OK, MEM_NEVER_FAILED, MEM_WRONG_ERROR, MEM_UNMAP_FAILED, MEM_NOT_BACK };
static const char *const mem_results[] = {
	[MEM_OK] = "ok",
	[MEM_NEVER_FAILED] = "mmap() never failed, with 4 GiB touched",
	[MEM_WRONG_ERROR] = "mmap() failed with another error than -ENOMEM",
	[MEM_UNMAP_FAILED] = "munmap() of a chunk failed",
	[MEM_NOT_BACK] = "after munmap() of everything, mmap() failed again",
};

/*
 * Touches the next 16 KiB of stack now, while memory is plentiful: the stack pages are
 * shared copy-on-write with the parent, and a first write to one after memory runs out
 * would need a frame the kernel may no longer have.
 */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char buf[16384];

	for (size_t i = 0; i < sizeof(buf); i += PAGE_SIZE)
		buf[i] = 1;
}

static char *map_touched(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

	if ((long)p > 0)
		for (size_t off = 0; off < len; off += PAGE_SIZE)
			p[off] = 1;
	return p;
}

static int unmap_all(int n)
{
	for (int i = 0; i < n; i++)
		if (munmap(chunks[i].p, chunks[i].len) != 0)
			return -1;
	return 0;
}

/*
 * In a child: mmap() and write every page (so each really takes a frame), until not one
 * more page is given; then give it all back, and map and touch as much again. Nothing is
 * printed while memory is exhausted: printing may need a page too.
 */
static __noreturn void exhaust_memory(void)
{
	size_t len = FIRST_CHUNK, total = 0;
	long err = 0;
	int n = 0;

	touch_stack();
	while (n < MAX_CHUNKS) {
		char *p = map_touched(len);

		if ((long)p > 0) {
			chunks[n].p = p;
			chunks[n++].len = len;
			total += len;
			continue;
		}
		err = (long)p;
		if (err != -ENOMEM || len == PAGE_SIZE)
			break;
		len /= 2;
	}
	if (unmap_all(n))
		exit(MEM_UNMAP_FAILED);
	if (n == MAX_CHUNKS)
		exit(MEM_NEVER_FAILED);
	if (err != -ENOMEM)
		exit(MEM_WRONG_ERROR);
	printf("fork_bomb: mmap() said -ENOMEM with %lu KiB mapped and touched in %d areas\n",
	       (unsigned long)(total >> 10), n);

	/* Everything given back: the same again. */
	for (int i = 0; i < n; i++) {
		chunks[i].p = map_touched(chunks[i].len);
		if ((long)chunks[i].p < 0)
			exit(MEM_NOT_BACK);
	}
	if (unmap_all(n))
		exit(MEM_UNMAP_FAILED);
	printf("fork_bomb: after munmap(), the same %lu KiB mapped and touched again\n",
	       (unsigned long)(total >> 10));
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
	char *p = map_touched(FIRST_CHUNK);

	CHECK((long)p > 0);
	CHECK_EQ(munmap(p, FIRST_CHUNK), 0);
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
