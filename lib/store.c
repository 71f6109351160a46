/* store.c: opening a store (URI, connection settings, schema migrations),
 * the handle's error message, the actor of changes, transactions and
 * batches. Every SQLite result code becomes an errno here and only here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json-int.h"
#include "query-int.h"
#include "store-int.h"
#include "uri-int.h"

int store_fail(ags_store *s, int err, const char *fmt, ...)
{
	va_list ap;

	sbuf_reset(&s->err);
	va_start(ap, fmt);
	sbuf_vaddf(&s->err, fmt, ap);
	va_end(ap);
	return err;
}

const char *store_what(ags_store *s, const char *fallback, const char *fmt, ...)
{
	va_list ap;
	int r;

	sbuf_reset(&s->what);
	va_start(ap, fmt);
	r = sbuf_vaddf(&s->what, fmt, ap);
	va_end(ap);
	return r < 0 ? fallback : s->what.buf;
}

int store_attr_mask(ags_store *s, const char *what, unsigned mask)
{
	const unsigned all =
		AGS_ATTR_MODE | AGS_ATTR_UID | AGS_ATTR_GID | AGS_ATTR_MTIME;

	if (mask & ~all)
		return store_fail(s, -EINVAL,
				  "cannot %s: unknown attribute bits %#x; give "
				  "AGS_ATTR_MODE, _UID, _GID or _MTIME",
				  what, mask & ~all);
	return mask ? 0 : 1;
}

static int errno_of_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* errno_of_sqlite(), told by the system's error where SQLite's only says
 * "disk I/O error": a full disk met while growing the shared-memory file
 * (at the first open of a store that no process has open) is one. Only
 * for that code: the system's error is never cleared, so after any other
 * failure it may be an old one. */
static int errno_of_db(sqlite3 *db, int rc)
{
	int sys;

	if (!db || (rc & 0xff) != SQLITE_IOERR)
		return errno_of_sqlite(rc);
	sys = sqlite3_system_errno(db);
	return sys == ENOSPC || sys == EDQUOT ? -ENOSPC : -EIO;
}

int store_sql_fail(ags_store *s, int rc, const char *what)
{
	return store_sql_fail_db(s, s->db, rc, what);
}

int store_sql_fail_db(ags_store *s, sqlite3 *db, int rc, const char *what)
{
	int err = errno_of_db(db, rc);
	const char *hint = "";

	if (err == -EBUSY)
		hint = "; another process held the store locked past the busy "
		       "timeout, try again";
	else if (err == -ENOSPC)
		hint = "; the disk is full, nothing was changed: free some "
		       "space and try again";
	return store_fail(s, err, "cannot %s: %s%s", what,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), hint);
}

int store_check_writable(ags_store *s, const char *what)
{
	if (s->read_only)
		return store_fail(s, -EROFS,
				  "cannot %s: the store is open read-only",
				  what);
	return 0;
}

int store_stmt(ags_store *s, enum sql_id id, sqlite3_stmt **out)
{
	int rc;

	if (!s->stmt[id]) {
		rc = sqlite3_prepare_v3(s->db, sql_text(id), -1,
					SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
					NULL);
		if (rc != SQLITE_OK)
			return store_sql_fail(s, rc, "prepare a statement");
	} else {
		sqlite3_reset(s->stmt[id]);
		sqlite3_clear_bindings(s->stmt[id]);
	}
	*out = s->stmt[id];
	return 0;
}

int store_exec(ags_store *s, enum sql_id id, const char *what)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, id, &st);

	if (r < 0)
		return r;
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return store_sql_fail(s, r, what);
	return 0;
}

int store_step_int(ags_store *s, sqlite3_stmt *st, const char *what,
		   int64_t *out)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW || r == SQLITE_DONE)
		*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0
						   : store_sql_fail(s, r, what);
}

/* Roll back the open transaction, keeping the message of the failure that
 * made us do it: errors of the rollback itself say nothing new. */
