/* The PL011 console: polled output and input, usable from any context (exception handlers too). */
#include <asm/io.h>
#include <asm/pl011.h>
#include <kernel/arch.h>
#include <mm/mm.h>

/*
 * Where characters go: a virtual address in the linear map. Until arm64_start() has read
 * the device tree this is QEMU virt's fixed PL011, which the boot tables map (the whole
 * first GiB is Device memory). phys_to_virt() written out as the constant it is, so that
 * it holds from the first instruction.
 */
static unsigned long uart_base = PAGE_OFFSET + PL011_EARLY_BASE;

/*
 * UARTCLK: QEMU virt feeds its PL011 from a fixed 24 MHz clock ("apb-pclk" in the device
 * tree). divisor = UARTCLK / (16 * baud) = 24000000 / (16 * 115200) = 13.0208...:
 * IBRD = 13 and FBRD = round(0.0208 * 64) = 1. (QEMU ignores the rate; silicon doesn't.)
 */
#define PL011_IBRD_115200 13
#define PL011_FBRD_115200 1

void arm64_console_init(phys_addr_t base)
{
	unsigned long b = (unsigned long)(uintptr_t)phys_to_virt(base);

	/* Let whatever the early console queued drain, then follow the TRM's order: disable,
	 * flush the FIFO (FEN = 0), set the rate and format, enable. */
	while (mmio_read32(uart_base + UARTFR) & UARTFR_BUSY)
		;
	uart_base = b;
	mmio_write32(b + UARTCR, 0);
	while (mmio_read32(b + UARTFR) & UARTFR_BUSY)
		;
	mmio_write32(b + UARTLCR_H, 0);
	mmio_write32(b + UARTIBRD, PL011_IBRD_115200);
	mmio_write32(b + UARTFBRD, PL011_FBRD_115200);
	/* 8 data bits, no parity, 1 stop bit, FIFOs on. LCR_H last: it latches IBRD/FBRD. */
	mmio_write32(b + UARTLCR_H, UARTLCR_H_WLEN8 | UARTLCR_H_FEN);
	/* Polled: no interrupts wanted, none left pending. */
	mmio_write32(b + UARTIMSC, 0);
	mmio_write32(b + UARTICR, 0x7ff);
	mmio_write32(b + UARTCR, UARTCR_UARTEN | UARTCR_TXE | UARTCR_RXE);
}

/* No lock and no state beyond the base address: safe in exception handlers and panics. */
void arch_console_putc(char c)
{
	while (mmio_read32(uart_base + UARTFR) & UARTFR_TXFF)
		;
	mmio_write32(uart_base + UARTDR, (u8)c);
}

/*
 * Polled input: UARTIMSC stays 0, so the PL011 never raises its SPI and the GIC needs no
 * routing for it; the console polls between timer ticks (kernel/console.c says why). A read
 * of UARTDR pops one byte from the receive FIFO; bits 8-11 are its framing/parity/break/
 * overrun flags, which a console has no use for, so only the byte is returned.
 */
int arch_console_getc(void)
{
	if (mmio_read32(uart_base + UARTFR) & UARTFR_RXFE)
		return -1;
	return (int)(mmio_read32(uart_base + UARTDR) & 0xff);
}
