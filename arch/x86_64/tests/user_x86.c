/*
 * Ring 3 on x86-64, through arch sessions (asm/user_session.h): the round trip, U/S and NX
 * enforced, swapgs on every way in and out, privileged state kept from ring 3.
 */
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/shootdown.h>
#include <asm/traps.h>
#include <asm/user_session.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/preempt.h>
#include <kernel/sched.h>
#include <kernel/sections.h>
#include <kernel/smp.h>
#include <kunit/test.h>
#include <lib/string.h>
#include <mm/mm.h>
#include <mm/user.h>

#include "user_x86.h"

/*
 * The user programs: position-independent snippets, copied into a user page. Each ends in
 * a syscall, whose frame is then the session's result, or faults on purpose first.
 */
USER_SNIPPET(ux_syscall, "mov $42, %eax\n"
			 "syscall\n"
			 "ud2\n");
USER_SNIPPET(ux_load, "mov (%rdi), %rax\n"
		      "syscall\n");
USER_SNIPPET(ux_store, "mov %rsi, (%rdi)\n"
		       "syscall\n");
USER_SNIPPET(ux_jump, "jmp *%rdi\n");
USER_SNIPPET(ux_gs_read, "mov %gs:0, %rax\n"
			 "syscall\n");
USER_SNIPPET(ux_gs_load, "mov $0x2b, %eax\n" /* GDT_USER_DS */
			 "mov %eax, %gs\n"
			 "mov %gs, %rbx\n"
			 "syscall\n");
/* Spins until rdi TSC cycles have passed, then syscalls: the timer interrupts it. */
/* Shared with tlb_user_x86.c (user_x86.h), so global. */
__asm__(".globl ux_spin, ux_spin_end");
USER_SNIPPET(ux_spin, "rdtsc\n"
		      "shl $32, %rdx\n"
		      "or %rdx, %rax\n"
		      "mov %rax, %rsi\n"
		      "1: rdtsc\n"
		      "shl $32, %rdx\n"
		      "or %rdx, %rax\n"
		      "sub %rsi, %rax\n"
		      "cmp %rdi, %rax\n"
		      "jb 1b\n"
		      "syscall\n");
USER_SNIPPET(ux_cli, "cli\n"
		     "syscall\n");
USER_SNIPPET(ux_ud2, "ud2\n");
USER_SNIPPET(ux_int3, "int3\n");
USER_SNIPPET(ux_int_timer, "int $0x30\n");
/* Sets NT in RFLAGS (popf may, in ring 3), then syscalls with it set. */
USER_SNIPPET(ux_nt, "pushfq\n"
		    "orl $0x4000, (%rsp)\n"
		    "popfq\n"
		    "syscall\n");

/* A syscall straight away: the frame says where, who, with what; registers come back. */
static void syscall_round_trip(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_syscall, ux_syscall_end);
	struct x86_user_session s;
	const u64 sp = UX_STACK + PAGE_SIZE - 64;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, sp);
	s.regs.rdi = 1;
	s.regs.rsi = 2;
	s.regs.rdx = 3;
	s.regs.r10 = 4;
	s.regs.r8 = 5;
	s.regs.r9 = 6;
	s.regs.rbx = 0xb0b0b0b0b0ULL;
	s.regs.rbp = 0xbbbbbbbbULL;
	s.regs.r12 = 0x1212121212ULL;
	s.regs.r15 = 0x1515151515ULL;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_TRUE(test, user_mode(&s.regs));
	KUNIT_EXPECT_EQ(test, s.regs.cs, GDT_USER_CS);
	KUNIT_EXPECT_EQ(test, s.regs.ss, GDT_USER_DS);
	KUNIT_EXPECT_EQ(test, syscall_get_nr(&s.regs), 42);
	for (unsigned int i = 0; i < 6; i++)
		KUNIT_EXPECT_EQ(test, syscall_get_arg(&s.regs, i), i + 1);
	/* syscall is 2 bytes after the 5-byte mov: rcx (and rip) point past it. */
	KUNIT_EXPECT_EQ(test, instruction_pointer(&s.regs), UX_CODE + 7);
	KUNIT_EXPECT_EQ(test, s.regs.rcx, UX_CODE + 7);
	KUNIT_EXPECT_EQ(test, user_stack_pointer(&s.regs), sp);
	/* Ring 3 ran with interrupts on (r11: its RFLAGS) and IOPL 0. */
	KUNIT_EXPECT_TRUE(test, s.regs.r11 & X86_RFLAGS_IF);
	KUNIT_EXPECT_FALSE(test, s.regs.r11 & X86_RFLAGS_IOPL);
	KUNIT_EXPECT_EQ(test, s.regs.rbx, 0xb0b0b0b0b0ULL);
	KUNIT_EXPECT_EQ(test, s.regs.rbp, 0xbbbbbbbbULL);
	KUNIT_EXPECT_EQ(test, s.regs.r12, 0x1212121212ULL);
	KUNIT_EXPECT_EQ(test, s.regs.r15, 0x1515151515ULL);
	/* Back in the kernel: this CPU's per-CPU base, the task's own stack for ring 3. */
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), (u64)(uintptr_t)this_cpu());
	KUNIT_EXPECT_EQ(test, this_cpu()->entry_stack, current->stack_top);
	user_env_free(e);
}