static void rollback_quietly(ags_store *s, const char *what)
{
	struct sbuf keep = s->err;

	if (sqlite3_get_autocommit(s->db))
		return; /* SQLite already rolled back */
	s->err = (struct sbuf)SBUF_INIT;
	store_exec(s, SQL_ROLLBACK, what);
	sbuf_release(&s->err);
	s->err = keep;
}

static int batch_broken(ags_store *s, const char *what)
{
	return store_fail(s, -EIO,
			  "cannot %s: an earlier change of this batch failed "
			  "and the batch was rolled back; end it with "
			  "ags_store_rollback() and start again",
			  what);
}

int store_txn_begin(ags_store *s, const char *what)
{
	int r = store_check_writable(s, what);

	if (r < 0)
		return r;
	if (s->batch == BATCH_BROKEN)
		return batch_broken(s, what);
	if (s->batch == BATCH_OPEN) {
		/* No savepoint per change: its sub-journal copies every page a
		 * change touches. A change checks everything before its first
		 * write, so a refusal leaves nothing to undo; the row count
		 * tells the rare failure that came after writing. */
		s->batch_writes = sqlite3_total_changes64(s->db);
		return 0;
	}
	s->txn_first_seq = s->txn_last_seq = 0;
	return store_exec(s, SQL_BEGIN, what);
}

int store_txn_end(ags_store *s, int r, const char *what)
{
	int c;

	if (s->batch == BATCH_OPEN) {
		if (r < 0 &&
		    sqlite3_total_changes64(s->db) != s->batch_writes) {
			rollback_quietly(s, what);
			s->batch = BATCH_BROKEN;
			sbuf_adds(&s->err, "; the whole batch was rolled back");
		}
		return r;
	}
	if (r < 0) {
		rollback_quietly(s, what);
		return r;
	}
	c = store_exec(s, SQL_COMMIT, what);
	if (c < 0) {
		rollback_quietly(s, what);
		return c;
	}
	s->commit_first_seq = s->txn_first_seq;
	s->commit_last_seq = s->txn_last_seq;
	return 0;
}

void ags_store_last_commit(ags_store *s, int64_t *first_seq, int64_t *last_seq)
{
	*first_seq = s->commit_first_seq;
	*last_seq = s->commit_last_seq;
}

int64_t store_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A batch begun inside the open one is a savepoint: its changes join the
 * open transaction, and its rollback undoes only them. A change that fails
 * half-way still breaks the whole batch, nested ones included. */
static int nested_begin(ags_store *s)
{
	int r;

	if (s->batch == BATCH_BROKEN)
		return batch_broken(s, "begin a batch");
	if (s->nested == AGS_NESTED_MAX)
		return store_fail(s, -EINVAL,
				  "cannot begin a batch: %d are already open "
				  "inside one another",
				  AGS_NESTED_MAX + 1);
	r = store_exec(s, SQL_SAVEPOINT, "begin a batch");
	if (r == 0)
		s->nested_last_seq[s->nested++] = s->txn_last_seq;
	return r;
}

static int nested_end(ags_store *s, bool commit)
{
	int64_t last_seq = s->nested_last_seq[--s->nested];
	int r;

	if (s->batch == BATCH_BROKEN)
		return commit ? batch_broken(s, "commit the changes") : 0;
	if (commit)
		return store_exec(s, SQL_RELEASE, "commit the changes");
	r = store_exec(s, SQL_ROLLBACK_TO, "roll back the batch");
	if (r == 0)
		r = store_exec(s, SQL_RELEASE, "roll back the batch");
	if (r < 0) {
		/* The savepoint is in an unknown state: so is the batch. */
		rollback_quietly(s, "roll back the batch");
		s->batch = BATCH_BROKEN;
		return r;
	}
	s->txn_last_seq = last_seq;
	if (!last_seq)
		s->txn_first_seq = 0;
	return 0;
}

int ags_store_begin(ags_store *s)
{
	int r;

	if (s->batch != BATCH_NONE)
		return nested_begin(s);
	r = store_check_writable(s, "begin a batch");
	if (r < 0)
		return r;
	s->txn_first_seq = s->txn_last_seq = 0;
	r = store_exec(s, SQL_BEGIN, "begin a batch");
	if (r == 0)
		s->batch = BATCH_OPEN;
	return r;
}

