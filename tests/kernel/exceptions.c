/* Faults taken on purpose: the nofault copies, call_nofault(), and what the fault record says. */
#include <asm/pgtable.h>
#include <kernel/fault.h>
#include <kernel/irq.h>
#include <kunit/test.h>
#include <lib/errno.h>
#include <lib/string.h>

/*
 * The start of the test VA window: nothing maps it on any configuration (vm_test_area()
 * hands it out, and every test that maps there unmaps again), so any access faults.
 */
#define UNMAPPED_VA VM_TEST_START

static unsigned long fault_count(void)
{
	return last_fault()->count;
}

static void copy_from_unmapped_fails(struct kunit *test)
{
	u8 dst[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(dst, (const void *)UNMAPPED_VA, 8), -EFAULT);
	/* The copy stops at the first fault: one fault recorded, for the first byte. */
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA);
	KUNIT_EXPECT_NE(test, last_fault()->pc, 0);
	KUNIT_EXPECT_EQ(test, dst[0], 1); /* nothing was copied */

	/* Another page in the window, and a second call: one more fault each time. */
	KUNIT_EXPECT_EQ(
	    test, copy_from_kernel_nofault(dst, (const void *)(UNMAPPED_VA + 0x2345), 3), -EFAULT);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 2);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x2345);
}

static void copy_to_unmapped_fails(struct kunit *test)
{
	const u8 src[4] = { 0xde, 0xad, 0xbe, 0xef };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault((void *)(UNMAPPED_VA + 0x18), src, 4),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x18);

	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault((void *)UNMAPPED_VA, src, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 2);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA);
}

static void copy_valid_buffer_succeeds(struct kunit *test)
{
	static const char msg[] = "nofault copies of mapped memory";
	char dst[sizeof(msg)], back[sizeof(msg)];
	unsigned long before = fault_count();

	memset(dst, 0, sizeof(dst));
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(dst, msg, sizeof(msg)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(dst, msg, sizeof(msg)), 0);

	memset(back, 0, sizeof(back));
	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault(back, dst, sizeof(dst)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(back, msg, sizeof(msg)), 0);

	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(dst, msg, 0), 0); /* n == 0: no access */
	KUNIT_EXPECT_EQ(test, fault_count(), before);			 /* no fault was recorded */
}

/* What a call_nofault() callee did: `done` is set only if it ran to its end. */
struct nofault_probe {
	volatile u64 *addr;
	u64 value;
	bool done;
	int inner_ret;
};

static void read_from(void *arg)
{
	struct nofault_probe *p = arg;

	p->value = *p->addr;
	p->done = true;
}

static void write_to(void *arg)
{
	struct nofault_probe *p = arg;

	*p->addr = 0x5a5a5a5a5a5a5a5aULL;
	p->done = true;
}

/*
 * Faults with the callee-saved registers in use: 24 values live across the faulting load,
 * more than the caller-saved registers of either arch can hold (x86-64: 9, arm64: 18), make
 * the compiler save the caller's rbx/r12-r15 or x19-x28 on this function's stack and reuse
 * them. Unwinding out of the fault skips the epilogue that would restore them, so
 * call_nofault() must bring them back itself.
 */
static void read_with_registers_in_use(void *arg)
{
	struct nofault_probe *p = arg;
	volatile u64 v[24];
	u64 l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14, l15, l16, l17, l18,
	    l19, l20, l21, l22, l23;

	for (int i = 0; i < 24; i++)
		v[i] = ~0ULL / (i + 2);
	l0 = v[0];
	l1 = v[1];
	l2 = v[2];
	l3 = v[3];
	l4 = v[4];
	l5 = v[5];
	l6 = v[6];
	l7 = v[7];
	l8 = v[8];
	l9 = v[9];
	l10 = v[10];
	l11 = v[11];
	l12 = v[12];
	l13 = v[13];
	l14 = v[14];
	l15 = v[15];
	l16 = v[16];
	l17 = v[17];
	l18 = v[18];
	l19 = v[19];
	l20 = v[20];
	l21 = v[21];
	l22 = v[22];
	l23 = v[23];
	p->value = *p->addr;
	/* Volatile stores stay after the faulting load: all of l0..l23 are live across it. */
	v[0] = l0;
	v[1] = l1;
	v[2] = l2;
	v[3] = l3;
	v[4] = l4;
	v[5] = l5;
	v[6] = l6;
	v[7] = l7;
	v[8] = l8;
	v[9] = l9;
	v[10] = l10;
	v[11] = l11;
	v[12] = l12;
	v[13] = l13;
	v[14] = l14;
	v[15] = l15;
	v[16] = l16;
	v[17] = l17;
	v[18] = l18;
	v[19] = l19;
	v[20] = l20;
	v[21] = l21;
	v[22] = l22;
	v[23] = l23;
	p->done = true;
}

