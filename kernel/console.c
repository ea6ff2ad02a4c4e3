/* The teaching console: a line editor on the serial port and live lazy MMU demos (design 13). */
#include <kernel/arch.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/exit.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/printk.h>
#include <kernel/process.h>
#include <kernel/sched.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kernel/boot_info.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kernel/uapi.h>
#include <kernel/user_programs.h>
#include <kunit/probe.h>
#include <lib/errno.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_batch.h>
#include <mm/tlb_stats.h>
#include <mm/user.h>

/*
 * Input is polled, not interrupt-driven, on purpose:
 *
 * - The console reads only while it sits at its prompt with nothing else to do. Between
 *   polls the CPU sleeps in arch_wait_for_interrupt() and the 100 Hz timer tick wakes it:
 *   a key reaches the line editor within 10 ms, which no person notices, and the host CPU
 *   stays idle (a busy poll would burn a host core under TCG).
 * - An interrupt-driven receiver would need the UART's line routed (x86: an IOAPIC, which
 *   this kernel does not program; arm64: GIC SPI 33 for virt's PL011) and a ring buffer
 *   shared with the handler, for no gain here.
 * - Nothing is lost under QEMU: it hands the guest a byte only when the UART's receive FIFO
 *   has room, and otherwise leaves it in its chardev. (On silicon at 115200 baud a paste of
 *   more than a FIFO's worth inside one tick would overrun; typing never does.)
 *
 * End of input is a byte, because QEMU's stdio chardev never tells the guest that its
 * input ended (it just stops reading). Ctrl-D (0x04) on an empty line ends the console: at
 * a terminal QEMU's raw mode passes the keystroke through as that byte, and when input is
 * a pipe or /dev/null, `tests/run --console` (what `make run` uses) sends the byte when
 * its input ends. A long silence is never taken as the end: a person may think for minutes.
 */

#define CONSOLE_LINE	80 /* longest command line */
#define CONSOLE_HISTORY 8  /* lines kept for the up arrow */
#define CONSOLE_ARGS	4
#define SCRATCH_PAGES	512UL /* map/protect/unmap N: N up to one leaf table */
#define DEMO_FRAMES	4
#define CEILING_DEMO	33UL /* Linux x86's tlb_single_page_flush_ceiling */
#define STALE_ATTEMPTS	5
#define TRACE_BUF_SIZE	4096

#define CTRL(c) ((c)&0x1f)
#define KEY_DEL 0x7f
#define KEY_ESC 0x1b

/* ------------------------------------------------------------------------------ input */

/* The next input byte; sleeps between timer ticks until there is one. */
static int console_getc_wait(void)
{
	int c;

	while ((c = arch_console_getc()) < 0)
		arch_wait_for_interrupt();
	return c;
}

/* Only the console task touches these (one console, one CPU running it). */
static char history[CONSOLE_HISTORY][CONSOLE_LINE + 1];
static unsigned int history_count; /* lines ever added; the last CONSOLE_HISTORY are kept */

static void history_add(const char *line)
{
	if (!*line)
		return;
	if (history_count && !strcmp(history[(history_count - 1) % CONSOLE_HISTORY], line))
		return; /* like a shell's ignoredups: repeating a command doesn't fill history */
	strlcpy(history[history_count % CONSOLE_HISTORY], line, sizeof(history[0]));
	history_count++;
}

static void erase_chars(size_t n)
{
	while (n--)
		console_puts("\b \b");
}

/* Replaces what the user sees (and buf) with line. */
static size_t replace_line(char *buf, size_t len, const char *line)
{
	erase_chars(len);
	len = strlcpy(buf, line, CONSOLE_LINE + 1);
	console_puts(buf);
	return len;
}

enum { LINE_EOF = -1, LINE_CANCELLED = -2 };

/*
 * Reads one line into buf (CONSOLE_LINE + 1 bytes) with echo: printable characters,
 * backspace/DEL, Ctrl-U (erase the line), Ctrl-C (cancel it), up/down arrows (history:
 * ESC [ A / ESC [ B, or ESC O A / ESC O B in a terminal's application mode). Returns the
 * length, LINE_CANCELLED, or LINE_EOF for Ctrl-D on an empty line. Other control keys and
 * escape sequences are ignored.
 */
