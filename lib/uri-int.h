/* uri-int.h: turning a store URI into the SQLite file name it names. */
#ifndef AGS_URI_INT_H
#define AGS_URI_INT_H

#include "sbuf-int.h"

/** Resolve @uri: "sqlite:///abs/path.db" -> "/abs/path.db",
 * "sqlite://./rel.db" and "sqlite://rel.db" -> the relative path,
 * "sqlite://:memory:" -> ":memory:", and a string without "://" is a plain
 * path. Appends the file name to @out.
 * @return 0, or -EINVAL with a reason appended to @why. */
int uri_to_path(struct sbuf *out, struct sbuf *why, const char *uri);

#endif