/* Changes the interrupt mask, then faults: the escape must put the caller's mask back. */
static void toggle_irqs_then_read(void *arg)
{
	struct nofault_probe *p = arg;

	if (irqs_disabled())
		local_irq_enable();
	else
		local_irq_disable();
	p->value = *p->addr;
	p->done = true;
}

/*
 * Runs fn(arg) under call_nofault() with a dozen locals alive across the call, more than
 * either arch has callee-saved registers (x86-64: 6, arm64: 10), so some live in registers
 * and some on the stack. Unwinding out of a fault must give all of them back intact, and
 * leave the interrupt mask as it was. Returns call_nofault()'s result.
 */
static int call_nofault_checked(struct kunit *test, void (*fn)(void *), void *arg)
{
	/*
	 * Twelve values the compiler can neither fold nor recompute after the call (each is
	 * a volatile load), so all twelve must be kept somewhere across it.
	 */
	volatile u64 v[12];
	u64 l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11;
	bool irqs_off = irqs_disabled();
	u64 changed_bits;
	int ret;

	for (int i = 0; i < 12; i++)
		v[i] = 0x0123456789abcdefULL * (i + 1);
	l0 = v[0];
	l1 = v[1];
	l2 = v[2];
	l3 = v[3];
	l4 = v[4];
	l5 = v[5];
	l6 = v[6];
	l7 = v[7];
	l8 = v[8];
	l9 = v[9];
	l10 = v[10];
	l11 = v[11];
	ret = call_nofault(fn, arg);
	/* Any bit a local lost while unwinding out of a fault shows up here. */
	changed_bits = (l0 ^ v[0]) | (l1 ^ v[1]) | (l2 ^ v[2]) | (l3 ^ v[3]) | (l4 ^ v[4]) |
		       (l5 ^ v[5]) | (l6 ^ v[6]) | (l7 ^ v[7]) | (l8 ^ v[8]) | (l9 ^ v[9]) |
		       (l10 ^ v[10]) | (l11 ^ v[11]);
	KUNIT_EXPECT_EQ(test, changed_bits, 0);
	KUNIT_EXPECT_EQ(test, irqs_disabled(), irqs_off);
	return ret;
}

static void call_nofault_catches_read(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)(UNMAPPED_VA + 0x40), .value = 7 };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_from, &p), -EFAULT);
	KUNIT_EXPECT_FALSE(test, p.done); /* fn did not go on after the fault */
	KUNIT_EXPECT_EQ(test, p.value, 7);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x40);
}

static void call_nofault_catches_write(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)(UNMAPPED_VA + 0x1000) };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, write_to, &p), -EFAULT);
	KUNIT_EXPECT_FALSE(test, p.done);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x1000);
}

/* The same with interrupts masked: the escape must not unmask them on the way out. */
static void call_nofault_keeps_irqs_masked(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)UNMAPPED_VA };
	unsigned long flags;
	int ret;

	local_irq_save(flags);
	ret = call_nofault_checked(test, read_from, &p);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	KUNIT_EXPECT_FALSE(test, irqs_disabled()); /* the suites run with interrupts on */
}

static void call_nofault_restores_registers(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)(UNMAPPED_VA + 0x48) };

	/* call_nofault_checked() fails this case if a caller's register came back wrong. */
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_with_registers_in_use, &p), -EFAULT);
	KUNIT_EXPECT_FALSE(test, p.done);
}

