/* names: the naming rules of design.md ("Names"): collection names, object
 * ids, and the codec between an id and the file name of its object. */
#ifndef AGS_NAMES_INT_H
#define AGS_NAMES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf-int.h"

#define NAME_COLLECTION_MAX 128
#define NAME_ID_MAX 200

/** A collection name: 1-128 bytes of [A-Za-z0-9_.-], not starting with '.'
 * or '-'. @return 0 or -EINVAL. */
int name_check_collection(const char *name);
/** An object id: valid UTF-8, 1-200 bytes, no NUL (len excludes any NUL
 * terminator; an embedded NUL is refused). @return 0 or -EINVAL. */
int name_check_id(const char *id, size_t len);
/** The rule text, for error messages: "collection names are 1-128 ..." */
extern const char name_collection_rule[];
extern const char name_id_rule[];

/** Append encode(id) + ".json" to out: '%', '/', bytes < 0x20, 0x7F and a
 * leading '.' become %XX (uppercase hex), everything else is kept.
 * @return 0 or -ENOMEM. */
int name_encode_file(struct sbuf *out, const char *id, size_t len);
/** Decode an object file name ("<encoded id>.json") into the id, appended to
 * out. A name is an object name only when it ends in ".json", every '%' is
 * followed by two hex digits, the decoded bytes form a valid id, and
 * encoding that id gives back exactly this name (so the codec is a bijection
 * and "a%41.json" or "x.json~" are temporary names, not objects).
 * @return 0, -EINVAL when not an object name (out unchanged), or -ENOMEM. */
int name_decode_file(struct sbuf *out, const char *fname);
/** True when fname is an object file name (see name_decode_file). */
bool name_is_object_file(const char *fname);

/** Whether @fname is something followed by ".json", object name or not. */
bool name_is_json(const char *fname);

#endif
