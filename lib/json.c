/* json.c: the strict JSON check of design.md ("JSON bodies") and the canonical
 * pretty form used by export, printed by the same pass that checks. Hand-written because a body is stored byte for
 * byte and a refusal must say exactly where and why: cJSON re-prints numbers
 * and keeps its error position in a global. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-int.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define NO_DUPLICATE SIZE_MAX

static const char dup_reason[] = "duplicate member name";

/* One member name of an object still being read. A name without escapes
 * is its bytes in the body; only one with escapes is decoded (so that "a"
 * and "\u0061" are the same name), into level.names. */
struct member {
	size_t pos; /* offset of the name's opening quote in the body */
	union {
		size_t off;	  /* decoded, while reading: offset in names */
		const char *name; /* the bytes: set when read if in the body,
				     when compared if decoded */
	};
	size_t len;   /* decoded length; names may hold NUL bytes */
	bool decoded; /* in level.names, not in the body */
};

/* The members of the object open at one nesting depth. Kept per depth and
 * reused by the next object at that depth, so a body of many small objects
 * does not allocate for each of them. */
struct level {
	struct sbuf names; /* decoded names, back to back */
	struct member *m;
	size_t n, alloc;
};

/* Up to this many members, duplicates are found without sorting. */
#define SMALL_OBJECT 16

struct parser {
	const char *s;
	size_t len;
	size_t pos;	       /* next byte to read */
	unsigned depth;	       /* containers open around pos */
	struct level **levels; /* by depth, each allocated when first reached */
	size_t nlevels;	       /* slots in levels */
	bool escaped;	       /* the last string read had an escape */
	size_t err_pos;
	const char *reason;
	/* The canonical pretty form, when wanted: tokens exactly as written,
	 * one value per line, indented two spaces per depth. */
	struct sbuf *out;
	int out_err; /* the first failure to append; the rest is skipped */
};

/* Called for every token: the common case, room already there, is a copy
 * without a call into sbuf. */
static void emit(struct parser *p, const char *s, size_t n)
{
	struct sbuf *out = p->out;

	if (!out || p->out_err)
		return;
	if (out->alloc - out->len <= n) {
		p->out_err = sbuf_add(out, s, n);
		return;
	}
	if (n > 16)
		memcpy(out->buf + out->len, s, n);
	else
		for (size_t i = 0; i < n; i++)
			out->buf[out->len + i] = s[i];
	out->len += n;
	out->buf[out->len] = '\0';
}

/* A new line indented for the given depth. */
static void emit_line(struct parser *p, unsigned depth)
{
	struct sbuf *out = p->out;
	size_t n = 1 + 2 * (size_t)depth;

	if (!out || p->out_err || (p->out_err = sbuf_grow(out, n)))
		return;
	out->buf[out->len] = '\n';
	memset(out->buf + out->len + 1, ' ', n - 1);
	out->len += n;
	out->buf[out->len] = '\0';
}

/* The token from start to pos, as written. */
static void emit_token(struct parser *p, size_t start)
{
	emit(p, p->s + start, p->pos - start);
}