int ags_store_commit(ags_store *s)
{
	int was = s->batch;

	if (was == BATCH_NONE)
		return store_fail(s, -EINVAL,
				  "cannot commit: no batch is open");
	if (s->nested)
		return nested_end(s, true);
	s->batch = BATCH_NONE;
	if (was == BATCH_BROKEN)
		return batch_broken(s, "commit the changes");
	return store_txn_end(s, 0, "commit the changes");
}

int ags_store_rollback(ags_store *s)
{
	int was = s->batch;

	if (was == BATCH_NONE)
		return store_fail(s, -EINVAL,
				  "cannot roll back: no batch is open");
	if (s->nested)
		return nested_end(s, false);
	s->batch = BATCH_NONE;
	if (was == BATCH_BROKEN)
		return 0; /* it was rolled back when it broke */
	return store_exec(s, SQL_ROLLBACK, "roll back the batch");
}

/* Past this many frames the WAL is started over (about 16 MiB). */
#define WAL_RESTART_FRAMES 4096
#define RESTART_WAIT_MS 20
/* SQLite's own checkpoint for a manual_checkpoint handle (its default is
 * 1000 pages). */
#define MANUAL_CHECKPOINT_FALLBACK 20000

int ags_store_checkpoint(ags_store *s)
{
	int frames = 0;
	int rc;

	if (s->batch)
		return store_fail(s, -EBUSY,
				  "cannot checkpoint: a batch is open on this "
				  "handle; commit or roll it back first");
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
				       &frames, NULL);

	/* A passive checkpoint never makes the WAL start over: only a writer
	 * that finds every frame copied back does, and under a steady stream
	 * of commits there is always a newer one. So a long WAL gets a
	 * restart checkpoint, which waits for readers and keeps writers out
	 * for that moment; what the passive one copied is not copied again. */
	if (rc == SQLITE_OK && frames > WAL_RESTART_FRAMES) {
		/* It keeps writers out while it waits for readers: wait only
		 * a moment (a long read elsewhere, an export, must not stall
		 * every writer for the busy timeout), and try at the next
		 * call. */
		sqlite3_busy_timeout(s->db, RESTART_WAIT_MS);
		rc = sqlite3_wal_checkpoint_v2(
			s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		sqlite3_busy_timeout(s->db, s->busy_ms);
	}
	/* BUSY: another connection is checkpointing, or readers stayed. */
	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return 0;
	return store_sql_fail(s, rc, "checkpoint the WAL");
}

static int fsync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int ags_store_sync(ags_store *s)
{
	struct sbuf wal = SBUF_INIT;
	int r;

	if (!strcmp(s->path.buf, ":memory:"))
		return 0;
	/* In WAL mode a commit is durable once its frames in the -wal file
	 * are on disk; syncing the file settles every commit so far, with
	 * no write of our own (a checkpoint would skip the sync when a
	 * reader holds it back). The database file is synced for frames
	 * already copied back. */
	sbuf_addf(&wal, "%s-wal", s->path.buf);
	r = fsync_file(wal.buf);
	if (r == 0)
		r = fsync_file(s->path.buf);
	sbuf_release(&wal);
	if (r < 0)
		return store_fail(s, r, "cannot sync store %s: %s", s->path.buf,
				  strerror(-r));
	return 0;
}

/* ---- the actor -------------------------------------------------------- */

static void default_comm(struct sbuf *out)
{
	char name[64];
	FILE *f = fopen("/proc/self/comm", "re");
	size_t n = 0;

	if (f) {
		n = fread(name, 1, sizeof(name) - 1, f);
		fclose(f);
	}
	while (n && (name[n - 1] == '\n' || name[n - 1] == '\0'))
		n--;
	if (n)
		sbuf_add(out, name, n);
	else
		sbuf_adds(out, program_invocation_short_name);
}

