/* The COM1 16550 UART: the boot console, polled both ways, usable from any context. */
#include <asm/io.h>
#include <asm/processor.h>
#include <asm/serial.h>
#include <kernel/arch.h>

/* Register offsets from the base port (DLL/DLM replace THR/IER while LCR.DLAB is set). */
#define UART_THR 0 /* transmit holding register (write) */
#define UART_RBR 0 /* receive buffer register (read) */
#define UART_DLL 0 /* divisor latch, low byte */
#define UART_IER 1 /* interrupt enable */
#define UART_DLM 1 /* divisor latch, high byte */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */

#define LCR_8N1	    0x03 /* 8 data bits, no parity, 1 stop bit */
#define LCR_DLAB    0x80 /* divisor latch access */
#define FCR_ENABLE  0x07 /* enable FIFOs and clear both */
#define MCR_DTR_RTS 0x03 /* "ready": some terminals wait for these */
#define LSR_DR	    0x01 /* data ready: the receive FIFO holds a byte */
#define LSR_THRE    0x20 /* transmit holding register empty */

/* The UART clock is 1.8432 MHz / 16 = 115200: divisor 1 gives 115200 baud. */
#define UART_DIVISOR 1

void x86_serial_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DLL, UART_DIVISOR & 0xff);
	outb(COM1_PORT + UART_DLM, UART_DIVISOR >> 8);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ENABLE);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS);
}

/*
 * Polled: wait until the UART can take a byte, then hand it over. No lock and no buffer,
 * so it works from exception handlers and with interrupts off (one CPU for now).
 */
void arch_console_putc(char c)
{
	while (!(inb(COM1_PORT + UART_LSR) & LSR_THRE))
		cpu_relax();
	outb(COM1_PORT + UART_THR, (u8)c);
}

/*
 * Polled input: IER stays 0, so the UART never raises IRQ4 and nothing needs routing through
 * the IOAPIC; the console polls between timer ticks instead (kernel/console.c says why). A
 * read of RBR pops one byte from the 16-byte receive FIFO; QEMU stops reading its chardev
 * while that FIFO is full, so a slow poll loses nothing there.
 */
int arch_console_getc(void)
{
	if (!(inb(COM1_PORT + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1_PORT + UART_RBR);
}
