/* restore.c: replacing a store with a backup, and the lock file by which a
 * mount says it serves a store. The backup is checked, then written into
 * the live store through SQLite's online backup API as one transaction, so
 * no file is swapped under a process that has the store open and no stale
 * -wal or -shm can ever be applied to the new content. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backup-int.h"
#include "uri-int.h"

/* A mount holds a shared flock() on "<database>.lock" for its lifetime; a
 * restore takes it exclusively. SQLite's own locks cannot say this: every
 * short-lived CLI process holds them too. */
static int open_lock(const char *db, bool create)
{
	struct sbuf lock = SBUF_INIT;
	int fd;

	if (sbuf_addf(&lock, "%s.lock", db) < 0)
		return -ENOMEM;
	fd = open(lock.buf, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(lock.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	sbuf_release(&lock);
	return fd;
}

static int resolve(const char *uri, struct sbuf *path, struct sbuf *msg)
{
	struct sbuf why = SBUF_INIT;
	int r = uri_to_path(path, &why, uri ? uri : "");

	if (r < 0)
		sbuf_addf(msg, "cannot open store '%s': %s", uri ? uri : "",
			  why.buf);
	sbuf_release(&why);
	return r;
}

int ags_store_in_use(const char *uri)
{
	struct sbuf path = SBUF_INIT, msg = SBUF_INIT;
	int fd, r = resolve(uri, &path, &msg);

	if (r == 0 && !backup_is_memory(path.buf)) {
		fd = open_lock(path.buf, false);
		if (fd >= 0) {
			r = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0
			    : errno == EWOULDBLOCK	      ? 1
							      : -errno;
			close(fd);
		} else if (fd != -ENOENT) {
			r = fd;
		}
	}
	sbuf_release(&path);
	sbuf_release(&msg);
	return r;
}

int ags_store_hold(ags_store *s, int *ret_fd)
{
	int fd;

	if (backup_is_memory(s->path.buf)) {
		*ret_fd = -1;
		return 0;
	}
	fd = open_lock(s->path.buf, true);
	if (fd < 0)
		return store_fail(s, fd, "cannot mark %s in use: %s.lock: %s",
				  s->path.buf, s->path.buf, strerror(-fd));
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return store_fail(s, -EBUSY,
					  "cannot use %s: it is being "
					  "restored; try again when the "
					  "restore is done",
					  s->path.buf);
		return store_fail(s, -err, "cannot mark %s in use: %s",
				  s->path.buf, strerror(err));
	}
	*ret_fd = fd;
	return 0;
}

/* Whether @file holds an agentstate schema, before ags_store_open() would
 * try to create one in it. */
static int looks_like_store(const char *file, struct sbuf *msg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, version = 0;

	if (access(file, R_OK) < 0) {
		sbuf_addf(msg, "cannot restore from %s: %s", file,
			  strerror(errno));
		return -errno;
	}
	rc = uri_open_file(file, &db, SQLITE_OPEN_READONLY);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, sql_user_version, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		sbuf_addf(msg,
			  "cannot restore from %s: %s; give a file that "
			  "agentstate backup wrote",
			  file, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	else if (version < 1)
		sbuf_addf(msg,
			  "cannot restore from %s: it is an SQLite database "
			  "but not an agentstate store",
			  file);
	sqlite3_finalize(st);
	sqlite3_close_v2(db);
	return rc != SQLITE_OK || version < 1 ? -EINVAL : 0;
}

static int open_backup(ags_store **out, const char *file,
		       const struct ags_restore_options *o, struct sbuf *msg)
{
	struct ags_options ro = { .read_only = true, .no_create = true };
	char *err = NULL;
	int n, r = looks_like_store(file, msg);

	if (r < 0)
		return r;
	r = ags_store_open(out, file, &ro, &err);
	if (r < 0) {
		sbuf_addf(msg, "cannot restore from %s: %s", file,
			  err ? err : strerror(-r));
		free(err);
		return r;
	}
	n = ags_store_check(*out, o->problem, o->ctx);
	if (n < 0) {
		sbuf_addf(msg, "cannot check the backup %s: %s", file,
			  ags_errmsg(*out));
		return n;
	}
	if (n > 0) {
		sbuf_addf(msg,
			  "cannot restore from %s: the backup has %d "
			  "problems (agentstate check lists them); nothing "
			  "was changed",
			  file, n);
		return -EINVAL;
	}
	return 0;
}

static int page_size_of(sqlite3 *db)
{
	sqlite3_stmt *st;
	int size = 0;

	if (sqlite3_prepare_v2(db, sql_page_size, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return size;
}

/* A store in WAL mode keeps its page size: SQLite cannot copy pages of
 * another size into it. Said before anything is written. */
static int same_page_size(ags_store *dst, ags_store *src, const char *file,
			  struct sbuf *msg)
{
	int want = page_size_of(src->db), have = page_size_of(dst->db);

	if (!want || !have || want == have)
		return 0;
	sbuf_addf(msg,
		  "cannot restore from %s: its pages are %d bytes and the "
		  "store's %d, and a store in WAL mode cannot change its page "
		  "size; the backup is a whole store of its own: copy it into "
		  "place instead (cp %s %s) while nothing uses the store; "
		  "nothing was changed",
		  file, want, have, file, dst->path.buf);
	return -EINVAL;
}

static int restore_into(const char *uri, const char *file, ags_store *src,
			const struct ags_restore_options *o, struct sbuf *msg)
{
	ags_store *dst = NULL;
	char *err = NULL;
	int r = ags_store_open(&dst, uri, NULL, &err);

	if (r < 0) {
		sbuf_addf(msg,
			  "%s; if the store is damaged, move it aside and "
			  "restore again",
			  err ? err : strerror(-r));
		free(err);
		return r;
	}
	r = same_page_size(dst, src, file, msg);
	if (r < 0) {
		ags_store_close(dst);
		return r;
	}
	/* One write transaction on the live store: other processes see the
	 * old or the new content, and SQLite bumps the schema cookie so
	 * their prepared statements are made again. */
	r = backup_copy_pages(dst, dst->db, src->db, dst->db,
			      "restore the store", o->progress, o->ctx);
	if (r < 0)
		sbuf_adds(msg, ags_errmsg(dst));
	else
		sqlite3_exec(dst->db, sql_wal_truncate, NULL, NULL, NULL);
	ags_store_close(dst);
	return r;
}

int ags_backup_restore(const char *uri, const char *file,
		       const struct ags_restore_options *opts,
		       char **ret_errmsg)
{
	static const struct ags_restore_options defaults;
	const struct ags_restore_options *o = opts ? opts : &defaults;
	struct sbuf path = SBUF_INIT, msg = SBUF_INIT;
	ags_store *src = NULL;
	int lock = -1, r = resolve(uri, &path, &msg);
	bool created = false;

	if (r == 0 && backup_is_memory(path.buf)) {
		sbuf_adds(&msg, "cannot restore into an in-memory store; "
				"give the store's file");
		r = -EINVAL;
	}
	if (r == 0) {
		created = access(path.buf, F_OK) != 0;
		lock = open_lock(path.buf, true);
		if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
			close(lock);
			lock = -1;
			if (!o->force) {
				sbuf_addf(&msg,
					  "cannot restore %s: it is mounted "
					  "(a mount holds %s.lock); unmount "
					  "it first, or force the restore "
					  "(agentstate restore --force)",
					  path.buf, path.buf);
				r = -EBUSY;
			}
		}
	}
	if (r == 0)
		r = open_backup(&src, file, o, &msg);
	if (r == 0)
		r = restore_into(uri, file, src, o, &msg);
	ags_store_close(src);
	/* A restore that failed leaves no store it made (a full disk would
	 * stay full of it), nor its lock file. */
	if (r < 0 && created) {
		backup_remove_db(path.buf);
		sbuf_adds(&path, ".lock");
		unlink(path.buf);
	}
	if (lock >= 0)
		close(lock);
	if (r < 0 && ret_errmsg)
		*ret_errmsg = strdup(msg.buf);
	sbuf_release(&path);
	sbuf_release(&msg);
	return r;
}