static int read_line(char *buf)
{
	enum { NORMAL, ESC, CSI } state = NORMAL;
	static char saved[CONSOLE_LINE + 1]; /* the line being typed while browsing history */
	unsigned int browse = history_count, oldest;
	static bool last_was_cr;
	size_t len = 0;

	oldest = history_count > CONSOLE_HISTORY ? history_count - CONSOLE_HISTORY : 0;
	buf[0] = '\0';
	for (;;) {
		int c = console_getc_wait();

		if (state == ESC) {
			state = (c == '[' || c == 'O') ? CSI : NORMAL;
			continue;
		}
		if (state == CSI) {
			if (c >= 0x30 && c <= 0x3f)
				continue; /* parameter bytes, e.g. ESC [ 1 ; 5 A */
			state = NORMAL;
			if (c == 'A' && browse > oldest) {
				if (browse == history_count)
					strlcpy(saved, buf, sizeof(saved));
				browse--;
				len = replace_line(buf, len, history[browse % CONSOLE_HISTORY]);
			} else if (c == 'B' && browse < history_count) {
				browse++;
				len = replace_line(buf, len,
						   browse == history_count
						       ? saved
						       : history[browse % CONSOLE_HISTORY]);
			}
			continue;
		}
		/* A terminal sends CR for Enter, a pipe LF: CR LF is one line end, not two. */
		if (c == '\n' && last_was_cr) {
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		switch (c) {
		case '\r':
		case '\n':
			console_puts("\n");
			return (int)len;
		case KEY_DEL:
		case '\b':
			if (len) {
				buf[--len] = '\0';
				erase_chars(1);
			}
			break;
		case CTRL('U'):
			erase_chars(len);
			len = 0;
			buf[0] = '\0';
			break;
		case CTRL('C'):
			console_puts("^C\n");
			return LINE_CANCELLED;
		case CTRL('D'):
			if (!len) {
				console_puts("^D\n");
				return LINE_EOF;
			}
			break; /* like a shell: Ctrl-D inside a line does nothing */
		case KEY_ESC:
			state = ESC;
			break;
		default:
			if (c >= 0x20 && c < KEY_DEL && len < CONSOLE_LINE) {
				buf[len++] = (char)c;
				buf[len] = '\0';
				arch_console_putc((char)c);
			}
			break;
		}
	}
}

/* ------------------------------------------------------------------------------ output */

/* Lines the lazy MMU layer traced since the last trace_show(). Console task only. */
static char trace_buf[TRACE_BUF_SIZE];
static bool trace_wanted; /* the user's `trace on|off` */

/* Where trace lines go while the console runs: into trace_buf, shown by trace_show(). */
static void trace_capture(bool on)
{
	lazy_mmu_trace_to(trace_buf, sizeof(trace_buf));
	lazy_mmu_set_trace(on);
}

/* Drops what was traced so far (a demo's setup calls), unseen. */
static void trace_discard(void)
{
	lazy_mmu_trace_to(trace_buf, sizeof(trace_buf));
}

/* Prints the captured trace lines, indented, and starts a fresh capture. */
static void trace_show(void)
{
	const char *p = trace_buf;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		printk("  %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	lazy_mmu_trace_to(trace_buf, sizeof(trace_buf));
}

/* d = a - b, field by field. */
static void stats_sub(struct tlb_stats *d, const struct tlb_stats *a, const struct tlb_stats *b)
{
	const u64 *pa = (const u64 *)a, *pb = (const u64 *)b;
	u64 *pd = (u64 *)d;

	for (size_t i = 0; i < sizeof(*d) / sizeof(u64); i++)
		pd[i] = pa[i] - pb[i];
}

static void print_stats(const char *indent, const struct tlb_stats *s)
{
	printk("%spte_writes=%llu tlbi_page=%llu tlbi_range=%llu tlbi_all=%llu barriers=%llu "
	       "batches=%llu bbm_flushes=%llu\n",
	       indent, (unsigned long long)s->pte_writes, (unsigned long long)s->tlbi_page,
	       (unsigned long long)s->tlbi_range, (unsigned long long)s->tlbi_all,
	       (unsigned long long)s->barriers, (unsigned long long)s->batches,
	       (unsigned long long)s->bbm_flushes);
	printk("%sarch_enter=%llu arch_leave=%llu arch_flush=%llu ipis_sent=%llu "
	       "shootdowns=%llu\n",
	       indent, (unsigned long long)s->arch_enter, (unsigned long long)s->arch_leave,
	       (unsigned long long)s->arch_flush, (unsigned long long)s->ipis_sent,
	       (unsigned long long)s->shootdowns);
}

/* The traced calls since the last show, then the counters since base on one line. */
static void show_step(const struct tlb_stats *base)
{
	struct tlb_stats now, d;

	tlb_stats_read(&now);
	stats_sub(&d, &now, base);
	trace_show();
	printk("      [pte_writes=%llu tlbi_page=%llu tlbi_range=%llu tlbi_all=%llu barriers=%llu "
	       "batches=%llu | arch_enter=%llu arch_leave=%llu arch_flush=%llu | queued=%lu]\n",
	       (unsigned long long)d.pte_writes, (unsigned long long)d.tlbi_page,
	       (unsigned long long)d.tlbi_range, (unsigned long long)d.tlbi_all,
	       (unsigned long long)d.barriers, (unsigned long long)d.batches,
	       (unsigned long long)d.arch_enter, (unsigned long long)d.arch_leave,
	       (unsigned long long)d.arch_flush, current->tlb_batch.nr_pages);
}

static const char *errno_name(int err)
{
	switch (-err) {
	case 0:
		return "ok";
	case ENOENT:
		return "ENOENT: not mapped";
	case EEXIST:
		return "EEXIST: already mapped";
	case ENOMEM:
		return "ENOMEM";
	case EINVAL:
		return "EINVAL";
	default:
		return "error";
	}
}

/* ------------------------------------------------------------------ demo memory */

/* Each demo frame's first word is a tag, so a read through a mapping shows which it hit. */
static u64 tag_of(unsigned int i)
{
	return 0x7a6700000000ULL + i;
}

struct demo_mem {
	phys_addr_t frame[DEMO_FRAMES];
	unsigned long va; /* a fresh vm_test_area() */
};

static int demo_mem_get(struct demo_mem *m, unsigned long pages)
{
	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < DEMO_FRAMES; i++) {
		m->frame[i] = alloc_frame();
		if (!m->frame[i]) {
			printk("demo: out of frames\n");
			return -ENOMEM;
		}
		*(u64 *)phys_to_virt(m->frame[i]) = tag_of(i);
	}
	m->va = vm_test_area(pages);
	if (!m->va) {
		printk("demo: the test VA window is used up (each demo run takes a fresh area)\n");
		return -ENOMEM;
	}
	return 0;
}

static void demo_mem_put(struct demo_mem *m)
{
	for (unsigned int i = 0; i < DEMO_FRAMES; i++)
		if (m->frame[i])
			free_frame(m->frame[i]);
}

/* What a read through va returned: "frame A".."frame D", "a fault", or the raw value. */
static const char *describe_read(s64 v)
{
	static char other[32];

	if (v == -1)
		return "a FAULT (nothing mapped)";
	for (unsigned int i = 0; i < DEMO_FRAMES; i++) {
		if (v == (s64)tag_of(i)) {
			snprintf(other, sizeof(other), "frame %c", 'A' + i);
			return other;
		}
	}
	snprintf(other, sizeof(other), "%#llx", (unsigned long long)v);
	return other;
}

/*
 * pa for n pages of RAM that nothing reads or writes through the aliases the console maps
 * (map/protect/unmap N and the ceiling demo): the kernel image and what follows it, as
 * kernel/bench.c does. Aliasing is harmless because only the entries are exercised.
 */
static int alias_frames(unsigned long n, phys_addr_t *pa)
{
	phys_addr_t base = ALIGN_DOWN(virt_to_phys(_kernel_start), PAGE_SIZE);

	for (unsigned int i = 0; i < boot_info.nr_ram; i++) {
		const struct mem_region *r = &boot_info.ram[i];

		if (base >= r->base && base - r->base <= r->size &&
		    r->size - (base - r->base) >= n * PAGE_SIZE) {
			*pa = base;
			return 0;
		}
	}
	printk("demo: no RAM region holds %lu pages from the kernel image on\n", n);
	return -ENOMEM;
}

/* ------------------------------------------------------------------------------ demos */

static void demo_nested(void)
{
	unsigned int writable;
	struct tlb_stats base;
	struct demo_mem m;
	pte_t *ptep;

	printk("nested: the design's worked sequence enable, enable, pause, resume, disable, "
	       "disable, with one entry made read-only at each step, traced.\n");
	if (demo_mem_get(&m, 5))
		goto out;
	if (map_pages(&init_mm, m.va, m.frame[0], 5, PAGE_KERNEL)) {
		printk("nested: map_pages failed\n");
		goto out;
	}
	ptep = pte_lookup(&init_mm, m.va);
	trace_discard(); /* the setup's map_pages() */
	tlb_stats_read(&base);
	printk("  (counters below are since the start of the demo; queued = pages waiting in "
	       "this task's batch)\n");

	lazy_mmu_mode_enable();
	show_step(&base);
	printk("  pte_update(page 0 -> read-only)\n");
	pte_update(&init_mm, m.va, ptep, mk_pte(m.frame[0], PAGE_KERNEL_RO));
	show_step(&base);
	lazy_mmu_mode_enable();
	show_step(&base);
	printk("  pte_update(page 1 -> read-only)\n");
	pte_update(&init_mm, m.va + PAGE_SIZE, ptep + 1,
		   mk_pte(m.frame[0] + PAGE_SIZE, PAGE_KERNEL_RO));
	show_step(&base);
	lazy_mmu_mode_pause();
	show_step(&base);
	printk("  pte_update(page 2 -> read-only)   (paused: takes effect at once)\n");
	pte_update(&init_mm, m.va + 2 * PAGE_SIZE, ptep + 2,
		   mk_pte(m.frame[0] + 2 * PAGE_SIZE, PAGE_KERNEL_RO));
	show_step(&base);
	lazy_mmu_mode_resume();
	show_step(&base);
	printk("  pte_update(page 3 -> read-only)\n");
	pte_update(&init_mm, m.va + 3 * PAGE_SIZE, ptep + 3,
		   mk_pte(m.frame[0] + 3 * PAGE_SIZE, PAGE_KERNEL_RO));
	show_step(&base);
	lazy_mmu_mode_disable();
	show_step(&base);
	printk("  pte_update(page 4 -> read-only)\n");
	pte_update(&init_mm, m.va + 4 * PAGE_SIZE, ptep + 4,
		   mk_pte(m.frame[0] + 4 * PAGE_SIZE, PAGE_KERNEL_RO));
	show_step(&base);
	lazy_mmu_mode_disable();
	show_step(&base);

	writable = 0;
	for (unsigned int i = 0; i < 5; i++)
		writable += kunit_can_write(m.va + i * PAGE_SIZE);
	printk("  after the last disable(): a write through each of pages 0..4 %s\n",
	       writable ? "WORKED somewhere (a missing flush!)"
			: "faults (all five are read-only now)");
	printk("Notice: only the outer enable()/disable() and pause()/resume() reach "
	       "arch_enter/arch_leave; the inner disable() calls arch_flush; every flush "
	       "empties the batch (queued back to 0), and the paused update was invalidated at "
	       "once.\n");
	unmap_pages(&init_mm, m.va, 5);
out:
	demo_mem_put(&m);
}

static void demo_paused(void)
{
	struct tlb_stats base;
	struct demo_mem m;
	pte_t *ptep;

	printk("paused: two nested sections, paused; 4 entries cleared while paused, 4 more "
	       "after resume(), reading each page back.\n");
	if (demo_mem_get(&m, 8))
		goto out;
	if (map_pages(&init_mm, m.va, m.frame[0], 8, PAGE_KERNEL)) {
		printk("paused: map_pages failed\n");
		goto out;
	}
	ptep = pte_lookup(&init_mm, m.va);
	trace_discard(); /* the setup's map_pages() */
	tlb_stats_read(&base);
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	lazy_mmu_mode_pause();
	show_step(&base);
	for (unsigned int i = 0; i < 4; i++) {
		pte_update(&init_mm, m.va + i * PAGE_SIZE, ptep + i, __pte(0));
		printk("  pte_update(page %u -> empty) while paused; read -> %s\n", i,
		       describe_read(kunit_peek(m.va + i * PAGE_SIZE)));
		show_step(&base);
	}
	lazy_mmu_mode_resume();
	show_step(&base);
	for (unsigned int i = 4; i < 8; i++) {
		pte_update(&init_mm, m.va + i * PAGE_SIZE, ptep + i, __pte(0));
		printk("  pte_update(page %u -> empty) after resume: queued\n", i);
		show_step(&base);
	}
	lazy_mmu_mode_disable();
	show_step(&base);
	printk("  after the inner disable(): page 4 reads %s, page 7 reads %s\n",
	       describe_read(kunit_peek(m.va + 4 * PAGE_SIZE)),
	       describe_read(kunit_peek(m.va + 7 * PAGE_SIZE)));
	lazy_mmu_mode_disable();
	show_step(&base);
	printk("Notice: while paused every clear cost its own invalidation and batch at once; "
	       "after resume() the same clears waited in the batch (queued) until one "
	       "disable() drained them together.\n");
	/* Only the entries were cleared: map and unmap to give the tables back. */
	map_pages(&init_mm, m.va, m.frame[0], 8, PAGE_KERNEL);
	unmap_pages(&init_mm, m.va, 8);
out:
	demo_mem_put(&m);
}

struct stale_run {
	s64 cached;		 /* read before the change: caches the translation */
	s64 during;		 /* read right after the change, before any flush */
	s64 after;		 /* read after the flush (the bug: after the repair's full flush) */
	int query;		 /* query_page() right after the change: what the tables say */
	struct tlb_stats counts; /* of the change alone */
	unsigned int attempt;
};

/*
 * Clears the entry of va (mapped to frame A) and reads through it before and after the
 * flush. real = false: the bug itself - the entry store, with the invalidation forgotten (a
 * bare WRITE_ONCE: no pte_update(), so nothing is queued or counted) - repaired by one
 * full flush afterwards; real = true: pte_update() inside a lazy MMU section,
 * which disable() completes. Interrupts stay off from the first read to the last, so no
 * tick evicts the translation from QEMU's software TLB; an unrelated access may still
 * collide with it, so like tests/kernel/lazy_conformance.c's stale_translations_are_real
 * the demonstration gets a few attempts (the guarantee, the read after the flush, is shown
 * from the last one).
 */
static int stale_try(struct demo_mem *m, bool real, struct stale_run *r)
{
	struct tlb_stats before, after;
	unsigned long flags;
	phys_addr_t pa;
	pgprot_t prot;
	pte_t *ptep;

	for (r->attempt = 1; r->attempt <= STALE_ATTEMPTS; r->attempt++) {
		if (map_pages(&init_mm, m->va, m->frame[0], 1, PAGE_KERNEL))
			return -ENOMEM;
		trace_discard(); /* the map_pages() above, and any earlier attempt */
		ptep = pte_lookup(&init_mm, m->va);
		local_irq_save(flags);
		r->cached = kunit_peek(m->va);
		tlb_stats_read(&before);
		if (real) {
			lazy_mmu_mode_enable();
			pte_update(&init_mm, m->va, ptep, __pte(0));
			r->during = kunit_peek(m->va);
			r->query = query_page(&init_mm, m->va, &pa, &prot);
			lazy_mmu_mode_disable();
			tlb_stats_read(&after);
		} else {
			/* The bug: the entry store alone, its invalidation forgotten. */
			WRITE_ONCE(*ptep, __pte(0));
			r->during = kunit_peek(m->va);
			r->query = query_page(&init_mm, m->va, &pa, &prot);
			tlb_stats_read(&after);
			arch_flush_tlb_all(); /* the repair: one full flush, outside the counts */
		}
		r->after = kunit_peek(m->va);
		local_irq_restore(flags);
		stats_sub(&r->counts, &after, &before);
		if (r->during == (s64)tag_of(0))
			break;
	}
	r->attempt = MIN(r->attempt, STALE_ATTEMPTS);
	return 0;
}

static void print_stale(const struct stale_run *r, const char *change, const char *stale_note,
			const char *flush)
{
	printk("  map_pages(va -> frame A); read -> %s (the translation is cached now)\n",
	       describe_read(r->cached));
	printk("  %s\n", change);
	trace_show();
	print_stats("      ", &r->counts);
	printk("  query_page(va) -> %d (%s): the page table says nothing is mapped\n", r->query,
	       errno_name(r->query));
	printk("  read through va -> %s%s (attempt %u)\n", describe_read(r->during),
	       r->during == (s64)tag_of(0) ? stale_note : "", r->attempt);
	printk("  %s; read -> %s\n", flush, describe_read(r->after));
}

static void demo_stale(void)
{
	struct stale_run r;
	struct demo_mem m;

	printk("stale: clear a live entry with its invalidation skipped on purpose, read through "
	       "it, then do the same on the real path.\n");
	if (demo_mem_get(&m, 1))
		goto out;
	printk(" The bug (the entry store only, its invalidation forgotten):\n");
	if (stale_try(&m, false, &r))
		goto out;
	print_stale(&r, "WRITE_ONCE(*ptep, empty) - no pte_update(), no invalidation",
		    "  <- STALE: the TLB still holds the old entry, and nothing will flush it",
		    "arch_flush_tlb_all() (the repair: one full flush, not counted above)");
	printk(" The real path (batched, inside a lazy MMU section):\n");
	if (stale_try(&m, true, &r))
		goto out;
	print_stale(&r, "lazy_mmu_mode_enable(); pte_update(va -> empty); lazy_mmu_mode_disable()",
		    "  <- stale, and allowed: this read was inside the section, before disable()",
		    "after disable() (its flush: the counters above)");
	/* Only the entry was cleared: map and unmap to give its table back. */
	map_pages(&init_mm, m.va, m.frame[0], 1, PAGE_KERNEL);
	unmap_pages(&init_mm, m.va, 1);
	printk("Notice: the page tables said 'unmapped' both times, but the CPU kept using its "
	       "cached translation until an invalidation; inside a section that is allowed "
	       "until disable(), and after disable() the read faults every time.\n");
out:
	demo_mem_put(&m);
}

struct irq_update {
	unsigned long va;
	pte_t *ptep;
	bool ran, in_irq, active;
	s64 after;
	struct tlb_stats counts;
};

/* From the timer interrupt: what a handler sees, and its update's cost, recorded for later. */
static void irq_update_fn(void *arg)
{
	struct irq_update *u = arg;
	struct tlb_stats before, after;

	tlb_stats_read(&before);
	u->ran = true;
	u->in_irq = in_interrupt();
	u->active = is_lazy_mmu_mode_active();
	lazy_mmu_mode_enable(); /* a no-op in interrupt context: the trace shows it */
	pte_update(&init_mm, u->va, u->ptep, __pte(0));
	lazy_mmu_mode_disable();
	u->after = kunit_peek(u->va);
	tlb_stats_read(&after);
	stats_sub(&u->counts, &after, &before);
}

static void demo_irq(void)
{
	struct irq_update u = { 0 };
	struct tlb_stats base;
	struct demo_mem m;
	pte_t *ptep;

	printk("irq: inside a section, the task queues one change, then a timer interrupt "
	       "handler clears another page.\n");
	if (demo_mem_get(&m, 2))
		goto out;
	if (map_pages(&init_mm, m.va, m.frame[0], 1, PAGE_KERNEL) ||
	    map_pages(&init_mm, m.va + PAGE_SIZE, m.frame[1], 1, PAGE_KERNEL)) {
		printk("irq: map_pages failed\n");
		goto out;
	}
	ptep = pte_lookup(&init_mm, m.va);
	u.va = m.va + PAGE_SIZE;
	u.ptep = ptep + 1;
	trace_discard(); /* the setup's map_pages() */
	tlb_stats_read(&base);
	lazy_mmu_mode_enable();
	show_step(&base);
	printk("  task: pte_update(page 0 -> read-only)\n");
	pte_update(&init_mm, m.va, ptep, mk_pte(m.frame[0], PAGE_KERNEL_RO));
	show_step(&base);
	printk("  task: timer_call_once(handler); timer_wait_ticks(2)\n");
	timer_call_once(irq_update_fn, &u);
	timer_wait_ticks(2);
	if (!u.ran) {
		printk("irq: the handler never ran (is the timer ticking?)\n");
		lazy_mmu_mode_disable();
		goto unmap;
	}
	trace_show();
	printk("  handler: in_interrupt()=%d is_lazy_mmu_mode_active()=%d; its "
	       "pte_update(page 1 -> empty) cost:\n",
	       u.in_irq, u.active);
	print_stats("      ", &u.counts);
	printk("  handler: read through page 1 right after its update -> %s\n",
	       describe_read(u.after));
	printk("  task, back in its section: still active=%d, its batch holds %lu page "
	       "(only its own)\n",
	       is_lazy_mmu_mode_active(), current->tlb_batch.nr_pages);
	lazy_mmu_mode_disable();
	show_step(&base);
	printk("Notice: the handler's update bypassed the task's batch and was invalidated at "
	       "once (the helpers are no-ops in interrupt context), while the task's own "
	       "change waited for its disable().\n");
unmap:
	unmap_pages(&init_mm, m.va, 1);
	map_pages(&init_mm, m.va + PAGE_SIZE, m.frame[1], 1, PAGE_KERNEL);
	unmap_pages(&init_mm, m.va + PAGE_SIZE, 1);
out:
	demo_mem_put(&m);
}

/* Task A of the switch demo and the console task share this; A only writes ready. */
static struct {
	unsigned long va;
	volatile bool ready, done, closed;
	unsigned long queued; /* pages in A's batch right after its clear */
} sw_demo;

/* Clears the demo page inside a nested section, then spins: never yields, never sleeps. */
static int switch_demo_task(void *arg)
{
	u64 end = arch_cycles() + 3 * arch_cycles_hz();

	(void)arg;
	(void)kunit_peek(sw_demo.va); /* cache the translation */
	lazy_mmu_mode_enable();
	lazy_mmu_mode_enable();
	pte_update(&init_mm, sw_demo.va, pte_lookup(&init_mm, sw_demo.va), __pte(0));
	sw_demo.queued = current->tlb_batch.nr_pages;
	sw_demo.ready = true;
	while (!sw_demo.done && arch_cycles() < end)
		cpu_relax(); /* the tick preempts it in here */
	lazy_mmu_mode_disable();
	lazy_mmu_mode_disable();
	sw_demo.closed = true;
	while (!kthread_should_stop())
		msleep(10);
	return 0;
}

static void demo_switch(void)
{
	u64 end = arch_cycles() + 3 * arch_cycles_hz();
	struct tlb_stats base, now, d;
	struct demo_mem m;
	struct task *a;

	printk("switch: task A clears a page inside a nested section and spins without "
	       "yielding; the console spins too, so only the timer tick switches between them.\n");
	if (demo_mem_get(&m, 1))
		goto out;
	if (map_pages(&init_mm, m.va, m.frame[0], 1, PAGE_KERNEL)) {
		printk("switch: map_pages failed\n");
		goto out;
	}
	memset((void *)&sw_demo, 0, sizeof(sw_demo));
	sw_demo.va = m.va;
	preempt_disable(); /* A starts once its creation (mapping its stack) is off the trace */
	a = kthread_run(switch_demo_task, NULL, "A");
	trace_discard();
	tlb_stats_read(&base);
	preempt_enable();
	if (!a) {
		printk("switch: no memory for task A\n");
		goto unmap;
	}
	while (!sw_demo.ready && arch_cycles() < end)
		cpu_relax();
	tlb_stats_read(&now);
	stats_sub(&d, &now, &base);
	trace_show();
	printk("  console: running again, so A was preempted. A had %lu page queued; now its "
	       "batch holds %lu, its counts are still enable=%u pause=%u;\n",
	       sw_demo.queued, a->tlb_batch.nr_pages, a->lazy_mmu_state.enable_count,
	       a->lazy_mmu_state.pause_count);
	printk("  console: reading A's cleared page -> %s   [switch_leave=%llu switch_enter=%llu "
	       "batches=%llu]\n",
	       describe_read(kunit_peek(m.va)), (unsigned long long)d.switch_leave,
	       (unsigned long long)d.switch_enter, (unsigned long long)d.batches);
	printk("  console: its own section, while A is switched out:\n");
	lazy_mmu_mode_enable();
	lazy_mmu_mode_disable();
	trace_show();
	sw_demo.done = true;
	printk("  console: msleep() until A has closed its section\n");
	end = arch_cycles() + 3 * arch_cycles_hz();
	while (!sw_demo.closed && arch_cycles() < end)
		msleep(10);
	trace_show();
	tlb_stats_read(&now);
	stats_sub(&d, &now, &base);
	printk("  A, switched back in, closed its own section: switch_leave=%llu "
	       "switch_enter=%llu (counted apart from the helpers' arch_enter=%llu "
	       "arch_leave=%llu)\n",
	       (unsigned long long)d.switch_leave, (unsigned long long)d.switch_enter,
	       (unsigned long long)d.arch_enter, (unsigned long long)d.arch_leave);
	kthread_stop(a);
	trace_discard(); /* stopping A unmapped its stack: not part of the story */
	printk("Notice: the switch completed A's batch and left the mode (switch_out), and "
	       "re-entered it when A came back (switch_in); A's counts never changed.\n");
unmap:
	/* A cleared the entry itself; map and unmap once so the emptied table is freed. */
	if (!map_pages(&init_mm, m.va, m.frame[0], 1, PAGE_KERNEL))
		unmap_pages(&init_mm, m.va, 1);
out:
	demo_mem_put(&m);
}

static const unsigned long ceiling_sizes[] = { 1, 8, 32, 33, 34, 64 };

/* protect_pages() on n pages toward prot under backend; the counts of that call. */
static void ceiling_call(unsigned long va, unsigned long n, pgprot_t prot,
			 enum lazy_mmu_backend backend, struct tlb_stats *d)
{
	struct tlb_stats before, after;

	lazy_mmu_set_backend(backend);
	tlb_stats_read(&before);
	protect_pages(&init_mm, va, n, prot);
	tlb_stats_read(&after);
	lazy_mmu_set_backend(LAZY_MMU_BATCHED);
	stats_sub(d, &after, &before);
}

static void demo_ceiling(void)
{
	unsigned long saved = tlb_flush_ceiling, va, max = 64;
	struct tlb_stats b, e;
	phys_addr_t pa;

	printk("ceiling: protect_pages() on N live pages, N = 1 8 32 33 34 64, batched then "
	       "eager, with tlb_flush_ceiling = %lu (this arch's default: %lu%s).\n",
	       CEILING_DEMO, saved, arch_has_range_tlbi() ? ", range TLBI available" : "");
	va = vm_test_area(max);
	if (!va || alias_frames(max, &pa))
		return;
	if (map_pages(&init_mm, va, pa, max, PAGE_KERNEL)) {
		printk("ceiling: map_pages failed\n");
		return;
	}
	tlb_flush_ceiling = CEILING_DEMO;
	for (size_t i = 0; i < ARRAY_SIZE(ceiling_sizes); i++) {
		unsigned long n = ceiling_sizes[i];

		ceiling_call(va, n, PAGE_KERNEL_RO, LAZY_MMU_BATCHED, &b);
		ceiling_call(va, n, PAGE_KERNEL, LAZY_MMU_EAGER, &e);
		printk("  N=%-3lu batched: tlbi_page=%-3llu tlbi_range=%llu tlbi_all=%llu "
		       "batches=%llu   eager: tlbi_page=%-3llu tlbi_all=%llu batches=%llu\n",
		       n, (unsigned long long)b.tlbi_page, (unsigned long long)b.tlbi_range,
		       (unsigned long long)b.tlbi_all, (unsigned long long)b.batches,
		       (unsigned long long)e.tlbi_page, (unsigned long long)e.tlbi_all,
		       (unsigned long long)e.batches);
	}
	tlb_flush_ceiling = saved;
	unmap_pages(&init_mm, va, max);
	trace_discard(); /* 24 calls' enable/disable pairs: the rows above say what they did */
	printk("Notice: up to the ceiling a batch is drained page by page (or by a few range "
	       "TLBIs where the CPU has them); one page above it, a single full flush replaces "
	       "them all; eager pays one invalidation and one batch per page at every N.\n");
}

/* Every CPU reads the demo's pages: each now has their translations cached. */
static void smp_touch(void *arg)
{
	const struct demo_mem *m = arg;

	for (unsigned int i = 0; i < DEMO_FRAMES; i++)
		(void)kunit_peek(m->va + i * PAGE_SIZE);
}

struct smp_write {
	unsigned long va;
	int rc[NR_CPUS];
};

/* Every CPU tries to write through the first page (a word nobody reads). */
static void smp_try_write(void *arg)
{
	struct smp_write *w = arg;
	u64 v = 0;

	w->rc[smp_processor_id()] = copy_to_kernel_nofault((void *)(w->va + 8), &v, sizeof(v));
}

static void demo_smp(void)
{
	unsigned int n = num_online_cpus();
	struct smp_write w = { 0 };
	struct tlb_stats b, e;
	struct demo_mem m;

	printk("smp: protect_pages() of %u pages that every one of the %u online CPUs has just "
	       "read (so cached), batched, then back eagerly.\n",
	       DEMO_FRAMES, n);
	if (n < 2) {
		printk("smp: only one CPU is online, so there is nobody to shoot down: boot with "
		       "make run SMP=4\n");
		return;
	}
	if (demo_mem_get(&m, DEMO_FRAMES))
		goto out;
	for (unsigned int i = 0; i < DEMO_FRAMES; i++) {
		if (map_pages(&init_mm, m.va + i * PAGE_SIZE, m.frame[i], 1, PAGE_KERNEL)) {
			printk("smp: map_pages failed\n");
			goto unmap;
		}
	}
	on_each_cpu(smp_touch, &m, true);
	ceiling_call(m.va, DEMO_FRAMES, PAGE_KERNEL_RO, LAZY_MMU_BATCHED, &b);
	w.va = m.va;
	on_each_cpu(smp_try_write, &w, true);
	printk("  batched protect (read-only):\n");
	print_stats("      ", &b);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpu_online(cpu))
			printk("  cpu%u: write through page 0 -> %s\n", cpu,
			       w.rc[cpu] ? "a FAULT (read-only here too)" : "WRITTEN (stale!)");
	on_each_cpu(smp_touch, &m, true);
	ceiling_call(m.va, DEMO_FRAMES, PAGE_KERNEL, LAZY_MMU_EAGER, &e);
	printk("  eager protect (back to read-write):\n");
	print_stats("      ", &e);
	if (b.ipis_sent || e.ipis_sent)
		printk(
		    "Notice: x86 invalidations are local, so other CPUs are asked by IPI (an NMI "
		    "carrying the batch's ranges): batched, one shootdown with %llu IPIs (one "
		    "per other CPU); eager, one shootdown per page: %llu IPIs.\n",
		    (unsigned long long)b.ipis_sent, (unsigned long long)e.ipis_sent);
	else
		printk("Notice: 0 IPIs either way: arm64's TLBIs (the \"is\" forms) are broadcast "
		       "by the hardware to every CPU, and the dsb after them waits for all.\n");
unmap:
	unmap_pages(&init_mm, m.va, DEMO_FRAMES);
out:
	demo_mem_put(&m);
}

