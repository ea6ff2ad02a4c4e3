/*
 * User mode on arm64, on the real (emulated) CPU: the way to EL0 and back, what EL0 may not
 * touch, UXN, and ASIDs (tagging, per-ASID TLBIs, a forced rollover).
 */
#include <asm/barrier.h>
#include <asm/esr.h>
#include <asm/mmu.h>
#include <asm/pgtable.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/boot_info.h>
#include <kernel/cpu.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/lazy_mmu.h>
#include <mm/mm.h>
#include <mm/tlb_stats.h>

/*
 * The user code the cases run, assembled with the kernel and copied into user pages (each
 * snippet is position-independent). Every one ends in "svc #0", which ends the EL0 run
 * (arm64_run_user()) with the registers it left.
 */
__asm__(".pushsection .rodata.user_code, \"a\"\n"
	".balign 4\n"
	/* x0 += 1; x1 = sp; x2 = TPIDR_EL0; x3 = TPIDRRO_EL0 */
	"user_probe: add x0, x0, #1\n"
	"	mov x1, sp\n"
	"	mrs x2, tpidr_el0\n"
	"	mrs x3, tpidrro_el0\n"
	"	svc #0\n"
	"user_probe_end:\n"
	/* x0 = *x1 */
	"user_load: ldr x0, [x1]\n"
	"	svc #0\n"
	"user_load_end:\n"
	/* *x1 = x0 */
	"user_store: str x0, [x1]\n"
	"	svc #0\n"
	"user_store_end:\n"
	/* jump to x1 */
	"user_jump: br x1\n"
	"user_jump_end:\n"
	/* an undefined instruction */
	"user_udf: udf #0\n"
	"user_udf_end:\n"
	/* x0 = the virtual counter, twice; then the kernel's timer control (must trap) */
	"user_timer: mrs x0, cntvct_el0\n"
	"	isb\n"
	"	mrs x1, cntvct_el0\n"
	"	mrs x2, cntv_ctl_el0\n"
	"	svc #0\n"
	"user_timer_end:\n"
	".popsection\n");

extern const u32 user_probe[], user_probe_end[], user_load[], user_load_end[], user_store[],
    user_store_end[], user_jump[], user_jump_end[], user_udf[], user_udf_end[], user_timer[],
    user_timer_end[];

#define CODE_VA 0x400000UL /* one page per snippet from here */
#define DATA_VA 0x800000UL /* data pages, in a leaf table of their own */
#define SVC_LEN 4UL	   /* "svc #0": ELR after it points 4 bytes on */

/* A user address space made by hand (no process): a root, a context, pages we track. */
struct test_mm {
	struct mm_struct mm;
	phys_addr_t code, data; /* one frame each */
};

static struct test_mm tms[12];

static int test_mm_init(struct kunit *test, struct test_mm *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->mm.name = name;
	spin_lock_init(&t->mm.page_table_lock);
	t->mm.pgd = alloc_frame();
	t->code = alloc_frame();
	t->data = alloc_frame();
	KUNIT_ASSERT_TRUE(test, t->mm.pgd && t->code && t->data);
	KUNIT_ASSERT_EQ(test, arch_pgd_init(&t->mm), 0);
	KUNIT_ASSERT_EQ(test, init_new_context(&t->mm), 0);
	return 0;
}

/* A snippet's length: its labels are separate symbols to C, so compared as addresses. */
static size_t bytes_between(const void *start, const void *end)
{
	return (uintptr_t)end - (uintptr_t)start;
}

/* Copies a snippet into the code frame and maps it executable at CODE_VA. */
static void map_code(struct kunit *test, struct test_mm *t, const u32 *start, const u32 *end)
{
	memcpy(phys_to_virt(t->code), start, bytes_between(start, end));
	/* Written as data through the linear map: make it fetchable (asm/cacheflush.h). */
	arch_sync_icache(phys_to_virt(t->code), bytes_between(start, end));
	KUNIT_ASSERT_EQ(test, map_pages(&t->mm, CODE_VA, t->code, 1, PAGE_USER_RX), 0);
}

static void test_mm_release(struct test_mm *t)
{
	phys_addr_t pa;
	pgprot_t prot;

	if (!t->mm.pgd)
		return;
	if (!query_page(&t->mm, CODE_VA, &pa, &prot))
		unmap_pages(&t->mm, CODE_VA, 1);
	if (!query_page(&t->mm, DATA_VA, &pa, &prot))
		unmap_pages(&t->mm, DATA_VA, 1);
	destroy_context(&t->mm);
	free_frame(t->mm.pgd);
	free_frame(t->code);
	free_frame(t->data);
	t->mm.pgd = 0;
}

