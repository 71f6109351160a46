/* test-backup.c: backups (consistent while a writer runs, one standalone
 * file), rotation, the check of the store's invariants, and restore (only
 * of a sound backup, refused while a mount holds the store). */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>

#include "snap-fixture.h"
#include "tap.h"

static ags_store *s;

static void lines_cb(void *ctx, const char *line)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s|", line);
}

static int count_objects(ags_store *st, const char *c)
{
	struct ags_collection col;

	return ags_collection_get(st, c, &col) < 0 ? -1 : (int)col.count;
}

static void test_backup(void)
{
	char *file = in_dir("b1.db");
	char *head;
	ags_store *b;
	char *msg = NULL;
	struct ags_options ro = { .read_only = true, .no_create = true };
	uint64_t pages = 0;

	ags_collection_create(s, "c");
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "o%d", i);
		put_str(s, "c", id,
			"{\"pad\": \"................................"
			"................................\"}");
	}
	put_str(s, "c", "o1", "[1]");
	is_int(ags_backup_write(s, file, NULL, NULL), 0, "back up");
	ok(!exists(free_later(in_dir("b1.db.tmp"))), "no temporary left");
	ok(!exists(free_later(in_dir("b1.db-wal"))), "no -wal beside it");
	head = slurp(file);
	ok(head && head[18] == 1 && head[19] == 1,
	   "one self-contained file (rollback journal mode)");
	free(head);
	is_int(ags_store_open(&b, file, &ro, &msg), 0, "it opens as a store");
	is_int(last_seq(b), last_seq(s), "with the whole audit");
	is_int(count_objects(b, "c"), 200, "and every object");
	free(msg);
	{
		char *body = body_of(b, "c", "o1");
		is_str(body, "[1]", "with current bodies");
		free(body);
	}
	ags_store_close(b);
	is_int(ags_backup_write(s, free_later(in_dir("no/such/dir.db")), NULL,
				NULL),
	       -ENOENT, "a backup into a missing directory fails");
	ok(strstr(ags_errmsg(s), "no/such/dir.db"), "message: %s",
	   ags_errmsg(s));
	/* Refused inside a batch, it leaves the batch as it was. */
	is_int(ags_store_begin(s), 0, "open a batch");
	put_str(s, "c", "in-batch", "1");
	is_int(ags_backup_write(s, free_later(in_dir("b2.db")), NULL, NULL),
	       -EINVAL, "a backup inside a batch is refused");
	put_str(s, "c", "in-batch-2", "2");
	is_int(ags_store_rollback(s), 0,
	       "the batch is still there to roll back");
	is_int(count_objects(s, "c"), 200,
	       "and its changes, before and after "
	       "the refusal, are undone");
	(void)pages;
	free(file);
}

/* A child process that writes until killed. */
static pid_t start_writer(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		ags_store *w;
		char *msg = NULL;
		if (ags_store_open(&w, fixture_path(), NULL, &msg) < 0)
			_exit(1);
		for (long i = 0;; i++) {
			char body[64];
			snprintf(body, sizeof(body), "{\"i\": %ld}", i);
			put_str(w, "c", i % 2 ? "w1" : "w2", body);
		}
	}
	return pid;
}

static void test_backup_while_writing(void)
{
	char *file = in_dir("busy.db");
	ags_store *b;
	struct ags_options ro = { .read_only = true, .no_create = true };
	pid_t w = start_writer();
	int64_t before, after;

	usleep(100000);
	before = last_seq(s);
	is_int(ags_backup_write(s, file, NULL, NULL), 0,
	       "back up while another process writes");
	usleep(100000);
	after = last_seq(s);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	ok(after > before, "the writer went on meanwhile (%lld -> %lld)",
	   (long long)before, (long long)after);
	ags_store_open(&b, file, &ro, NULL);
	is_int(ags_store_check(b, NULL, NULL), 0, "the backup passes check");
	ags_store_close(b);
	free(file);
}

