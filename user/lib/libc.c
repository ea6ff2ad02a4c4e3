/* The user programs' libc: string helpers, printf into a buffer or onto a file descriptor, PRNG. */
#include <lazymmu/libc.h>

/*
 * The build passes -fno-builtin and -fno-tree-loop-distribute-patterns: without them gcc
 * may recognise the loops below as "a memset" and compile them into a call to memset(),
 * that is, into themselves.
 */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/*
	 * Copying forwards is right unless the destination starts inside the source: then the
	 * first bytes written would overwrite source bytes not yet read, so copy backwards.
	 */
	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	/* Compare as unsigned char, as C requires: "\x80" sorts after "a". */
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* ---------------------------------------------------------------- printf */

/*
 * Where formatted characters go: a buffer of `size` bytes. A string sink (fd < 0) drops
 * what does not fit and only counts it; a file sink writes the buffer to fd whenever it
 * fills and once at the end, so one printf() of a short line is one write() (a line never
 * interleaves with another process's output on the console).
 */
struct sink {
	char *buf;
	size_t size;
	size_t len;   /* bytes in buf */
	size_t total; /* characters produced: C's return value */
	int fd;	      /* < 0: a string */
	long error;   /* the first failed write()'s -errno, or 0 */
};

static void sink_flush(struct sink *k)
{
	size_t done = 0;

	/* The console takes everything at once, but write()'s contract allows a short count. */
	while (done < k->len && !k->error) {
		ssize_t n = write(k->fd, k->buf + done, k->len - done);

		if (n <= 0)
			k->error = n < 0 ? n : -EFAULT;
		else
			done += (size_t)n;
	}
	k->len = 0;
}

static void put(struct sink *k, char c)
{
	k->total++;
	if (k->len == k->size) {
		if (k->fd < 0)
			return;
		sink_flush(k);
	}
	k->buf[k->len++] = c;
}

static void put_repeated(struct sink *k, char c, int n)
{
	while (n-- > 0)
		put(k, c);
}

struct spec {
	bool left; /* '-': pad on the right */
	bool zero; /* '0': pad numbers with zeros between the sign and the digits */
	bool alt;  /* '#': "0x" in front of a non-zero %x (as C: %#x of 0 is "0") */
	int width;
	int precision; /* -1: none */
};

static void put_string(struct sink *k, const struct spec *sp, const char *s)
{
	int n = 0;

	if (!s)
		s = "(null)";
	while (s[n] && (sp->precision < 0 || n < sp->precision))
		n++;
	if (!sp->left)
		put_repeated(k, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(k, s[i]);
	if (sp->left)
		put_repeated(k, ' ', sp->width - n);
}

/*
 * One integer: magnitude v in base 10 or 16, with a sign or a "0x" prefix in front.
 * Zero padding goes between the prefix and the digits ("-0042", "0x00ff"); space padding
 * goes outside both ("  -42").
 */
static void put_number(struct sink *k, const struct spec *sp, unsigned long long v,
		       unsigned int base, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24]; /* 2^64 - 1 has 20 decimal digits */
	int n = 0, plen = (int)strlen(prefix);

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);

	int pad = sp->width - n - plen;

	if (!sp->left && !sp->zero)
		put_repeated(k, ' ', pad);
	for (int i = 0; i < plen; i++)
		put(k, prefix[i]);
	if (!sp->left && sp->zero)
		put_repeated(k, '0', pad);
	while (n)
		put(k, tmp[--n]);
	if (sp->left)
		put_repeated(k, ' ', pad);
}

/* The length modifiers, as the number of 'l's: 'h' and "hh" are -1 and -2, 'z' is 1. */
static int parse_length(const char **fmt)
{
	int len = 0;

	for (;; (*fmt)++) {
		if (**fmt == 'l' || **fmt == 'z')
			len++;
		else if (**fmt == 'h')
			len--;
		else
			return len;
	}
}

/* A signed argument of length len: every narrower type was promoted to int by the call. */
static long long signed_arg(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, long long);
	if (len == 1)
		return va_arg(*ap, long);
	if (len == -1)
		return (short)va_arg(*ap, int);
	if (len <= -2)
		return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

static unsigned long long unsigned_arg(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, unsigned long long);
	if (len == 1)
		return va_arg(*ap, unsigned long);
	if (len == -1)
		return (unsigned short)va_arg(*ap, unsigned int);
	if (len <= -2)
		return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