/*
 * Back to the mm the scheduler believes this CPU has loaded (a process's, lazily kept for
 * the kernel thread running the tests, or init_mm's): it skips reloading an mm it thinks
 * is there, so what the tests loaded behind its back must go. Interrupts masked.
 */
static void restore_active_mm(void)
{
	arch_switch_mm(this_cpu()->active_mm);
	for (unsigned int i = 0; i < ARRAY_SIZE(tms); i++)
		__atomic_fetch_and(&tms[i].mm.cpumask, ~(1UL << smp_processor_id()),
				   __ATOMIC_RELAXED);
}

/*
 * Runs the code at CODE_VA in t's address space at EL0 with x0, x1 and sp as given, until
 * its first exception; *out is that exception's frame. Interrupts stay masked around the
 * whole thing: the mm is this CPU's only while it runs.
 */
static void run_in(struct test_mm *t, u64 x0, u64 x1, u64 sp, struct pt_regs *out)
{
	struct pt_regs in;
	unsigned long flags;

	start_thread(&in, CODE_VA, sp);
	in.x[0] = x0;
	in.x[1] = x1;
	local_irq_save(flags);
	arch_switch_mm(&t->mm);
	arm64_run_user(&in, out);
	restore_active_mm();
	local_irq_restore(flags);
}

static void user_exit(struct kunit *test)
{
	(void)test;
	for (unsigned int i = 0; i < ARRAY_SIZE(tms); i++)
		test_mm_release(&tms[i]);
	arm64_asid_set_limit(0);
}

/*
 * There and back: every register the user code set comes back in the frame, the user's
 * stack pointer (SP_EL0) and thread register (TPIDR_EL0) are the ones it ran with, the
 * frame says EL0t with the PC just after svc, and TPIDRRO_EL0 holds no kernel value - the
 * kernel's own exception entries (one just taken on purpose) no longer use it as scratch.
 */
static void el0_round_trip(struct kunit *test)
{
	struct test_mm *t = &tms[0];
	const u64 sp = 0x7ffffff00000ULL, tpidr = 0x1234567890abcdefULL;
	struct pt_regs in, out;
	unsigned long flags;
	u8 byte;

	test_mm_init(test, t, "el0_round_trip");
	map_code(test, t, user_probe, user_probe_end);
	/* A kernel exception (a nofault read of an unmapped address): x0 holds a pointer. */
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&byte, (void *)VM_TEST_START, 1), -EFAULT);

	start_thread(&in, CODE_VA, sp);
	in.x[0] = 41;
	in.x[8] = 0x5ca1ab1e;
	in.tpidr_el0 = tpidr;
	local_irq_save(flags);
	arch_switch_mm(&t->mm);
	arm64_run_user(&in, &out);
	restore_active_mm();
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_SVC64);
	KUNIT_EXPECT_EQ(test, out.x[0], 42);
	KUNIT_EXPECT_EQ(test, out.x[1], sp);
	KUNIT_EXPECT_EQ(test, out.x[2], tpidr);
	KUNIT_EXPECT_EQ(test, out.x[3], 0);
	KUNIT_EXPECT_EQ(test, out.x[8], 0x5ca1ab1e);
	KUNIT_EXPECT_EQ(test, out.sp, sp);
	KUNIT_EXPECT_EQ(test, out.tpidr_el0, tpidr);
	KUNIT_EXPECT_EQ(test, out.elr, CODE_VA + bytes_between(user_probe, user_probe_end));
	KUNIT_EXPECT_TRUE(test, user_mode(&out));
	KUNIT_EXPECT_EQ(test, syscall_get_nr(&out), 0x5ca1ab1e);
	kunit_info(test, "EL0 ran at %#lx, svc from pc %#llx with x0 %llu, sp %#llx", CODE_VA,
		   (unsigned long long)out.elr - SVC_LEN, (unsigned long long)out.x[0],
		   (unsigned long long)out.sp);
}

