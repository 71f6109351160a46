/* test-store.c: opening stores, schema versions, errors, batches and the
 * retention setting. */
#include <errno.h>
#include <sqlite3.h>

#include "fixture.h"
#include "tap.h"

static void test_open_forms(void)
{
	ags_store *s = NULL;
	char *msg = NULL;
	struct sbuf uri = SBUF_INIT;
	int r;

	r = ags_store_open(&s, "sqlite://:memory:", NULL, &msg);
	is_int(r, 0, "sqlite://:memory: opens");
	ags_store_close(s);

	sbuf_addf(&uri, "sqlite://%s", fixture_path());
	r = ags_store_open(&s, uri.buf, NULL, &msg);
	is_int(r, 0, "sqlite:///abs/path opens (and creates) a file store");
	ok(access(fixture_path(), F_OK) == 0, "the file exists");
	is_str(ags_store_path(s), fixture_path(), "the handle names its file");
	ags_store_close(s);
	sbuf_release(&uri);

	s = NULL;
	r = ags_store_open(&s, "redis://localhost", NULL, &msg);
	is_int(r, -EINVAL, "an unknown scheme is EINVAL");
	ok(s == NULL, "and the out-parameter is untouched");
	ok(msg && strstr(msg, "redis") && strstr(msg, "sqlite://"),
	   "the message names the scheme and the supported forms: %s", msg);
	free(msg);
	msg = NULL;

	struct ags_options o = { .no_create = true };
	r = ags_store_open(&s, "/nonexistent-dir/x.db", &o, &msg);
	is_int(r, -ENOENT, "no_create on a missing file is ENOENT");
	ok(msg && strstr(msg, "agentstate init"), "and says how: %s", msg);
	free(msg);
	msg = NULL;

	r = ags_store_open(&s, "/nonexistent-dir/x.db", NULL, &msg);
	ok(r < 0, "a store in a missing directory cannot be created");
	ok(msg && strstr(msg, "/nonexistent-dir/x.db"), "message: %s", msg);
	free(msg);
}

static void test_not_a_store(void)
{
	char path[128];
	ags_store *s = NULL;
	char *msg = NULL;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/garbage.db", fixture_dir);
	f = fopen(path, "w");
	fputs("this is not a database, just text that is long enough to "
	      "fill a header of one hundred bytes or so, padding padding",
	      f);
	fclose(f);
	r = ags_store_open(&s, path, NULL, &msg);
	is_int(r, -EINVAL, "a file that is not a database is refused");
	ok(msg && strstr(msg, "agentstate store"), "message: %s", msg);
	free(msg);
}

static void test_schema_version(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	ags_store *s;
	char *msg = NULL;
	int v = -1, r;

	sqlite3_open(fixture_path(), &db);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	is_int(v, 1, "the schema is versioned with PRAGMA user_version");
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		is_str((const char *)sqlite3_column_text(st, 0), "wal",
		       "the store is in WAL mode");
	sqlite3_finalize(st);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);

	r = ags_store_open(&s, fixture_path(), NULL, &msg);
	ok(r < 0, "a store from a newer agentstate is refused");
	ok(msg && strstr(msg, "newer"), "message: %s", msg);
	free(msg);

	sqlite3_open(fixture_path(), &db);
	sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL);
	sqlite3_close(db);
}

static void test_batch(void)
{
	ags_store *s = fixture_open();
	int before;

	ags_collection_create(s, "batch");
	before = audit_rows(s);
	is_int(ags_store_begin(s), 0, "a batch begins");
	is_int(ags_object_put(s, NULL, "batch", "a", "1", 1, 0), 0, "put a");
	is_int(ags_object_put(s, NULL, "batch", "b", "{", 1, 0), -EINVAL,
	       "a bad put inside the batch fails alone");
	is_int(ags_object_put(s, NULL, "batch", "c", "3", 1, 0), 0, "put c");
	is_int(ags_store_commit(s), 0, "the batch commits");
	is_int(audit_rows(s), before + 2, "each change wrote its audit row");
	char *b = body_of(s, "batch", "c");
	is_str(b, "3", "c is there");
	free(b);

	ags_store_begin(s);
	ags_object_put(s, NULL, "batch", "d", "4", 1, 0);
	ags_object_remove(s, "batch", "a", 0);
	is_int(ags_store_rollback(s), 0, "a batch rolls back");
	b = body_of(s, "batch", "d");
	is_str(b, "(absent)", "nothing of it stays");
	free(b);
	b = body_of(s, "batch", "a");
	is_str(b, "1", "not even the removal");
	free(b);
	is_int(audit_rows(s), before + 2, "nor its audit rows");
	is_int(ags_store_commit(s), -EINVAL, "commit without a batch fails");
	ags_store_close(s);
}