/* Ring 3 reads and writes its own pages; the kernel's are closed to it, even the image. */
static void user_pages_yes_kernel_pages_no(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_load, ux_load_end);
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	*(volatile u64 *)phys_to_virt(e->data) = 0xda7a;
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = UX_DATA;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_EQ(test, s.regs.rax, 0xda7a);

	/* The kernel image: present, but not U/S - a protection fault in user mode. */
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = (unsigned long)_rodata_start;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, (unsigned long)_rodata_start);
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_PRESENT | X86_PF_USER);
	KUNIT_EXPECT_EQ(test, s.regs.rip, UX_CODE);

	/* This CPU's struct cpu, in the linear map, the same. */
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = (unsigned long)this_cpu();
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, (unsigned long)this_cpu());
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_PRESENT | X86_PF_USER);
	user_env_free(e);

	/* A store into the user's read-only code page, one into its data page. */
	e = user_env_new(test, ux_store, ux_store_end);
	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = UX_CODE + 0x100;
	s.regs.rsi = 0x5105e;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, UX_CODE + 0x100);
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_PRESENT | X86_PF_WRITE | X86_PF_USER);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = UX_DATA + 8;
	s.regs.rsi = 0x5105e;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_EQ(test, ((volatile u64 *)phys_to_virt(e->data))[1], 0x5105e);
	user_env_free(e);
}

/* Data pages never run: a jump into the user's RW page is an instruction-fetch #PF. */
static void user_data_is_not_executable(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_jump, ux_jump_end);
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	/* The data page holds a syscall: were it executable, this would be a syscall. */
	memcpy(phys_to_virt(e->data), "\x0f\x05", 2);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = UX_DATA;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, UX_DATA);
	KUNIT_EXPECT_EQ(test, s.regs.rip, UX_DATA);
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_PRESENT | X86_PF_USER | X86_PF_INSTR);
	/* Kernel text: executable for the kernel, not for ring 3 (U/S, not NX, refuses it). */
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = (unsigned long)_text_start;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, (unsigned long)_text_start);
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_PRESENT | X86_PF_USER | X86_PF_INSTR);
	user_env_free(e);
}

/*
 * Ring 3's GS base is its own: a %gs:0 load there reads address 0 (not this CPU's struct
 * cpu, which it would with a swapgs missing on the way out), and its fault comes in with
 * the kernel's base restored (one swapgs on the way in, not two).
 */
static void ring3_gs_base_is_the_users(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_gs_read, ux_gs_read_end);
	u64 me = (u64)(uintptr_t)this_cpu();
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_PF);
	KUNIT_EXPECT_EQ(test, s.cr2, 0);
	KUNIT_EXPECT_EQ(test, s.regs.error_code, X86_PF_USER);
	KUNIT_EXPECT_EQ(test, s.kernel_gs_base, me);
	KUNIT_EXPECT_EQ(test, s.user_gs_base, 0);
	user_env_free(e);
}

/*
 * Ring 3 loads a GS selector of its own (which also sets its GS base, to the descriptor's
 * 0), then syscalls: the entry still finds this CPU's data, the user's selector comes back
 * in the frame, and the kernel keeps its base afterwards.
 */
static void user_gs_selector_then_syscall(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_gs_load, ux_gs_load_end);
	u64 me = (u64)(uintptr_t)this_cpu();
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_EQ(test, s.regs.rbx, GDT_USER_DS);
	KUNIT_EXPECT_EQ(test, s.kernel_gs_base, me);
	KUNIT_EXPECT_EQ(test, s.user_gs_base, 0);
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), me);
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_KERNEL_GS_BASE), 0);
	KUNIT_EXPECT_PTR_EQ(test, this_cpu()->self, this_cpu());
	user_env_free(e);
}