static void run_program(const char *name);

/*
 * fork of a process with a few hundred touched pages (user/bin/forktrace.c): the parent's
 * writable entries all become read-only inside copy_pte_range's one section, and leave as
 * one flush; then the child's write copies one page (a COW fault) and the parent's reuses.
 */
static void demo_fork(void)
{
	printk("forktrace: a process touches pages, forks, and parent and child each write once\n");
	run_program("forktrace");
}

/* Every demo the design names (design section 13). */
static const struct demo {
	const char *name;
	const char *what;
	void (*run)(void);
} demos[] = {
	{ "nested", "the worked sequence (enable/enable/pause/resume/disable/disable), traced",
	  demo_nested },
	{ "paused", "updates between pause() and resume() take effect at once", demo_paused },
	{ "stale", "a missing flush caught in the act, then the real path", demo_stale },
	{ "irq", "an interrupt handler updating at once inside a section", demo_irq },
	{ "ceiling", "per-page vs full flush as N grows", demo_ceiling },
	{ "switch", "a task preempted inside a section, switched out and back in", demo_switch },
	{ "smp", "a shootdown across CPUs with IPI counts", demo_smp },
	{ "fork", "copy-on-write with the parent's flush", demo_fork },
};

/* ---------------------------------------------------------------------------- commands */

