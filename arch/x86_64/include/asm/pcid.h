/* x86-64 PCID slots: which address space each of a CPU's PCIDs holds, and how fresh it is. */
#pragma once

#include <lib/types.h>

/*
 * With CR4.PCIDE, CR3[11:0] names a process-context ID and the TLB tags every non-global
 * translation with the PCID it was made under: a CR3 load with bit 63 set keeps the
 * translations of every PCID, so switching back to an address space finds its entries
 * still cached. PCID 0 is the kernel's (init_mm, and everything before PCIDs are on); user
 * address spaces share the few PCIDs 1..X86_NR_PCID_SLOTS of each CPU, as Linux shares its
 * TLB_NR_DYN_ASIDS: a CPU runs few address spaces at a time, and 4096 PCIDs would need a
 * global allocator with rollover, where a per-CPU table of six needs no lock at all.
 *
 * Each slot remembers the mm (by its never-reused id, so a freed mm's slot just never
 * matches again) and the mm's tlb_gen it has caught up with: every flush of the mm's
 * translations up to that number is reflected in this CPU's TLB for that PCID. Loading a
 * slot whose number is behind the mm's must flush the PCID first.
 *
 * Only the owning CPU touches its table, with interrupts masked (arch_switch_mm() and the
 * local part of arch_tlb_flush_batch()); the shootdown NMI never does. The functions here
 * are pure bookkeeping, tested on the host.
 */
#define X86_NR_PCID_SLOTS 6

struct x86_pcid_slot {
	u64 mm_id;
	u64 tlb_gen; /* the mm's tlb_gen this slot has caught up with */
	bool used;
};

struct x86_pcid_cpu {
	struct x86_pcid_slot slot[X86_NR_PCID_SLOTS];
	unsigned int next_victim; /* round robin over the slots when all are used */
};

/* The PCID of slot i (0 is the kernel's). */
static inline unsigned int x86_pcid_of_slot(unsigned int slot)
{
	return slot + 1;
}

struct x86_pcid_choice {
	unsigned int slot;
	bool flush; /* the PCID holds nothing of this mm, or an older generation of it */
};

/*
 * Loading mm_id, whose tlb_gen is gen now: its slot (an existing one, or the next victim's,
 * taken over), and whether the load must flush it. Records gen as caught up: the caller
 * flushes, or the slot was already there.
 */
struct x86_pcid_choice x86_pcid_choose(struct x86_pcid_cpu *c, u64 mm_id, u64 gen);

/* mm_id's slot, or -1 when it has none. */
int x86_pcid_find(const struct x86_pcid_cpu *c, u64 mm_id);

/*
 * The whole PCID of slot was flushed after gen was read: it has caught up with gen (never
 * moves backwards).
 */
void x86_pcid_flushed_all(struct x86_pcid_cpu *c, unsigned int slot, u64 gen);

/*
 * Only the pages of flush number gen were invalidated in slot: that completes the slot
 * only if it had every earlier flush (gen - 1). True when the slot is now at gen.
 */
bool x86_pcid_flushed_one(struct x86_pcid_cpu *c, unsigned int slot, u64 gen);