/* An abort from EL0 at addr: its class, FAR, a permission fault, and the write bit. */
static void expect_abort(struct kunit *test, const struct pt_regs *out, unsigned int ec,
			 unsigned long addr, bool write)
{
	KUNIT_EXPECT_EQ(test, esr_ec(out->esr), ec);
	KUNIT_EXPECT_EQ(test, out->far, addr);
	KUNIT_EXPECT_EQ(test, out->esr & ESR_ABT_FSC & ~3UL, FSC_PERMISSION);
	if (ec == ESR_EC_DABT_LOW)
		KUNIT_EXPECT_EQ(test, !!(out->esr & ESR_ABT_WNR), write);
}

static u64 kernel_word = 0x6b65726e656c2121ULL; /* "kernel!!" */

/*
 * EL0 can read, write and run nothing of the kernel's, though every kernel page is mapped
 * (TTBR1) while user code runs: a permission fault each time, at the exact address - for
 * data, rodata, text, the linear map of any frame, a device - and the word is unchanged.
 */
static void kernel_pages_are_out_of_el0_reach(struct kunit *test)
{
	struct test_mm *t = &tms[0];
	const unsigned long uart = (unsigned long)(uintptr_t)phys_to_virt(boot_info.uart_base);
	const unsigned long targets[] = { (unsigned long)&kernel_word, (unsigned long)_rodata_start,
					  (unsigned long)_text_start,
					  (unsigned long)(uintptr_t)phys_to_virt(t->data), uart };
	struct pt_regs out;

	test_mm_init(test, t, "kernel_pages");
	for (unsigned int i = 0; i < ARRAY_SIZE(targets); i++) {
		map_code(test, t, user_load, user_load_end);
		run_in(t, 0, targets[i], 0, &out);
		expect_abort(test, &out, ESR_EC_DABT_LOW, targets[i], false);
		unmap_pages(&t->mm, CODE_VA, 1);

		map_code(test, t, user_store, user_store_end);
		run_in(t, 0xbad, targets[i], 0, &out);
		expect_abort(test, &out, ESR_EC_DABT_LOW, targets[i], true);
		unmap_pages(&t->mm, CODE_VA, 1);

		/* A jump into the kernel: the fetch faults (UXN), at the target. */
		map_code(test, t, user_jump, user_jump_end);
		run_in(t, 0, targets[i], 0, &out);
		expect_abort(test, &out, ESR_EC_IABT_LOW, targets[i], false);
		unmap_pages(&t->mm, CODE_VA, 1);
	}
	KUNIT_EXPECT_EQ(test, kernel_word, 0x6b65726e656c2121ULL);
	kunit_info(test,
		   "%zu kernel addresses: EL0 read, write and jump each took a permission "
		   "fault",
		   ARRAY_SIZE(targets));
}

/*
 * UXN on user data: the same instructions that run from a PAGE_USER_RX page fault when
 * mapped PAGE_USER_RW (and PAGE_USER_RO): an instruction abort, a permission fault, at the
 * page. Once protect_pages() makes the page executable, the jump lands and svc runs there.
 * And the data protections from EL0's side: RO reads but refuses a write.
 */
static void user_data_is_never_executable(struct kunit *test)
{
	struct test_mm *t = &tms[0];
	const u32 svc = 0xd4000001; /* svc #0 */
	struct pt_regs out;

	test_mm_init(test, t, "uxn");
	memcpy(phys_to_virt(t->data), &svc, sizeof(svc));
	arch_sync_icache(phys_to_virt(t->data), sizeof(svc));
	map_code(test, t, user_jump, user_jump_end);

	KUNIT_ASSERT_EQ(test, map_pages(&t->mm, DATA_VA, t->data, 1, PAGE_USER_RW), 0);
	run_in(t, 0, DATA_VA, 0, &out);
	expect_abort(test, &out, ESR_EC_IABT_LOW, DATA_VA, false);
	KUNIT_ASSERT_EQ(test, protect_pages(&t->mm, DATA_VA, 1, PAGE_USER_RO), 0);
	run_in(t, 0, DATA_VA, 0, &out);
	expect_abort(test, &out, ESR_EC_IABT_LOW, DATA_VA, false);
	KUNIT_ASSERT_EQ(
	    test,
	    protect_pages(&t->mm, DATA_VA, 1, vm_get_page_prot(PROT_READ | PROT_WRITE | PROT_EXEC)),
	    0);
	run_in(t, 0, DATA_VA, 0, &out);
	expect_abort(test, &out, ESR_EC_IABT_LOW, DATA_VA, false);
	/* The control: executable, the same bytes run. */
	KUNIT_ASSERT_EQ(test, protect_pages(&t->mm, DATA_VA, 1, PAGE_USER_RX), 0);
	run_in(t, 0, DATA_VA, 0, &out);
	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_SVC64);
	KUNIT_EXPECT_EQ(test, out.elr, DATA_VA + SVC_LEN);

	/* Read-only from EL0: the load works, the store faults. */
	KUNIT_ASSERT_EQ(test, protect_pages(&t->mm, DATA_VA, 1, PAGE_USER_RO), 0);
	unmap_pages(&t->mm, CODE_VA, 1);
	map_code(test, t, user_load, user_load_end);
	run_in(t, 0, DATA_VA, 0, &out);
	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_SVC64);
	KUNIT_EXPECT_EQ(test, out.x[0], svc);
	unmap_pages(&t->mm, CODE_VA, 1);
	map_code(test, t, user_store, user_store_end);
	run_in(t, 7, DATA_VA, 0, &out);
	expect_abort(test, &out, ESR_EC_DABT_LOW, DATA_VA, true);
	KUNIT_EXPECT_EQ(test, *(u32 *)phys_to_virt(t->data), svc);
}