static int sqlite_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static void test_check(void)
{
	struct sbuf out = SBUF_INIT;
	char *copy = in_dir("damaged.db");
	ags_store *d;

	is_int(ags_store_check(s, lines_cb, &out), 0, "a sound store: none");
	is_str(out.buf, "", "and nothing reported");
	ags_backup_write(s, copy, NULL, NULL);
	is_int(sqlite_exec(copy,
			   "UPDATE objects SET version = 99 WHERE id = 'o3';"
			   "UPDATE objects SET body = '{\"a\":1,\"a\":2}',"
			   " size = 13 WHERE id = 'o4';"
			   "UPDATE objects SET size = 1 WHERE id = 'o5';"
			   "UPDATE collections SET count = 7;"
			   "DELETE FROM audit WHERE seq IN (3, 4, 10);"),
	       SQLITE_OK, "damage a copy");
	d = open_other("damaged.db");
	is_int(ags_store_check(d, lines_cb, &out), 8, "eight problems found");
	is_str(out.buf,
	       "c/o4: invalid JSON at line 1, column 8: duplicate member "
	       "name|c/o5: its size is recorded as 1 but the body has 75 "
	       "bytes|c/o2: at version 1 but no audit row made it|c/o3: at "
	       "version 99 but its last audit row says 1|c/o8: at version 1 "
	       "but no audit row made it|audit: seq 3 to 4 are missing|"
	       "audit: seq 10 is missing|collection c: its count says 7 "
	       "objects but it holds 202|",
	       "each on its own line");
	ags_store_close(d);
	sbuf_release(&out);
	free(copy);
}