/* A number in the format string, or '*': the next int argument. */
static int parse_int(const char **fmt, va_list *ap)
{
	int v = 0;

	if (**fmt == '*') {
		(*fmt)++;
		return va_arg(*ap, int);
	}
	while (**fmt >= '0' && **fmt <= '9')
		v = v * 10 + (*(*fmt)++ - '0');
	return v;
}

/*
 * The va_list travels by pointer: on x86-64 va_list is an array type, which a function
 * parameter turns into a pointer, so passing "ap" itself to helpers and using it after
 * them is not portable; &ap is.
 */
static void format(struct sink *k, const char *fmt, va_list *ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(k, *fmt);
			continue;
		}
		fmt++;

		struct spec sp = { .precision = -1 };

		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '#')
				sp.alt = true;
			else
				break;
		}
		sp.width = parse_int(&fmt, ap);
		if (sp.width < 0) { /* a negative '*' width means '-' */
			sp.left = true;
			sp.width = -sp.width;
		}
		if (*fmt == '.') {
			fmt++;
			sp.precision = parse_int(&fmt, ap);
		}
		int len = parse_length(&fmt);

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = signed_arg(ap, len);
			/* Negate in unsigned arithmetic: -LLONG_MIN overflows a long long. */
			unsigned long long mag =
			    v < 0 ? -(unsigned long long)v : (unsigned long long)v;

			put_number(k, &sp, mag, 10, false, v < 0 ? "-" : "");
			break;
		}
		case 'u':
			put_number(k, &sp, unsigned_arg(ap, len), 10, false, "");
			break;
		case 'x':
		case 'X': {
			unsigned long long v = unsigned_arg(ap, len);
			const char *prefix = !sp.alt || !v ? "" : *fmt == 'X' ? "0X" : "0x";

			put_number(k, &sp, v, 16, *fmt == 'X', prefix);
			break;
		}
		case 'p':
			put_number(k, &sp, (unsigned long)va_arg(*ap, void *), 16, false, "0x");
			break;
		case 'c':
			/* Not through put_string(): a NUL character is still one character. */
			if (!sp.left)
				put_repeated(k, ' ', sp.width - 1);
			put(k, (char)va_arg(*ap, int));
			if (sp.left)
				put_repeated(k, ' ', sp.width - 1);
			break;
		case 's':
			put_string(k, &sp, va_arg(*ap, const char *));
			break;
		case '%':
			put(k, '%');
			break;
		case '\0':
			/* A lone '%' at the very end: print it rather than read past the string. */
			put(k, '%');
			return;
		default:
			/* An unknown conversion is printed as written, so the mistake is visible. */
			put(k, '%');
			put(k, *fmt);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	/* One byte is kept for the terminating NUL; size 0 stores nothing at all. */
	struct sink k = { .buf = buf, .size = size ? size - 1 : 0, .fd = -1 };
	va_list aq;

	va_copy(aq, ap);
	format(&k, fmt, &aq);
	va_end(aq);
	if (size)
		buf[k.len] = '\0';
	return (int)k.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * printf's buffer. In .bss rather than on the stack: a program has one thread and no
 * signal handlers, so printf is never re-entered, and every program (even one with no
 * variables) then has a data segment whose zero-filled page the loader must provide.
 * Nothing stays in it between calls, so fork() never duplicates half-written output.
 */
static char printf_buf[256];

static int vdprintf(int fd, const char *fmt, va_list ap)
{
	struct sink k = { .buf = printf_buf, .size = sizeof(printf_buf), .fd = fd };
	va_list aq;

	va_copy(aq, ap);
	format(&k, fmt, &aq);
	va_end(aq);
	sink_flush(&k);
	return k.error ? (int)k.error : (int)k.total;
}

int vprintf(const char *fmt, va_list ap)
{
	return vdprintf(1, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

/* ---------------------------------------------------------------- PRNG */

void prng_seed(struct prng *p, uint64_t seed)
{
	/* Any seed but 0 works as the state itself; 0 gets the golden-ratio constant. */
	p->state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

uint64_t prng_next(struct prng *p)
{
	uint64_t x = p->state;

	/* Marsaglia's xorshift step (the shift triple 12, 25, 27), then one multiply that
	   scrambles the weak low bits: the "*" of xorshift64*. */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	p->state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t prng_below(struct prng *p, uint64_t n)
{
	return prng_next(p) % n;
}