int ags_store_set_actor(ags_store *s, const struct ags_actor *actor)
{
	sbuf_reset(&s->comm);
	sbuf_reset(&s->origin);
	if (!actor) {
		s->uid = getuid();
		s->gid = getgid();
		s->pid = getpid();
		default_comm(&s->comm);
		return sbuf_adds(&s->origin, "api");
	}
	if (actor->origin && strcmp(actor->origin, "api") &&
	    strcmp(actor->origin, "cli") && strcmp(actor->origin, "fs") &&
	    strcmp(actor->origin, "import"))
		return store_fail(s, -EINVAL,
				  "cannot set the actor: unknown origin '%s'; "
				  "the origins are api, cli, fs and import",
				  actor->origin);
	s->uid = actor->uid;
	s->gid = actor->gid;
	s->pid = actor->pid;
	if (sbuf_adds(&s->comm, actor->comm ? actor->comm : "") < 0 ||
	    sbuf_adds(&s->origin, actor->origin ? actor->origin : "api") < 0)
		return store_fail(s, -ENOMEM,
				  "cannot set the actor: out of "
				  "memory");
	return 0;
}

/* ---- settings kept in the store --------------------------------------- */

int ags_store_set_retention(ags_store *s, int64_t keep)
{
	sqlite3_stmt *st;
	int r;

	if (keep < 0)
		return store_fail(s, -EINVAL,
				  "cannot set retention to %lld: "
				  "give 0 (keep all) or a count",
				  (long long)keep);
	r = store_check_writable(s, "set the retention");
	if (r < 0)
		return r;
	r = store_stmt(s, SQL_META_SET, &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, "keep_versions", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_sql_fail(s, r, "set the retention");
	return 0;
}

int ags_store_get_retention(ags_store *s, int64_t *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_META_GET, &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, "keep_versions", -1, SQLITE_STATIC);
	return store_step_int(s, st, "read the retention", out);
}

int ags_store_epoch(ags_store *s, int64_t *ret_epoch)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_SCHEMA_COOKIE, &st);

	return r < 0 ? r
		     : store_step_int(s, st, "read the schema version",
				      ret_epoch);
}

/* ---- open and close --------------------------------------------------- */

static int exec_script(ags_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_sql_fail(s, rc, what);
}

/* store_step_int() of a statement outside the prepared set, run once:
 * those read while the store is opened, before the set can be used. */
static int query_int(ags_store *s, const char *sql, const char *what, int *out)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*out = 0; /* set on every path, so no caller reads it unset */
	if (r != SQLITE_OK)
		return store_sql_fail(s, r, what);
	r = store_step_int(s, st, what, &v);
	sqlite3_finalize(st);
	*out = (int)v;
	return r;
}

static int user_version(ags_store *s, int *out)
{
	return query_int(s, sql_user_version, "read the schema version", out);
}

/* Before anything is written to the file (its journal mode included): an
 * SQLite database of another program, given as the store by mistake, is
 * refused and left exactly as it was, not given agentstate's tables. */
static int check_ours(ags_store *s, const char *what)
{
	int kind, r = query_int(s, sql_schema_kind, what, &kind);

	if (r < 0 || kind >= 0)
		return r;
	return store_fail(s, -EINVAL,
			  "cannot open store %s: it is an SQLite database "
			  "without agentstate's tables; it was left unchanged; "
			  "is it an agentstate store?",
			  s->path.buf);
}

/* Bring the schema forward, one version at a time, inside one write
 * transaction so that two processes opening a new store at once cannot both
 * create it. */
