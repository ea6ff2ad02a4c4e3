/* The Arm PL011 UART: registers and the console driver (arch/arm64/pl011.c). */
#pragma once

#include <lib/types.h>

/* QEMU virt's first PL011, used before the device tree has told us where the UART is. */
#define PL011_EARLY_BASE 0x09000000UL

#define UARTDR	  0x000 /* data: a write queues one character, a read pops one */
#define UARTFR	  0x018 /* flags */
#define UARTIBRD  0x024 /* integer part of the baud-rate divisor */
#define UARTFBRD  0x028 /* fractional part, in 64ths */
#define UARTLCR_H 0x02c /* line control: word length, FIFOs, parity */
#define UARTCR	  0x030 /* control: enable UART, transmitter, receiver */
#define UARTIMSC  0x038 /* interrupt mask set/clear */
#define UARTICR	  0x044 /* interrupt clear */

#define UARTFR_BUSY	BIT(3) /* still transmitting (FIFO or shift register not empty) */
#define UARTFR_RXFE	BIT(4) /* receive FIFO empty */
#define UARTFR_TXFF	BIT(5) /* transmit FIFO full */
#define UARTLCR_H_FEN	BIT(4)
#define UARTLCR_H_WLEN8 (3UL << 5)
#define UARTCR_UARTEN	BIT(0)
#define UARTCR_TXE	BIT(8)
#define UARTCR_RXE	BIT(9)

/* Switches the console to the PL011 at base (its physical address; the kernel reaches it at
 * phys_to_virt(base), in the boot tables and in mm_init()'s) and sets it up for 115200 8N1. */
void arm64_console_init(phys_addr_t base);
