/* panic() and warnings: fatal errors name the running test and exit QEMU with status 2. */
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/exit.h>
#include <kernel/irq.h>
#include <kunit/test.h>

static unsigned long warnings;

__noreturn void panic(const char *fmt, ...)
{
	const char *test = kunit_current_test();
	va_list ap;

	local_irq_disable();
	console_puts("\nPANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	console_puts("\n");
	if (test)
		printk("PANIC: while running test %s\n", test);
	kernel_exit(EXIT_PANIC);
}

void warn_report(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	warnings++;
	/* A KTAP diagnostic line, so a warning inside a test reads as part of its report. */
	printk("    # WARNING: %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	console_puts("\n");
}

unsigned long warn_count(void)
{
	return warnings;
}