/*
 * 50 ms in ring 3 with interrupts on: timer ticks arrive there, are handled (with swapgs
 * both ways) and resume the loop, whose registers survive them.
 */
static void timer_interrupts_ring3(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_spin, ux_spin_end);
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rdi = arch_cycles_hz() / 20;
	s.regs.rbx = 0x123456789aULL;
	s.regs.r13 = 0x13131313ULL;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_GE(test, s.irqs, 1);
	KUNIT_EXPECT_EQ(test, s.regs.rbx, 0x123456789aULL);
	KUNIT_EXPECT_EQ(test, s.regs.r13, 0x13131313ULL);
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), (u64)(uintptr_t)this_cpu());
	kunit_info(test, "%lu interrupts taken in ring 3", s.irqs);
	user_env_free(e);
}

/* Instructions ring 3 may not use, and what each becomes. */
static void privileged_instructions_fault(struct kunit *test)
{
	static const struct {
		const char *start, *end;
		unsigned long vector, error_code;
	} cases[] = {
		{ ux_cli, ux_cli_end, X86_VEC_GP, 0 }, /* IOPL 0 */
		{ ux_ud2, ux_ud2_end, X86_VEC_UD, 0 },
		{ ux_int3, ux_int3_end, X86_VEC_BP, 0 }, /* the one DPL 3 gate */
		/* "int 0x30" may not pose as the timer: #GP naming the IDT (checked below). */
		{ ux_int_timer, ux_int_timer_end, X86_VEC_GP, ~0UL },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct user_env *e = user_env_new(test, cases[i].start, cases[i].end);
		struct x86_user_session s;

		KUNIT_ASSERT_NOT_NULL(test, e);
		start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, user_env_run(e, &s), cases[i].vector);
		if (cases[i].error_code != ~0UL) {
			KUNIT_EXPECT_EQ(test, s.regs.error_code, cases[i].error_code);
		} else {
			/*
			 * Bit 1: the IDT; bits 15:3: the gate - vector 0x30 on silicon (SDM vol. 3,
			 * 6.13), its byte offset in the 16-byte-gate IDT (0x300) under QEMU's TCG,
			 * which computes intno * 16 + 2.
			 */
			KUNIT_EXPECT_EQ(test, s.regs.error_code & 3, 2);
			KUNIT_EXPECT_TRUE(test, s.regs.error_code >> 3 == 0x30 ||
						    s.regs.error_code >> 3 == 0x60);
		}
		KUNIT_EXPECT_TRUE(test, user_mode(&s.regs));
		user_env_free(e);
	}
}

/*
 * A frame that asks for more than ring 3 may have (IOPL 3, NT) leaves without it: with
 * IOPL 3, cli would succeed and the syscall after it would end the session.
 */
static void user_frame_is_sanitized(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_cli, ux_cli_end);
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	s.regs.rflags |= X86_RFLAGS_IOPL | X86_RFLAGS_NT;
	s.regs.rflags &= ~(u64)X86_RFLAGS_IF;
	s.regs.cs = GDT_KERNEL_CS;
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_GP);
	KUNIT_EXPECT_TRUE(test, user_mode(&s.regs));
	KUNIT_EXPECT_TRUE(test, s.regs.rflags & X86_RFLAGS_IF);
	KUNIT_EXPECT_FALSE(test, s.regs.rflags & (X86_RFLAGS_IOPL | X86_RFLAGS_NT));
	user_env_free(e);
}

/*
 * Ring 3 may set NT; syscall must not carry it into the kernel (SFMASK), where the next
 * iretq - the one that ends this very session - would raise #GP.
 */
static void nt_flag_stays_in_ring3(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_nt, ux_nt_end);
	struct x86_user_session s;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	KUNIT_EXPECT_TRUE(test, s.regs.r11 & X86_RFLAGS_NT);
	KUNIT_EXPECT_FALSE(test, read_rflags() & X86_RFLAGS_NT);
	user_env_free(e);
}

static inline void swapgs(void)
{
	__asm__ __volatile__("swapgs" : : : "memory");
}

static unsigned int gs_selector(void)
{
	unsigned int sel;

	__asm__ __volatile__("movl %%gs, %0" : "=r"(sel));
	return sel & 0xffff;
}

static int report_gs_selector(void *arg)
{
	*(unsigned int *)arg = gs_selector();
	return 0;
}

