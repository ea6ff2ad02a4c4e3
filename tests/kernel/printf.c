/* The freestanding printf (lib/printf.c) against the strings C99 says it must produce. */
#include <kunit/test.h>
#include <lib/printf.h>
#include <lib/string.h>

/* <limits.h> may pull in the host's; the compiler's own predefined macros are enough. */
#define INT_MIN	   (-__INT_MAX__ - 1)
#define INT_MAX	   __INT_MAX__
#define LONG_MIN   (-__LONG_MAX__ - 1L)
#define LLONG_MIN  (-__LONG_LONG_MAX__ - 1LL)
#define ULLONG_MAX (__LONG_LONG_MAX__ * 2ULL + 1ULL)

/*
 * Formats into a buffer and checks both the text and the return value, which must be the
 * length of the full output. The buffer is filled with '#' first so that a missing
 * terminator or a stray write shows up.
 */
static void check_fmt_va(struct kunit *test, int line, const char *expect, const char *fmt,
			 va_list ap)
{
	char buf[128];
	int n;

	memset(buf, '#', sizeof(buf));
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (strcmp(buf, expect) != 0 || n != (int)strlen(expect))
		kunit_fail(test, false, __FILE__, line,
			   "format \"%s\": expected \"%s\" (%d), got \"%s\" (%d)", fmt, expect,
			   (int)strlen(expect), buf, n);
}

/* Formats the compiler checks against their arguments: nearly all of them. */
static __printf(4, 5) void check_fmt(struct kunit *test, int line, const char *expect,
				     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_fmt_va(test, line, expect, fmt, ap);
	va_end(ap);
}

/*
 * The same without the format attribute, for what C defines but GCC warns about because
 * it is redundant or suspicious in real code: '-' with '0', '+' with ' ', '0' with a
 * precision, '+' on an unsigned conversion, a NULL %s. Here that is the point.
 */
static void check_fmt_unchecked(struct kunit *test, int line, const char *expect, const char *fmt,
				...)
{
	va_list ap;

	va_start(ap, fmt);
	check_fmt_va(test, line, expect, fmt, ap);
	va_end(ap);
}

