/* A small seeded PRNG (xorshift64*) for reproducible random tests. */
#pragma once

#include <lib/types.h>

struct prng {
	u64 state;
};

static inline void prng_seed(struct prng *r, u64 seed)
{
	/* xorshift must never hold 0; any other seed works. */
	r->state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static inline u64 prng_next(struct prng *r)
{
	u64 x = r->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n) for n > 0 (the tiny modulo bias is irrelevant for tests). */
static inline u64 prng_below(struct prng *r, u64 n)
{
	return prng_next(r) % n;
}