static void cmd_help(int argc, char **argv);

/* The backend the user chose with `backend`; demos run batched and restore it. Console
 * task only. */
static enum lazy_mmu_backend backend_wanted = LAZY_MMU_BATCHED;

static void cmd_demo(int argc, char **argv)
{
	if (argc < 2) {
		printk("demos (demo NAME runs one):\n");
		for (size_t i = 0; i < ARRAY_SIZE(demos); i++)
			printk("  %-8s %s\n", demos[i].name, demos[i].what);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(demos); i++) {
		if (strcmp(argv[1], demos[i].name))
			continue;
		/* The demo's own trace and backend, whatever the user's settings. */
		lazy_mmu_set_backend(LAZY_MMU_BATCHED);
		trace_capture(true);
		demos[i].run();
		trace_capture(trace_wanted);
		lazy_mmu_set_backend(backend_wanted);
		return;
	}
	printk("demo: no demo '%s' (type 'demo' for the list)\n", argv[1]);
}

static void cmd_trace(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		trace_wanted = !strcmp(argv[1], "on");
		trace_capture(trace_wanted);
	} else if (argc != 1) {
		printk("usage: trace on|off\n");
		return;
	}
	printk("trace is %s: %s\n", trace_wanted ? "on" : "off",
	       trace_wanted ? "every lazy MMU helper call is shown after each command"
			    : "demos trace anyway");
}

