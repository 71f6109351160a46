/* test-json.c: unit tests of lib/json.c: every refusal with its line, column
 * and reason, the valid edge cases, duplicate names in big objects, and the
 * canonical pretty form. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-int.h"
#include "tap.h"

/* The bodies below are C literals: the label says what each one tries. */
static void refused_n(const char *label, const char *in, size_t len,
		      unsigned line, unsigned column, const char *reason)
{
	struct json_error e = { 0 };
	int r = json_check(in, len, &e);

	is_int(r, -EINVAL, "%s: refused", label);
	is_int(e.line, line, "%s: line", label);
	is_int(e.column, column, "%s: column", label);
	is_str(e.reason, reason, "%s: reason", label);
}

static void refused(const char *label, const char *in, unsigned line,
		    unsigned column, const char *reason)
{
	refused_n(label, in, strlen(in), line, column, reason);
}

static void accepted_n(const char *label, const char *in, size_t len)
{
	struct json_error e = { 0 };
	int r = json_check(in, len, &e);

	if (!is_int(r, 0, "%s: accepted", label))
		printf("#   line %u column %u: %s\n", e.line, e.column,
		       e.reason ? e.reason : "(none)");
}

static void accepted(const char *label, const char *in)
{
	accepted_n(label, in, strlen(in));
}

static void test_utf8(void)
{
	ok(utf8_valid("", 0), "utf8: empty");
	ok(utf8_valid("a\0b", 3), "utf8: NUL is valid");
	ok(utf8_valid("\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80", 9),
	   "utf8: 2, 3 and 4 byte sequences");
	ok(utf8_valid("\xEF\xBF\xBF\xF4\x8F\xBF\xBF", 7),
	   "utf8: U+FFFF and U+10FFFF");
	ok(!utf8_valid("\xC0\xAF", 2), "utf8: overlong 2 bytes");
	ok(!utf8_valid("\xE0\x80\xAF", 3), "utf8: overlong 3 bytes");
	ok(!utf8_valid("\xF0\x80\x80\xAF", 4), "utf8: overlong 4 bytes");
	ok(!utf8_valid("\xED\xA0\x80", 3), "utf8: encoded surrogate");
	ok(!utf8_valid("\xF4\x90\x80\x80", 4), "utf8: above U+10FFFF");
	ok(!utf8_valid("\xF5\x80\x80\x80", 4), "utf8: lead byte F5");
	ok(!utf8_valid("\xFF", 1), "utf8: byte FF");
	ok(!utf8_valid("\x80", 1), "utf8: lone continuation byte");
	ok(!utf8_valid("\xE2\x82", 2), "utf8: truncated sequence");
	ok(!utf8_valid("\xE2\x28\xA1", 3), "utf8: bad continuation");
}

static void test_structure(void)
{
	refused("empty", "", 1, 1, "empty input");
	refused("only white space", " \n ", 2, 2, "empty input");
	refused("trailing value", "{} x", 1, 4,
		"trailing bytes after the JSON value");
	refused("two values", "{}\n{}", 2, 1,
		"trailing bytes after the JSON value");
	refused("trailing comma in object", "{\n  \"a\": 1,\n}", 3, 1,
		"trailing comma");
	refused("trailing comma in array", "[1,]", 1, 4, "trailing comma");
	refused("missing colon", "{\"a\" 1}", 1, 6, "expected ':'");
	refused("missing comma in object", "{\"a\":1 \"b\":2}", 1, 8,
		"expected ',' or '}'");
	refused("missing comma in array", "[1 2]", 1, 4, "expected ',' or ']'");
	refused("number as name", "{1:2}", 1, 2, "expected member name or '}'");
	refused("number as second name", "{\"a\":1,2}", 1, 8,
		"expected member name");
	refused("leading comma", "[,1]", 1, 2, "expected a value or ']'");
	refused("double comma", "[1,,2]", 1, 4, "expected a value");
	refused("missing value", "{\"a\":}", 1, 6, "expected a value");
	refused("wrong closer", "[1}", 1, 3, "expected ',' or ']'");
	refused("unclosed array", "[1", 1, 3, "unexpected end of input");
	refused("unclosed object", "{\"a\":1\n", 2, 1,
		"unexpected end of input");
	refused("lone closer", "]", 1, 1, "expected a value");
	refused_n("NUL byte as value", "[\0]", 3, 1, 2,
		  "expected a value or ']'");
	refused("byte order mark", "\xEF\xBB\xBF{}", 1, 1,
		"byte order mark is not JSON");
	refused("CRLF counts one line", "[\r\n1,\r\n]", 3, 1, "trailing comma");
	refused("vertical tab is not white space", "\v1", 1, 1,
		"expected a value");
	refused("form feed is not white space", "1\f", 1, 2,
		"trailing bytes after the JSON value");
}

