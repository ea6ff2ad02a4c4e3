/* Host suite for the arm64 ASID allocator: generations, rollover, reserved ASIDs, a TLB model. */
#include <stdlib.h>
#include <string.h>

#include <asm/asid.h>
#include <kunit/test.h>

static struct asid_allocator a;

/* A switch as arch_switch_mm() makes it: the fast path, else the slow one. */
static u64 switch_to(unsigned int cpu, u64 *ctx, bool *flush)
{
	u64 now;

	*flush = false;
	if (asid_switch_fast(&a, cpu, ctx, &now))
		return now;
	return asid_switch_slow(&a, cpu, ctx, flush);
}

static unsigned long generation_of(u64 ctx)
{
	return (unsigned long)(ctx >> a.bits);
}

/* The first contexts of a fresh allocator: ASIDs 1, 2, 3 in generation 1; 0 is never given. */
static void first_contexts_count_up_from_one(struct kunit *test)
{
	u64 mm[3] = { 0 }, ctx;
	bool flush;

	asid_allocator_init(&a, 8, 2);
	for (unsigned int i = 0; i < 3; i++) {
		ctx = switch_to(0, &mm[i], &flush);
		KUNIT_EXPECT_EQ(test, ctx, mm[i]);
		KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), i + 1);
		KUNIT_EXPECT_EQ(test, generation_of(ctx), 1);
		KUNIT_EXPECT_FALSE(test, flush);
	}
	/* Back to the first: its context is current, the fast path takes it unchanged. */
	KUNIT_EXPECT_TRUE(test, asid_switch_fast(&a, 0, &mm[0], &ctx));
	KUNIT_EXPECT_EQ(test, ctx, (1ULL << 8) | 1);
	/* A CPU's first switch never takes the fast path: it has no active context yet. */
	KUNIT_EXPECT_FALSE(test, asid_switch_fast(&a, 1, &mm[1], &ctx));
	KUNIT_EXPECT_EQ(test, asid_switch_slow(&a, 1, &mm[1], &flush), (1ULL << 8) | 2);
	KUNIT_EXPECT_TRUE(test, asid_switch_fast(&a, 1, &mm[2], &ctx));
	KUNIT_EXPECT_EQ(test, a.rollovers, 0);
}

/*
 * Rollover with a cap of 4 (ASIDs 1-3) and two CPUs. A, B, C take 1, 2, 3; CPU 0 runs C,
 * CPU 1 runs B. D finds none free: generation 2 begins. B and C were running, so their
 * numbers are reserved; D gets the only free one, 1 (A's old number). Both CPUs must flush
 * before their next switch - the one that made the rollover at once (the flush flag it
 * gets back), the other at its next slow switch. B and C keep their numbers in the new
 * generation when they switch again; A gets a new one only after another rollover.
 */
static void rollover_keeps_running_asids(struct kunit *test)
{
	u64 A = 0, B = 0, C = 0, D = 0, ctx;
	bool flush;

	asid_allocator_init(&a, 8, 2);
	KUNIT_EXPECT_EQ(test, asid_set_limit(&a, 4), 4);
	switch_to(0, &A, &flush);
	switch_to(1, &B, &flush);
	switch_to(0, &C, &flush);
	KUNIT_EXPECT_EQ(test, asid_of(&a, A), 1);
	KUNIT_EXPECT_EQ(test, asid_of(&a, B), 2);
	KUNIT_EXPECT_EQ(test, asid_of(&a, C), 3);

	ctx = switch_to(0, &D, &flush);
	KUNIT_EXPECT_EQ(test, a.rollovers, 1);
	KUNIT_EXPECT_EQ(test, generation_of(ctx), 2);
	KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), 1);
	KUNIT_EXPECT_TRUE(test, flush);		   /* CPU 0, which rolled over, flushes now */
	KUNIT_EXPECT_EQ(test, a.flush_pending, 2); /* CPU 1 still owes its flush */

	/* CPU 1 still runs B (old generation): its fast path refuses, the slow one renews. */
	KUNIT_EXPECT_FALSE(test, asid_switch_fast(&a, 1, &B, &ctx));
	ctx = asid_switch_slow(&a, 1, &B, &flush);
	KUNIT_EXPECT_TRUE(test, flush);
	KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), 2);
	KUNIT_EXPECT_EQ(test, generation_of(ctx), 2);
	/* C was CPU 0's active context at the rollover: reserved, it keeps 3. */
	ctx = switch_to(0, &C, &flush);
	KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), 3);
	KUNIT_EXPECT_EQ(test, generation_of(ctx), 2);
	KUNIT_EXPECT_FALSE(test, flush);
	/* A's number went to D: A needs a new one, and there is none - generation 3. */
	ctx = switch_to(0, &A, &flush);
	KUNIT_EXPECT_EQ(test, a.rollovers, 2);
	KUNIT_EXPECT_EQ(test, generation_of(ctx), 3);
	KUNIT_EXPECT_NE(test, asid_of(&a, ctx), asid_of(&a, B)); /* B runs on CPU 1 */
}