#define CHECK(expect, fmt, ...) check_fmt(test, __LINE__, expect, fmt, ##__VA_ARGS__)
#define CHECK_UNCHECKED(expect, fmt, ...) \
	check_fmt_unchecked(test, __LINE__, expect, fmt, ##__VA_ARGS__)

static void printf_conversions(struct kunit *test)
{
	CHECK("plain text", "plain text");
	CHECK("42", "%d", 42);
	CHECK("-42", "%i", -42);
	CHECK("4294967295", "%u", 4294967295u);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK("17", "%o", 15);
	CHECK("x", "%c", 'x');
	CHECK("hello", "%s", "hello");
	CHECK("100%", "100%%");
	CHECK("a1b2c", "a%db%dc", 1, 2);
	CHECK("", "%s", "");
}

/* %p is "%#lx": "0x" and lowercase hex digits, even for NULL (C leaves %p's shape to us). */
static void printf_pointer(struct kunit *test)
{
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("0xffffffffffffffff", "%p", (void *)~0UL);
	CHECK("0x0", "%p", (void *)NULL);
	CHECK("          0x1234|", "%16p|", (void *)0x1234);
	CHECK("0x1234          |", "%-16p|", (void *)0x1234);
}

static void printf_width_and_flags(struct kunit *test)
{
	CHECK("   42|", "%5d|", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);		 /* the sign goes before the zeros */
	CHECK_UNCHECKED("42   |", "%-05d|", 42); /* '-' beats '0' */
	CHECK("+42", "%+d", 42);
	CHECK("-42", "%+d", -42);
	CHECK("+0", "%+d", 0);
	CHECK(" 42", "% d", 42);
	CHECK("-42", "% d", -42);
	CHECK_UNCHECKED("+42", "%+ d", 42); /* '+' beats ' ' */
	CHECK("+0007", "%+05d", 7);
	CHECK("+42  |", "%-+5d|", 42);
	CHECK_UNCHECKED("5", "%+u", 5u); /* '+' and ' ' only apply to signed conversions */
	CHECK_UNCHECKED("5", "% u", 5u);
	CHECK_UNCHECKED("ff", "%+x", 0xffu);
	CHECK("    x|", "%5c|", 'x');
	CHECK("x    |", "%-5c|", 'x');
	CHECK("   ab|", "%5s|", "ab");
	CHECK("ab   |", "%-5s|", "ab");
	CHECK("abcdef", "%3s", "abcdef"); /* a width never truncates */
}

static void printf_precision(struct kunit *test)
{
	CHECK("00042", "%.5d", 42);
	CHECK("-00042", "%.5d", -42);
	CHECK("   05", "%5.2d", 5);
	CHECK_UNCHECKED("   05", "%05.2d", 5); /* a precision turns '0' off */
	CHECK("", "%.0d", 0);		       /* zero with precision 0: no digits at all */
	CHECK("     |", "%5.0d|", 0);
	CHECK("+", "%+.0d", 0);
	CHECK("000ab", "%.5x", 0xabu);
	CHECK_UNCHECKED("     000ab", "%010.5x", 0xabu);
	CHECK("ab", "%.2s", "abcdef");
	CHECK("    ab|", "%6.2s|", "abcdef");
	CHECK("a  |", "%-3.1s|", "abc");
	CHECK("|", "%.0s|", "abc");
	CHECK("abc", "%.10s", "abc");
}

/*
 * '#': "0x"/"0X" before a hex value, and a leading 0 for octal only when it is missing.
 * One deliberate difference from C, shared with Linux: a zero in hex keeps its "0x", so
 * "%#018lx" is 18 characters wide for every value in a register dump.
 */
static void printf_alternate_form(struct kunit *test)
{
	CHECK("0xff", "%#x", 0xffu);
	CHECK("0XFF", "%#X", 0xffu);
	CHECK("0x0", "%#x", 0u);
	CHECK("0X0", "%#X", 0u);
	CHECK("0x0000000000000000", "%#018lx", 0UL);
	CHECK("0x00000000000000ab", "%#018lx", 0xabUL);
	CHECK("0x0001f", "%#07x", 0x1fu);
	CHECK("0x1f    |", "%#-8x|", 0x1fu);
	CHECK("0x00ab", "%#.4x", 0xabu);
	CHECK("010", "%#o", 8u);
	CHECK("0", "%#o", 0u);
	CHECK("010", "%#.3o", 8u); /* the precision already supplies the leading zero */
	CHECK("0", "%#.0o", 0u);
	CHECK("00000010", "%#08o", 8u);
}

static void printf_length_modifiers(struct kunit *test)
{
	/* hh and h: the argument is converted to (unsigned) char / short first. */
	CHECK("-1", "%hhd", 255);
	CHECK("127", "%hhd", 127);
	CHECK("127", "%hhd", -129);
	CHECK("0", "%hhu", 256);
	CHECK("ff", "%hhx", 0x1ff);
	CHECK("-1", "%hd", 65535);
	CHECK("2345", "%hx", 0x12345);
	CHECK("65535", "%hu", -1);
	/* l, ll, z, t, j: 64 bits on both of our architectures. */
	CHECK("-9223372036854775808", "%ld", LONG_MIN);
	CHECK("18446744073709551615", "%lu", ~0UL);
	CHECK("123456789abcdef", "%lx", 0x123456789abcdefUL);
	CHECK("-9223372036854775808", "%lld", LLONG_MIN);
	CHECK("18446744073709551615", "%llu", ULLONG_MAX);
	CHECK("ffffffffffffffff", "%llx", ULLONG_MAX);
	CHECK("1777777777777777777777", "%llo", ULLONG_MAX);
	CHECK("18446744073709551615", "%zu", (size_t)-1);
	CHECK("-3", "%zd", (ptrdiff_t)-3); /* %zd: the signed type of size_t's width */
	CHECK("-3", "%td", (ptrdiff_t)-3);
	CHECK("-9223372036854775808", "%jd", (intmax_t)LLONG_MIN);
	CHECK("18446744073709551615", "%ju", (uintmax_t)ULLONG_MAX);
	/* The int extremes: INT_MIN has no positive counterpart in int. */
	CHECK("-2147483648", "%d", INT_MIN);
	CHECK("2147483647", "%d", INT_MAX);
	CHECK("-2147483648|-9223372036854775808", "%d|%lld", INT_MIN, LLONG_MIN);
}

static void printf_star_width_and_precision(struct kunit *test)
{
	CHECK("   42|", "%*d|", 5, 42);
	CHECK("42   |", "%*d|", -5, 42); /* a negative '*' width means '-' */
	CHECK("0042|", "%.*d|", 4, 42);
	CHECK("42|", "%.*d|", -4, 42); /* a negative '*' precision is "no precision" */
	CHECK("ab    |", "%-*s|", 6, "ab");
	CHECK("  abc|", "%*.*s|", 5, 3, "abcdef");
	CHECK("  7|x", "%*d|%c", 3, 7, 'x'); /* the next argument is still the right one */
}

/* A NULL string prints "(null)" rather than faulting, as glibc and Linux do. */
static void printf_null_string(struct kunit *test)
{
	const char *null = NULL;

	CHECK_UNCHECKED("(null)", "%s", null);
	CHECK_UNCHECKED("  (null)|", "%8s|", null);
	CHECK_UNCHECKED("(nu", "%.3s", null);
}

/*
 * snprintf's contract: the return value is the length the whole output would have had,
 * the buffer is always terminated when size > 0, and size 0 writes nothing at all.
 */
static void printf_truncation(struct kunit *test)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, 4, "hello"), 5);
	KUNIT_EXPECT_EQ(test, strcmp(buf, "hel"), 0);
	KUNIT_EXPECT_EQ(test, buf[4], 'X'); /* nothing written past size */

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, 6, "hello"), 5); /* fits exactly */
	KUNIT_EXPECT_EQ(test, strcmp(buf, "hello"), 0);

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, 5, "hello"), 5); /* one short: the NUL wins */
	KUNIT_EXPECT_EQ(test, strcmp(buf, "hell"), 0);

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, 1, "hello"), 5);
	KUNIT_EXPECT_EQ(test, buf[0], '\0');
	KUNIT_EXPECT_EQ(test, buf[1], 'X');

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, 0, "hello %d", 12345), 11);
	for (size_t i = 0; i < sizeof(buf); i++)
		KUNIT_EXPECT_EQ(test, buf[i], 'X');

	/* size 0 with no buffer at all: the usual "how long will it be?" idiom. */
	KUNIT_EXPECT_EQ(test, snprintf(NULL, 0, "%s-%d", "abc", -7), 6);

	memset(buf, 'X', sizeof(buf));
	KUNIT_EXPECT_EQ(test, snprintf(buf, sizeof(buf), "%20d", 1), 20); /* padding counts */
	KUNIT_EXPECT_EQ(test, strlen(buf), sizeof(buf) - 1);
	KUNIT_EXPECT_EQ(test, snprintf(buf, sizeof(buf), "%s", ""), 0);
	KUNIT_EXPECT_EQ(test, buf[0], '\0');
}

static struct kunit_case printf_cases[] = {
	KUNIT_CASE(printf_conversions),
	KUNIT_CASE(printf_pointer),
	KUNIT_CASE(printf_width_and_flags),
	KUNIT_CASE(printf_precision),
	KUNIT_CASE(printf_alternate_form),
	KUNIT_CASE(printf_length_modifiers),
	KUNIT_CASE(printf_star_width_and_precision),
	KUNIT_CASE(printf_null_string),
	KUNIT_CASE(printf_truncation),
	{},
};

static struct kunit_suite printf_suite = {
	.name = "printf",
	.test_cases = printf_cases,
};
kunit_test_suite(printf_suite);