/*
 * A selector ring 3 loaded stays with its task: another task on this CPU runs with its own
 * (a new one: null), and ours is back after the switch (switch.S saves DS, ES, FS, GS).
 */
static void segment_selectors_stay_with_their_task(struct kunit *test)
{
	struct user_env *e = user_env_new(test, ux_gs_load, ux_gs_load_end);
	unsigned int other = ~0U, mine;
	struct x86_user_session s;
	unsigned long flags;
	struct task *t;

	KUNIT_ASSERT_NOT_NULL(test, e);
	start_thread(&s.regs, UX_CODE, UX_STACK + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user_env_run(e, &s), X86_VEC_SYSCALL);
	user_env_free(e);
	KUNIT_EXPECT_EQ(test, gs_selector(), GDT_USER_DS);
	t = kthread_run_on_cpu(report_gs_selector, &other, this_cpu()->id, "gs_reader");
	KUNIT_ASSERT_NOT_NULL(test, t);
	kthread_stop(t);
	mine = gs_selector();
	/* Back to null, loaded the way switch.S does it (the per-CPU base must stay). */
	flags = arch_local_irq_save();
	swapgs();
	__asm__ __volatile__("movl %0, %%gs" : : "r"(0) : "memory");
	swapgs();
	arch_local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, other, 0);
	KUNIT_EXPECT_EQ(test, mine, GDT_USER_DS);
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), (u64)(uintptr_t)this_cpu());
}

/*
 * The state of every entry window - ring 0, but the user's GS base still (or already) live:
 * the first instructions of the syscall entry and of a stub from ring 3, the exit between
 * its swapgs and iretq. An NMI there sees a ring 0 CS in its frame; the paranoid path must
 * swap anyway, or its per-CPU accesses (the shootdown handler's smp_processor_id()) would
 * read the user's base. Made by hand: swapgs, an NMI to ourselves, swapgs back. Nothing in
 * the window touches %gs; the NMI is counted through an array, not this_cpu().
 *
 * Needs two CPUs: alone, an NMI that carries no shootdown is reported as unexplained.
 */
static void nmi_in_an_entry_window(struct kunit *test)
{
	struct x86_shootdown_stats before, after;
	unsigned long flags;
	u64 start, limit, base_in_window;
	bool arrived = false;
	unsigned int me;
	u32 apic;

	if (num_online_cpus() < 2)
		kunit_skip(test, "an NMI with no shootdown is unexplained on one CPU: needs SMP");
	preempt_disable();
	me = this_cpu()->id;
	apic = x86_lapic_id();
	limit = arch_cycles_hz() / 10;
	x86_shootdown_stats_cpu(me, &before);
	flags = arch_local_irq_save();
	swapgs();
	base_in_window = rdmsr(MSR_IA32_GS_BASE);
	x86_lapic_send_ipi(apic, ICR_NMI);
	start = arch_cycles();
	while (!arrived && arch_cycles() - start < limit) {
		x86_shootdown_stats_cpu(me, &after);
		arrived = after.nmis != before.nmis;
	}
	swapgs();
	arch_local_irq_restore(flags);
	preempt_enable();
	KUNIT_EXPECT_EQ(test, base_in_window, 0); /* the user's (parked) base was live */
	KUNIT_EXPECT_TRUE(test, arrived);
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_IA32_GS_BASE), (u64)(uintptr_t)this_cpu());
	KUNIT_EXPECT_EQ(test, rdmsr(MSR_KERNEL_GS_BASE), 0);
}

static struct kunit_case user_x86_cases[] = {
	KUNIT_CASE(syscall_round_trip),
	KUNIT_CASE(user_pages_yes_kernel_pages_no),
	KUNIT_CASE(user_data_is_not_executable),
	KUNIT_CASE(ring3_gs_base_is_the_users),
	KUNIT_CASE(user_gs_selector_then_syscall),
	KUNIT_CASE(timer_interrupts_ring3),
	KUNIT_CASE(privileged_instructions_fault),
	KUNIT_CASE(user_frame_is_sanitized),
	KUNIT_CASE(nt_flag_stays_in_ring3),
	KUNIT_CASE(nmi_in_an_entry_window),
	KUNIT_CASE(segment_selectors_stay_with_their_task),
	{},
};

static struct kunit_suite user_x86_suite = {
	.name = "user_x86",
	.test_cases = user_x86_cases,
};
kunit_test_suite(user_x86_suite);