/* An undefined instruction at EL0 arrives as EC 0 ("unknown"), at its own address. */
static void el0_undefined_instruction(struct kunit *test)
{
	struct test_mm *t = &tms[0];
	struct pt_regs out;

	test_mm_init(test, t, "udf");
	map_code(test, t, user_udf, user_udf_end);
	run_in(t, 0, 0, 0, &out);
	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_UNKNOWN);
	KUNIT_EXPECT_EQ(test, out.elr, CODE_VA);
}

/*
 * The EL0 state the boot code defines: the virtual counter is readable (it moves), the
 * kernel's timer is not - reading CNTV_CTL_EL0 traps as a system-register access (EC 0x18)
 * at that very instruction, so no user program can stop or reprogram the tick. And FP/SIMD
 * is off (CPACR_EL1): an FP instruction traps too (EC 0x07).
 */
static void el0_cannot_touch_the_timer_or_fp(struct kunit *test)
{
	struct test_mm *t = &tms[0];
	const u32 fmov = 0x9e670000; /* fmov d0, x0 */
	struct pt_regs out;

	test_mm_init(test, t, "timer");
	map_code(test, t, user_timer, user_timer_end);
	run_in(t, 0, 0, 0, &out);
	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_SYS64);
	KUNIT_EXPECT_EQ(test, out.elr, CODE_VA + 12);
	KUNIT_EXPECT_GT(test, out.x[1], out.x[0]);
	unmap_pages(&t->mm, CODE_VA, 1);
	map_code(test, t, &fmov, &fmov + 1);
	run_in(t, 0, 0, 0, &out);
	KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_FP_ACCESS);
	KUNIT_EXPECT_EQ(test, out.elr, CODE_VA);
}

/* Runs CODE_VA at EL0 in whatever mm is loaded (interrupts masked by the caller). */
static void run_here(u64 x0, u64 x1, struct pt_regs *out)
{
	struct pt_regs in;

	start_thread(&in, CODE_VA, 0);
	in.x[0] = x0;
	in.x[1] = x1;
	arm64_run_user(&in, out);
}

/* Loads t's mm (interrupts masked by the caller); returns the ASID TTBR0 now carries. */
static unsigned long load(struct kunit *test, struct test_mm *t)
{
	arch_switch_mm(&t->mm);
	KUNIT_EXPECT_EQ(test, read_sysreg(ttbr0_el1) & PTE_ADDR_MASK, t->mm.pgd);
	return (unsigned long)(read_sysreg(ttbr0_el1) >> 48);
}

/* The word each test mm's data page starts with. */
static u64 tag_of(unsigned int i)
{
	return 0x7461670000000000ULL | i; /* "tag" */
}

/* An mm whose data page (tagged i) is mapped at DATA_VA with prot, and user_load at CODE_VA. */
static void reader_mm(struct kunit *test, unsigned int i, pgprot_t prot)
{
	struct test_mm *t = &tms[i];

	test_mm_init(test, t, "reader");
	*(u64 *)phys_to_virt(t->data) = tag_of(i);
	map_code(test, t, user_load, user_load_end);
	KUNIT_ASSERT_EQ(test, map_pages(&t->mm, DATA_VA, t->data, 1, prot), 0);
}

