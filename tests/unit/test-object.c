/* test-object.c: put, get, remove, rename, list and attributes of objects,
 * each change with exactly one audit row, and refusals that change nothing. */
#include <errno.h>

#include "fixture.h"
#include "object-int.h"
#include "tap.h"

static ags_store *s;

static int put(const char *c, const char *id, const char *body)
{
	return ags_object_put(s, NULL, c, id, body, strlen(body),
			      AGS_VERSION_ANY);
}

static void is_body(const char *c, const char *id, const char *want,
		    const char *what)
{
	char *b = body_of(s, c, id);

	is_str(b, want, "%s", what);
	free(b);
}

static void test_put_get(void)
{
	const char *exact = " {\"n\":12345678901234567890, \"x\" : 1e400,"
			    "\"s\":\"\\u00e9\"}\n";
	struct ags_object o;
	int64_t v = 0;

	is_int(ags_collection_create(s, "users"), 0, "create a collection");
	is_int(ags_object_put(s, &v, "users", "alice", exact, strlen(exact), 0),
	       0, "put an object");
	is_int(v, 1, "version 1 at creation");
	is_body("users", "alice", exact, "the body is stored byte for byte");
	is_int(ags_object_get(s, "users", "alice", 0, true, &o), 0, "get");
	is_int(o.body_len, strlen(exact), "body_len is the exact size");
	is_str(o.collection, "users", "the collection is named");
	is_str(o.id, "alice", "the id is named");
	ok(o.number >= 16, "a stable number is given");
	int64_t number = o.number;
	is_int(ags_object_put(s, &v, "users", "alice", "{}", 2, 0), 0,
	       "replace it");
	is_int(v, 2, "version 2 after a change");
	ags_object_get(s, "users", "alice", 0, false, &o);
	ok(o.body == NULL && o.body_len == 2, "get without the body");
	is_int(o.number, number, "the number stays across updates");
	is_int(ags_object_get(s, "users", "alice", 1, true, &o), 0,
	       "version 1 is still readable");
	is_str(o.body, exact, "with its body");
	is_int(ags_object_get(s, "users", "alice", 3, true, &o), -ENOENT,
	       "a future version is ENOENT");
	is_int(ags_object_get(s, "users", "bob", 0, true, &o), -ENOENT,
	       "a missing object is ENOENT");
	ok(strstr(ags_errmsg(s), "users/bob"), "message: %s", ags_errmsg(s));
}

static void test_refusals(void)
{
	static const char *const bad[] = {
		"",
		"{} x",
		"{\"a\":1,}",
		"NaN",
		"[Infinity]",
		"{'a':1}",
		"// c\n1",
		"{\"a\":1,\"a\":2}",
		"\"\\ud800\"",
		"\"\xff\"",
	};
	int rows = audit_rows(s);
	char big_id[202];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		is_int(put("users", "alice", bad[i]), -EINVAL,
		       "invalid JSON #%zu is EINVAL", i);
		ok(strstr(ags_errmsg(s), "cannot store users/alice: invalid "
					 "JSON at line "),
		   "message: %s", ags_errmsg(s));
	}
	is_body("users", "alice", "{}", "the object kept its body");
	is_int(audit_rows(s), rows, "and no audit row was written");

	is_int(put("no such", "x", "1"), -EINVAL, "a bad collection name");
	ok(strstr(ags_errmsg(s), "letters, digits"), "message: %s",
	   ags_errmsg(s));
	is_int(put("missing", "x", "1"), -ENOENT, "a missing collection");
	ok(strstr(ags_errmsg(s), "mkcol"), "message: %s", ags_errmsg(s));
	is_int(put("users", "", "1"), -EINVAL, "an empty id");
	memset(big_id, 'x', 201);
	big_id[201] = 0;
	is_int(put("users", big_id, "1"), -EINVAL, "a 201-byte id");
	is_int(put("users", "bad\xc3", "1"), -EINVAL, "an id of bad UTF-8");
	is_int(audit_rows(s), rows, "none of them wrote an audit row");
}