static void test_strings(void)
{
	refused("unterminated string", "[\"abc", 1, 2, "unterminated string");
	refused("unterminated after backslash", "\"ab\\", 1, 1,
		"unterminated string");
	refused("raw control byte", "\"a\x01\"", 1, 3,
		"control character in string");
	refused("raw tab", "\"a\tb\"", 1, 3, "control character in string");
	refused("raw newline", "\"a\nb\"", 1, 3, "control character in string");
	refused_n("raw NUL", "\"a\0b\"", 5, 1, 3,
		  "control character in string");
	refused("unknown escape", "\"\\x\"", 1, 2, "invalid escape");
	refused("escaped single quote", "\"\\'\"", 1, 2, "invalid escape");
	refused("bad hex digit", "\"\\u12G4\"", 1, 2, "invalid escape");
	refused("short \\u", "\"\\u12\"", 1, 2, "invalid escape");
	refused("\\u at the end", "\"\\u12", 1, 2, "invalid escape");
	refused("lone high surrogate", "\"\\uD800\"", 1, 2,
		"unpaired surrogate escape");
	refused("lone low surrogate", "\"\\uDC00\"", 1, 2,
		"unpaired surrogate escape");
	refused("high then BMP", "\"\\uD800\\u0041\"", 1, 2,
		"unpaired surrogate escape");
	refused("two highs", "\"x\\uD83D\\uD83D\"", 1, 3,
		"unpaired surrogate escape");
	refused("low then high", "\"\\uDE00\\uD83D\"", 1, 2,
		"unpaired surrogate escape");
	refused("high then raw text", "[\"\\ud83dxx\"]", 1, 3,
		"unpaired surrogate escape");
	refused("bad UTF-8 in string", "\"\xC3\x28\"", 1, 2, "invalid UTF-8");
	refused("overlong UTF-8 in string", "\"a\xC0\xAF\"", 1, 3,
		"invalid UTF-8");
	refused("encoded surrogate in string", "\"\xED\xA0\x80\"", 1, 2,
		"invalid UTF-8");
	refused("above U+10FFFF in string", "\"\xF4\x90\x80\x80\"", 1, 2,
		"invalid UTF-8");
	refused("truncated UTF-8 in string", "\"\xE2\x82\"", 1, 2,
		"invalid UTF-8");
	refused("bad UTF-8 in a name", "{\"\xFF\":1}", 1, 3, "invalid UTF-8");
	refused("bad UTF-8 outside strings", "[1]\xFF", 1, 4, "invalid UTF-8");
	refused("bad UTF-8 as a value", "[\xC3]", 1, 2, "invalid UTF-8");
	refused("smart quotes",
		"[\xE2\x80\x9C"
		"a\xE2\x80\x9D]",
		1, 2, "expected a value or ']'");
	refused("single quotes", "'a'", 1, 1, "single quotes are not JSON");
	refused("single-quoted name", "{'a':1}", 1, 2,
		"single quotes are not JSON");
	refused("unquoted name", "{a:1}", 1, 2, "expected member name or '}'");
}

/* Strings are scanned eight bytes at a time: put each kind of byte the
 * scan must stop at in every position of two words, after runs of plain
 * bytes of every length, and check it is found exactly there. */