/*
 * Two address spaces get two different ASIDs, neither 0 (the empty table's); TTBR0 carries
 * each with its own root, and their user entries are non-global (nG), so the ASID really
 * tags them. Switching between them costs no TLB flush at all - the point of ASIDs. Every
 * TLBI of one mm names its ASID in bits 63:48, decoded from the operands as issued: per
 * page, and the whole-ASID aside1is when a batch goes over the ceiling; the kernel's name
 * ASID 0 (its entries are global).
 */
static void asids_tag_each_address_space(struct kunit *test)
{
	struct arm64_tlbi_record rec[4];
	struct arm64_asid_stats s0, s1;
	unsigned long a, b, flags, kva = vm_test_area(1), ceiling = tlb_flush_ceiling;
	struct tlb_stats st;
	unsigned int n;
	u64 page_op;

	reader_mm(test, 0, PAGE_USER_RW);
	reader_mm(test, 1, PAGE_USER_RW);
	KUNIT_EXPECT_TRUE(test, pte_val(*pte_lookup(&tms[0].mm, DATA_VA)) & PTE_NG);

	arm64_asid_stats(&s0);
	local_irq_save(flags);
	a = load(test, &tms[0]);
	b = load(test, &tms[1]);
	for (unsigned int i = 0; i < 50; i++) {
		KUNIT_EXPECT_EQ(test, load(test, &tms[i & 1]), i & 1 ? b : a);
	}
	restore_active_mm();
	local_irq_restore(flags);
	arm64_asid_stats(&s1);
	KUNIT_EXPECT_NE(test, a, b);
	KUNIT_EXPECT_NE(test, a, 0);
	KUNIT_EXPECT_NE(test, b, 0);
	KUNIT_EXPECT_EQ(test, a, arm64_mm_asid(&tms[0].mm));
	KUNIT_EXPECT_EQ(test, s1.local_flushes - s0.local_flushes, s1.rollovers - s0.rollovers);

	/* One page of A: one per-page TLBI with A's ASID and A's page. */
	local_irq_save(flags);
	arm64_tlbi_record_to(rec, ARRAY_SIZE(rec));
	KUNIT_EXPECT_EQ(test, protect_pages(&tms[0].mm, DATA_VA, 1, PAGE_USER_RO), 0);
	n = arm64_tlbi_recorded();
	arm64_tlbi_record_to(NULL, 0);
	local_irq_restore(flags);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_FALSE(test, rec[0].range || rec[0].whole_asid);
	page_op = rec[0].operand;
	KUNIT_EXPECT_EQ(test, rec[0].operand >> 48, a);
	KUNIT_EXPECT_EQ(test, rec[0].operand & GENMASK(43, 0), DATA_VA >> 12);

	/* Over the ceiling: B's whole ASID (aside1is), nothing global. */
	tlb_flush_ceiling = 0;
	tlb_stats_reset();
	local_irq_save(flags);
	arm64_tlbi_record_to(rec, ARRAY_SIZE(rec));
	KUNIT_EXPECT_EQ(test, protect_pages(&tms[1].mm, DATA_VA, 1, PAGE_USER_RO), 0);
	n = arm64_tlbi_recorded();
	arm64_tlbi_record_to(NULL, 0);
	local_irq_restore(flags);
	tlb_flush_ceiling = ceiling;
	tlb_stats_read(&st);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_TRUE(test, rec[0].whole_asid);
	KUNIT_EXPECT_EQ(test, rec[0].operand, (u64)b << 48);
	KUNIT_EXPECT_EQ(test, st.arch.aside1is, 1);
	KUNIT_EXPECT_EQ(test, st.arch.vmalle1is, 0);
	KUNIT_EXPECT_EQ(test, st.tlbi_all, 1);

	/* The kernel's: ASID 0. */
	KUNIT_ASSERT_NE(test, kva, 0);
	KUNIT_ASSERT_EQ(test, map_pages(&init_mm, kva, tms[0].data, 1, PAGE_KERNEL), 0);
	local_irq_save(flags);
	arm64_tlbi_record_to(rec, ARRAY_SIZE(rec));
	KUNIT_EXPECT_EQ(test, unmap_pages(&init_mm, kva, 1), 0);
	n = arm64_tlbi_recorded();
	arm64_tlbi_record_to(NULL, 0);
	local_irq_restore(flags);
	KUNIT_ASSERT_GE(test, n, 1);
	KUNIT_EXPECT_EQ(test, rec[0].operand >> 48, 0);
	kunit_info(test,
		   "ASIDs %lu and %lu; 50 switches, %llu local flushes; TLBIs: A's page "
		   "vale1is %#llx, B's aside1is %#llx, the kernel's with ASID 0",
		   a, b, (unsigned long long)(s1.local_flushes - s0.local_flushes),
		   (unsigned long long)page_op, (unsigned long long)b << 48);
}