/* A batch begun inside another: its commit leaves its changes to the
 * enclosing batch, its rollback takes back its own only, audit rows and
 * the commit's sequence numbers included. */
static void test_batch_nested(void)
{
	ags_store *s = fixture_open(), *other;
	int64_t first, last;
	int before, i;
	char *b;

	ags_collection_create(s, "nest");
	before = audit_rows(s);
	is_int(ags_store_begin(s), 0, "an outer batch begins");
	is_int(ags_object_put(s, NULL, "nest", "a", "1", 1, 0), 0, "put a");
	is_int(ags_store_begin(s), 0, "a batch begins inside it");
	is_int(ags_object_put(s, NULL, "nest", "b", "2", 1, 0), 0, "put b");
	is_int(ags_store_commit(s), 0, "the inner batch commits");
	other = fixture_open();
	b = body_of(other, "nest", "b");
	is_str(b, "(absent)", "into the outer batch only: unseen elsewhere");
	free(b);
	ags_store_close(other);
	is_int(ags_store_begin(s), 0, "a second inner batch begins");
	is_int(ags_object_put(s, NULL, "nest", "c", "3", 1, 0), 0, "put c");
	is_int(ags_object_remove(s, "nest", "a", 0), 0, "remove a");
	is_int(ags_store_rollback(s), 0, "the inner batch rolls back");
	is_int(ags_object_put(s, NULL, "nest", "d", "4", 1, 0), 0, "put d");
	is_int(ags_store_commit(s), 0, "the outer batch commits");
	b = body_of(s, "nest", "a");
	is_str(b, "1", "a stays: its removal was rolled back");
	free(b);
	b = body_of(s, "nest", "b");
	is_str(b, "2", "b came with the outer commit");
	free(b);
	b = body_of(s, "nest", "c");
	is_str(b, "(absent)", "c was rolled back");
	free(b);
	is_int(audit_rows(s), before + 3, "one audit row each for a, b and d");
	ags_store_last_commit(s, &first, &last);
	is_int((int)(last - first), 2,
	       "the commit's sequence numbers span those three rows");

	ags_store_begin(s);
	ags_store_begin(s);
	ags_object_put(s, NULL, "nest", "e", "5", 1, 0);
	ags_store_rollback(s);
	ags_store_commit(s);
	ags_store_last_commit(s, &first, &last);
	ok(first == 0 && last == 0,
	   "a commit whose only changes were rolled back wrote no row");

	ags_store_begin(s);
	for (i = 0; i < 8; i++)
		ags_store_begin(s);
	is_int(ags_store_begin(s), -EINVAL, "batches nest at most 8 deep");
	ok(strstr(ags_errmsg(s), "inside one another"), "message: %s",
	   ags_errmsg(s));
	for (i = 0; i < 8; i++)
		ags_store_commit(s);
	is_int(ags_store_rollback(s), 0, "the outermost rolls back");
	is_int(ags_store_commit(s), -EINVAL, "and no batch is left open");
	ags_store_close(s);
}

/* A change that fails after it wrote rows must not leave half of itself in
 * the batch: a trigger makes the audit insert of "boom" fail after its
 * object row went in. */
