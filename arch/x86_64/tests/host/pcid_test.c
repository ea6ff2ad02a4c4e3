/*
 * Host suite for the x86-64 PCID slots (asm/pcid.h): a simulated TLB per PCID shows that no
 * address space ever runs on a PCID holding another's entries, or its own from before a
 * flush it missed.
 */
#include <string.h>

#include <asm/pcid.h>
#include <kunit/test.h>
#include <lib/prng.h>

static void first_load_flushes_second_does_not(struct kunit *test)
{
	struct x86_pcid_cpu c;
	struct x86_pcid_choice a, b;

	memset(&c, 0, sizeof(c));
	a = x86_pcid_choose(&c, 7, 0);
	KUNIT_EXPECT_TRUE(test, a.flush);
	b = x86_pcid_choose(&c, 7, 0);
	KUNIT_EXPECT_EQ(test, b.slot, a.slot);
	KUNIT_EXPECT_FALSE(test, b.flush);
	/* A flush of mm 7 happened elsewhere: the slot is behind. */
	b = x86_pcid_choose(&c, 7, 1);
	KUNIT_EXPECT_EQ(test, b.slot, a.slot);
	KUNIT_EXPECT_TRUE(test, b.flush);
	KUNIT_EXPECT_FALSE(test, x86_pcid_choose(&c, 7, 1).flush);
	KUNIT_EXPECT_EQ(test, x86_pcid_of_slot(a.slot), a.slot + 1);
}

/* Six mms fit; the seventh takes the slots over in turn, and an evicted mm starts afresh. */
static void slots_are_shared_round_robin(struct kunit *test)
{
	struct x86_pcid_cpu c;
	bool seen[X86_NR_PCID_SLOTS] = { false };
	struct x86_pcid_choice ch;

	memset(&c, 0, sizeof(c));
	for (u64 mm = 0; mm < X86_NR_PCID_SLOTS; mm++) {
		ch = x86_pcid_choose(&c, mm, 0);
		KUNIT_EXPECT_TRUE(test, ch.flush);
		KUNIT_EXPECT_FALSE(test, seen[ch.slot]);
		seen[ch.slot] = true;
	}
	for (u64 mm = 0; mm < X86_NR_PCID_SLOTS; mm++)
		KUNIT_EXPECT_FALSE(test, x86_pcid_choose(&c, mm, 0).flush);
	ch = x86_pcid_choose(&c, 100, 0);
	KUNIT_EXPECT_TRUE(test, ch.flush);
	KUNIT_EXPECT_EQ(test, x86_pcid_find(&c, 100), (int)ch.slot);
	KUNIT_EXPECT_EQ(test, ch.slot, 0);
	KUNIT_EXPECT_EQ(test, x86_pcid_find(&c, 0), -1);
	KUNIT_EXPECT_TRUE(test, x86_pcid_choose(&c, 0, 0).flush);
	KUNIT_EXPECT_EQ(test, x86_pcid_find(&c, 1), -1); /* the next victim */
}

/* A partial flush completes a slot only if it had every earlier one. */
static void partial_flush_needs_the_previous_generation(struct kunit *test)
{
	struct x86_pcid_cpu c;
	unsigned int s;

	memset(&c, 0, sizeof(c));
	s = x86_pcid_choose(&c, 3, 5).slot;
	KUNIT_EXPECT_TRUE(test, x86_pcid_flushed_one(&c, s, 6));
	KUNIT_EXPECT_FALSE(test, x86_pcid_choose(&c, 3, 6).flush);
	/* Flush 7 was missed; 8's pages alone don't make up for it. */
	KUNIT_EXPECT_FALSE(test, x86_pcid_flushed_one(&c, s, 8));
	KUNIT_EXPECT_TRUE(test, x86_pcid_choose(&c, 3, 8).flush);
	/* A whole-PCID flush catches up with anything, and never goes back. */
	x86_pcid_flushed_all(&c, s, 20);
	x86_pcid_flushed_all(&c, s, 10);
	KUNIT_EXPECT_FALSE(test, x86_pcid_choose(&c, 3, 20).flush);
}

/*
 * The simulated CPU: per PCID, the entries its TLB holds, each for one page of one mm and
 * tagged with the mm's flush generation when it was cached. A flush invalidates one page of
 * one mm and bumps the mm's generation; it reaches this TLB only if the mm is loaded here
 * (invlpg in the current PCID, or the shootdown NMI), or, with INVPCID, the mm's slot here.
 * An entry is stale once a flush of its page has a higher generation than the entry.
 */
#define MMS	   10
#define PAGES	   4
#define MAX_CACHED 8
#define STEPS	   200000
#define NO_MM	   ~0ULL