static void test_restore(void)
{
	struct sbuf probs = SBUF_INIT;
	struct ags_restore_options o = { .problem = lines_cb, .ctx = &probs };
	char *file = in_dir("r.db");
	char *msg = NULL;
	ags_store *other, *big;
	int64_t seq, epoch, epoch2;
	int fd = -1;
	char *b;

	ags_backup_write(s, file, NULL, NULL);
	seq = last_seq(s);
	other = open_other("store.db"); /* another handle on the store */
	is_int(ags_store_epoch(other, &epoch), 0, "the store's epoch");
	put_str(s, "c", "o1", "\"changed after the backup\"");
	put_str(s, "c", "late", "1");
	is_int(ags_store_epoch(other, &epoch2), 0, "read again");
	is_int(epoch2, epoch, "changes leave it as it is");
	is_int(ags_backup_restore(fixture_path(), file, &o, &msg), 0,
	       "restore");
	is_int(last_seq(s), seq, "the audit is the backup's");
	ags_store_epoch(other, &epoch2);
	ok(epoch2 != epoch, "a restore moves the epoch");
	/* The log ends at the same sequence before and after: only the
	 * epoch tells that the store was replaced. */
	epoch = epoch2;
	is_int(ags_backup_restore(fixture_path(), file, &o, &msg), 0,
	       "restore the same backup again");
	is_int(last_seq(s), seq, "the log ends where it did");
	ags_store_epoch(other, &epoch2);
	ok(epoch2 != epoch, "and the epoch moves all the same");
	b = body_of(other, "c", "o1");
	is_str(b, "[1]", "an open handle sees the restored body");
	free(b);
	b = body_of(s, "c", "late");
	is_str(b, "(absent)", "later objects are gone");
	free(b);
	is_int(ags_store_check(s, NULL, NULL), 0, "the store passes check");
	put_str(s, "c", "after", "2");
	is_int(last_seq(s), seq + 1, "and takes changes again");

	is_int(ags_store_in_use(fixture_path()), 0, "not in use");
	is_int(ags_store_hold(other, &fd), 0, "a mount holds the store");
	is_int(ags_store_in_use(fixture_path()), 1, "now in use");
	is_int(ags_backup_restore(fixture_path(), file, &o, &msg), -EBUSY,
	       "restore refuses while it is held");
	ok(msg && strstr(msg, "mounted"), "message: %s", msg);
	free(msg);
	msg = NULL;
	o.force = true;
	is_int(ags_backup_restore(fixture_path(), file, &o, &msg), 0,
	       "unless forced");
	close(fd);
	is_int(ags_store_in_use(fixture_path()), 0, "released on close");
	o.force = false;

	is_int(ags_backup_restore(fixture_path(),
				  free_later(in_dir("damaged.db")), &o, &msg),
	       -EINVAL, "a backup that fails check is refused");
	ok(msg && strstr(msg, "8 problems"), "message: %s", msg);
	ok(strstr(probs.buf, "c/o3: at version 99"), "its problems are listed");
	free(msg);
	msg = NULL;
	sh("echo hello > notadb");
	is_int(ags_backup_restore(fixture_path(), free_later(in_dir("notadb")),
				  &o, &msg),
	       -EINVAL, "a file that is no database is refused");
	ok(msg && strstr(msg, "notadb"), "message: %s", msg);
	free(msg);
	msg = NULL;
	is_int(last_seq(s), seq, "refused restores change nothing");

	/* A store made with pages of 8 KiB, backed up: its backup cannot go
	 * into a store of 4 KiB pages in WAL mode. */
	sqlite_exec(free_later(in_dir("big-pages.db")),
		    "PRAGMA page_size = 8192; VACUUM;");
	big = open_other("big-pages.db");
	ags_collection_create(big, "c");
	put_str(big, "c", "x", "1");
	ags_backup_write(big, free_later(in_dir("big-pages-backup.db")), NULL,
			 NULL);
	ags_store_close(big);
	is_int(ags_backup_restore(fixture_path(),
				  free_later(in_dir("big-pages-backup.db")), &o,
				  &msg),
	       -EINVAL, "a backup of another page size is refused");
	ok(msg && strstr(msg, "pages are 8192 bytes and the store's 4096") &&
		   strstr(msg, "copy it into place instead (cp "),
	   "message: %s", msg);
	free(msg);
	msg = NULL;
	is_int(last_seq(s), seq, "and changes nothing");
	is_int(ags_backup_restore(free_later(in_dir("new-8k.db")),
				  free_later(in_dir("big-pages-backup.db")), &o,
				  &msg),
	       -EINVAL, "nor into a new store, made with 4 KiB pages");
	free(msg);
	msg = NULL;
	ok(!exists(free_later(in_dir("new-8k.db"))) &&
		   !exists(free_later(in_dir("new-8k.db-wal"))),
	   "which the refusal removes again");

	is_int(ags_backup_restore(free_later(in_dir("new.db")), file, &o, &msg),
	       0, "restore into a store that does not exist yet");
	ags_store_close(other);
	other = open_other("new.db");
	is_int(last_seq(other), seq, "creates it from the backup");
	ags_store_close(other);
	sbuf_release(&probs);
	free(file);
}

static void test_rotate(void)
{
	char *dir = in_dir("rot");
	char *path = NULL;

	is_int(ags_backup_rotate(s, &path, dir, 2), 0, "a rotated backup");
	ok(path && strstr(path, "/rot/store-"), "named after the store: %s",
	   path);
	free(path);
	is_int(ags_backup_rotate(s, &path, dir, 2), 1,
	       "none while nothing changed");
	ok(path == NULL, "and no name");
	for (int i = 0; i < 3; i++) {
		put_str(s, "c", "rot", i == 0 ? "1" : i == 1 ? "2" : "3");
		ags_backup_rotate(s, NULL, dir, 2);
	}
	is_int(sh("ls rot | grep -c '^store-[0-9]\\{8\\}T[0-9]\\{6\\}Z-[0-9]*\\.db$'"
		  " | grep -qx 2"),
	       0, "two kept");
	is_int(sh("ls rot | grep -q -- '-%lld.db$'", (long long)last_seq(s)), 0,
	       "the newest among them");
	free(dir);
}

int main(void)
{
	s = fixture_open();
	test_backup();
	test_backup_while_writing();
	test_check();
	test_restore();
	test_rotate();
	ags_store_close(s);
	return done_testing();
}
