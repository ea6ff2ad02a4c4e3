/* The ASID allocator's pure logic (arch/arm64/asid.c): generations, rollover, reserved ASIDs. */
#pragma once

#include <lib/types.h>

/*
 * An ASID (address space identifier) tags every non-global TLB entry with the address
 * space it came from, so switching between user address spaces needs no TLB flush: the
 * CPU simply stops matching the old tag. TTBR0_EL1 bits 63:48 name the current one:
 *
 *   63        48 47                                            1   0
 *  +------------+-----------------------------------------------+---+
 *  |    ASID    |        BADDR: the L0 table's physical address |CnP|
 *  +------------+-----------------------------------------------+---+
 *
 * 8 or 16 bits of it are used (ID_AA64MMFR0_EL1.ASIDBits; TCR_EL1.AS = 1 selects 16), so
 * there are far fewer ASIDs than processes over a kernel's life. The scheme of Linux's
 * arch/arm64/mm/context.c hands them out without ever sending an IPI:
 *
 * A context (mm->context.id) is a 64-bit number: the generation in the bits above `bits`,
 * the ASID in the low `bits`:
 *
 *   63                          bits  bits-1         0
 *  +--------------------------------+-----------------+
 *  |           generation           |      ASID       |
 *  +--------------------------------+-----------------+
 *
 * An mm whose context carries the current generation owns its ASID: nobody else has it,
 * and a switch to it just loads TTBR0 (the fast path: no lock). When the ASIDs of a
 * generation run out, the next allocation starts a new generation (a rollover): every
 * ASID becomes free again except those the CPUs are running right now (each CPU's
 * "active" ASID becomes its "reserved" one and keeps its number), and every CPU is marked
 * to flush its own TLB before its next switch - entries tagged with a number that will be
 * handed to another mm must be gone by the time that CPU could run it. A CPU that keeps
 * running its mm keeps its ASID's entries, which stay valid: the number stays with that mm.
 *
 * ASID 0 is never handed out: it goes with the empty TTBR0 table (no user mm loaded), so it
 * tags nothing.
 */
#define ASID_MAX_BITS 16
#define ASID_MAX_CPUS 64 /* flush_pending is one unsigned long */

struct asid_allocator {
	unsigned int bits;    /* the ASID width: 8 or 16 */
	unsigned int nr_cpus; /* entries of active/reserved in use */
	unsigned long limit;  /* ASIDs 1 .. limit-1 are handed out: 1 << bits, or a test's cap */
	u64 generation;	      /* atomic: a multiple of 1 << bits, the first one is 1 << bits */
	unsigned long next;   /* where the search for a free ASID goes on */
	unsigned long flush_pending; /* bit n: CPU n must flush its local TLB at its next switch */
	u64 active[ASID_MAX_CPUS];   /* atomic: the context CPU n runs; 0 during a rollover */
	u64 reserved[ASID_MAX_CPUS]; /* the context CPU n ran at the last rollover */
	u64 rollovers;		     /* generations begun after the first */
	unsigned long map[(1UL << ASID_MAX_BITS) / (8 * sizeof(unsigned long))]; /* in use */
};

/* Generation 1, every ASID free but 0; bits is 8 or 16 (at most ASID_MAX_BITS). */
void asid_allocator_init(struct asid_allocator *a, unsigned int bits, unsigned int nr_cpus);

/*
 * For tests: hand out only ASIDs below limit (clamped to [nr_cpus + 2, 1 << bits]: a
 * rollover keeps one ASID per CPU and must find one more), so that a handful of address
 * spaces forces a rollover. ASIDs already handed out above it stay valid until then.
 * Returns the limit in force. Caller holds the allocator's lock.
 */
unsigned long asid_set_limit(struct asid_allocator *a, unsigned long limit);

/* The ASID of a context, for TTBR0 and TLBI operands (any generation). */
static inline unsigned long asid_of(const struct asid_allocator *a, u64 ctx)
{
	return (unsigned long)(ctx & ((1ULL << a->bits) - 1));
}

/* True if ctx belongs to the current generation (0, "none yet", never does). */
static inline bool asid_current(const struct asid_allocator *a, u64 ctx)
{
	return ((ctx ^ __atomic_load_n(&a->generation, __ATOMIC_RELAXED)) >> a->bits) == 0;
}

/*
 * The fast path of a switch to the mm whose context is *ctxp, on cpu, without the lock:
 * true (cpu's active context is now *ctx, the value read from *ctxp) when the context is
 * current and no rollover is under way; false when the caller must take the lock and call
 * asid_switch_slow().
 */
bool asid_switch_fast(struct asid_allocator *a, unsigned int cpu, const u64 *ctxp, u64 *ctx);

/*
 * The slow path, under the allocator's lock: gives the mm a current context if it has none
 * (*ctxp updated), makes it cpu's active one, and says whether cpu must flush its local TLB
 * before it loads TTBR0 (a rollover happened since cpu's last slow switch). Returns the
 * context to load.
 */
u64 asid_switch_slow(struct asid_allocator *a, unsigned int cpu, u64 *ctxp, bool *flush);
