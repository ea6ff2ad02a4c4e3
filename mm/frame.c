/* The physical frame allocator: three bitmaps over RAM, so every misuse can be named. */
#include <kernel/boot_info.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/mm.h>

/*
 * One bit per 4 KiB frame from frame_base up, for at most 4 GiB of RAM (128 KiB a bitmap):
 *   usable  the frame is RAM that may be handed out (not reserved, not the kernel)
 *   used    the frame is handed out right now
 *   ever    the frame has been handed out at least once, so a bad free_frame() can say
 *           "double free" rather than "never allocated"
 */
#define MAX_FRAMES (1UL << 20)
#define WORDS	   (MAX_FRAMES / 64)

/*
 * frame_lock protects used[], ever[], nr_free and next_hint: "find a clear bit, set it" and
 * "check the bit, poison, clear it" are each one step for every CPU and every interrupt
 * handler (handlers allocate page tables too, so it is taken with interrupts saved).
 * usable[], frame_base and nr_frames are written once by frames_init(), before anything
 * else runs, and only read after. Lock order: mm->page_table_lock, then frame_lock.
 */
static DEFINE_SPINLOCK(frame_lock);
static u64 usable[WORDS], used[WORDS], ever[WORDS];
/*
 * Extra owners of a used frame (0: one owner). Copy-on-write after fork shares a user
 * page between parent and child; the last frame_put() frees it. Protected by frame_lock.
 */
static u8 shares[MAX_FRAMES];
static phys_addr_t frame_base;
static unsigned long nr_frames, nr_free, next_hint;

/* The byte pattern a freed frame is filled with: a table page freed too early reads as junk. */
#define FRAME_POISON 0x5a

static bool test_bit(const u64 *map, unsigned long i)
{
	return map[i / 64] & (1ULL << (i % 64));
}

