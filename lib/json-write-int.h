/* json-write: emitting JSON text (quoted strings, members) for the JSON Lines
 * the library and the command print. */
#ifndef AGS_JSON_WRITE_INT_H
#define AGS_JSON_WRITE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf-int.h"

/** Append @s (len bytes of UTF-8) as a JSON string with quotes; control
 * characters, '"' and '\\' are escaped. @return 0 or -ENOMEM. */
int json_add_string(struct sbuf *out, const char *s, size_t len);
/** Append "name": "value" (value NULL gives null), preceded by ", " unless
 * the buffer ends in '{'. */
int json_add_member_string(struct sbuf *out, const char *name,
			   const char *value);
/** Append "name": number. */
int json_add_member_int(struct sbuf *out, const char *name, int64_t value);
/** Append "name": null. */
int json_add_member_null(struct sbuf *out, const char *name);

#endif
