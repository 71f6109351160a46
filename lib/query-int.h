/* query-int.h: private entry points of query.c, for tests. */
#ifndef AGS_QUERY_INT_H
#define AGS_QUERY_INT_H

#include <sqlite3.h>

#include "agentstate.h"
#include "sbuf-int.h"

/** Give connection @db the SQL function ags_json_canon(TEXT): the canonical
 * spelling of a JSON value (json-canon.c), NULL for what is not JSON.
 * @return an SQLite result code. */
int query_add_functions(sqlite3 *db);

/** Turn a field ("a.b.0", "a.\"odd key\"" or "$.a[0].b") into the SQLite
 * JSON path it names ("$.a.b[0]"). @return 0 or -EINVAL. */
int query_field_path(struct sbuf *out, const char *field);

/** The query plan SQLite chooses for ags_query_find(), one detail a line. */
int query_explain_find(ags_store *s, const char *collection, const char *field,
		       const char *value, size_t len, struct sbuf *out);

#endif