static void test_size_limit(void)
{
	struct ags_options o = { .max_body = 64 };
	ags_store *small;
	char body[80];
	char *msg = NULL;

	ags_store_open(&small, fixture_path(), &o, &msg);
	memset(body, ' ', sizeof(body));
	body[0] = '1';
	is_int(ags_object_put(small, NULL, "users", "big", body, sizeof(body),
			      0),
	       -EFBIG, "a body over the limit is EFBIG");
	ok(strstr(ags_errmsg(small), "80 bytes") &&
		   strstr(ags_errmsg(small), "64"),
	   "message: %s", ags_errmsg(small));
	/* The mount's put of a body it checked itself (object-int.h). */
	is_int(object_put_checked(small, NULL, "users", "big", body,
				  sizeof(body), 0),
	       -EFBIG, "the size limit still holds for a checked body");
	ags_store_close(small);
	is_body("users", "big", "(absent)", "nothing was stored");
}

static void test_compare_and_set(void)
{
	int64_t v;

	is_int(ags_object_put(s, &v, "users", "cas", "1", 1,
			      AGS_VERSION_ABSENT),
	       0, "create-only put on a new id");
	is_int(ags_object_put(s, &v, "users", "cas", "1", 1,
			      AGS_VERSION_ABSENT),
	       -EEXIST, "create-only put on an existing id is EEXIST");
	is_int(ags_object_put(s, &v, "users", "cas", "9", 1, -5), -EINVAL,
	       "an if_version below AGS_VERSION_ABSENT is EINVAL");
	ok(strstr(ags_errmsg(s), "invalid if_version -5"), "message: %s",
	   ags_errmsg(s));
	is_int(ags_object_remove(s, "users", "cas", AGS_VERSION_ABSENT),
	       -EINVAL, "a remove on condition of absence is EINVAL");
	is_body("users", "cas", "1", "neither changed anything");
	is_int(ags_object_put(s, &v, "users", "cas", "2", 1, 1), 0,
	       "put at the expected version");
	is_int(v, 2, "makes version 2");
	is_int(ags_object_put(s, &v, "users", "cas", "3", 1, 1), -ESTALE,
	       "put at a stale version is ESTALE");
	ok(strstr(ags_errmsg(s), "version 2"), "message: %s", ags_errmsg(s));
	is_body("users", "cas", "2", "the losing write changed nothing");
	is_int(ags_object_remove(s, "users", "cas", 1), -ESTALE,
	       "a stale remove is ESTALE");
	is_int(ags_object_remove(s, "users", "cas", 2), 0, "a fresh remove");
	is_int(ags_object_remove(s, "users", "cas", 0), -ENOENT,
	       "removing again is ENOENT");
}

static void test_remove_number(void)
{
	struct ags_object obj;
	int64_t number = 0, was;

	ags_object_put(s, NULL, "users", "num", "1", 1, 0);
	ags_object_get(s, "users", "num", 0, false, &obj);
	was = obj.number;
	is_int(ags_object_remove_number(s, &number, "users", "num", 2), -ESTALE,
	       "a stale remove is ESTALE");
	is_int(number, 0, "and leaves the number alone");
	is_int(ags_object_remove_number(s, &number, "users", "num", 0), 0,
	       "remove telling the number");
	is_int(number, was, "the number is the removed object's");
	is_body("users", "num", "(absent)", "the object is gone");
	number = 0;
	is_int(ags_object_remove_number(s, &number, "users", "num", 0), -ENOENT,
	       "removing again is ENOENT");
	is_int(number, 0, "and leaves the number alone");
	ags_object_put(s, NULL, "users", "num", "1", 1, 0);
	ags_store_begin(s);
	is_int(ags_object_remove_number(s, &number, "users", "num", 0), 0,
	       "in a batch");
	ok(number > was, "a new object's number is never an old one's");
	ags_store_rollback(s);
	is_body("users", "num", "1", "rolled back with the batch");
	is_int(ags_object_remove_number(s, NULL, "users", "num", 0), 0,
	       "the number may be NULL");
}