static int migrate(ags_store *s)
{
	struct sbuf sql = SBUF_INIT;
	int version, r;

	r = user_version(s, &version);
	if (r < 0)
		return r;
	if (version > SQL_SCHEMA_VERSION)
		return store_fail(s, -EPROTO,
				  "cannot open %s: its schema version %d is "
				  "newer than this agentstate's (%d); upgrade "
				  "agentstate",
				  s->path.buf, version, SQL_SCHEMA_VERSION);
	if (version == SQL_SCHEMA_VERSION)
		return 0;
	if (s->read_only)
		return store_fail(s, -EROFS,
				  "cannot open %s read-only: it needs its "
				  "schema created or upgraded first",
				  s->path.buf);
	r = exec_script(s, sql_text(SQL_BEGIN), "create the schema");
	if (r < 0)
		return r;
	r = user_version(s, &version);
	while (r == 0 && version < SQL_SCHEMA_VERSION) {
		r = exec_script(s, sql_migration(version), "create the schema");
		version++;
	}
	if (r == 0) {
		sql_set_user_version(&sql, version);
		r = exec_script(s, sql.buf, "create the schema");
		sbuf_release(&sql);
	}
	if (r == 0)
		return exec_script(s, sql_text(SQL_COMMIT),
				   "create the schema");
	sqlite3_exec(s->db, sql_text(SQL_ROLLBACK), NULL, NULL, NULL);
	return r;
}

/* A failed first statement: a file that is not a store says so, and one
 * this user may not write says what SQLite needs; any other failure (a
 * full disk) keeps its own message. */
static int not_a_store(ags_store *s, int r)
{
	int rc = sqlite3_errcode(s->db) & 0xff;

	if (rc == SQLITE_READONLY)
		return store_fail(s, r,
				  "cannot open store %s: %s; SQLite writes its "
				  "-wal and -shm files beside the store, even "
				  "to read it: check that this user can write "
				  "the store and its directory",
				  s->path.buf, sqlite3_errmsg(s->db));
	if (rc != SQLITE_NOTADB && rc != SQLITE_CORRUPT)
		return r;
	return store_fail(s, -EINVAL,
			  "cannot open store %s: %s; is it an agentstate "
			  "store?",
			  s->path.buf, sqlite3_errmsg(s->db));
}

#define SETUP_RETRY_MS 10

/* A new connection's statements before the schema: the first one finds a
 * file that is no database, or another program's. */
static int setup(ags_store *s, const struct ags_options *o, const char *what,
		 const char *synchronous)
{
	int r = check_ours(s, what);

	if (r == 0 && !o->read_only)
		r = exec_script(s, sql_connection_setup, what);
	if (r == 0)
		r = exec_script(s, synchronous, what);
	return r;
}

/* SQLite takes an empty file for an empty database and would make a store
 * of it. A store is never empty once made: its first page is written as
 * it is switched to WAL, a moment after the file appears. So a file that
 * stays empty that moment is some other file, given by mistake. */
#define EMPTY_WAIT_MS 200

static bool is_empty_file(const char *path)
{
	struct stat st;

	for (int waited = 0;; waited += SETUP_RETRY_MS) {
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_size > 0)
			return false;
		if (waited >= EMPTY_WAIT_MS)
			return true;
		sqlite3_sleep(SETUP_RETRY_MS);
	}
}