static void test_string_scan(void)
{
	char buf[64], label[64];
	struct json_error e;
	size_t at, n;
	int bad = 0;

	for (at = 1; at < 40; at++) {
		/* the string's own end */
		memset(buf, 'a', sizeof(buf));
		buf[0] = '"';
		buf[at] = '"';
		if (json_check(buf, at + 1, NULL) != 0)
			bad++;
		/* a control byte, a DEL (allowed), a UTF-8 pair, an escape */
		buf[at] = '\x1f';
		buf[at + 1] = '"';
		if (json_check(buf, at + 2, &e) != -EINVAL ||
		    e.column != at + 1 ||
		    strcmp(e.reason, "control character in string") != 0)
			bad++;
		buf[at] = 0x7f;
		if (json_check(buf, at + 2, NULL) != 0)
			bad++;
		buf[at] = (char)0xC3;
		buf[at + 1] = (char)0xA9;
		buf[at + 2] = '"';
		if (json_check(buf, at + 3, NULL) != 0)
			bad++;
		buf[at + 1] = '(';
		if (json_check(buf, at + 3, &e) != -EINVAL ||
		    e.column != at + 1 ||
		    strcmp(e.reason, "invalid UTF-8") != 0)
			bad++;
		buf[at] = '\\';
		buf[at + 1] = '"';
		buf[at + 2] = '"';
		if (json_check(buf, at + 3, NULL) != 0)
			bad++;
		/* no end at all */
		memset(buf + 1, 'a', sizeof(buf) - 1);
		if (json_check(buf, at + 1, &e) != -EINVAL || e.column != 1 ||
		    strcmp(e.reason, "unterminated string") != 0)
			bad++;
	}
	is_int(bad, 0, "every stop byte found at every position of a string");

	/* a name written plainly and one with an escape are the same name,
	 * whatever their lengths */
	for (n = 1; n < 20; n++) {
		size_t len = 0;

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "{\"");
		memset(buf + len, 'k', n);
		len += n;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"\":1,\"\\u006b");
		memset(buf + len, 'k', n - 1);
		len += n - 1;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\":2}");
		snprintf(label, sizeof(label), "a %zu-byte name escaped", n);
		refused_n(label, buf, len, 1, (unsigned)n + 7,
			  "duplicate member name");
	}
}

static void test_literals_numbers(void)
{
	refused("NaN", "NaN", 1, 1, "invalid literal");
	refused("Infinity", "[Infinity]", 1, 2, "invalid literal");
	refused("-Infinity", "[1, -Infinity]", 1, 6, "invalid literal");
	refused("True", "True", 1, 1, "invalid literal");
	refused("tru", "tru", 1, 4, "invalid literal");
	refused("nulL", "[nulL]", 1, 5, "invalid literal");
	refused("falsey", "falsey", 1, 6, "invalid literal");
	refused("undefined", "{\"a\":undefined}", 1, 6, "invalid literal");
	refused("None", "None", 1, 1, "invalid literal");
	refused("leading zero", "01", 1, 2, "invalid number");
	refused("negative leading zero", "-01", 1, 3, "invalid number");
	refused("no fraction digits", "1.", 1, 3, "invalid number");
	refused("no fraction before exponent", "1.e5", 1, 3, "invalid number");
	refused("leading dot", ".5", 1, 1, "invalid number");
	refused("leading plus", "[+1]", 1, 2, "invalid number");
	refused("no exponent digits", "1e", 1, 3, "invalid number");
	refused("sign only exponent", "1e+", 1, 4, "invalid number");
	refused("minus alone", "-", 1, 2, "invalid number");
	refused("minus then space", "- 1", 1, 2, "invalid number");
	refused("hex", "0x10", 1, 2, "invalid number");
	refused("two dots", "1.5.3", 1, 4, "invalid number");
	refused("minus inside", "[1-2]", 1, 3, "invalid number");
	refused("letter after number", "{\"a\":12a}", 1, 8, "invalid number");
	refused("line comment first", "// c\n{}", 1, 1,
		"comments are not JSON");
	refused("block comment after", "{} /* c */", 1, 4,
		"comments are not JSON");
	refused("comment after value", "{\"a\":1 // c\n}", 1, 8,
		"comments are not JSON");
	refused("comment between elements", "[1,/*x*/2]", 1, 4,
		"comments are not JSON");
	refused("lone slash", "[/]", 1, 2, "expected a value or ']'");
}