/* A context that was not running at a rollover takes its old number back if still free. */
static void old_number_is_taken_back_when_free(struct kunit *test)
{
	u64 A = 0, B = 0, C = 0, ctx;
	bool flush;

	asid_allocator_init(&a, 8, 1);
	asid_set_limit(&a, 4);
	switch_to(0, &A, &flush); /* 1 */
	switch_to(0, &B, &flush); /* 2 */
	switch_to(0, &C, &flush); /* 3 */
	asid_set_limit(&a, 3);	  /* the same as 3 ASIDs used up: the next one rolls over */
	/* A new mm rolls over; only C (running) is reserved; the new mm takes 1. */
	ctx = switch_to(0, &(u64){ 0 }, &flush);
	KUNIT_EXPECT_EQ(test, a.rollovers, 1);
	KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), 1);
	/* B (2, not running) comes back in generation 2: 2 is still free, it keeps it. */
	ctx = switch_to(0, &B, &flush);
	KUNIT_EXPECT_EQ(test, asid_of(&a, ctx), 2);
	KUNIT_EXPECT_EQ(test, generation_of(ctx), 2);
	KUNIT_EXPECT_EQ(test, a.rollovers, 1);
}

/* 16-bit ASIDs: 65535 address spaces fit in one generation, the next one rolls over. */
static void sixteen_bits_hold_65535_address_spaces(struct kunit *test)
{
	static u64 mm[65536];
	bool flush;

	memset(mm, 0, sizeof(mm));
	asid_allocator_init(&a, 16, 4);
	for (unsigned long i = 0; i < 65535; i++) {
		u64 ctx = switch_to(i % 4, &mm[i], &flush);

		if (asid_of(&a, ctx) != i + 1) {
			kunit_fail(test, false, __FILE__, __LINE__, "mm %lu got ASID %lu", i,
				   asid_of(&a, ctx));
			return;
		}
	}
	KUNIT_EXPECT_EQ(test, a.rollovers, 0);
	switch_to(0, &mm[65535], &flush);
	KUNIT_EXPECT_EQ(test, a.rollovers, 1);
	KUNIT_EXPECT_TRUE(test, flush);
	KUNIT_EXPECT_EQ(test, generation_of(mm[65535]), 2);
}

static void limit_is_clamped(struct kunit *test)
{
	asid_allocator_init(&a, 8, 4);
	KUNIT_EXPECT_EQ(test, asid_set_limit(&a, 1), 6); /* 4 CPUs + ASID 0 + one to give */
	KUNIT_EXPECT_EQ(test, asid_set_limit(&a, 100000), 256);
	KUNIT_EXPECT_EQ(test, asid_set_limit(&a, 17), 17);
}

/*
 * The property everything above serves, checked against a model of the hardware: a CPU
 * never runs an mm under an ASID while its TLB may still hold another mm's entries tagged
 * with that ASID. The model TLB of each CPU remembers, per ASID, which mm's entries it may
 * hold (every mm that ran under it there since that CPU's last flush); a switch that gets
 * the flush flag empties it. Dead mms' entries are never removed except by a flush (the
 * kernel's exit_mmap() invalidates them, but the scheme must not depend on it). CPUs
 * switch at random between live mms and the kernel (init_mm: the allocator is not
 * involved, active[] stays), mms die and are born, with a tight cap so that rollovers
 * are frequent. Also: two mms that hold current contexts never share a number, and every
 * CPU runs its mm under the number that mm's TLBIs carry.
 */
#define MODEL_CPUS  4
#define MODEL_MMS   12
#define MODEL_STEPS 200000

struct model_mm {
	u64 ctx;
	unsigned int id; /* a fresh id for every life, so a dead mm's entries stay its own */
	bool live;
};