static void test_batch_broken(void)
{
	ags_store *s = fixture_open();
	sqlite3 *db;
	int before;
	char *b;

	sqlite3_open(fixture_path(), &db);
	sqlite3_exec(db,
		     "CREATE TRIGGER boom BEFORE INSERT ON audit"
		     " WHEN NEW.id = 'boom' BEGIN"
		     " SELECT RAISE(ABORT, 'injected failure'); END",
		     NULL, NULL, NULL);
	sqlite3_close(db);
	before = audit_rows(s);
	ags_store_begin(s);
	is_int(ags_object_put(s, NULL, "batch", "e", "5", 1, 0), 0, "put e");
	ok(ags_object_put(s, NULL, "batch", "boom", "6", 1, 0) < 0,
	   "a change failing after its first write fails");
	ok(strstr(ags_errmsg(s), "whole batch was rolled back"), "message: %s",
	   ags_errmsg(s));
	is_int(ags_object_put(s, NULL, "batch", "f", "7", 1, 0), -EIO,
	       "later changes of the broken batch fail");
	is_int(ags_store_commit(s), -EIO, "and so does its commit");
	b = body_of(s, "batch", "e");
	is_str(b, "(absent)", "nothing of the batch was committed");
	free(b);
	is_int(audit_rows(s), before, "no audit row either");
	is_int(ags_object_put(s, NULL, "batch", "g", "8", 1, 0), 0,
	       "the handle works again after the batch ended");
	sqlite3_open(fixture_path(), &db);
	sqlite3_exec(db, "DROP TRIGGER boom", NULL, NULL, NULL);
	sqlite3_close(db);
	ags_store_close(s);
}

static void test_read_only(void)
{
	struct ags_options o = { .read_only = true };
	ags_store *s = NULL;
	char *msg = NULL;
	int r;

	r = ags_store_open(&s, fixture_path(), &o, &msg);
	is_int(r, 0, "a store opens read-only");
	r = ags_collection_create(s, "nope");
	is_int(r, -EROFS, "and refuses writes with EROFS");
	ok(strstr(ags_errmsg(s), "read-only"), "message: %s", ags_errmsg(s));
	ags_store_close(s);
	free(msg);
}

static void test_two_handles(void)
{
	ags_store *a = fixture_open(), *b = fixture_open();
	char *body;

	ags_collection_create(a, "shared");
	ags_object_put(a, NULL, "shared", "k", "\"from a\"", 8, 0);
	body = body_of(b, "shared", "k");
	is_str(body, "\"from a\"", "a second handle sees the first's commit");
	free(body);
	is_int(ags_store_sync(a), 0, "sync makes the commits durable");
	ags_store_close(a);
	ags_store_close(b);
}

/* Whether the handle's message begins with @prefix. */
static bool message_starts(ags_store *s, const char *prefix)
{
	return !strncmp(ags_errmsg(s), prefix, strlen(prefix));
}

/* A change that waited past the busy timeout says what it was to change. */
static void test_busy_names_target(void)
{
	struct ags_options o = { .busy_timeout_ms = 20 };
	ags_store *holder = fixture_open(), *s;
	char *msg = NULL;

	is_int(ags_store_open(&s, fixture_path(), &o, &msg), 0,
	       "open a handle with a short busy timeout");
	ags_collection_create(holder, "busy");
	ags_object_put(holder, NULL, "busy", "k", "1", 1, 0);
	ags_object_put(holder, NULL, "busy", "k", "2", 1, 0);
	is_int(ags_store_begin(holder), 0, "another handle holds the lock");
	ags_object_put(holder, NULL, "busy", "held", "1", 1, 0);
	is_int(ags_collection_create(s, "other"), -EBUSY, "mkcol: EBUSY");
	ok(message_starts(s, "cannot create collection 'other': "),
	   "naming the collection: %s", ags_errmsg(s));
	is_int(ags_collection_drop(s, "busy", true), -EBUSY, "rmcol: EBUSY");
	ok(message_starts(s, "cannot drop collection 'busy': "),
	   "naming the collection: %s", ags_errmsg(s));
	is_int(ags_object_revert(s, NULL, "busy", "k", 1), -EBUSY,
	       "revert: EBUSY");
	ok(message_starts(s, "cannot revert busy/k: "), "naming the object: %s",
	   ags_errmsg(s));
	is_int(ags_index_create(s, "busy", "n"), -EBUSY, "index: EBUSY");
	ok(message_starts(s, "cannot index busy: "),
	   "naming the collection: %s", ags_errmsg(s));
	ags_store_rollback(holder);
	ags_store_close(s);
	ags_store_close(holder);
}

static long wal_pages(void)
{
	char path[96];
	FILE *f;
	long size = 0;

	snprintf(path, sizeof(path), "%s-wal", fixture_path());
	f = fopen(path, "rb");
	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (f)
		fclose(f);
	return size / 4096;
}

