/* object-int.h: entry points for callers inside this project that check a
 * body themselves before storing it. */
#ifndef AGS_OBJECT_INT_H
#define AGS_OBJECT_INT_H

#include "agentstate.h"

/* What a put made: the object's version, number and attributes after it,
 * which a caller would otherwise read back. */
struct put_result {
	int64_t version;
	int64_t number;
	struct ags_attr attr;
};

/** ags_object_put() of a body the caller has just checked with json_check()
 * (the mount checks each body before it asks for the store's lock, so
 * that invalid JSON is EINVAL even while another process holds the store,
 * and names the file in its message): the same, without reading the body
 * a second time, telling what it made in @ret (may be NULL). The size
 * limit is still applied, and the schema still refuses anything that is
 * not JSON. */
int object_put_checked(ags_store *s, struct put_result *ret,
		       const char *collection, const char *id, const char *body,
		       size_t len, int64_t if_version);

#endif