static void test_peek(void)
{
	struct ags_collection col;
	struct ags_object obj;
	int64_t number, cnum = -1;

	ags_collection_get(s, "users", &col);
	ags_object_put(s, NULL, "users", "peek", "[1, 2, 3]", 9, 0);
	ags_object_put(s, NULL, "users", "peek", "[1, 2]", 6, 0);
	is_int(ags_object_peek(s, "users", "peek", 6, &cnum, &obj), 0,
	       "peek at an object");
	ok(obj.body && strcmp(obj.body, "[1, 2]") == 0,
	   "a body of at most max_body bytes comes along");
	is_int(obj.body_len, 6, "with its size");
	is_int(obj.version, 2, "and the current version");
	is_int(cnum, col.number, "and the collection's number");
	number = obj.number;
	is_int(ags_object_peek(s, "users", "peek", 5, NULL, &obj), 0,
	       "peek with a smaller limit");
	ok(obj.body == NULL, "a larger body does not");
	is_int(obj.body_len, 6, "but its size does");
	is_int(obj.number, number, "and its number");
	cnum = -1;
	is_int(ags_object_peek(s, "users", "nope", 64, &cnum, &obj), -ENOENT,
	       "peek at a missing object is ENOENT");
	is_int(cnum, col.number, "and tells the collection's number");
	cnum = -1;
	is_int(ags_object_peek(s, "nope", "peek", 64, &cnum, &obj), -ENOENT,
	       "and in a missing collection");
	is_int(cnum, 0, "whose number is 0");
}

/* The mount's entry point for bodies it checked itself. */
static void test_put_checked(void)
{
	struct ags_attr mode600 = { .mode = 0600 };
	struct put_result made;
	struct ags_object obj;
	int r;

	is_int(object_put_checked(s, &made, "users", "chk", "{\"a\": 1}", 8, 0),
	       0, "a checked body is stored");
	is_body("users", "chk", "{\"a\": 1}", "as it is");
	ags_object_get(s, "users", "chk", 0, false, &obj);
	ok(made.version == 1 && made.number == obj.number &&
		   made.attr.mode == obj.attr.mode &&
		   made.attr.uid == obj.attr.uid &&
		   made.attr.gid == obj.attr.gid &&
		   made.attr.mtime_ns == obj.attr.mtime_ns,
	   "what a create made is what is stored");
	ags_object_set_attr(s, "users", "chk", &mode600, AGS_ATTR_MODE);
	is_int(object_put_checked(s, &made, "users", "chk", "[2]", 3, 0), 0,
	       "and an update");
	ags_object_get(s, "users", "chk", 0, false, &obj);
	ok(made.version == 2 && made.number == obj.number &&
		   made.attr.mode == 0600 &&
		   made.attr.mtime_ns == obj.attr.mtime_ns,
	   "what an update made is what is stored");
	object_put_checked(s, NULL, "users", "chk", "{\"a\": 1}", 8, 0);
	r = object_put_checked(s, NULL, "users", "chk", "{oops", 5, 0);
	ok(r < 0, "the schema still refuses what is not JSON (%d: %s)", r,
	   ags_errmsg(s));
	is_body("users", "chk", "{\"a\": 1}", "and nothing changed");
}

static int list_cb(void *ctx, const struct ags_object *o)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s,", o->id);
	return 0;
}

static void test_list(void)
{
	struct sbuf out = SBUF_INIT;
	char id[16];

	ags_collection_create(s, "many");
	ags_store_begin(s);
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "k%02d", i);
		ags_object_put(s, NULL, "many", id, "0", 1, 0);
	}
	ags_store_commit(s);
	ags_object_list(s, "many", NULL, 3, false, list_cb, &out);
	is_str(out.buf, "k00,k01,k02,", "list with a limit, ordered by id");
	sbuf_reset(&out);
	ags_object_list(s, "many", "k47", 0, false, list_cb, &out);
	is_str(out.buf, "k48,k49,", "list after a cursor");
	sbuf_release(&out);
	is_int(ags_object_list(s, "nope", NULL, 0, false, list_cb, &out),
	       -ENOENT, "listing a missing collection is ENOENT");
	struct ags_collection c;
	ags_collection_get(s, "many", &c);
	is_int(c.count, 50, "the collection counts its objects");
}