static void cmd_stats(int argc, char **argv)
{
	struct tlb_stats total;

	if (argc == 2 && !strcmp(argv[1], "reset")) {
		tlb_stats_reset();
		printk("stats: every CPU's counters are 0 again\n");
		return;
	}
	if (argc != 1) {
		printk("usage: stats [reset]\n");
		return;
	}
	printk("stats: flush-instruction counters since boot or the last 'stats reset':\n");
	/* Per CPU when there are several; each CPU's counters are only added to by itself. */
	if (num_online_cpus() > 1) {
		for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
			if (!cpu_online(cpu))
				continue;
			printk("  cpu%u:\n", cpu);
			print_stats("    ", &cpus[cpu].tlb_stats);
		}
		printk("  all CPUs:\n");
	}
	tlb_stats_read(&total);
	print_stats("    ", &total);
}

static void cmd_backend(int argc, char **argv)
{
	enum lazy_mmu_backend b;

	if (argc == 2 && !strcmp(argv[1], "batched")) {
		b = LAZY_MMU_BATCHED;
	} else if (argc == 2 && !strcmp(argv[1], "eager")) {
		b = LAZY_MMU_EAGER;
	} else if (argc == 1) {
		printk("backend: %s\n", lazy_mmu_backend_name(lazy_mmu_get_backend()));
		return;
	} else {
		printk("usage: backend batched|eager\n");
		return;
	}
	lazy_mmu_set_backend(b);
	backend_wanted = b;
	printk("backend: %s (map/protect/unmap use it; demos choose their own)\n",
	       lazy_mmu_backend_name(lazy_mmu_get_backend()));
}

