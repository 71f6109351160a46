/* test-uri.c: store URIs to file names. */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "uri-int.h"

static void check(const char *uri, const char *want)
{
	struct sbuf out = SBUF_INIT, why = SBUF_INIT;
	int r = uri_to_path(&out, &why, uri);

	is_int(r, 0, "'%s' is accepted", uri);
	is_str(out.buf, want, "'%s' names %s", uri, want);
	sbuf_release(&out);
	sbuf_release(&why);
}

static void refused(const char *uri, const char *needle)
{
	struct sbuf out = SBUF_INIT, why = SBUF_INIT;
	int r = uri_to_path(&out, &why, uri);

	is_int(r, -EINVAL, "'%s' is refused", uri);
	ok(strstr(why.buf, needle) != NULL, "its reason mentions '%s': %s",
	   needle, why.buf);
	ok(strstr(why.buf, "sqlite:///") != NULL,
	   "and lists the supported forms");
	is_int(out.len, 0, "and names no file");
	sbuf_release(&out);
	sbuf_release(&why);
}

int main(void)
{
	check("sqlite:///var/lib/agent/state.db", "/var/lib/agent/state.db");
	check("sqlite://./rel.db", "./rel.db");
	check("sqlite://rel.db", "rel.db");
	check("sqlite://:memory:", ":memory:");
	check("plain/path.db", "plain/path.db");
	check("/abs/path.db", "/abs/path.db");
	/* Never an SQLite URI: the same name must open the same file. */
	check("file:my.db", "./file:my.db");
	check("sqlite://file:x.db?mode=ro", "./file:x.db?mode=ro");
	refused("postgresql://localhost/db", "postgresql");
	refused("mysql://x", "mysql");
	refused("sqlite://", "no file");
	refused("", "empty");
	return done_testing();
}