static void test_rename(void)
{
	struct ags_object o;
	int64_t number;
	int rows;

	ags_collection_create(s, "other");
	put("users", "r1", "\"one\"");
	put("users", "r2", "\"two\"");
	ags_object_get(s, "users", "r1", 0, false, &o);
	number = o.number;
	rows = audit_rows(s);
	is_int(ags_object_rename(s, "users", "r1", "other", "moved", 0), 0,
	       "rename across collections");
	is_body("other", "moved", "\"one\"", "the body moved");
	is_body("users", "r1", "(absent)", "the old name is gone");
	ags_object_get(s, "other", "moved", 0, false, &o);
	is_int(o.number, number, "the object keeps its number");
	is_int(o.version, 2, "and gets a new version");
	is_int(audit_rows(s), rows + 1, "one audit row");
	is_int(ags_object_get_by_number(s, number, true, &o), 0,
	       "get by number after a rename");
	is_str(o.collection, "other", "by number: the new collection");
	is_str(o.id, "moved", "by number: the new id");
	is_str(o.body, "\"one\"", "by number: the body");
	is_int(o.number, number, "by number: the same number");

	is_int(ags_object_rename(s, "other", "moved", "users", "r2",
				 AGS_RENAME_NOREPLACE),
	       -EEXIST, "NOREPLACE onto an object is EEXIST");
	is_int(ags_object_rename(s, "other", "moved", "users", "r2",
				 AGS_RENAME_EXCHANGE),
	       0, "EXCHANGE swaps");
	is_body("users", "r2", "\"one\"", "one went to r2");
	is_body("other", "moved", "\"two\"", "two went to moved");
	rows = audit_rows(s);
	ags_object_get(s, "users", "r2", 0, false, &o);
	number = o.number;
	is_int(ags_object_rename(s, "other", "moved", "users", "r2", 0), 0,
	       "rename onto an existing object replaces it");
	is_int(ags_object_get_by_number(s, number, false, &o), -ENOENT,
	       "the replaced object's number finds nothing");
	ok(strstr(ags_errmsg(s), "no object has number"), "and says so");
	is_body("users", "r2", "\"two\"", "the target holds the source body");
	is_int(audit_rows(s), rows + 2, "a remove row and a rename row");
	is_int(ags_object_rename(s, "users", "zz", "users", "r3", 0), -ENOENT,
	       "renaming a missing object is ENOENT");
}

static void test_attrs(void)
{
	struct ags_attr a = { .mode = 0600, .uid = 1234, .mtime_ns = 42 };
	struct ags_object o;

	is_int(ags_object_set_attr(s, "users", "alice", &a,
				   AGS_ATTR_MODE | AGS_ATTR_UID |
					   AGS_ATTR_MTIME),
	       0, "set attributes");
	ags_object_get(s, "users", "alice", 0, false, &o);
	ok(o.attr.mode == 0600 && o.attr.uid == 1234 && o.attr.mtime_ns == 42,
	   "they persist");
	is_int(o.version, 2, "without a new version");
}

static void test_collections(void)
{
	ags_collection_create(s, "tmpcol");
	put("tmpcol", "x", "1");
	is_int(ags_collection_create(s, "tmpcol"), -EEXIST,
	       "creating an existing collection is EEXIST");
	is_int(ags_collection_drop(s, "tmpcol", false), -ENOTEMPTY,
	       "dropping a non-empty collection is ENOTEMPTY");
	is_body("tmpcol", "x", "1", "and keeps it");
	is_int(ags_collection_rename(s, "tmpcol", "renamed"), 0,
	       "rename a collection");
	is_body("renamed", "x", "1", "its objects follow");
	is_int(ags_collection_drop(s, "renamed", true), 0, "forced drop: %s",
	       ags_errmsg(s));
	is_body("renamed", "x", "(absent)", "removes its objects");
	is_int(ags_collection_drop(s, "renamed", false), -ENOENT,
	       "dropping a missing collection is ENOENT");
	is_int(ags_collection_create(s, ".hidden"), -EINVAL,
	       "a name starting with '.' is refused");
}

int main(void)
{
	s = fixture_open();
	test_put_get();
	test_refusals();
	test_size_limit();
	test_compare_and_set();
	test_remove_number();
	test_peek();
	test_put_checked();
	test_list();
	test_rename();
	test_attrs();
	test_collections();
	ags_store_close(s);
	return done_testing();
}