static void set_bit(u64 *map, unsigned long i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

static void clear_bit(u64 *map, unsigned long i)
{
	map[i / 64] &= ~(1ULL << (i % 64));
}

static bool overlaps_reserved(const struct boot_info *bi, phys_addr_t pa)
{
	for (unsigned int i = 0; i < bi->nr_reserved; i++)
		if (pa + PAGE_SIZE > bi->reserved[i].base &&
		    pa < bi->reserved[i].base + bi->reserved[i].size)
			return true;
	return false;
}

void frames_init(const struct boot_info *bi)
{
	phys_addr_t lo = ~0ULL, hi = 0;

	memset(usable, 0, sizeof(usable));
	memset(used, 0, sizeof(used));
	memset(ever, 0, sizeof(ever));
	memset(shares, 0, sizeof(shares));
	nr_free = 0;
	next_hint = 0;
	for (unsigned int i = 0; i < bi->nr_ram; i++) {
		lo = MIN(lo, bi->ram[i].base);
		hi = MAX(hi, bi->ram[i].base + bi->ram[i].size);
	}
	if (bi->nr_ram == 0)
		panic("frames_init: the boot protocol reported no RAM");
	frame_base = ALIGN_DOWN(lo, PAGE_SIZE);
	nr_frames = (hi - frame_base) / PAGE_SIZE;
	if (nr_frames > MAX_FRAMES) {
		printk("frames: only the first %lu MiB of RAM are managed\n",
		       MAX_FRAMES * PAGE_SIZE >> 20);
		nr_frames = MAX_FRAMES;
	}

	/* Only whole frames inside a RAM region, outside every reserved range. */
	for (unsigned int i = 0; i < bi->nr_ram; i++) {
		phys_addr_t start = ALIGN_UP(bi->ram[i].base, PAGE_SIZE);
		phys_addr_t end = ALIGN_DOWN(bi->ram[i].base + bi->ram[i].size, PAGE_SIZE);

		for (phys_addr_t pa = start; pa < end; pa += PAGE_SIZE) {
			unsigned long f = (pa - frame_base) / PAGE_SIZE;

			if (f >= nr_frames || overlaps_reserved(bi, pa))
				continue;
			set_bit(usable, f);
			nr_free++;
		}
	}
}

phys_addr_t alloc_frame(void)
{
	phys_addr_t pa = 0;
	unsigned long flags;

	spin_lock_irqsave(&frame_lock, flags);
	for (unsigned long n = 0; n < WORDS; n++) {
		unsigned long w = (next_hint + n) % WORDS;
		u64 avail = usable[w] & ~used[w];

		if (avail) {
			unsigned long f = w * 64 + (unsigned long)__builtin_ctzll(avail);

			pa = frame_base + f * PAGE_SIZE;
			set_bit(used, f);
			set_bit(ever, f);
			nr_free--;
			next_hint = w;
			break;
		}
	}
	spin_unlock_irqrestore(&frame_lock, flags);
	/* Ours alone once its bit is set: zeroing needs no lock. */
	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

int free_frame(phys_addr_t pa)
{
	unsigned long f = (pa - frame_base) / PAGE_SIZE, flags;
	bool ever_used;

	if (!IS_ALIGNED(pa, PAGE_SIZE) || pa < frame_base || f >= nr_frames ||
	    !test_bit(usable, f)) {
		WARN_ONCE(true, "free_frame(%#llx): not an allocatable frame",
			  (unsigned long long)pa);
		return -EINVAL;
	}
	spin_lock_irqsave(&frame_lock, flags);
	if (!test_bit(used, f)) {
		ever_used = test_bit(ever, f);
		spin_unlock_irqrestore(&frame_lock, flags);
		WARN_ONCE(!ever_used, "free_frame(%#llx): frame was never allocated",
			  (unsigned long long)pa);
		WARN_ONCE(ever_used, "free_frame(%#llx): double free", (unsigned long long)pa);
		return -EINVAL;
	}
	/*
	 * Poisoned before the bit is cleared and under the lock: once the bit is clear the
	 * frame may be handed out (and zeroed) at once, and two racing frees of one frame
	 * must not both get past the check above.
	 */
	memset(phys_to_virt(pa), FRAME_POISON, PAGE_SIZE);
	clear_bit(used, f);
	nr_free++;
	spin_unlock_irqrestore(&frame_lock, flags);
	return 0;
}

unsigned long frames_free(void)
{
	return READ_ONCE(nr_free);
}

/* The frame index of an allocated frame, or -1 (with a warning) for anything else. */
static long used_frame(phys_addr_t pa, const char *who)
{
	unsigned long f = (pa - frame_base) / PAGE_SIZE;

	if (!IS_ALIGNED(pa, PAGE_SIZE) || pa < frame_base || f >= nr_frames || !test_bit(used, f)) {
		WARN_ONCE(true, "%s(%#llx): not an allocated frame", who, (unsigned long long)pa);
		return -1;
	}
	return (long)f;
}

int frame_get(phys_addr_t pa)
{
	unsigned long flags;
	long f;
	int err = 0;

	spin_lock_irqsave(&frame_lock, flags);
	f = used_frame(pa, "frame_get");
	if (f < 0)
		err = -EINVAL;
	else if (shares[f] == 0xff)
		err = -ENOMEM; /* more sharers than the count can hold: the caller copies */
	else
		shares[f]++;
	spin_unlock_irqrestore(&frame_lock, flags);
	return err;
}

int frame_put(phys_addr_t pa)
{
	unsigned long flags;
	long f;

	spin_lock_irqsave(&frame_lock, flags);
	f = used_frame(pa, "frame_put");
	if (f >= 0 && shares[f]) {
		shares[f]--;
		spin_unlock_irqrestore(&frame_lock, flags);
		return 0;
	}
	spin_unlock_irqrestore(&frame_lock, flags);
	return f < 0 ? -EINVAL : free_frame(pa);
}

unsigned int frame_sharers(phys_addr_t pa)
{
	unsigned long flags;
	long f;
	unsigned int n = 0;

	spin_lock_irqsave(&frame_lock, flags);
	f = used_frame(pa, "frame_sharers");
	if (f >= 0)
		n = 1 + shares[f];
	spin_unlock_irqrestore(&frame_lock, flags);
	return n;
}