static int connect(ags_store *s, const struct ags_options *o)
{
	int flags = SQLITE_OPEN_NOMUTEX;
	struct sbuf sql = SBUF_INIT, what = SBUF_INIT;
	bool memory = strcmp(s->path.buf, ":memory:") == 0;
	struct stat st;
	int rc, r, waited;

	if (!memory && stat(s->path.buf, &st) == 0 && S_ISDIR(st.st_mode))
		return store_fail(s, -EISDIR,
				  "cannot open store %s: it is a directory; "
				  "give the store's file (%s/agentstate.db, "
				  "say)",
				  s->path.buf, s->path.buf);
	if (!memory && o->no_create && access(s->path.buf, F_OK) != 0)
		return store_fail(s, -ENOENT,
				  "cannot open store %s: no such file; create "
				  "it with 'agentstate init'",
				  s->path.buf);
	if (!memory && o->no_create && is_empty_file(s->path.buf))
		return store_fail(
			s, -ENODATA,
			"cannot open store %s: it is an empty file, "
			"not a store; nothing was written to it: give "
			"the store's file, or make this one a store "
			"with 'agentstate init'",
			s->path.buf);
	flags |= o->read_only ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(s->path.buf, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		r = errno_of_sqlite(rc);
		if (rc == SQLITE_CANTOPEN)
			r = -ENOENT;
		return store_fail(s, r,
				  "cannot open store %s: %s; check that its "
				  "directory exists and is writable",
				  s->path.buf,
				  s->db ? sqlite3_errmsg(s->db)
					: sqlite3_errstr(rc));
	}
	sqlite3_extended_result_codes(s->db, 1);
	rc = query_add_functions(s->db);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, rc, "open the store");
	s->busy_ms = o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000;
	sqlite3_busy_timeout(s->db, s->busy_ms);
	/* Manual checkpoints: SQLite's only past a limit far above its
	 * default, should the caller's checkpoints stop coming. */
	if (o->manual_checkpoint)
		sqlite3_wal_autocheckpoint(s->db, MANUAL_CHECKPOINT_FALLBACK);
	sbuf_addf(&what, "open store %s", s->path.buf);
	sql_set_synchronous(&sql, o->sync == AGS_SYNC_FULL);
	/* A store being created by another process: SQLite answers BUSY at
	 * once, without its busy handler, to a connection that would wait on
	 * the one switching the new file to WAL. Nothing is written before the
	 * setup ends, so it is tried again, within the busy timeout. */
	for (waited = 0;; waited += SETUP_RETRY_MS) {
		r = setup(s, o, what.buf, sql.buf);
		if (r != -EBUSY || waited >= s->busy_ms)
			break;
		sqlite3_sleep(SETUP_RETRY_MS);
	}
	if (r == 0)
		r = migrate(s);
	sbuf_release(&sql);
	sbuf_release(&what);
	return r < 0 ? not_a_store(s, r) : 0;
}

int ags_store_open(ags_store **out, const char *uri,
		   const struct ags_options *opts, char **ret_errmsg)
{
	static const struct ags_options defaults;
	const struct ags_options *o = opts ? opts : &defaults;
	struct sbuf why = SBUF_INIT;
	ags_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = s->err = s->comm = s->origin = (struct sbuf)SBUF_INIT;
	s->res_collection = s->res_id = s->res_body = (struct sbuf)SBUF_INIT;
	s->what = (struct sbuf)SBUF_INIT;
	s->read_only = o->read_only;
	s->max_body = o->max_body ? o->max_body : AGS_MAX_BODY_DEFAULT;
	if (o->sync != AGS_SYNC_NORMAL && o->sync != AGS_SYNC_FULL)
		r = store_fail(s, -EINVAL,
			       "cannot open store '%s': sync is "
			       "AGS_SYNC_NORMAL or AGS_SYNC_FULL, not %d",
			       uri ? uri : "", (int)o->sync);
	else if (o->busy_timeout_ms < 0)
		r = store_fail(s, -EINVAL,
			       "cannot open store '%s': busy_timeout_ms is 0 "
			       "(the default) or more, not %d",
			       uri ? uri : "", o->busy_timeout_ms);
	else
		r = 0;

	if (r == 0) {
		r = uri_to_path(&s->path, &why, uri ? uri : "");
		if (r < 0)
			store_fail(s, r, "cannot open store '%s': %s",
				   uri ? uri : "", why.buf);
	}
	sbuf_release(&why);
	if (r == 0)
		r = ags_store_set_actor(s, NULL);
	if (r == 0)
		r = connect(s, o);
	if (r < 0) {
		if (ret_errmsg)
			*ret_errmsg = strdup(s->err.buf);
		ags_store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void ags_store_close(ags_store *s)
{
	if (!s)
		return;
	if (s->db && s->batch == BATCH_OPEN)
		sqlite3_exec(s->db, sql_text(SQL_ROLLBACK), NULL, NULL, NULL);
	for (int i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close_v2(s->db);
	sbuf_release(&s->path);
	sbuf_release(&s->err);
	sbuf_release(&s->comm);
	sbuf_release(&s->origin);
	sbuf_release(&s->res_collection);
	sbuf_release(&s->res_id);
	sbuf_release(&s->res_body);
	sbuf_release(&s->what);
	free(s);
}

const char *ags_errmsg(const ags_store *s)
{
	return s ? s->err.buf : "out of memory";
}

const char *ags_store_path(const ags_store *s)
{
	return s->path.buf;
}