struct sim_entry {
	u64 mm, gen;
	unsigned int page;
};

struct sim_pcid {
	struct sim_entry e[MAX_CACHED];
	unsigned int n;
};

static void sim_drop(struct sim_pcid *p, u64 mm, unsigned int page)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < p->n; i++)
		if (p->e[i].mm != mm || p->e[i].page != page)
			p->e[k++] = p->e[i];
	p->n = k;
}

static void random_switches_and_flushes_never_run_stale(struct kunit *test)
{
	struct x86_pcid_cpu c;
	struct sim_pcid tlb[X86_NR_PCID_SLOTS + 1];
	u64 gen[MMS] = { 0 }, flushed_at[MMS][PAGES] = { { 0 } }, loaded = NO_MM;
	unsigned int slot = 0, flushes = 0, reuses = 0;
	struct prng r;

	memset(&c, 0, sizeof(c));
	memset(tlb, 0, sizeof(tlb));
	prng_seed(&r, 86);
	for (unsigned long step = 0; step < STEPS; step++) {
		u64 mm = prng_below(&r, MMS);
		unsigned int op = (unsigned int)prng_below(&r, 5);
		unsigned int page = (unsigned int)prng_below(&r, PAGES);
		struct sim_pcid *cur = &tlb[x86_pcid_of_slot(slot)];

		if (op == 0) {
			/* Load mm: what arch_switch_mm() does with the choice. */
			struct x86_pcid_choice ch = x86_pcid_choose(&c, mm, gen[mm]);

			slot = ch.slot;
			if (ch.flush) {
				tlb[x86_pcid_of_slot(slot)].n = 0;
				flushes++;
			} else {
				reuses++;
			}
			loaded = mm;
		} else if (op == 1 && loaded != NO_MM) {
			/* A flush of one page of the loaded mm from here: invlpg, then the record. */
			flushed_at[loaded][page] = ++gen[loaded];
			sim_drop(cur, loaded, page);
			x86_pcid_flushed_one(&c, slot, gen[loaded]);
		} else if (op == 2) {
			/* A flush from another CPU: its NMI reaches us only if mm is loaded here. */
			flushed_at[mm][page] = ++gen[mm];
			if (mm == loaded)
				sim_drop(cur, mm, page);
		} else if (op == 3 && mm != loaded) {
			/*
			 * A flush from here of an mm loaded elsewhere: with INVPCID its pages go
			 * from its slot at once, and the slot counts it if it had all before.
			 */
			int s_mm = x86_pcid_find(&c, mm);

			flushed_at[mm][page] = ++gen[mm];
			if (s_mm >= 0) {
				sim_drop(&tlb[x86_pcid_of_slot((unsigned int)s_mm)], mm, page);
				x86_pcid_flushed_one(&c, (unsigned int)s_mm, gen[mm]);
			}
		} else if (loaded != NO_MM && cur->n < MAX_CACHED) {
			/* The loaded mm runs and caches an entry. */
			cur->e[cur->n++] = (struct sim_entry){ loaded, gen[loaded], page };
		}
		if (loaded == NO_MM)
			continue;
		cur = &tlb[x86_pcid_of_slot(slot)];
		for (unsigned int i = 0; i < cur->n; i++) {
			const struct sim_entry *e = &cur->e[i];

			if (e->mm != loaded || flushed_at[e->mm][e->page] > e->gen) {
				kunit_fail(test, false, __FILE__, __LINE__,
					   "step %lu: mm %llu runs on PCID %u holding mm %llu's "
					   "page %u from generation %llu, flushed at %llu",
					   step, (unsigned long long)loaded, x86_pcid_of_slot(slot),
					   (unsigned long long)e->mm, e->page,
					   (unsigned long long)e->gen,
					   (unsigned long long)flushed_at[e->mm][e->page]);
				return;
			}
		}
	}
	/* Both kinds of load happened often: the check above saw both paths. */
	KUNIT_EXPECT_GT(test, flushes, 1000);
	KUNIT_EXPECT_GT(test, reuses, 1000);
}

static struct kunit_case pcid_cases[] = {
	KUNIT_CASE(first_load_flushes_second_does_not),
	KUNIT_CASE(slots_are_shared_round_robin),
	KUNIT_CASE(partial_flush_needs_the_previous_generation),
	KUNIT_CASE(random_switches_and_flushes_never_run_stale),
	{},
};

static struct kunit_suite pcid_suite = {
	.name = "x86_pcid",
	.test_cases = pcid_cases,
};
kunit_test_suite(pcid_suite);
