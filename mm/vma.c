/*
 * The VMA list (<mm/vma.h>): every change is built in a scratch list and copied back only
 * if it fits, so a change that would need more than MM_MAX_VMAS areas leaves the mm as it
 * was (-ENOMEM), as the callers' all-or-nothing promise needs. The callers hold the mm's
 * page_table_lock.
 */
#include <lib/errno.h>
#include <mm/vma.h>

const struct vm_area *vma_find(const struct vma_list *l, unsigned long addr)
{
	for (unsigned int i = 0; i < l->nr; i++) {
		if (addr < l->area[i].start)
			return NULL; /* sorted: nothing further can contain it */
		if (addr < l->area[i].end)
			return &l->area[i];
	}
	return NULL;
}

bool vma_covered(const struct vma_list *l, unsigned long start, unsigned long end)
{
	for (unsigned int i = 0; i < l->nr && start < end; i++) {
		if (l->area[i].end <= start)
			continue;
		if (l->area[i].start > start)
			return false; /* a hole at start */
		start = l->area[i].end;
	}
	return start >= end;
}

/* Appends an area to the scratch list, merging with the last one when they touch. */
static bool push(struct vma_list *out, unsigned long start, unsigned long end, unsigned int prot)
{
	struct vm_area *last = out->nr ? &out->area[out->nr - 1] : NULL;

	if (start >= end)
		return true;
	if (last && last->end == start && last->prot == prot) {
		last->end = end;
		return true;
	}
	if (out->nr == MM_MAX_VMAS)
		return false;
	out->area[out->nr++] = (struct vm_area){ start, end, prot };
	return true;
}

enum vma_op { VMA_MAP, VMA_UNMAP, VMA_PROTECT };

/*
 * One pass over the sorted areas, emitting for each the parts before, inside and after
 * [start, end); VMA_MAP emits the new area in order as well. The scratch list is on the
 * stack (MM_MAX_VMAS * 24 bytes).
 */
static int vma_rewrite(struct vma_list *l, unsigned long start, unsigned long end,
		       unsigned int prot, enum vma_op op)
{
	struct vma_list out = { .nr = 0 };
	bool placed = op != VMA_MAP, ok = true;

	for (unsigned int i = 0; i < l->nr && ok; i++) {
		const struct vm_area *a = &l->area[i];

		if (!placed && a->start >= start) {
			ok = push(&out, start, end, prot);
			placed = true;
		}
		if (a->end <= start || a->start >= end) {
			ok = ok && push(&out, a->start, a->end, a->prot);
			continue;
		}
		/* a overlaps [start, end): keep what lies outside it. */
		ok = ok && push(&out, a->start, MIN(a->end, start), a->prot);
		if (!placed) {
			ok = ok && push(&out, start, end, prot);
			placed = true;
		}
		if (op == VMA_PROTECT)
			ok = ok && push(&out, MAX(a->start, start), MIN(a->end, end), prot);
		ok = ok && push(&out, MAX(a->start, end), a->end, a->prot);
	}
	if (!placed)
		ok = ok && push(&out, start, end, prot);
	if (!ok)
		return -ENOMEM;
	*l = out;
	return 0;
}

int vma_map(struct vma_list *l, unsigned long start, unsigned long end, unsigned int prot)
{
	return vma_rewrite(l, start, end, prot, VMA_MAP);
}

int vma_unmap(struct vma_list *l, unsigned long start, unsigned long end)
{
	return vma_rewrite(l, start, end, 0, VMA_UNMAP);
}

int vma_protect(struct vma_list *l, unsigned long start, unsigned long end, unsigned int prot)
{
	return vma_rewrite(l, start, end, prot, VMA_PROTECT);
}

unsigned long vma_find_gap(const struct vma_list *l, unsigned long len, unsigned long lo,
			   unsigned long hi)
{
	unsigned long at = lo;

	for (unsigned int i = 0; i < l->nr; i++) {
		const struct vm_area *a = &l->area[i];

		if (a->end <= at)
			continue;
		if (a->start >= hi)
			break;
		if (a->start > at && a->start - at >= len)
			return at;
		at = a->end;
	}
	return at < hi && hi - at >= len ? at : 0;
}
