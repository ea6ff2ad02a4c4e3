/* The ASID allocator's logic (pure C: the host tests it); arch/arm64/context.c is its user. */
#include <asm/asid.h>

#define BITS_PER_WORD (8 * sizeof(unsigned long))

static void set_bit_in(unsigned long *map, unsigned long n)
{
	map[n / BITS_PER_WORD] |= 1UL << (n % BITS_PER_WORD);
}

/* Sets bit n; true if it was set already. */
static bool test_and_set_bit_in(unsigned long *map, unsigned long n)
{
	unsigned long bit = 1UL << (n % BITS_PER_WORD), old = map[n / BITS_PER_WORD];

	map[n / BITS_PER_WORD] = old | bit;
	return old & bit;
}

/* The first clear bit in [from, end), or end. */
static unsigned long find_zero_bit(const unsigned long *map, unsigned long from, unsigned long end)
{
	for (unsigned long n = from; n < end; n++) {
		if (map[n / BITS_PER_WORD] == ~0UL) {
			n |= BITS_PER_WORD - 1; /* a full word: skip to its last bit */
			continue;
		}
		if (!(map[n / BITS_PER_WORD] & (1UL << (n % BITS_PER_WORD))))
			return n;
	}
	return end;
}

void asid_allocator_init(struct asid_allocator *a, unsigned int bits, unsigned int nr_cpus)
{
	*a = (struct asid_allocator){ 0 };
	a->bits = bits;
	a->nr_cpus = nr_cpus;
	a->limit = 1UL << bits;
	a->generation = 1ULL << bits;
	a->next = 1;
	set_bit_in(a->map, 0); /* ASID 0: the empty TTBR0 table's, never a user mm's */
}

unsigned long asid_set_limit(struct asid_allocator *a, unsigned long limit)
{
	unsigned long lo = a->nr_cpus + 2, hi = 1UL << a->bits;

	a->limit = limit < lo ? lo : limit > hi ? hi : limit;
	return a->limit;
}

/*
 * A new generation (lock held). Every ASID is free again, except, on each CPU, the one it
 * is running: the xchg takes it out of active[] (so that CPU's next switch cannot take the
 * fast path and must come here to learn the new generation) and it becomes reserved[]. A
 * CPU whose active[] is already 0 was rolled over before and has not switched since: the
 * ASID it still runs is the one reserved for it then. Every CPU must flush its local TLB
 * before its next switch; none is interrupted to do it now (no IPI): the numbers freed here
 * are only handed out again below, under this lock, and a CPU can only run one of them
 * after a switch - which flushes first.
 */
static void rollover(struct asid_allocator *a)
{
	for (unsigned long i = 0; i < ARRAY_SIZE(a->map); i++)
		a->map[i] = 0;
	set_bit_in(a->map, 0);
	for (unsigned int cpu = 0; cpu < a->nr_cpus; cpu++) {
		u64 ctx = __atomic_exchange_n(&a->active[cpu], 0, __ATOMIC_RELAXED);

		if (ctx == 0)
			ctx = a->reserved[cpu];
		if (ctx)
			set_bit_in(a->map, asid_of(a, ctx));
		a->reserved[cpu] = ctx;
	}
	a->flush_pending = a->nr_cpus >= ASID_MAX_CPUS ? ~0UL : (1UL << a->nr_cpus) - 1;
	a->rollovers++;
}

/*
 * ctx was reserved for some CPU at the last rollover: it keeps its number in the new
 * generation (every CPU's reservation of it is renewed to newctx). True if so.
 */
static bool renew_reserved(struct asid_allocator *a, u64 ctx, u64 newctx)
{
	bool hit = false;

	/* Not just the first match: one mm can be running on several CPUs. */
	for (unsigned int cpu = 0; cpu < a->nr_cpus; cpu++) {
		if (a->reserved[cpu] == ctx) {
			a->reserved[cpu] = newctx;
			hit = true;
		}
	}
	return hit;
}

/* A context of the current generation for an mm whose context is ctx (lock held). */
static u64 new_context(struct asid_allocator *a, u64 ctx)
{
	u64 generation = __atomic_load_n(&a->generation, __ATOMIC_RELAXED);
	unsigned long asid;

	if (ctx != 0) {
		u64 newctx = generation | asid_of(a, ctx);

		/* Running somewhere when the generation turned: it keeps its number. */
		if (renew_reserved(a, ctx, newctx))
			return newctx;
		/* Not running, but its old number is still free in this generation: take it back
		 * (no other mm can hold it now, and its TLB entries are this mm's own). */
		if (asid_of(a, ctx) < a->limit && !test_and_set_bit_in(a->map, asid_of(a, ctx)))
			return newctx;
	}
	asid = find_zero_bit(a->map, a->next, a->limit);
	if (asid == a->limit) {
		/*
		 * None left: a new generation. Publishing the new generation first, then
		 * rolling over, under the lock: a fast path that still sees the old
		 * generation finds active[] zeroed (its cmpxchg fails) and comes here.
		 */
		generation += 1ULL << a->bits;
		__atomic_store_n(&a->generation, generation, __ATOMIC_RELAXED);
		rollover(a);
		asid = find_zero_bit(a->map, 1, a->limit);
	}
	set_bit_in(a->map, asid);
	a->next = asid + 1;
	return generation | asid;
}

/*
 * The fast path. Read together, three facts make it safe without the lock: the context is
 * of the current generation, cpu's active[] is not 0, and the compare-and-exchange of
 * active[] from the value we read to the new context succeeds. A rollover zeroes every
 * active[] with an atomic exchange, and atomic read-modify-writes of one location happen
 * in a single order: either our exchange came first, and the rollover finds our context in
 * active[] and reserves it (its number survives into the new generation); or the
 * rollover's came first, our compare fails (the value is 0 now), and we take the lock,
 * behind the rollover, to find the new generation. Relaxed ordering is enough for that;
 * what the slow path must see (map, generation) it sees through the lock.
 */
bool asid_switch_fast(struct asid_allocator *a, unsigned int cpu, const u64 *ctxp, u64 *ctx)
{
	u64 old = __atomic_load_n(&a->active[cpu], __ATOMIC_RELAXED);

	*ctx = __atomic_load_n(ctxp, __ATOMIC_RELAXED);
	return old != 0 && asid_current(a, *ctx) &&
	       __atomic_compare_exchange_n(&a->active[cpu], &old, *ctx, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

u64 asid_switch_slow(struct asid_allocator *a, unsigned int cpu, u64 *ctxp, bool *flush)
{
	u64 ctx = __atomic_load_n(ctxp, __ATOMIC_RELAXED);

	/* Another CPU may have given this mm a current context since our fast path looked. */
	if (!asid_current(a, ctx)) {
		ctx = new_context(a, ctx);
		__atomic_store_n(ctxp, ctx, __ATOMIC_RELAXED);
	}
	*flush = a->flush_pending & (1UL << cpu);
	a->flush_pending &= ~(1UL << cpu);
	__atomic_store_n(&a->active[cpu], ctx, __ATOMIC_RELAXED);
	return ctx;
}
