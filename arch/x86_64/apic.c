/* Interrupts on x86-64: the 8259 PIC silenced, the local APIC and its periodic timer. */
#include <asm/apic.h>
#include <asm/hpet.h>
#include <asm/io.h>
#include <asm/processor.h>
#include <asm/traps.h>
#include <kernel/arch.h>
#include <kernel/printk.h>
#include <kernel/timer.h>
#include <mm/mm.h>

/* The two 8259s: command and data ports of the master and of the slave. */
#define PIC1_CMD		  0x20
#define PIC1_DATA		  0x21
#define PIC2_CMD		  0xa0
#define PIC2_DATA		  0xa1
#define ICW1_INIT_ICW4		  0x11 /* start initialisation, ICW4 follows, cascaded, edge */
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04
#define ICW3_SLAVE_ID		  0x02
#define ICW4_8086		  0x01

/*
 * The legacy PIC is unused (the LAPIC timer replaces its PIT interrupt), but it must be
 * reprogrammed before being masked: the BIOS leaves its vectors at 0x08-0x0f, on top of
 * #DF..#GP, so a stray legacy interrupt would look like a double fault. Moved to 0x20-0x2f
 * and fully masked it stays silent, and a glitch is recognisable as one.
 */
static void x86_pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, X86_PIC_VECTOR_BASE);
	outb(PIC2_DATA, X86_PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

static unsigned long lapic_reg(unsigned int offset)
{
	return (unsigned long)phys_to_virt(LAPIC_BASE + offset);
}

static u32 lapic_read(unsigned int offset)
{
	return mmio_read32(lapic_reg(offset));
}

static void lapic_write(unsigned int offset, u32 v)
{
	mmio_write32(lapic_reg(offset), v);
}

void x86_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void x86_lapic_enable(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);

	if ((base & ~0xfffULL) != LAPIC_BASE)
		printk("x86_64: LAPIC at %#llx, expected %#lx\n",
		       (unsigned long long)(base & ~0xfffULL), LAPIC_BASE);
	/* Globally enabled (in xAPIC mode) by the MSR, then software-enabled by SVR. */
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_MSR_ENABLE);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | X86_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	/*
	 * LINT0 is where the PIC's output arrives in "virtual wire" mode: masked, so the 8259
	 * cannot reach us even if it tried. LINT1 (NMI) and the error LVT keep their reset state.
	 */
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
}

/*
 * The LAPIC timer counts down at a rate that no register reports (the bus or core crystal
 * clock divided by LAPIC_TIMER_DIV): run it one-shot and masked from 0xffffffff for 10 ms
 * of HPET time and see how far it got. The TSC is measured in the same window.
 */
static u32 x86_lapic_timer_hz(void)
{
	u64 h0, h1, t0, t1, hz = x86_hpet_hz();
	u32 elapsed;

	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | X86_TIMER_VECTOR);
	h0 = x86_hpet_read();
	t0 = rdtsc_ordered();
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	do {
		h1 = x86_hpet_read();
	} while (h1 - h0 < hz / 100);
	elapsed = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
	t1 = rdtsc_ordered();
	lapic_write(LAPIC_TIMER_INIT, 0);
	x86_tsc_set_hz(x86_rate_from_hpet(t1 - t0, h1 - h0));
	return (u32)x86_rate_from_hpet(elapsed, h1 - h0);
}

static u32 lapic_timer_hz; /* the LAPIC timer's input clock, measured once at boot */

/* Writing the initial count restarts the countdown: the next tick comes one new period on. */
void arch_timer_set_hz(unsigned int hz)
{
	lapic_write(LAPIC_TIMER_INIT, lapic_timer_hz / hz);
}

void arch_irq_init(void)
{
	u32 lapic_hz;

	x86_pic_disable();
	x86_hpet_init();
	x86_lapic_enable();
	lapic_hz = x86_lapic_timer_hz();
	lapic_timer_hz = lapic_hz;

	/* Periodic: the count reloads by itself, one interrupt every 1/TIMER_HZ s. */
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | X86_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, lapic_hz / TIMER_HZ);
	printk("x86_64: LAPIC timer %u Hz (/16), tick every %u counts at %d Hz; TSC %llu MHz\n",
	       lapic_hz, lapic_hz / TIMER_HZ, TIMER_HZ,
	       (unsigned long long)(arch_cycles_hz() / 1000000));
}
