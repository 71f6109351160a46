/* uri.c: store URIs. The forms are those agent frameworks write for SQLite
 * (sqlite:///abs, sqlite://rel), plus plain paths; other schemes are refused
 * by name so the user learns which ones exist. */
#include <errno.h>
#include <string.h>

#include "uri-int.h"

static const char supported[] =
	"supported forms are sqlite:///ABSOLUTE/PATH, sqlite://RELATIVE/PATH, "
	"sqlite://:memory: and a plain file path";

int uri_to_path(struct sbuf *out, struct sbuf *why, const char *uri)
{
	const char *sep = strstr(uri, "://");
	const char *rest;

	if (!*uri) {
		sbuf_addf(why, "the store URI is empty; %s", supported);
		return -EINVAL;
	}
	if (!sep)
		return sbuf_adds(out, uri);
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
	return sbuf_adds(out, rest);
}
