/* printk: formatted output to the boot console, "\n" sent as "\r\n" for terminals. */
#include <kernel/printk.h>
#include <kernel/arch.h>
#include <lib/printf.h>

static void console_putc(char c, void *ctx)
{
	(void)ctx;
	if (c == '\n')
		arch_console_putc('\r');
	arch_console_putc(c);
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++, NULL);
}

void console_write(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		console_putc(buf[i], NULL);
}

int vprintk(const char *fmt, va_list ap)
{
	return vcbprintf(console_putc, NULL, fmt, ap);
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