static char *nested(unsigned depth, const char *open, const char *inner,
		    const char *close)
{
	size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
	char *s = malloc(depth * (lo + lc) + li + 1), *p = s;
	unsigned i;

	if (!s)
		abort();
	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_depth(void)
{
	char *s;

	s = nested(512, "[", "", "]");
	accepted("arrays nested 512 deep", s);
	free(s);
	s = nested(513, "[", "", "]");
	refused("arrays nested 513 deep", s, 1, 513, "nesting deeper than 512");
	free(s);
	s = nested(512, "{\"a\":", "1", "}");
	accepted("objects nested 512 deep", s);
	free(s);
	s = nested(513, "{\"a\":", "1", "}");
	refused("objects nested 513 deep", s, 1, 512 * 5 + 1,
		"nesting deeper than 512");
	free(s);
	s = nested(100000, "[", "", "]");
	refused("arrays nested 100000 deep", s, 1, 513,
		"nesting deeper than 512");
	free(s);
}

static void test_valid(void)
{
	accepted("big integer", "12345678901234567890");
	accepted("huge exponent", "1e400");
	accepted("minus zero", "-0");
	accepted("exponent with sign", "0.5E+3");
	accepted("negative exponent", "-1.25e-10");
	accepted("zero", "0");
	accepted("zero fraction", "0.0");
	accepted("true", "true");
	accepted("false", "false");
	accepted("null", "null");
	accepted("empty string", "\"\"");
	accepted("every escape",
		 "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\\uD83D\\uDE00\"");
	accepted("escaped NUL", "\"\\u0000\"");
	accepted("raw UTF-8", "\"\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80\"");
	accepted("raw DEL", "\"\x7F\"");
	accepted("surrounding white space", " \t\r\n{}\n\r\t ");
	accepted("empty array", "[]");
	accepted("empty object", "{}");
	accepted("spaced empty containers", "[ { } , [ ] ]");
	accepted("empty name", "{\"\":0}");
	accepted("names differ in case", "{\"a\":1,\"A\":2}");
	accepted("name with escaped NUL", "{\"a\\u0000\":1,\"a\":2}");
	accepted("same name in nested objects", "{\"a\":{\"a\":1}}");
	accepted("same name in sibling objects", "[{\"a\":1},{\"a\":1}]");
	accepted("same name in cousins", "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
	accepted("all kinds", "{\"s\":\"v\",\"n\":-1.5e3,\"t\":true,"
			      "\"f\":false,\"z\":null,\"a\":[1,[2,{}]]}");
	accepted_n("white space after value", "1 ", 2);
	ok(json_check("[1,]", 4, NULL) == -EINVAL, "err may be NULL");
}

static void test_duplicates(void)
{
	struct json_error e = { 0 };

	refused("duplicate name", "{\"a\":1,\"a\":2}", 1, 8,
		"duplicate member name");
	refused("duplicate by escape", "{\"a\":1,\n\"\\u0061\":2}", 2, 1,
		"duplicate member name");
	refused("duplicate by surrogate pair",
		"{\"\\uD83D\\uDE00\":1,\"\xF0\x9F\x98\x80\":2}", 1, 19,
		"duplicate member name");
	refused("third name repeats the first", "{\"a\":1,\"b\":2,\"a\":3}", 1,
		14, "duplicate member name");
	refused("earliest duplicate wins", "{\"b\":1,\"a\":2,\"a\":3,\"b\":4}",
		1, 14, "duplicate member name");
	refused("duplicate before trailing comma", "{\"a\":1,\"a\":2,}", 1, 8,
		"duplicate member name");
	refused("outer duplicate before inner error",
		"{\"a\":1,\"a\":{\"b\":1,}}", 1, 8, "duplicate member name");
	refused("inner duplicate before outer",
		"{\"x\":{\"b\":1,\"b\":2},\"x\":1}", 1, 13,
		"duplicate member name");
	refused("outer duplicate before inner duplicate",
		"{\"x\":1,\"x\":{\"b\":1,\"b\":2}}", 1, 8,
		"duplicate member name");
	refused("duplicate in an array's object", "[{},{\"k\":1,\"k\":1}]", 1,
		12, "duplicate member name");
	json_check("{\"a\":1,\"a\":2}", 13, &e);
	is_int(e.offset, 7, "duplicate: offset of the second name");
}

/* {"k0":0,"k1":0,...} with n members; the last one named last if given. */
static char *big_object(unsigned n, const char *last, size_t *ret_len)
{
	size_t cap = (size_t)n * 20 + 64, len = 0;
	char *s = malloc(cap);
	unsigned i;

	if (!s)
		abort();
	s[len++] = '{';
	for (i = 0; i < n; i++) {
		if (i == n - 1 && last)
			len += (size_t)sprintf(s + len, "\"%s\":0", last);
		else
			len += (size_t)sprintf(s + len, "\"k%u\":%u,", i, i);
	}
	if (!last)
		len--;
	s[len++] = '}';
	s[len] = '\0';
	*ret_len = len;
	return s;
}

static void test_big_objects(void)
{
	struct json_error e = { 0 };
	size_t len;
	char *s;

	s = big_object(100000, NULL, &len);
	accepted_n("100000 distinct members", s, len);
	free(s);
	s = big_object(100000, "k5", &len);
	is_int(json_check(s, len, &e), -EINVAL, "100000 members, one dup");
	is_str(e.reason, "duplicate member name", "big dup: reason");
	is_int(e.offset, len - 7, "big dup: offset of the last name");
	is_int(e.line, 1, "big dup: line");
	is_int(e.column, len - 6, "big dup: column");
	free(s);
	/* Around the size where duplicates stop being found pair by pair. */
	for (unsigned n = 15; n <= 18; n++) {
		s = big_object(n, "k3", &len);
		is_int(json_check(s, len, &e), -EINVAL, "%u members, one dup",
		       n);
		is_int(e.offset, len - 7, "%u members: offset of the dup", n);
		free(s);
		s = big_object(n, NULL, &len);
		accepted_n("distinct members", s, len);
		free(s);
	}
	s = big_object(100000, "k\\u0035", &len);
	is_int(json_check(s, len, &e), -EINVAL, "big dup by escape");
	is_int(e.offset, len - 12, "big dup by escape: offset");
	free(s);
}

static void pretty_is(const char *label, const char *in, const char *want)
{
	struct sbuf out = SBUF_INIT, again = SBUF_INIT;

	is_int(json_pretty(&out, in, strlen(in)), 0, "%s: pretty", label);
	is_str(out.buf, want, "%s: canonical form", label);
	is_int(json_pretty(&again, out.buf, out.len), 0, "%s: again", label);
	is_str(again.buf, out.buf, "%s: idempotent", label);
	sbuf_release(&out);
	sbuf_release(&again);
}

/* Indentation that outgrows the room reserved for it up front. */
static void test_pretty_deep(void)
{
	enum { DEPTH = 300 };
	struct sbuf in = SBUF_INIT, want = SBUF_INIT, out = SBUF_INIT;
	int i;

	for (i = 0; i < DEPTH; i++)
		sbuf_addch(&in, '[');
	sbuf_adds(&in, "\"a string longer than sixteen bytes\"");
	for (i = 0; i < DEPTH; i++)
		sbuf_addch(&in, ']');
	for (i = 0; i < DEPTH; i++)
		sbuf_addf(&want, "%*s[\n", 2 * i, "");
	sbuf_addf(&want, "%*s\"a string longer than sixteen bytes\"\n",
		  2 * DEPTH, "");
	for (i = DEPTH - 1; i >= 0; i--)
		sbuf_addf(&want, "%*s]\n", 2 * i, "");
	is_int(json_pretty(&out, in.buf, in.len), 0, "deep nesting: pretty");
	is_int((int)out.len, (int)want.len, "deep nesting: length");
	is_int(strcmp(out.buf, want.buf), 0, "deep nesting: text");
	sbuf_release(&in);
	sbuf_release(&want);
	sbuf_release(&out);
}

static void test_pretty(void)
{
	struct sbuf out = SBUF_INIT;

	pretty_is("nested", "{\"a\":1,\"b\":[1,2,{}],\"c\":{\"d\":[]}}",
		  "{\n"
		  "  \"a\": 1,\n"
		  "  \"b\": [\n"
		  "    1,\n"
		  "    2,\n"
		  "    {}\n"
		  "  ],\n"
		  "  \"c\": {\n"
		  "    \"d\": []\n"
		  "  }\n"
		  "}\n");
	pretty_is("spelling kept",
		  " [ 12345678901234567890 , 1e400,-0, 0.5E+3,\"\\u0061\\/\","
		  "\"\xC3\xBC\", true,false , null ] ",
		  "[\n"
		  "  12345678901234567890,\n"
		  "  1e400,\n"
		  "  -0,\n"
		  "  0.5E+3,\n"
		  "  \"\\u0061\\/\",\n"
		  "  \"\xC3\xBC\",\n"
		  "  true,\n"
		  "  false,\n"
		  "  null\n"
		  "]\n");
	pretty_is("odd white space", "{\r\n\t\"a b\" :\n[ ]\t, \"\\\"\":{ } }",
		  "{\n"
		  "  \"a b\": [],\n"
		  "  \"\\\"\": {}\n"
		  "}\n");
	pretty_is("scalar", "\n  12345678901234567890\n\n",
		  "12345678901234567890\n");
	pretty_is("string scalar", "\"a,]}\\\\\"", "\"a,]}\\\\\"\n");
	pretty_is("empty object", "{ }", "{}\n");
	pretty_is("empty array", "[\n]", "[]\n");
	pretty_is("nested arrays", "[[[1]]]",
		  "[\n"
		  "  [\n"
		  "    [\n"
		  "      1\n"
		  "    ]\n"
		  "  ]\n"
		  "]\n");
	test_pretty_deep();
	sbuf_addf(&out, "keep");
	is_int(json_pretty(&out, "[1,]", 4), -EINVAL, "pretty refuses invalid");
	is_str(out.buf, "keep", "pretty leaves out alone on refusal");
	is_int(json_pretty(&out, "1", 1), 0, "pretty appends");
	is_str(out.buf, "keep1\n", "pretty appends after existing text");
	sbuf_release(&out);
}

static bool same(const char *a, const char *b)
{
	return json_same_value(a, strlen(a), b, strlen(b));
}

static void test_same_value(void)
{
	ok(same("{\"a\":[1,2]}", " {\n \"a\" : [ 1 , 2 ] }\n"),
	   "same: white space ignored");
	ok(same("1", "1"), "same: scalars");
	ok(!same("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"),
	   "same: member order counts");
	ok(!same("1", "1.0"), "same: number spelling counts");
	ok(!same("\"a\"", "\"\\u0061\""), "same: string spelling counts");
	ok(!same("[1]", "[1,]"), "same: invalid is never the same");
	ok(!same("[1,]", "[1,]"), "same: not even to itself");
	ok(!same("[]", "{}"), "same: array is not object");
}

static void canon_is(const char *in, const char *want)
{
	struct sbuf out = SBUF_INIT;
	int r = json_canon(&out, in, strlen(in));

	if (r < 0)
		sbuf_addf(&out, "error %d", r);
	is_str(out.buf, want, "canonical %s", in);
	sbuf_release(&out);
}

static void test_canon(void)
{
	canon_is(" { \"a\" : 1.0 , \"b\" : [ true, null ] } ",
		 "{\"a\":1,\"b\":[true,null]}");
	canon_is("[1, 1.0, 1e0, 10E-1, -0.0, 100e-2]", "[1,1,1,1,0,1]");
	canon_is("[12345678901234567890, 9007199254740993, 0.5, 1e400]",
		 "[1.2345678901234567e+19,9007199254740993,0.5,inf]");
	canon_is("\"\\u00e9\\/\\u0041\\n\\u001f\\\"\"",
		 "\"\u00e9/A\\u000a\\u001f\\\"\"");
	canon_is("\"\\ud83d\\ude00\"", "\"\U0001F600\"");
	canon_is("{\"\\u0061\": \"x\"}", "{\"a\":\"x\"}");
	canon_is("[1,", "error -22");
}

/* Any text may reach it (a string field's value): nesting past the bodies'
 * limit is refused, not followed down the stack. */
static void test_canon_deep(void)
{
	struct sbuf in = SBUF_INIT, out = SBUF_INIT;

	for (int i = 0; i < 1000000; i++)
		sbuf_addch(&in, '[');
	is_int(json_canon(&out, in.buf, in.len), -EINVAL,
	       "a million '[' are refused");
	sbuf_reset(&in);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		sbuf_addch(&in, '[');
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		sbuf_addch(&in, ']');
	is_int(json_canon(&out, in.buf, in.len), 0, "512 levels are not");
	sbuf_release(&in);
	sbuf_release(&out);
}

/* A program using the library may set a locale whose decimal point is a
 * comma: numbers are read and written the same. */
static void test_canon_locale(void)
{
	locale_t de = newlocale(LC_NUMERIC_MASK, "de_DE.UTF-8", (locale_t)0);
	locale_t prev;

	if (!de) {
		ok(1, "# SKIP no de_DE.UTF-8 locale on this machine");
		return;
	}
	prev = uselocale(de);
	canon_is("[1.5, 2.25e1, 0.1]", "[1.5,22.5,0.10000000000000001]");
	uselocale(prev);
	freelocale(de);
}

int main(void)
{
	test_utf8();
	test_structure();
	test_strings();
	test_string_scan();
	test_literals_numbers();
	test_depth();
	test_valid();
	test_duplicates();
	test_big_objects();
	test_pretty();
	test_same_value();
	test_canon();
	test_canon_deep();
	test_canon_locale();
	return done_testing();
}