static void random_switches_never_meet_a_stale_asid(struct kunit *test)
{
	static unsigned int tlb[MODEL_CPUS][256];	/* mm id + 1 per ASID; 0: nothing cached */
	static unsigned int tlb_extra[MODEL_CPUS][256]; /* a second owner seen: a violation */
	struct model_mm mms[MODEL_MMS];
	int loaded[MODEL_CPUS]; /* index into mms, or -1: the kernel's empty TTBR0 */
	unsigned long loaded_asid[MODEL_CPUS] = { 0 }; /* what TTBR0's ASID field holds */
	unsigned int next_id = 1, flushes = 0;
	unsigned long seed = 12345;

	memset(tlb, 0, sizeof(tlb));
	memset(tlb_extra, 0, sizeof(tlb_extra));
	asid_allocator_init(&a, 8, MODEL_CPUS);
	asid_set_limit(&a, 9); /* ASIDs 1-8 for 12 mms on 4 CPUs */
	for (unsigned int i = 0; i < MODEL_MMS; i++)
		mms[i] = (struct model_mm){ .ctx = 0, .id = next_id++, .live = true };
	for (unsigned int c = 0; c < MODEL_CPUS; c++)
		loaded[c] = -1;

	for (unsigned long step = 0; step < MODEL_STEPS; step++) {
		unsigned int cpu, pick, action;
		bool flush, held = false;
		u64 ctx;
		unsigned long asid;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		cpu = (unsigned int)(seed >> 33) % MODEL_CPUS;
		pick = (unsigned int)(seed >> 40) % MODEL_MMS;
		action = (unsigned int)(seed >> 50) % 16;

		if (action == 0) { /* the CPU drops to the kernel's tables (lazy mm dropped) */
			loaded[cpu] = -1;
			continue;
		}
		if (action ==
		    1) { /* mm `pick` dies (if no CPU has it loaded) and a new one is born */
			for (unsigned int c = 0; c < MODEL_CPUS; c++)
				held |= loaded[c] == (int)pick;
			if (!held)
				mms[pick] =
				    (struct model_mm){ .ctx = 0, .id = next_id++, .live = true };
			continue;
		}
		ctx = switch_to(cpu, &mms[pick].ctx, &flush);
		if (flush) {
			memset(tlb[cpu], 0, sizeof(tlb[cpu]));
			flushes++;
		}
		asid = asid_of(&a, ctx);
		loaded[cpu] = (int)pick;
		if (asid == 0 || !asid_current(&a, ctx) || ctx != mms[pick].ctx) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "step %lu: cpu %u got context %#llx for mm %u (stored %#llx)",
				   step, cpu, (unsigned long long)ctx, pick,
				   (unsigned long long)mms[pick].ctx);
			return;
		}
		if (tlb[cpu][asid] && tlb[cpu][asid] != mms[pick].id + 1) {
			kunit_fail(test, false, __FILE__, __LINE__,
				   "step %lu: cpu %u runs mm id %u under ASID %lu while its TLB "
				   "may hold mm id %u's entries under it",
				   step, cpu, mms[pick].id, asid, tlb[cpu][asid] - 1);
			return;
		}
		tlb[cpu][asid] = mms[pick].id + 1;
		loaded_asid[cpu] = asid;
		/*
		 * Every CPU that has an mm loaded runs it under the ASID that mm's TLBIs carry
		 * (its context's): else an unmap would miss that CPU's entries.
		 */
		for (unsigned int c = 0; c < MODEL_CPUS; c++) {
			if (loaded[c] >= 0 && loaded_asid[c] != asid_of(&a, mms[loaded[c]].ctx)) {
				kunit_fail(test, false, __FILE__, __LINE__,
					   "step %lu: cpu %u runs mm %d under ASID %lu, but its "
					   "TLBIs would name %lu",
					   step, c, loaded[c], loaded_asid[c],
					   asid_of(&a, mms[loaded[c]].ctx));
				return;
			}
		}
		/* No two mms with current contexts share a number. */
		for (unsigned int j = 0; j < MODEL_MMS; j++) {
			if (j != pick && asid_current(&a, mms[j].ctx) &&
			    asid_of(&a, mms[j].ctx) == asid) {
				kunit_fail(test, false, __FILE__, __LINE__,
					   "step %lu: mms %u and %u both hold ASID %lu", step, pick,
					   j, asid);
				return;
			}
		}
	}
	KUNIT_EXPECT_GT(test, a.rollovers, 1000);
	KUNIT_EXPECT_GT(test, flushes, a.rollovers);
	kunit_info(test, "%d steps: %llu rollovers, %u flushes at a switch", MODEL_STEPS,
		   (unsigned long long)a.rollovers, flushes);
}

static struct kunit_case asid_cases[] = {
	KUNIT_CASE(first_contexts_count_up_from_one),
	KUNIT_CASE(rollover_keeps_running_asids),
	KUNIT_CASE(old_number_is_taken_back_when_free),
	KUNIT_CASE(sixteen_bits_hold_65535_address_spaces),
	KUNIT_CASE(limit_is_clamped),
	KUNIT_CASE(random_switches_never_meet_a_stale_asid),
	{},
};

static struct kunit_suite asid_suite = {
	.name = "arm64_asid",
	.test_cases = asid_cases,
};
kunit_test_suite(asid_suite);
