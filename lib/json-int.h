/* json: the strict JSON rules of design.md ("JSON bodies") and the canonical
 * pretty form used by export. Bodies are never re-printed when stored; these
 * functions only check them, or print the canonical form on request. */
#ifndef AGS_JSON_INT_H
#define AGS_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf-int.h"

#define JSON_MAX_DEPTH 512

struct json_error {
	unsigned line;	    /* 1-based line of the offending byte */
	unsigned column;    /* 1-based column, counted in bytes */
	size_t offset;	    /* 0-based byte offset of the offending byte */
	const char *reason; /* static text, e.g. "expected ',' or '}'" */
};

/** True when [s, s+len) is valid UTF-8 (no overlongs, no surrogates, no
 * code points above U+10FFFF). NUL bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

/** Check that [buf, buf+len) is exactly one RFC 8259 JSON value with optional
 * surrounding white space, under the strict rules of design.md: not empty, no
 * trailing bytes, valid UTF-8 everywhere, no unpaired surrogate escapes, no
 * duplicate member names in one object, no NaN/Infinity/comments/single
 * quotes/trailing commas, nesting at most JSON_MAX_DEPTH.
 * @return 0, or -EINVAL with *err filled (err may be NULL). */
int json_check(const char *buf, size_t len, struct json_error *err);

/** Append the canonical pretty form of a body that passed json_check:
 * 2-space indent, one member or element per line, ": " after names, empty
 * {} and [] on one line, member order and every string and number spelled
 * exactly as in the input, one trailing newline. Idempotent.
 * @return 0, -EINVAL if the body is not valid, or -ENOMEM. */
int json_pretty(struct sbuf *out, const char *buf, size_t len);

/** True when two valid bodies hold the same JSON value regardless of white
 * space (member order and number/string spelling are significant: the
 * comparison is over the canonical form). */
bool json_same_value(const char *a, size_t alen, const char *b, size_t blen);

/** Append code point @cp (at most U+10FFFF, no surrogate) as UTF-8.
 * @return 0 or -ENOMEM. */
int json_add_utf8(struct sbuf *sb, long cp);

/** Append the canonical spelling of the valid JSON value [s, s+len) (see
 * json-canon.c): two values are equal, as find compares them, exactly when
 * their canonical spellings are. @return 0, -EINVAL, or -ENOMEM. */
int json_canon(struct sbuf *out, const char *s, size_t len);

#endif
