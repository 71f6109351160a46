/* test-audit.c: every change writes one audit row in its transaction; rows
 * filter by collection, id, op, sequence and time; the JSON Lines form. */
#include <errno.h>

#include "fixture.h"
#include "tap.h"

static ags_store *s;

static int ops_cb(void *ctx, const struct ags_audit_row *row)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s:%s/%s:%lld>%lld,", row->op,
		  row->collection ? row->collection : "-",
		  row->id ? row->id : "-", (long long)row->old_version,
		  (long long)row->new_version);
	return 0;
}

static void rows_are(const struct ags_audit_filter *f, const char *want,
		     const char *what)
{
	struct sbuf out = SBUF_INIT;

	ags_audit_list(s, f, ops_cb, &out);
	is_str(out.buf, want, "%s", what);
	sbuf_release(&out);
}

/* Appends each row's object number, 0 for a collection's rows. */
static int number_cb(void *ctx, const struct ags_audit_row *row)
{
	sbuf_addf(ctx, "%lld,", (long long)row->number);
	return 0;
}

static int json_cb(void *ctx, const struct ags_audit_row *row)
{
	char **out = ctx;

	free(*out);
	*out = ags_audit_row_json(row);
	return 0;
}

static void test_rows(void)
{
	struct ags_actor me = { .uid = 7,
				.gid = 8,
				.pid = 9,
				.comm = "tester \"q\"",
				.origin = "cli" };
	struct ags_audit_filter f = { 0 };
	struct sbuf numbers = SBUF_INIT, want = SBUF_INIT;
	struct ags_object obj;
	int64_t last = 0;
	char *json = NULL;

	ags_store_set_actor(s, &me);
	ags_collection_create(s, "c");
	ags_object_put(s, NULL, "c", "x", "1", 1, 0);
	ags_object_get(s, "c", "x", 0, false, &obj);
	ags_object_put(s, NULL, "c", "x", "2", 1, 0);
	ags_object_rename(s, "c", "x", "c", "y", 0);
	ags_object_revert(s, NULL, "c", "y", 1);
	ags_object_remove(s, "c", "y", 0);
	ags_collection_drop(s, "c", false);
	rows_are(NULL,
		 "mkcol:c/-:0>0,create:c/x:0>1,update:c/x:1>2,"
		 "rename:c/y:2>3,revert:c/y:3>4,remove:c/y:4>0,rmcol:c/-:0>0,",
		 "each change has its row, in order");
	ags_audit_list(s, NULL, number_cb, &numbers);
	sbuf_addf(&want, "0,%1$lld,%1$lld,%1$lld,%1$lld,%1$lld,0,",
		  (long long)obj.number);
	is_str(numbers.buf, want.buf,
	       "each row names its object by number, through the rename");
	sbuf_release(&numbers);
	sbuf_release(&want);
	f.op = "update";
	rows_are(&f, "update:c/x:1>2,", "filter by op");
	f.op = NULL;
	f.id = "y";
	rows_are(&f, "rename:c/y:2>3,revert:c/y:3>4,remove:c/y:4>0,",
		 "filter by id");
	f.id = NULL;
	f.after_seq = 4;
	f.limit = 1;
	rows_are(&f, "revert:c/y:3>4,", "after a sequence, with a limit");
	ags_audit_last_seq(s, &last);
	is_int(last, 7, "the last sequence number");
	f = (struct ags_audit_filter){ .until_ns = 1 };
	rows_are(&f, "", "nothing before the epoch");

	f = (struct ags_audit_filter){ .op = "rename" };
	ags_audit_list(s, &f, json_cb, &json);
	ok(json && strstr(json, "\"op\": \"rename\"") &&
		   strstr(json, "\"from_id\": \"x\"") &&
		   strstr(json, "\"uid\": 7") && strstr(json, "\"pid\": 9") &&
		   strstr(json, "\"comm\": \"tester \\\"q\\\"\"") &&
		   strstr(json, "\"origin\": \"cli\""),
	   "a row as JSON: %s", json);
	free(json);
	ags_store_set_actor(s, NULL);
}

static void test_refusal(void)
{
	struct ags_audit_filter f = { .op = "put" };
	char *json = NULL;

	is_int(ags_audit_refusal(s, "put", "c", "z.json", 3,
				 "invalid JSON at line 1, column 2"),
	       0, "record a refusal");
	ags_audit_list(s, &f, json_cb, &json);
	ok(json && strstr(json, "\"error\": \"invalid JSON at line 1, column "
				"2\""),
	   "the refusal carries its error: %s", json);
	free(json);
	int64_t before, after;
	ags_audit_last_seq(s, &before);
	is_int(ags_audit_refusal(s, "update", "c", "x", 1, NULL), -EINVAL,
	       "a refusal without its reason is refused (it would read as a "
	       "change)");
	is_int(ags_audit_refusal(s, "update", "c", "x", 1, ""), -EINVAL,
	       "so is an empty reason");
	is_int(ags_audit_refusal(s, "update", "bad name!", "x", 1, "why"),
	       -EINVAL, "and an invalid collection name");
	is_int(ags_audit_refusal(s, "update", "c", "", 1, "why"), -EINVAL,
	       "and an empty id");
	ags_audit_last_seq(s, &after);
	is_int(after, before, "none of them wrote a row");
}

static void test_nothing_on_failure(void)
{
	int rows;

	ags_collection_create(s, "d");
	rows = audit_rows(s);
	ags_object_put(s, NULL, "d", "a", "{", 1, 0);
	ags_object_remove(s, "d", "nope", 0);
	ags_collection_create(s, "d");
	ags_object_rename(s, "d", "nope", "d", "b", 0);
	is_int(audit_rows(s), rows, "failed changes write no audit row");
}

/* ags_store_last_commit() names exactly the rows of the last commit. */
static void test_last_commit(void)
{
	int64_t first, last, seq;

	ags_collection_create(s, "lc");
	ags_object_put(s, NULL, "lc", "a", "1", 1, 0);
	ags_audit_last_seq(s, &seq);
	ags_store_last_commit(s, &first, &last);
	is_int(first, seq, "one change: its row is first ...");
	is_int(last, seq, "... and last");

	ags_store_begin(s);
	ags_object_put(s, NULL, "lc", "b", "2", 1, 0);
	ags_object_put(s, NULL, "lc", "c", "3", 1, 0);
	ags_object_remove(s, "lc", "a", 0);
	ags_store_commit(s);
	ags_store_last_commit(s, &first, &last);
	is_int(first, seq + 1, "a batch: from its first row");
	is_int(last, seq + 3, "to its last");

	ags_object_put(s, NULL, "lc", "d", "{", 1, 0);
	ags_store_begin(s);
	ags_object_put(s, NULL, "lc", "e", "4", 1, 0);
	ags_store_rollback(s);
	ags_store_last_commit(s, &first, &last);
	is_int(first, seq + 1, "a failure and a rollback leave it");
	is_int(last, seq + 3, "as the last commit wrote it");
}

int main(void)
{
	s = fixture_open();
	test_rows();
	test_refusal();
	test_nothing_on_failure();
	test_last_commit();
	ags_store_close(s);
	return done_testing();
}