/*
 * What the TLB keeps, under the ASIDs. A's page is read at EL0 (cached under A's ASID), then
 * cleared inside a lazy MMU section (its invalidation deferred): A still reads the old
 * frame - the stale entry is real and tagged - until the section's flush, whose TLBI with
 * A's ASID makes the next read fault. In between, B (another ASID, another frame at the same
 * address) reads its own frame, never A's. Whether A's entry also survived running B is
 * reported, not asserted: silicon keeps it (that is what ASIDs are for), QEMU 7.2 drops its
 * whole TLB whenever TTBR0's ASID changes.
 */
static void a_stale_entry_lives_until_its_asid_is_flushed(struct kunit *test)
{
	struct pt_regs out;
	unsigned long flags;
	pte_t *ptep;
	u64 stale = 0, after_b = 0, other_asid;
	unsigned int attempt;

	reader_mm(test, 0, PAGE_USER_RO);
	reader_mm(test, 1, PAGE_USER_RO);
	ptep = pte_lookup(&tms[0].mm, DATA_VA);
	/* A few attempts: an unrelated access can evict the entry from QEMU's small TLB. */
	for (attempt = 1; attempt <= 5 && stale != tag_of(0); attempt++) {
		if (attempt > 1)
			KUNIT_ASSERT_EQ(
			    test, map_pages(&tms[0].mm, DATA_VA, tms[0].data, 1, PAGE_USER_RO), 0);
		local_irq_save(flags);
		load(test, &tms[0]);
		run_here(0, DATA_VA, &out);
		KUNIT_EXPECT_EQ(test, out.x[0], tag_of(0)); /* cached now */
		lazy_mmu_mode_enable();
		pte_update(&tms[0].mm, DATA_VA, ptep, __pte(0));
		run_here(0, DATA_VA, &out);
		stale = esr_ec(out.esr) == ESR_EC_SVC64 ? out.x[0] : 0;

		load(test, &tms[1]);
		run_here(0, DATA_VA, &out);
		KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_SVC64);
		KUNIT_EXPECT_EQ(test, out.x[0], tag_of(1));

		load(test, &tms[0]);
		run_here(0, DATA_VA, &out);
		after_b = esr_ec(out.esr) == ESR_EC_SVC64 ? out.x[0] : 0;
		lazy_mmu_mode_disable(); /* the TLBI, with A's ASID */
		run_here(0, DATA_VA, &out);
		restore_active_mm();
		local_irq_restore(flags);
		KUNIT_EXPECT_EQ(test, esr_ec(out.esr), ESR_EC_DABT_LOW);
		KUNIT_EXPECT_EQ(test, out.far, DATA_VA);
		KUNIT_EXPECT_EQ(test, out.esr & ESR_ABT_FSC & ~3UL, FSC_TRANSLATION);
	}
	KUNIT_EXPECT_EQ(test, stale, tag_of(0));

	/*
	 * And a TLBI of A's page that names B's ASID, with A loaded throughout: the
	 * architecture lets it leave A's entry alone (silicon does), or drop it (over-
	 * invalidation is allowed). Reported, not asserted.
	 */
	KUNIT_ASSERT_EQ(test, map_pages(&tms[0].mm, DATA_VA, tms[0].data, 1, PAGE_USER_RO), 0);
	local_irq_save(flags);
	load(test, &tms[0]);
	run_here(0, DATA_VA, &out);
	lazy_mmu_mode_enable();
	pte_update(&tms[0].mm, DATA_VA, ptep, __pte(0));
	dsb(ishst);
	tlbi_vale1is(tlbi_va_operand(DATA_VA) | tlbi_asid_operand(arm64_mm_asid(&tms[1].mm)));
	dsb(ish);
	isb();
	run_here(0, DATA_VA, &out);
	other_asid = esr_ec(out.esr) == ESR_EC_SVC64 ? out.x[0] : 0;
	lazy_mmu_mode_disable();
	restore_active_mm();
	local_irq_restore(flags);

	kunit_info(test,
		   "cleared, not flushed: A read %s; after running B (ASID %lu): %s; after "
		   "the flush: a fault",
		   stale == tag_of(0) ? "its old frame" : "a fault", arm64_mm_asid(&tms[1].mm),
		   after_b == tag_of(0) ? "still its old frame (the TLB kept A's entry)"
					: "a fault (the TLB dropped A's entry at the switch)");
	kunit_info(test, "a TLBI of A's page with B's ASID: A then read %s",
		   other_asid == tag_of(0) ? "its old frame (the TLBI matched ASIDs)"
					   : "a fault (the TLBI ignored the ASID)");
}

