/* Splits a page range into per-page and range TLBI operands (pure C: the host tests it). */
#include <asm/tlbi_range.h>

#define PAGE_BYTES 4096UL /* the 4 KiB granule the operands assume (TG = 01) */

void arm64_tlbi_walk_start(struct arm64_tlbi_walk *w, unsigned long va, unsigned long pages,
			   bool range)
{
	w->va = va & ~(PAGE_BYTES - 1);
	w->pages = pages;
	w->range = range;
}

/*
 * The SCALE of the next range operation for an even, non-zero page count: the position of
 * the lowest non-zero base-32 digit of pages / 2, or TLBI_RANGE_MAX_SCALE when every digit
 * below it is zero (the count is then a multiple of 2^16 pages, possibly 2^21 or more).
 */
static unsigned int lowest_scale(unsigned long pages)
{
	unsigned long units = pages >> 1;
	unsigned int scale = 0;

	while (scale < TLBI_RANGE_MAX_SCALE && (units & TLBI_RANGE_MAX_NUM) == 0) {
		units >>= 5;
		scale++;
	}
	return scale;
}

bool arm64_tlbi_walk_next(struct arm64_tlbi_walk *w, struct arm64_tlbi_op *op)
{
	if (w->pages == 0)
		return false;
	op->va = w->va;
	if (!w->range || (w->pages & 1)) {
		/* Every page without FEAT_TLBIRANGE; else the odd first page (or the only one). */
		op->range = false;
		op->scale = 0;
		op->num = 0;
		op->pages = 1;
		op->operand = tlbi_va_operand(w->va);
	} else {
		unsigned int scale = lowest_scale(w->pages);
		unsigned long units = w->pages >> (5 * scale + 1);

		/*
		 * Below SCALE 3 units has a non-zero lowest digit (1..31), and exactly that
		 * digit is taken. At SCALE 3 it is everything left in units of 2^16 pages, at
		 * most 32 of them per operation (2^21 pages, NUM 31).
		 */
		if (scale < TLBI_RANGE_MAX_SCALE)
			units &= TLBI_RANGE_MAX_NUM;
		else
			units = MIN(units, TLBI_RANGE_MAX_NUM + 1UL);
		op->range = true;
		op->scale = scale;
		op->num = (unsigned int)units - 1;
		op->pages = tlbi_range_pages(op->scale, op->num);
		op->operand = tlbi_range_operand(w->va, op->scale, op->num);
	}
	w->va += op->pages * PAGE_BYTES;
	w->pages -= op->pages;
	return true;
}

unsigned long arm64_tlbi_walk_count(unsigned long pages, bool range)
{
	struct arm64_tlbi_walk w;
	struct arm64_tlbi_op op;
	unsigned long n = 0;

	if (!range)
		return pages;
	arm64_tlbi_walk_start(&w, 0, pages, range);
	while (arm64_tlbi_walk_next(&w, &op))
		n++;
	return n;
}
