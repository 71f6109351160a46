/* uri-int.h: turning a store URI into the SQLite file name it names. */
#ifndef AGS_URI_INT_H
#define AGS_URI_INT_H

#include <sqlite3.h>

#include "sbuf-int.h"

/** Resolve @uri: "sqlite:///abs/path.db" -> "/abs/path.db",
 * "sqlite://./rel.db" and "sqlite://rel.db" -> the relative path,
 * "sqlite://:memory:" -> ":memory:", and a string without "://" is a plain
 * path. Appends the file name to @out.
 * @return 0, or -EINVAL with a reason appended to @why. */
int uri_to_path(struct sbuf *out, struct sbuf *why, const char *uri);

/** Open the database file @path as sqlite3_open_v2() does, but always as a
 * file name: SQLite, as Debian builds it, reads a name starting with
 * "file:" as a URI of its own. */
int uri_open_file(const char *path, sqlite3 **db, int flags);

#endif