/* The scratch area of map/protect/unmap N. Console task only. */
static unsigned long scratch_va;
static phys_addr_t scratch_pa;

static bool parse_ulong(const char *s, unsigned long *v)
{
	unsigned long x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > 1000000)
			return false;
		x = x * 10 + (unsigned long)(*s - '0');
	}
	*v = x;
	return true;
}

static void cmd_pages(int argc, char **argv)
{
	struct tlb_stats before, after, d;
	const char *what = argv[0], *access;
	pgprot_t prot = PAGE_KERNEL;
	phys_addr_t pa;
	unsigned long n;
	int err;

	if (argc != 2 || !parse_ulong(argv[1], &n) || n < 1 || n > SCRATCH_PAGES) {
		printk("usage: %s N, with N from 1 to %lu (pages of the scratch area)\n", what,
		       SCRATCH_PAGES);
		return;
	}
	if (!scratch_va) {
		scratch_va = vm_test_area(SCRATCH_PAGES);
		if (!scratch_va || alias_frames(SCRATCH_PAGES, &scratch_pa)) {
			scratch_va = 0;
			return;
		}
	}
	if (!strcmp(what, "protect") && !query_page(&init_mm, scratch_va, &pa, &prot))
		prot = pgprot_val(prot) == pgprot_val(PAGE_KERNEL) ? PAGE_KERNEL_RO : PAGE_KERNEL;
	tlb_stats_read(&before);
	if (!strcmp(what, "map"))
		err = map_pages(&init_mm, scratch_va, scratch_pa, n, PAGE_KERNEL);
	else if (!strcmp(what, "protect"))
		err = protect_pages(&init_mm, scratch_va, n, prot);
	else
		err = unmap_pages(&init_mm, scratch_va, n);
	tlb_stats_read(&after);
	stats_sub(&d, &after, &before);
	if (!strcmp(what, "unmap"))
		access = "";
	else
		access =
		    pgprot_val(prot) == pgprot_val(PAGE_KERNEL) ? ", read-write" : ", read-only";
	printk("%s_pages(scratch %#lx, %lu page%s%s) = %d (%s), backend %s\n", what, scratch_va, n,
	       n == 1 ? "" : "s", access, err, errno_name(err),
	       lazy_mmu_backend_name(lazy_mmu_get_backend()));
	trace_show();
	print_stats("    ", &d);
	if (!strcmp(what, "unmap") && !err)
		printk("  (pte_writes include the table entries cleared when a page table "
		       "emptied and was freed)\n");
}