/*
 * A forced rollover. With the allocator capped at NR_CPUS + 2 ASIDs (the fewest it takes),
 * twelve address spaces switched in turn run out of ASIDs: generations turn over, numbers
 * are handed out again - and every mm still reads its own frame at EL0, each time, never a
 * previous owner's (the CPU flushed before it ran a reused number). The mm that was running
 * when a generation turned keeps its number (reserved), and the flushes are counted.
 */
static void rollover_forced_by_a_handful_of_address_spaces(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(tms);
	unsigned long limit = arm64_asid_set_limit(NR_CPUS + 2), flags;
	struct arm64_asid_stats s0, s1, before, after;
	unsigned int kept = 0, wrong = 0;
	struct pt_regs out;

	KUNIT_EXPECT_EQ(test, limit, NR_CPUS + 2);
	for (unsigned int i = 0; i < n; i++)
		reader_mm(test, i, PAGE_USER_RO);
	arm64_asid_stats(&s0);
	local_irq_save(flags);
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < n; i++) {
			unsigned int prev = (i + n - 1) % n;
			unsigned long asid, prev_asid = arm64_mm_asid(&tms[prev].mm);

			arm64_asid_stats(&before);
			asid = load(test, &tms[i]);
			arm64_asid_stats(&after);
			KUNIT_EXPECT_TRUE(test, asid >= 1 && asid < limit);
			run_here(0, DATA_VA, &out);
			wrong += out.x[0] != tag_of(i);
			if (after.rollovers != before.rollovers && (round || i)) {
				/* prev was running when the generation turned: reserved. */
				KUNIT_EXPECT_EQ(test, load(test, &tms[prev]), prev_asid);
				run_here(0, DATA_VA, &out);
				wrong += out.x[0] != tag_of(prev);
				KUNIT_EXPECT_EQ(test, load(test, &tms[i]), asid);
				kept++;
			}
		}
	}
	restore_active_mm();
	local_irq_restore(flags);
	arm64_asid_stats(&s1);
	KUNIT_EXPECT_EQ(test, wrong, 0);
	KUNIT_EXPECT_GE(test, s1.rollovers - s0.rollovers, 3);
	KUNIT_EXPECT_EQ(test, s1.generation - s0.generation, s1.rollovers - s0.rollovers);
	KUNIT_EXPECT_GE(test, s1.local_flushes - s0.local_flushes, s1.rollovers - s0.rollovers);
	KUNIT_EXPECT_GE(test, kept, 3);
	kunit_info(test,
		   "%u mms, %lu ASIDs: %llu rollovers, %llu local flushes, %u reserved "
		   "numbers kept, every read from the mm's own frame",
		   n, limit - 1, (unsigned long long)(s1.rollovers - s0.rollovers),
		   (unsigned long long)(s1.local_flushes - s0.local_flushes), kept);
}

static struct kunit_case user_arm64_cases[] = {
	KUNIT_CASE(el0_round_trip),
	KUNIT_CASE(kernel_pages_are_out_of_el0_reach),
	KUNIT_CASE(user_data_is_never_executable),
	KUNIT_CASE(el0_undefined_instruction),
	KUNIT_CASE(el0_cannot_touch_the_timer_or_fp),
	KUNIT_CASE(asids_tag_each_address_space),
	KUNIT_CASE(a_stale_entry_lives_until_its_asid_is_flushed),
	KUNIT_CASE(rollover_forced_by_a_handful_of_address_spaces),
	{}
};

static struct kunit_suite user_arm64_suite = {
	.name = "user_arm64",
	.exit = user_exit,
	.test_cases = user_arm64_cases,
};
kunit_test_suite(user_arm64_suite);
