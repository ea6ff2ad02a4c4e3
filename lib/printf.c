/* vsnprintf and friends: a small, complete-enough printf for a kernel with no libc. */
#include <lib/printf.h>
#include <lib/string.h>

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int precision; /* -1: none */
	int length;    /* 'H' hh, 'h', 'l', 'L' ll, 'z', 't', 'j', or 0 */
};

struct sink {
	putc_fn out;
	void *ctx;
	int count;
};

static void emit(struct sink *k, char c)
{
	k->out(c, k->ctx);
	k->count++;
}

static void pad(struct sink *k, char c, int n)
{
	while (n-- > 0)
		emit(k, c);
}

static void print_str(struct sink *k, const struct spec *sp, const char *s)
{
	int len;

	if (!s)
		s = "(null)";
	len = (int)strnlen(s, sp->precision >= 0 ? (size_t)sp->precision : (size_t)-1);
	if (!sp->left)
		pad(k, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		emit(k, s[i]);
	if (sp->left)
		pad(k, ' ', sp->width - len);
}

static void print_num(struct sink *k, const struct spec *sp, unsigned long long v, bool neg,
		      unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24], sign = 0;
	const char *prefix = "";
	int n = 0, zeros, width;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (sp->precision == 0 && n == 1 && buf[0] == '0')
		n = 0; /* C: a zero with precision 0 prints no digits */

	if (neg)
		sign = '-';
	else if (sp->plus)
		sign = '+';
	else if (sp->space)
		sign = ' ';
	zeros = sp->precision > n ? sp->precision - n : 0;
	/*
	 * '#': "0x" before every hex value, 0 included (C prints a bare "0" there; Linux, and
	 * register dumps that want a fixed-width "%#018lx", prefer "0x0..."). For octal, as C
	 * says, one more leading zero only if the digits don't already start with one.
	 */
	if (sp->alt && base == 16)
		prefix = upper ? "0X" : "0x";
	else if (sp->alt && base == 8 && zeros == 0 && (n == 0 || buf[n - 1] != '0'))
		prefix = "0";
	width = n + zeros + (sign ? 1 : 0) + (int)strlen(prefix);
	if (sp->zero && !sp->left && sp->precision < 0 && sp->width > width) {
		zeros += sp->width - width;
		width = sp->width;
	}
	if (!sp->left)
		pad(k, ' ', sp->width - width);
	if (sign)
		emit(k, sign);
	for (const char *p = prefix; *p; p++)
		emit(k, *p);
	pad(k, '0', zeros);
	while (n)
		emit(k, buf[--n]);
	if (sp->left)
		pad(k, ' ', sp->width - width);
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned int);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned int);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'L':
		return va_arg(*ap, unsigned long long);
	case 'z':
		return va_arg(*ap, size_t);
	case 't':
		return (unsigned long long)va_arg(*ap, ptrdiff_t);
	case 'j':
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
		return va_arg(*ap, long);
	case 'L':
		return va_arg(*ap, long long);
	case 'z':
		return (long long)va_arg(*ap, size_t);
	case 't':
		return va_arg(*ap, ptrdiff_t);
	case 'j':
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->precision = -1;
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->precision = sp->precision * 10 + (*f++ - '0');
		}
	}
	if (f[0] == 'h' && f[1] == 'h') {
		sp->length = 'H';
		f += 2;
	} else if (f[0] == 'l' && f[1] == 'l') {
		sp->length = 'L';
		f += 2;
	} else if (*f == 'h' || *f == 'l' || *f == 'z' || *f == 't' || *f == 'j') {
		sp->length = *f++;
	}
	return f;
}

int vcbprintf(putc_fn out, void *ctx, const char *fmt, va_list ap_in)
{
	struct sink k = { out, ctx, 0 };
	struct spec sp;
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		long long sv;

		if (*f != '%') {
			emit(&k, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		/* '+' and ' ' ask for a sign: C applies them to signed conversions only. */
		if (*f != 'd' && *f != 'i')
			sp.plus = sp.space = false;
		switch (*f) {
		case 'd':
		case 'i':
			sv = arg_signed(&sp, &ap);
			print_num(&k, &sp,
				  sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv, sv < 0,
				  10, false);
			break;
		case 'u':
			print_num(&k, &sp, arg_unsigned(&sp, &ap), false, 10, false);
			break;
		case 'x':
		case 'X':
			print_num(&k, &sp, arg_unsigned(&sp, &ap), false, 16, *f == 'X');
			break;
		case 'o':
			print_num(&k, &sp, arg_unsigned(&sp, &ap), false, 8, false);
			break;
		case 'p':
			sp.alt = true;
			print_num(&k, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			if (!sp.left)
				pad(&k, ' ', sp.width - 1);
			emit(&k, c);
			if (sp.left)
				pad(&k, ' ', sp.width - 1);
			break;
		}
		case 's':
			print_str(&k, &sp, va_arg(ap, const char *));
			break;
		case '%':
			emit(&k, '%');
			break;
		case '\0':
			f--; /* a lone '%' at the end: print nothing, stop cleanly */
			break;
		default:
			/* Unknown conversion: show it rather than misread the arguments. */
			emit(&k, '%');
			emit(&k, *f);
			break;
		}
	}
	va_end(ap);
	return k.count;
}

struct buf_ctx {
	char *buf;
	size_t size, pos;
};

static void buf_putc(char c, void *ctx)
{
	struct buf_ctx *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = vcbprintf(buf_putc, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
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
