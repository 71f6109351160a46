/* json-write.c: building JSON text for output: the audit log's JSON Lines
 * and the command's results. Checking input is json.c's job. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json-write-int.h"

int json_add_string(struct sbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int r = sbuf_addch(out, '"');

	for (size_t i = 0; r == 0 && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			r = sbuf_add(out, esc, 2);
		} else if (c == '\n') {
			r = sbuf_add(out, "\\n", 2);
		} else if (c == '\t') {
			r = sbuf_add(out, "\\t", 2);
		} else if (c == '\r') {
			r = sbuf_add(out, "\\r", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char esc[6] = { '\\', 'u',	   '0',
					'0',  hex[c >> 4], hex[c & 15] };
			r = sbuf_add(out, esc, 6);
		} else {
			r = sbuf_addch(out, (char)c);
		}
	}
	return r ? r : sbuf_addch(out, '"');
}

static int add_name(struct sbuf *out, const char *name)
{
	int r = 0;

	if (out->len && out->buf[out->len - 1] != '{')
		r = sbuf_add(out, ", ", 2);
	if (r == 0)
		r = json_add_string(out, name, strlen(name));
	return r ? r : sbuf_add(out, ": ", 2);
}

int json_add_member_string(struct sbuf *out, const char *name,
			   const char *value)
{
	int r = add_name(out, name);

	if (r)
		return r;
	if (!value)
		return sbuf_adds(out, "null");
	return json_add_string(out, value, strlen(value));
}

int json_add_member_int(struct sbuf *out, const char *name, int64_t value)
{
	int r = add_name(out, name);

	return r ? r : sbuf_addf(out, "%" PRId64, value);
}

int json_add_member_null(struct sbuf *out, const char *name)
{
	int r = add_name(out, name);

	return r ? r : sbuf_adds(out, "null");
}