/* One line of ps (called with the task list locked: printk only). */
static void ps_line(const struct task *t, void *arg)
{
	(void)arg;
	printk("  %-4u %-4d %-12s %-8s %15u %5u  %lu\n", t->cpu, t->pid, t->name,
	       t->mm ? t->mm->name : "-", t->lazy_mmu_state.enable_count,
	       t->lazy_mmu_state.pause_count, t->tlb_batch.nr_pages);
}

static void cmd_ps(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printk("  cpu  pid  task         mm       lazy_mmu enable pause  batch (pages queued)\n");
	sched_for_each_task(ps_line, NULL);
}

/* The embedded programs, tests and demos (for `run` with no such program). */
static void list_programs(void)
{
	printk("programs (user/bin: demos; user/tests: the user_programs suite):\n");
	for (unsigned int i = 0; i < nr_user_programs; i++)
		printk("  %-16s %s\n", user_programs[i].name,
		       user_programs[i].test ? "test" : "demo");
}

/*
 * Runs a program on this CPU (so the trace, which this CPU captures, sees its sections),
 * waits for it and for any orphan it left, and prints its status with the counters and
 * the fault handler's work over the run.
 */
static void run_program(const char *name)
{
	struct user_fault_stats f0 = user_fault_stats;
	struct tlb_stats before, after, d;
	int pid, status = 0, st;

	tlb_stats_read(&before);
	pid = process_spawn(name, (int)this_cpu()->id);
	if (pid == -ENOENT) {
		printk("run: no program '%s'\n", name);
		list_programs();
		return;
	}
	if (pid < 0) {
		printk("run %s: %d (%s)\n", name, pid, errno_name(pid));
		return;
	}
	process_wait(pid, &status);
	while (process_wait(-1, &st) > 0)
		;
	tlb_stats_read(&after);
	stats_sub(&d, &after, &before);
	if (WIFEXITED(status))
		printk("run %s: pid %d exited with status %d\n", name, pid, WEXITSTATUS(status));
	else
		printk("run %s: pid %d killed by signal %d\n", name, pid, WTERMSIG(status));
	trace_show();
	print_stats("    ", &d);
	printk("    faults: demand_zero=%llu cow_copies=%llu cow_reuses=%llu\n",
	       (unsigned long long)(user_fault_stats.demand_zero - f0.demand_zero),
	       (unsigned long long)(user_fault_stats.cow_copies - f0.cow_copies),
	       (unsigned long long)(user_fault_stats.cow_reuses - f0.cow_reuses));
}

