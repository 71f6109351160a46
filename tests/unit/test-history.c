/* test-history.c: versions, reading kept versions, revert, retention. */
#include <errno.h>

#include "fixture.h"
#include "tap.h"

static ags_store *s;

static int versions_cb(void *ctx, const struct ags_version_info *v)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%lld%s:%s,", (long long)v->version,
		  v->kept ? "" : "(gone)", v->row->op);
	return 0;
}

static void history_is(const char *id, const char *want)
{
	struct sbuf out = SBUF_INIT;

	ags_history_list(s, "h", id, versions_cb, &out);
	is_str(out.buf, want, "history of %s", id);
	sbuf_release(&out);
}

int main(void)
{
	struct ags_object o;
	int64_t v = 0, keep = -1;
	char *b;

	s = fixture_open();
	ags_collection_create(s, "h");
	for (int i = 1; i <= 4; i++) {
		char body[8];
		snprintf(body, sizeof(body), "%d", i * 10);
		ags_object_put(s, &v, "h", "x", body, strlen(body), 0);
	}
	is_int(v, 4, "four puts make version 4");
	history_is("x", "1:create,2:update,3:update,4:update,");
	ags_object_get(s, "h", "x", 2, true, &o);
	is_str(o.body, "20", "version 2 reads its body");
	is_int(ags_object_revert(s, &v, "h", "x", 2), 0, "revert to 2");
	is_int(v, 5, "as a new version");
	b = body_of(s, "h", "x");
	is_str(b, "20", "holding the old body");
	free(b);
	history_is("x", "1:create,2:update,3:update,4:update,5:revert,");
	is_int(ags_object_revert(s, &v, "h", "x", 9), -ENOENT,
	       "reverting to a version that never was is ENOENT");

	ags_store_get_retention(s, &keep);
	is_int(keep, 0, "all versions are kept by default");
	is_int(ags_store_set_retention(s, 2), 0, "keep 2 earlier versions");
	ags_object_put(s, &v, "h", "x", "60", 2, 0);
	history_is("x", "1(gone):create,2(gone):update,3(gone):update,"
			"4:update,5:revert,6:update,");
	is_int(ags_object_get(s, "h", "x", 1, true, &o), -ENOENT,
	       "a pruned version is ENOENT");
	ok(strstr(ags_errmsg(s), "no such version is kept"), "message: %s",
	   ags_errmsg(s));
	is_int(ags_store_set_retention(s, -1), -EINVAL,
	       "a negative retention is refused");

	ags_object_rename(s, "h", "x", "h", "y", 0);
	history_is("y", "1(gone):create,2(gone):update,3(gone):update,"
			"4(gone):update,5:revert,6:update,7:rename,");
	is_int(ags_history_list(s, "h", "x", versions_cb, NULL), -ENOENT,
	       "history of a missing object is ENOENT");
	ags_store_close(s);
	return done_testing();
}
