/* x86-64 PCID slot bookkeeping (asm/pcid.h): pure C, so the host tests run it too. */
#include <asm/pcid.h>

int x86_pcid_find(const struct x86_pcid_cpu *c, u64 mm_id)
{
	for (unsigned int i = 0; i < X86_NR_PCID_SLOTS; i++)
		if (c->slot[i].used && c->slot[i].mm_id == mm_id)
			return (int)i;
	return -1;
}

struct x86_pcid_choice x86_pcid_choose(struct x86_pcid_cpu *c, u64 mm_id, u64 gen)
{
	int found = x86_pcid_find(c, mm_id);
	struct x86_pcid_choice ch;

	if (found >= 0) {
		struct x86_pcid_slot *s = &c->slot[found];

		ch.slot = (unsigned int)found;
		/* Generations only grow: behind means some flush never reached this PCID. */
		ch.flush = s->tlb_gen != gen;
		s->tlb_gen = gen;
		return ch;
	}
	/* A free slot first, else the victim in turn: its old mm's entries go with the flush. */
	found = -1;
	for (unsigned int i = 0; i < X86_NR_PCID_SLOTS && found < 0; i++)
		if (!c->slot[i].used)
			found = (int)i;
	if (found >= 0) {
		ch.slot = (unsigned int)found;
	} else {
		ch.slot = c->next_victim;
		c->next_victim = (c->next_victim + 1) % X86_NR_PCID_SLOTS;
	}
	c->slot[ch.slot] = (struct x86_pcid_slot){ .mm_id = mm_id, .tlb_gen = gen, .used = true };
	ch.flush = true;
	return ch;
}

void x86_pcid_flushed_all(struct x86_pcid_cpu *c, unsigned int slot, u64 gen)
{
	if (c->slot[slot].tlb_gen < gen)
		c->slot[slot].tlb_gen = gen;
}

bool x86_pcid_flushed_one(struct x86_pcid_cpu *c, unsigned int slot, u64 gen)
{
	if (c->slot[slot].tlb_gen + 1 != gen)
		return c->slot[slot].tlb_gen >= gen;
	c->slot[slot].tlb_gen = gen;
	return true;
}