static void cmd_run(int argc, char **argv)
{
	if (argc != 2) {
		printk("usage: run PROGRAM\n");
		list_programs();
		return;
	}
	run_program(argv[1]);
}

static const struct command {
	const char *name;
	const char *args;
	const char *help;
	void (*fn)(int argc, char **argv);
} commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "demo", "[NAME]", "list the demos, or run one", cmd_demo },
	{ "trace", "on|off", "show every lazy MMU helper call after each command", cmd_trace },
	{ "stats", "[reset]", "the flush-instruction counters (per CPU), or zero them", cmd_stats },
	{ "backend", "batched|eager", "how pte_update() completes updates", cmd_backend },
	{ "map", "N", "map N pages of the scratch area, with that call's counters", cmd_pages },
	{ "protect", "N", "flip N scratch pages read-only <-> read-write", cmd_pages },
	{ "unmap", "N", "unmap N scratch pages", cmd_pages },
	{ "ps", "", "tasks and their lazy MMU state", cmd_ps },
	{ "run", "PROGRAM", "run a user program", cmd_run },
	{ "exit", "", "power off (so does Ctrl-D on an empty line)", NULL },
};

static void cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printk("  %-8s %-14s %s\n", commands[i].name, commands[i].args, commands[i].help);
	printk("  keys: backspace, Ctrl-U erases the line, Ctrl-C cancels it, up/down arrows "
	       "for history\n");
}

static void unknown_command(const char *name)
{
	printk("unknown command '%s': try help, demo, demo nested, stats, exit\n", name);
}

/* Splits line in place at spaces; returns the number of words (at most CONSOLE_ARGS). */
static int split_words(char *line, char **argv)
{
	int argc = 0;

	while (*line && argc < CONSOLE_ARGS) {
		while (*line == ' ')
			*line++ = '\0';
		if (!*line)
			break;
		argv[argc++] = line;
		while (*line && *line != ' ')
			line++;
	}
	return argc;
}

/* What every command must leave behind: no section open, the user's backend. */
static void check_left_clean(const char *cmd)
{
	struct lazy_mmu_state *s = &current->lazy_mmu_state;

	if (s->enable_count || s->pause_count || lazy_mmu_get_backend() != backend_wanted)
		printk("console: BUG: '%s' left enable=%u pause=%u backend=%s\n", cmd,
		       s->enable_count, s->pause_count,
		       lazy_mmu_backend_name(lazy_mmu_get_backend()));
}

__noreturn void console_run(int status)
{
	static char line[CONSOLE_LINE + 1], copy[CONSOLE_LINE + 1];

	printk("console: the suite is done (verdict %d). Type 'help', or 'demo nested' to "
	       "start; 'exit' or Ctrl-D powers off.\n",
	       status);
	trace_capture(false);
	for (;;) {
		char *argv[CONSOLE_ARGS];
		const struct command *cmd = NULL;
		int len, argc;

		console_puts("lazymmu> ");
		len = read_line(line);
		if (len == LINE_EOF)
			break;
		if (len <= 0)
			continue;
		history_add(line);
		strlcpy(copy, line, sizeof(copy));
		argc = split_words(copy, argv);
		if (!argc)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (!strcmp(argv[0], commands[i].name))
				cmd = &commands[i];
		if (!cmd) {
			unknown_command(argv[0]);
			continue;
		}
		if (!cmd->fn)
			break; /* exit */
		cmd->fn(argc, argv);
		trace_show();
		check_left_clean(argv[0]);
	}
	lazy_mmu_set_trace(false);
	lazy_mmu_trace_to(NULL, 0);
	kernel_exit(status);
}