static int parse_value(struct parser *p, const char *expected);

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * The second byte's range excludes overlongs (E0, F0), UTF-16 surrogates (ED)
 * and code points above U+10FFFF (F4). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		lo = c == 0xE0 ? 0xA0 : lo;
		hi = c == 0xED ? 0x9F : hi;
	} else {
		len = 4;
		lo = c == 0xF0 ? 0x90 : lo;
		hi = c == 0xF4 ? 0x8F : hi;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(u + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Bytes that may not directly follow a literal: "trueish" is one bad word,
 * not "true" followed by garbage. */
static bool is_word(char c)
{
	return is_letter(c) || is_digit(c) || c == '_';
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int fail(struct parser *p, size_t pos, const char *reason)
{
	p->err_pos = pos;
	p->reason = reason;
	return -EINVAL;
}

/* The byte at pos is not what the grammar expects. Name the habit from other
 * languages when we recognise it: that is what the user has to fix. */
static int unexpected(struct parser *p, const char *expected)
{
	const unsigned char *u = (const unsigned char *)p->s + p->pos;
	size_t left = p->len - p->pos;
	const char *why = expected;

	if (!left)
		why = "unexpected end of input";
	else if (u[0] == '/' && left > 1 && (u[1] == '/' || u[1] == '*'))
		why = "comments are not JSON";
	else if (u[0] == '\'')
		why = "single quotes are not JSON";
	else if (u[0] >= 0x80 && !utf8_seq(u, left))
		why = "invalid UTF-8";
	return fail(p, p->pos, why);
}

static int hex_digit(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of the 4 hex digits at i, or -1. */
static long hex4(const struct parser *p, size_t i)
{
	long v = 0;
	int d, k;

	if (p->len - i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		d = hex_digit(p->s[i + k]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

int json_add_utf8(struct sbuf *sb, long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sbuf_add(sb, b, n);
}

/* \uXXXX at pos, with its low surrogate if it is a high one. A lone
 * surrogate has no UTF-8 form: SQLite and most readers would mangle it. */
static int parse_unicode(struct parser *p, struct sbuf *dec)
{
	size_t at = p->pos;
	long cp = hex4(p, at + 2), lo = -1;

	if (cp < 0)
		return fail(p, at, "invalid escape");
	p->pos += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(p, at, "unpaired surrogate escape");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (p->len - p->pos >= 2 && p->s[p->pos] == '\\' &&
		    p->s[p->pos + 1] == 'u')
			lo = hex4(p, p->pos + 2);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, at, "unpaired surrogate escape");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		p->pos += 6;
	}
	return dec ? json_add_utf8(dec, cp) : 0;
}

/* The escape at pos (a backslash) inside the string opened at start. */
static int parse_escape(struct parser *p, struct sbuf *dec, size_t start)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *q;

	if (p->len - p->pos < 2)
		return fail(p, start, "unterminated string");
	if (p->s[p->pos + 1] == 'u')
		return parse_unicode(p, dec);
	q = memchr(from, p->s[p->pos + 1], sizeof(from) - 1);
	if (!q)
		return fail(p, p->pos, "invalid escape");
	p->pos += 2;
	return dec ? sbuf_addch(dec, to[q - from]) : 0;
}

static int flush(struct sbuf *dec, const char *s, size_t n)
{
	return dec && n ? sbuf_add(dec, s, n) : 0;
}

/* The end of the run of plain bytes (printable ASCII other than '"' and
 * '\\') from @i: most bytes of most strings are plain, and this looks at
 * them eight at a time. A word is skipped when none of its bytes is a
 * quote, a backslash, below 0x20 or above 0x7F; in the word that has one,
 * the first such byte is found (on a big-endian machine, the word's start
 * is returned and the caller's loop steps through it). */
static size_t skip_plain(const unsigned char *u, size_t i, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t w, quote, bslash, special;

	while (len - i >= 8) {
		memcpy(&w, u + i, 8);
		quote = w ^ (ones * '"');
		bslash = w ^ (ones * '\\');
		/* (x - ones) & ~x has a byte's high bit set when that byte
		 * of x is zero (or, past a zero byte, spuriously: enough to
		 * know the word has one); w - 0x20 per byte likewise when
		 * it is below 0x20; w itself when it is above 0x7F. */
		special = ((quote - ones) & ~quote) |
			  ((bslash - ones) & ~bslash) |
			  ((w - ones * 0x20) & ~w) | w;
		special &= highs;
		if (special) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* The lowest flagged byte is a true one: the
			 * spurious ones only follow it. */
			i += (size_t)__builtin_ctzll(special) / 8;
#endif
			break;
		}
		i += 8;
	}
	return i;
}

/* A string at pos. With dec, its decoded bytes are appended there. */
static int parse_string(struct parser *p, struct sbuf *dec)
{
	const unsigned char *u = (const unsigned char *)p->s;
	size_t start = p->pos, run = ++p->pos, n;
	int r;

	p->escaped = false;
	for (;;) {
		p->pos = skip_plain(u, p->pos, p->len);
		if (p->pos >= p->len)
			return fail(p, start, "unterminated string");
		if (u[p->pos] == '"')
			break;
		if (u[p->pos] < 0x20)
			return fail(p, p->pos, "control character in string");
		if (u[p->pos] == '\\') {
			p->escaped = true;
			r = flush(dec, p->s + run, p->pos - run);
			if (!r)
				r = parse_escape(p, dec, start);
			if (r)
				return r;
			run = p->pos;
		} else if (u[p->pos] < 0x80) {
			p->pos++;
		} else if ((n = utf8_seq(u + p->pos, p->len - p->pos))) {
			p->pos += n;
		} else {
			return fail(p, p->pos, "invalid UTF-8");
		}
	}
	r = flush(dec, p->s + run, p->pos - run);
	p->pos++;
	return r;
}

static bool digit_at(const struct parser *p, size_t i)
{
	return i < p->len && is_digit(p->s[i]);
}

static size_t skip_digits(const struct parser *p, size_t i)
{
	while (digit_at(p, i))
		i++;
	return i;
}

/* A number at pos, checked against RFC 8259's grammar only: its value is
 * never computed, so 12345678901234567890 and 1e400 are fine as written. */
static int parse_number(struct parser *p)
{
	size_t i = p->pos;
	char c;

	if (p->s[i] == '-')
		i++;
	if (!digit_at(p, i)) {
		if (i < p->len && is_letter(p->s[i]))
			return fail(p, i, "invalid literal");
		return fail(p, i, "invalid number");
	}
	i = p->s[i] == '0' ? i + 1 : skip_digits(p, i);
	if (i < p->len && p->s[i] == '.') {
		if (!digit_at(p, ++i))
			return fail(p, i, "invalid number");
		i = skip_digits(p, i);
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!digit_at(p, i))
			return fail(p, i, "invalid number");
		i = skip_digits(p, i);
	}
	c = i < p->len ? p->s[i] : ' ';
	if (is_word(c) || c == '.' || c == '+' || c == '-')
		return fail(p, i, "invalid number");
	p->pos = i;
	return 0;
}

/* true, false or null at pos; refused at the first byte that departs. */
static int parse_literal(struct parser *p)
{
	const char *word = p->s[p->pos] == 't'	 ? "true"
			   : p->s[p->pos] == 'f' ? "false"
						 : "null";

	for (; *word; word++, p->pos++)
		if (p->pos >= p->len || p->s[p->pos] != *word)
			return fail(p, p->pos, "invalid literal");
	if (p->pos < p->len && is_word(p->s[p->pos]))
		return fail(p, p->pos, "invalid literal");
	return 0;
}

static int parse_array(struct parser *p)
{
	const char *expected = "expected a value or ']'";
	int r;

	p->pos++;
	skip_ws(p);
	if (peek(p) == ']') {
		p->pos++;
		emit(p, "[]", 2);
		return 0;
	}
	emit(p, "[", 1);
	for (;;) {
		emit_line(p, p->depth);
		r = parse_value(p, expected);
		if (r)
			return r;
		skip_ws(p);
		if (peek(p) == ']') {
			p->pos++;
			emit_line(p, p->depth - 1);
			emit(p, "]", 1);
			return 0;
		}
		if (peek(p) != ',')
			return unexpected(p, "expected ',' or ']'");
		p->pos++;
		emit(p, ",", 1);
		skip_ws(p);
		if (peek(p) == ']')
			return fail(p, p->pos, "trailing comma");
		expected = "expected a value";
	}
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool same_name(const struct member *x, const struct member *y)
{
	return x->len == y->len && !memcmp(x->name, y->name, x->len);
}

/* The offset of the first member whose name came earlier in the same object,
 * or NO_DUPLICATE; the level is emptied for the next object. Members are in
 * the order they were read. A small object (most of them) is checked pair
 * by pair, cheaper than sorting; a big one is sorted, which keeps it at
 * O(n log n) whatever its names, where a hash table could be driven
 * quadratic by chosen names. */
static size_t first_duplicate(struct level *lv)
{
	size_t first = NO_DUPLICATE, i, j;
	struct member *m = lv->m;

	for (i = 0; i < lv->n; i++)
		if (m[i].decoded)
			m[i].name = lv->names.buf + m[i].off;
	if (lv->n <= SMALL_OBJECT) {
		for (i = 1; i < lv->n && first == NO_DUPLICATE; i++)
			for (j = 0; j < i && first == NO_DUPLICATE; j++)
				if (same_name(&m[i], &m[j]))
					first = m[i].pos;
	} else {
		qsort(m, lv->n, sizeof(*m), member_cmp);
		for (i = 1; i < lv->n; i++)
			if (same_name(&m[i], &m[i - 1]) && m[i].pos < first)
				first = m[i].pos;
	}
	lv->n = 0;
	sbuf_reset(&lv->names);
	return first;
}

static int add_member(struct parser *p, struct level *lv)
{
	size_t off = lv->names.len, pos = p->pos, raw_len;
	struct member *m;
	bool decoded;
	int r;

	if (lv->n == lv->alloc) {
		m = reallocarray(lv->m, lv->alloc ? lv->alloc * 2 : 8,
				 sizeof(*m));
		if (!m)
			return -ENOMEM;
		lv->m = m;
		lv->alloc = lv->alloc ? lv->alloc * 2 : 8;
	}
	r = parse_string(p, NULL);
	if (r)
		return r;
	raw_len = p->pos - pos - 2;
	decoded = p->escaped;
	if (decoded) { /* read again, decoding: rare in names */
		p->pos = pos;
		r = parse_string(p, &lv->names);
		if (r)
			return r;
	}
	emit_token(p, pos);
	m = &lv->m[lv->n++];
	m->pos = pos;
	m->decoded = decoded;
	if (decoded) {
		m->off = off;
		m->len = lv->names.len - off;
	} else {
		m->name = p->s + pos + 1;
		m->len = raw_len;
	}
	return 0;
}

/* The level of the current depth. Levels are made as depths are reached
 * (not all JSON_MAX_DEPTH of them up front: zeroing and freeing those cost
 * more than checking a typical body), and each is its own allocation, so
 * the one an enclosing object holds stays put while deeper ones are added. */
static struct level *get_level(struct parser *p)
{
	struct level **grown;
	size_t n;

	if (p->depth >= p->nlevels) {
		n = p->nlevels ? p->nlevels * 2 : 8;
		if (n <= p->depth)
			n = p->depth + 1;
		grown = reallocarray(p->levels, n, sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + p->nlevels, 0,
		       (n - p->nlevels) * sizeof(*grown));
		p->levels = grown;
		p->nlevels = n;
	}
	if (!p->levels[p->depth])
		p->levels[p->depth] = calloc(1, sizeof(struct level));
	return p->levels[p->depth];
}

static int parse_members(struct parser *p, struct level *lv)
{
	const char *expected = "expected member name or '}'";
	int r;

	for (;;) {
		if (peek(p) != '"')
			return unexpected(p, expected);
		emit_line(p, p->depth);
		r = add_member(p, lv);
		if (r)
			return r;
		skip_ws(p);
		if (peek(p) != ':')
			return unexpected(p, "expected ':'");
		p->pos++;
		emit(p, ": ", 2);
		skip_ws(p);
		r = parse_value(p, "expected a value");
		if (r)
			return r;
		skip_ws(p);
		if (peek(p) == '}')
			return 0;
		if (peek(p) != ',')
			return unexpected(p, "expected ',' or '}'");
		p->pos++;
		emit(p, ",", 1);
		skip_ws(p);
		if (peek(p) == '}')
			return fail(p, p->pos, "trailing comma");
		expected = "expected member name";
	}
}

static int parse_object(struct parser *p)
{
	struct level *lv = get_level(p);
	size_t dup;
	int r;

	if (!lv)
		return -ENOMEM;
	p->pos++;
	skip_ws(p);
	if (peek(p) == '}') {
		emit(p, "{}", 2);
	} else {
		emit(p, "{", 1);
		r = parse_members(p, lv);
		if (r)
			return r;
		emit_line(p, p->depth - 1);
		emit(p, "}", 1);
	}
	p->pos++;
	dup = first_duplicate(lv);
	return dup == NO_DUPLICATE ? 0 : fail(p, dup, dup_reason);
}

static int parse_container(struct parser *p)
{
	int r;

	if (p->depth == JSON_MAX_DEPTH)
		return fail(p, p->pos,
			    "nesting deeper than " STR(JSON_MAX_DEPTH));
	p->depth++;
	r = p->s[p->pos] == '{' ? parse_object(p) : parse_array(p);
	p->depth--;
	return r;
}

/* A value at pos (white space already skipped); expected is the reason
 * given when no value starts there. */
static int parse_scalar(struct parser *p, int c, const char *expected)
{
	switch (c) {
	case '"':
		return parse_string(p, NULL);
	case 't':
	case 'f':
	case 'n':
		return parse_literal(p);
	case '-':
		return parse_number(p);
	case '+':
	case '.':
		return fail(p, p->pos, "invalid number");
	}
	if (c >= 0 && is_digit((char)c))
		return parse_number(p);
	if (c >= 0 && is_letter((char)c))
		return fail(p, p->pos, "invalid literal");
	return unexpected(p, expected);
}

static int parse_value(struct parser *p, const char *expected)
{
	size_t start = p->pos;
	int c = peek(p), r;

	if (c == '{' || c == '[')
		return parse_container(p);
	r = parse_scalar(p, c, expected);
	if (r == 0)
		emit_token(p, start);
	return r;
}

static int parse_document(struct parser *p)
{
	int r;

	if (p->len >= 3 && !memcmp(p->s, "\xEF\xBB\xBF", 3))
		return fail(p, 0, "byte order mark is not JSON");
	skip_ws(p);
	if (p->pos == p->len)
		return fail(p, p->pos, "empty input");
	r = parse_value(p, "expected a value");
	if (r)
		return r;
	skip_ws(p);
	if (p->pos < p->len)
		return unexpected(p, "trailing bytes after the JSON value");
	return 0;
}

/* Fill err for the first refusal in reading order. A duplicate name in an
 * object still open at the error comes before the error in the text, but is
 * only found when its object is sorted, which has not happened yet. */
static void report(struct parser *p, struct json_error *err)
{
	size_t pos = p->err_pos, dup, i;
	const char *reason = p->reason;

	for (i = 0; i < p->nlevels; i++) {
		if (!p->levels[i])
			continue;
		dup = first_duplicate(p->levels[i]);
		if (dup < pos) {
			pos = dup;
			reason = dup_reason;
		}
	}
	err->offset = pos;
	err->reason = reason;
	err->line = 1;
	err->column = 1;
	for (i = 0; i < pos; i++) {
		if (p->s[i] == '\n') {
			err->line++;
			err->column = 1;
		} else {
			err->column++;
		}
	}
}

static void free_levels(struct level **levels, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!levels[i])
			continue;
		sbuf_release(&levels[i]->names);
		free(levels[i]->m);
		free(levels[i]);
	}
	free(levels);
}

int json_check(const char *buf, size_t len, struct json_error *err)
{
	struct parser p = { .s = buf, .len = len };
	int r = parse_document(&p);

	if (r == -EINVAL && err)
		report(&p, err);
	free_levels(p.levels, p.nlevels);
	return r;
}

int json_pretty(struct sbuf *out, const char *buf, size_t len)
{
	struct parser p = { .s = buf, .len = len, .out = out };
	size_t old = out->len;
	int r;

	/* Room for the body and some indentation: most bodies then print
	 * without growing the buffer. */
	r = sbuf_grow(out, 2 * len + 64);
	if (r == 0)
		r = parse_document(&p);
	if (r == 0)
		r = p.out_err;
	if (r == 0)
		emit(&p, "\n", 1);
	if (r == 0)
		r = p.out_err;
	free_levels(p.levels, p.nlevels);
	if (r)
		sbuf_setlen(out, old);
	return r;
}

bool json_same_value(const char *a, size_t alen, const char *b, size_t blen)
{
	struct sbuf x = SBUF_INIT, y = SBUF_INIT;
	bool same = !json_pretty(&x, a, alen) && !json_pretty(&y, b, blen) &&
		    x.len == y.len && !memcmp(x.buf, y.buf, x.len);

	sbuf_release(&x);
	sbuf_release(&y);
	return same;
}
