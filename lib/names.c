/* names.c: the naming rules of design.md ("Names"): valid collection names
 * and object ids, and the bijection between an id and the file name of its
 * object, which makes every other name in a collection a temporary file. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "json-int.h"
#include "names-int.h"

#define SUFFIX ".json"
#define SUFFIX_LEN (sizeof(SUFFIX) - 1)

const char name_collection_rule[] =
	"collection names are 1-128 bytes of letters, digits, '_', '.' and '-', not starting with '.' or '-'";
const char name_id_rule[] =
	"object ids are 1-200 bytes of valid UTF-8 without NUL bytes";

/* Uppercase only: with one spelling per byte, decoding can insist on it. */
static const char hex[] = "0123456789ABCDEF";

/* Not isalnum(): the rule must not change with the locale. */
static bool collection_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int name_check_collection(const char *name)
{
	size_t len, i;

	assert(name);
	len = strnlen(name, NAME_COLLECTION_MAX + 1);
	if (len == 0 || len > NAME_COLLECTION_MAX)
		return -EINVAL;
	/* A leading '.' would hide the directory and allow "." and "..";
	 * a leading '-' would read as an option on every command line. */
	if (name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!collection_char(name[i]))
			return -EINVAL;
	return 0;
}

int name_check_id(const char *id, size_t len)
{
	if (len == 0 || len > NAME_ID_MAX)
		return -EINVAL;
	if (memchr(id, '\0', len) || !utf8_valid(id, len))
		return -EINVAL;
	return 0;
}

/* Whether byte c of an id is written %XX in its file name: '/' cannot be in
 * a name, '%' is the escape itself, control bytes trouble terminals and
 * line-based tools, and a leading '.' would hide the file (and turn the ids
 * "." and ".." into the directory entries). Encoding and decoding share this
 * one test, so they cannot drift apart. */
static bool needs_escape(unsigned char c, bool first)
{
	return c == '%' || c == '/' || c < 0x20 || c == 0x7F ||
	       (first && c == '.');
}

int name_encode_file(struct sbuf *out, const char *id, size_t len)
{
	size_t old = out->len, i = 0, plain;
	unsigned char c;
	char esc[3];
	int r = 0;

	while (i < len && !r) {
		/* Most ids need no escape: their bytes go in runs. */
		for (plain = i;
		     plain < len &&
		     !needs_escape((unsigned char)id[plain], plain == 0);
		     plain++)
			;
		if (plain > i) {
			r = sbuf_add(out, id + i, plain - i);
			i = plain;
			continue;
		}
		c = (unsigned char)id[i++];
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xF];
		r = sbuf_add(out, esc, sizeof(esc));
	}
	if (!r)
		r = sbuf_add(out, SUFFIX, SUFFIX_LEN);
	if (r)
		sbuf_setlen(out, old);
	return r;
}

static int hex_value(char c)
{
	const char *p = c ? strchr(hex, c) : NULL;

	return p ? (int)(p - hex) : -1;
}

/* Decode the encoded id [s, s+n), appending it to out unless out is NULL.
 * Only the spelling name_encode_file produces is accepted: a byte escaped
 * that need not be, or not escaped that must be, is refused. */
static int decode_id(struct sbuf *out, const char *s, size_t n)
{
	size_t i = 0, k = 0;
	unsigned char c;
	int hi, lo, r;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0' || !needs_escape(c, k == 0))
				return -EINVAL;
			i += 3;
		} else if (needs_escape(c, k == 0)) {
			return -EINVAL;
		} else {
			i++;
		}
		if (++k > NAME_ID_MAX)
			return -EINVAL;
		if (out && (r = sbuf_addch(out, (char)c)))
			return r;
	}
	/* Escaped bytes are all ASCII, so the id is valid UTF-8 exactly when
	 * its encoded spelling is; this lets a check run without decoding. */
	if (k == 0 || !utf8_valid(s, n))
		return -EINVAL;
	return 0;
}

/* The length of the encoded id in fname, or -EINVAL without ".json". */
static int encoded_len(const char *fname, size_t *ret_len)
{
	size_t len = strlen(fname);

	if (len < SUFFIX_LEN || strcmp(fname + len - SUFFIX_LEN, SUFFIX))
		return -EINVAL;
	*ret_len = len - SUFFIX_LEN;
	return 0;
}

int name_decode_file(struct sbuf *out, const char *fname)
{
	size_t old = out->len, n;
	int r = encoded_len(fname, &n);

	if (!r)
		r = decode_id(out, fname, n);
	if (r)
		sbuf_setlen(out, old);
	return r;
}

bool name_is_json(const char *fname)
{
	size_t n;

	return !encoded_len(fname, &n) && n > 0;
}

bool name_is_object_file(const char *fname)
{
	size_t n;

	return !encoded_len(fname, &n) && !decode_id(NULL, fname, n);
}