/* With manual_checkpoint no commit copies the WAL back (SQLite would at
 * 1000 pages); ags_store_checkpoint() does, and starts a long WAL over. */
static void test_manual_checkpoint(void)
{
	struct ags_options o = { .manual_checkpoint = true };
	ags_store *w, *r = fixture_open();
	char *msg = NULL, id[16], *body;
	long grown;

	is_int(ags_store_open(&w, fixture_path(), &o, &msg), 0,
	       "open a writer with manual checkpoints");
	ags_collection_create(w, "ck");
	for (int i = 0; i < 1500; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		ags_object_put(w, NULL, "ck", id, "{\"n\": 1}", 8, 0);
	}
	grown = wal_pages();
	ok(grown > 3000, "the WAL grew past SQLite's 1000 pages (%ld)", grown);
	is_int(ags_store_checkpoint(r), 0, "another handle checkpoints");
	ags_object_put(w, NULL, "ck", "after", "2", 1, 0);
	is_int(ags_store_checkpoint(r), 0, "and again");
	ags_object_put(w, NULL, "ck", "after2", "3", 1, 0);
	ok(wal_pages() == grown, "the WAL file is reused, not grown (%ld)",
	   wal_pages());
	body = body_of(r, "ck", "o1499");
	is_str(body, "{\"n\": 1}", "every commit is there");
	free(body);
	is_int(ags_store_check(r, NULL, NULL), 0, "and the store passes check");
	ags_store_close(w);
	ags_store_close(r);
}

/* Arguments the header does not allow are refused, changing nothing. */
static void test_bad_arguments(void)
{
	struct ags_options bad_sync = { .sync = 7 },
			   bad_busy = { .busy_timeout_ms = -5 };
	struct ags_options ro = { .read_only = true };
	struct ags_actor actor = { .origin = "bogus" };
	struct ags_attr at = { .mode = 0600 };
	ags_store *s = fixture_open(), *r;
	char *msg = NULL;
	int64_t before, after;

	is_int(ags_store_open(&r, fixture_path(), &bad_sync, &msg), -EINVAL,
	       "an unknown sync is refused");
	free(msg);
	msg = NULL;
	is_int(ags_store_open(&r, fixture_path(), &bad_busy, &msg), -EINVAL,
	       "a negative busy timeout is refused");
	free(msg);
	msg = NULL;
	ags_collection_create(s, "args");
	ags_object_put(s, NULL, "args", "x", "1", 1, 0);
	ags_audit_last_seq(s, &before);
	is_int(ags_store_set_actor(s, &actor), -EINVAL,
	       "an unknown origin is refused");
	is_int(ags_object_rename(s, "args", "x", "args", "y", 1u << 2), -EINVAL,
	       "unknown rename flags are refused");
	is_int(ags_object_set_attr(s, "args", "x", &at, 1u << 8), -EINVAL,
	       "unknown attribute bits are refused");
	is_int(ags_object_set_attr(s, "args", "x", &at, 0), 0,
	       "no attribute at all is nothing to do");
	is_int(ags_collection_set_attr(s, "args", &at, 0), 0,
	       "for a collection too");
	ags_audit_last_seq(s, &after);
	is_int(after, before, "none of them wrote an audit row");
	is_int(ags_store_begin(s), 0, "open a batch");
	is_int(ags_store_checkpoint(s), -EBUSY, "a checkpoint inside it");
	ok(strstr(ags_errmsg(s), "a batch is open on this handle") != NULL,
	   "says why: %s", ags_errmsg(s));
	ags_store_rollback(s);
	is_int(ags_store_open(&r, fixture_path(), &ro, &msg), 0,
	       "open read-only");
	is_int(ags_object_put(r, NULL, "args", "x", "{", 1, 0), -EROFS,
	       "a put on it is EROFS, whatever its body");
	ags_store_close(r);
	ags_store_close(s);
}

int main(void)
{
	test_open_forms();
	test_not_a_store();
	test_schema_version();
	test_batch();
	test_batch_broken();
	test_batch_nested();
	test_read_only();
	test_two_handles();
	test_busy_names_target();
	test_bad_arguments();
	test_manual_checkpoint();
	ags_store_close(NULL);
	ok(1, "closing NULL is harmless");
	return done_testing();
}
