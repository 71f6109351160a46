/* object-int.h: entry points for callers inside this project that check a
 * body themselves before storing it. */
#ifndef AGS_OBJECT_INT_H
#define AGS_OBJECT_INT_H

#include "agentstate.h"

/** ags_object_put() of a body the caller has just checked with json_check()
 * (the mount checks each body before it takes any lock, so that a refusal
 * never waits for a busy store, and names the file in its message): the
 * same, without reading the body a second time. The size limit is still
 * applied, and the schema still refuses anything that is not JSON. */
int object_put_checked(ags_store *s, int64_t *ret_version,
		       const char *collection, const char *id, const char *body,
		       size_t len, int64_t if_version);

#endif