static void call_nofault_restores_irq_mask(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)UNMAPPED_VA };
	unsigned long flags;
	int ret;

	/* Called with interrupts on; fn masks them and faults. */
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, toggle_irqs_then_read, &p), -EFAULT);
	KUNIT_EXPECT_FALSE(test, irqs_disabled());

	/* Called with interrupts masked; fn unmasks them and faults. */
	local_irq_save(flags);
	ret = call_nofault_checked(test, toggle_irqs_then_read, &p);
	KUNIT_EXPECT_TRUE(test, irqs_disabled());
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	KUNIT_EXPECT_FALSE(test, p.done);
}

/* A jump to an unmapped address: the instruction fetch itself faults, at that address. */
static void call_nofault_catches_fetch(struct kunit *test)
{
	void (*fn)(void *) = (void (*)(void *))(UNMAPPED_VA + 0x3000);
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, fn, NULL), -EFAULT);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x3000);
	KUNIT_EXPECT_EQ(test, last_fault()->pc, UNMAPPED_VA + 0x3000);
}

static void call_nofault_without_fault(struct kunit *test)
{
	u64 word = 0x1122334455667788ULL;
	struct nofault_probe p = { .addr = &word };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_from, &p), 0);
	KUNIT_EXPECT_TRUE(test, p.done);
	KUNIT_EXPECT_EQ(test, p.value, 0x1122334455667788ULL);

	p.done = false;
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, write_to, &p), 0);
	KUNIT_EXPECT_TRUE(test, p.done);
	KUNIT_EXPECT_EQ(test, word, 0x5a5a5a5a5a5a5a5aULL);
	KUNIT_EXPECT_EQ(test, fault_count(), before);
}

/* Fault, fault, no fault, fault: each call arms and disarms its own escape. */
static void call_nofault_repeatedly(struct kunit *test)
{
	u64 word = 3;
	struct nofault_probe bad = { .addr = (volatile u64 *)UNMAPPED_VA };
	struct nofault_probe good = { .addr = &word };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_from, &bad), -EFAULT);
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, write_to, &bad), -EFAULT);
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_from, &good), 0);
	KUNIT_EXPECT_EQ(test, good.value, 3);
	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, read_from, &bad), -EFAULT);
	KUNIT_EXPECT_FALSE(test, bad.done);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 3);
}

static void copy_inside_call_nofault(void *arg)
{
	struct nofault_probe *p = arg;
	u64 v;

	p->inner_ret = copy_from_kernel_nofault(&v, (const void *)p->addr, sizeof(v));
	p->done = true;
}

/*
 * A nofault copy inside call_nofault(): its fault has an exception-table entry, which
 * wins over call_nofault's escape, so fn sees -EFAULT from the copy and carries on, and
 * call_nofault() itself reports success.
 */
static void exception_table_wins_inside_call_nofault(struct kunit *test)
{
	struct nofault_probe p = { .addr = (volatile u64 *)(UNMAPPED_VA + 0x80) };
	unsigned long before = fault_count();

	KUNIT_EXPECT_EQ(test, call_nofault_checked(test, copy_inside_call_nofault, &p), 0);
	KUNIT_EXPECT_TRUE(test, p.done);
	KUNIT_EXPECT_EQ(test, p.inner_ret, -EFAULT);
	KUNIT_EXPECT_EQ(test, fault_count(), before + 1);
	KUNIT_EXPECT_EQ(test, last_fault()->addr, UNMAPPED_VA + 0x80);
}

static struct kunit_case exceptions_cases[] = {
	KUNIT_CASE(copy_from_unmapped_fails),
	KUNIT_CASE(copy_to_unmapped_fails),
	KUNIT_CASE(copy_valid_buffer_succeeds),
	KUNIT_CASE(call_nofault_catches_read),
	KUNIT_CASE(call_nofault_catches_write),
	KUNIT_CASE(call_nofault_keeps_irqs_masked),
	KUNIT_CASE(call_nofault_restores_registers),
	KUNIT_CASE(call_nofault_restores_irq_mask),
	KUNIT_CASE(call_nofault_catches_fetch),
	KUNIT_CASE(call_nofault_without_fault),
	KUNIT_CASE(call_nofault_repeatedly),
	KUNIT_CASE(exception_table_wins_inside_call_nofault),
	{},
};

static struct kunit_suite exceptions_suite = {
	.name = "exceptions",
	.test_cases = exceptions_cases,
};
kunit_test_suite(exceptions_suite);
