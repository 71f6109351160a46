/* json-canon.c: one spelling for each JSON value, so that values can be
 * compared as text. find and query compare objects and arrays this way:
 * {"n": 1.0} and {"n":1} hold the same value, and so do "\u00e9" and "é".
 *
 * The canonical form keeps member order (objects compare member by member,
 * in order, as README says) and has no white space. A string is its
 * decoded characters with only '"', '\' and control bytes escaped. A
 * number compares as SQLite compares numbers: an integer literal within
 * 64 bits exactly, anything else as a double; a double that is a whole
 * number within 64 bits is written as that integer, so 1.0 and 1 meet. */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-int.h"

struct canon {
	const char *s;
	size_t len, pos;
	unsigned depth; /* containers open around pos */
	struct sbuf *out;
};

static void skip_ws(struct canon *c)
{
	while (c->pos < c->len && c->s[c->pos] &&
	       strchr(" \t\r\n", c->s[c->pos]))
		c->pos++;
}

static int hex4(const struct canon *c, size_t at, unsigned *out)
{
	unsigned v = 0;

	if (c->len - at < 4)
		return -EINVAL;
	for (size_t i = at; i < at + 4; i++) {
		char h = c->s[i];
		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned)(h - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* One character of a string in the canonical form: only '"', '\' and
 * control characters escaped. */
static int add_code_point(struct sbuf *out, unsigned cp)
{
	char b[2] = { '\\', (char)cp };

	if (cp == '"' || cp == '\\')
		return sbuf_add(out, b, 2);
	if (cp < 0x20)
		return sbuf_addf(out, "\\u%04x", cp);
	return json_add_utf8(out, (long)cp);
}

/* An escape after the backslash at c->pos - 1. */
static int escape(struct canon *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned cp, lo;

	if (c->pos >= c->len)
		return -EINVAL;
	if (c->s[c->pos] != 'u') {
		e = strchr(from, c->s[c->pos]);
		if (!e || !*e)
			return -EINVAL;
		c->pos++;
		return add_code_point(c->out, (unsigned char)to[e - from]);
	}
	if (hex4(c, c->pos + 1, &cp) < 0)
		return -EINVAL;
	c->pos += 5;
	if (cp >= 0xD800 && cp < 0xDC00) { /* a pair: valid input has one */
		if (c->len - c->pos < 6 || c->s[c->pos] != '\\' ||
		    c->s[c->pos + 1] != 'u' || hex4(c, c->pos + 2, &lo) < 0 ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return -EINVAL;
		c->pos += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return add_code_point(c->out, cp);
}

static int string(struct canon *c)
{
	int r = sbuf_addch(c->out, '"');

	c->pos++; /* the opening quote */
	while (r == 0 && c->pos < c->len && c->s[c->pos] != '"') {
		unsigned char ch = (unsigned char)c->s[c->pos++];

		/* A multi-byte character's bytes are copied one by one. */
		if (ch == '\\')
			r = escape(c);
		else if (ch >= 0x80)
			r = sbuf_addch(c->out, (char)ch);
		else
			r = add_code_point(c->out, ch);
	}
	if (r == 0 && c->pos >= c->len)
		r = -EINVAL;
	c->pos++;
	return r ? r : sbuf_addch(c->out, '"');
}

/* The C locale, for numbers: a program using the library may have set
 * one whose decimal point is a comma. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* The canonical spelling of the number literal @text. */
static int number_text(struct sbuf *out, const char *text, bool integer)
{
	char *end;
	long long i;
	double d;

	errno = 0;
	if (integer) {
		i = strtoll(text, &end, 10);
		if (!errno && !*end)
			return sbuf_addf(out, "%lld", i);
	}
	d = strtod(text, &end);
	if (*end)
		return -EINVAL;
	/* -2^63 and 2^63 are exact doubles: between them, a whole double
	 * converts to a long long and back unchanged. */
	if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
	    (double)(long long)d == d)
		return sbuf_addf(out, "%lld", (long long)d);
	return sbuf_addf(out, "%.17g", d);
}

static int number(struct canon *c)
{
	struct sbuf text = SBUF_INIT;
	size_t start = c->pos;
	bool integer = true;
	int r;

	while (c->pos < c->len && c->s[c->pos] &&
	       strchr("+-0123456789.eE", c->s[c->pos])) {
		if (strchr(".eE", c->s[c->pos]))
			integer = false;
		c->pos++;
	}
	if (c->pos == start)
		return -EINVAL;
	r = sbuf_add(&text, c->s + start, c->pos - start);
	if (r == 0)
		r = number_text(c->out, text.buf, integer);
	sbuf_release(&text);
	return r;
}

static int value(struct canon *c);

/* An object or an array: @close ends it, members have names. */
static int container(struct canon *c, char close)
{
	int r;
	bool first = true;

	/* Any text may come in (a string field's value): the stack must not
	 * follow a string of a million '['. Bodies nest no deeper. */
	if (++c->depth > JSON_MAX_DEPTH)
		return -EINVAL;
	r = sbuf_addch(c->out, c->s[c->pos]);
	c->pos++;
	for (;;) {
		skip_ws(c);
		if (r || c->pos >= c->len)
			return r ? r : -EINVAL;
		if (c->s[c->pos] == close)
			break;
		if (!first) {
			if (c->s[c->pos] != ',')
				return -EINVAL;
			c->pos++;
			r = sbuf_addch(c->out, ',');
			skip_ws(c);
		}
		first = false;
		if (close == '}') {
			if (r || c->pos >= c->len || c->s[c->pos] != '"')
				return r ? r : -EINVAL;
			r = string(c);
			skip_ws(c);
			if (r || c->pos >= c->len || c->s[c->pos] != ':')
				return r ? r : -EINVAL;
			c->pos++;
			r = sbuf_addch(c->out, ':');
		}
		r = r ? r : value(c);
	}
	c->pos++;
	c->depth--;
	return sbuf_addch(c->out, close);
}

static int value(struct canon *c)
{
	static const char *const words[] = { "true", "false", "null" };

	skip_ws(c);
	if (c->pos >= c->len)
		return -EINVAL;
	switch (c->s[c->pos]) {
	case '{':
		return container(c, '}');
	case '[':
		return container(c, ']');
	case '"':
		return string(c);
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
		size_t n = strlen(words[i]);
		if (c->len - c->pos >= n &&
		    !memcmp(c->s + c->pos, words[i], n)) {
			c->pos += n;
			return sbuf_add(c->out, words[i], n);
		}
	}
	return number(c);
}

int json_canon(struct sbuf *out, const char *s, size_t len)
{
	struct canon c = { .s = s, .len = len, .out = out };
	size_t old = out->len;
	locale_t prev;
	int r;

	pthread_once(&c_locale_once, make_c_locale);
	if (!c_locale)
		return -ENOMEM;
	prev = uselocale(c_locale); /* this thread's only */
	r = value(&c);
	uselocale(prev);
	skip_ws(&c);
	if (r == 0 && c.pos != len)
		r = -EINVAL;
	if (r)
		sbuf_setlen(out, old);
	return r;
}
