/* The boot console: a 16550 UART on COM1. */
#pragma once

#define COM1_PORT 0x3f8

/* 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on, no interrupts. */
void x86_serial_init(void);
