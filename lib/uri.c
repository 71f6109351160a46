/* uri.c: store URIs. The forms are those agent frameworks write for SQLite
 * (sqlite:///abs, sqlite://rel), plus plain paths; other schemes are refused
 * by name so the user learns which ones exist. */
#include <errno.h>
#include <string.h>

#include "uri-int.h"

static const char supported[] =
	"supported forms are sqlite:///ABSOLUTE/PATH, sqlite://RELATIVE/PATH, "
	"sqlite://:memory: and a plain file path";

/* SQLite, as Debian builds it, reads a file name starting with "file:" as
 * a URI of its own ("file:x.db?mode=ro" opens x.db): such a name would
 * work for one command and not the next. A path is always a path. */
static int add_path(struct sbuf *out, const char *path)
{
	if (!strncmp(path, "file:", 5) && sbuf_adds(out, "./") < 0)
		return -ENOMEM;
	return sbuf_adds(out, path);
}

int uri_open_file(const char *path, sqlite3 **db, int flags)
{
	struct sbuf name = SBUF_INIT;
	int rc;

	if (add_path(&name, path) < 0) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	rc = sqlite3_open_v2(name.buf, db, flags, NULL);
	sbuf_release(&name);
	return rc;
}

int uri_to_path(struct sbuf *out, struct sbuf *why, const char *uri)
{
	const char *sep = strstr(uri, "://");
	const char *rest;

	if (!*uri) {
		sbuf_addf(why, "the store URI is empty; %s", supported);
		return -EINVAL;
	}
	if (!sep)
		return add_path(out, uri);
	if ((size_t)(sep - uri) != strlen("sqlite") ||
	    strncmp(uri, "sqlite", 6) != 0) {
		sbuf_addf(why, "unknown scheme '%.*s'; %s", (int)(sep - uri),
			  uri, supported);
		return -EINVAL;
	}
	rest = sep + 3;
	if (!*rest) {
		sbuf_addf(why, "the URI names no file; %s", supported);
		return -EINVAL;
	}
	/* "sqlite:///abs" leaves "/abs"; "sqlite://./rel" and "sqlite://rel"
	 * leave a relative path, which is what users of those forms mean. */
	return add_path(out, rest);
}
