/* backup.c: consistent copies of a whole store (objects, history, audit)
 * taken while it is in use, and periodic rotated backups. A copy goes
 * through SQLite's online backup API reading one snapshot of the store: in
 * WAL mode readers never hold writers up. (VACUUM INTO was measured too: it
 * rebuilds every table and index, 2.5 times slower on a 1 GiB store.) */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup-int.h"
#include "fsutil-int.h"
#include "uri-int.h"

/* Pages copied per step: small enough for a lively progress bar, large
 * enough that the per-step overhead does not show (4 MiB of 4 KiB pages). */
#define PAGES_PER_STEP 1024
/* How long a step may keep finding the destination locked. */
#define BUSY_RETRY_MS 10
#define BUSY_RETRIES 1000

bool backup_is_memory(const char *path)
{
	return !strcmp(path, ":memory:") || !path[0];
}

int backup_copy_pages(ags_store *s, sqlite3 *dst, sqlite3 *src, sqlite3 *err_db,
		      const char *what, ags_progress_cb progress, void *ctx)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc, busy = 0;

	if (!b)
		return store_sql_fail_db(s, dst, sqlite3_errcode(dst), what);
	do {
		rc = sqlite3_backup_step(b, PAGES_PER_STEP);
		if (progress) {
			int total = sqlite3_backup_pagecount(b);
			progress(
				ctx,
				(uint64_t)(total - sqlite3_backup_remaining(b)),
				(uint64_t)total);
		}
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		    busy++ < BUSY_RETRIES) {
			sqlite3_sleep(BUSY_RETRY_MS);
			rc = SQLITE_OK;
		}
	} while (rc == SQLITE_OK);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return store_sql_fail_db(s, err_db, rc, what);
	return 0;
}

static int exec_on(ags_store *s, sqlite3 *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_sql_fail_db(s, db, rc, what);
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = fsu_sync_fd(fd);
	close(fd);
	return r;
}

static int sync_parent(const char *file)
{
	char *copy = strdup(file);
	int r;

	if (!copy)
		return -ENOMEM;
	r = fsync_path(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	return r;
}

/* A database's file and those SQLite keeps beside it. */
static const char *const db_suffix[] = { "", "-journal", "-wal", "-shm" };
#define DB_FILES (sizeof(db_suffix) / sizeof(*db_suffix))

void backup_remove_db(const char *path)
{
	struct sbuf p = SBUF_INIT;

	for (size_t i = 0; i < DB_FILES; i++) {
		sbuf_reset(&p);
		if (sbuf_addf(&p, "%s%s", path, db_suffix[i]) == 0)
			unlink(p.buf);
	}
	sbuf_release(&p);
}

/* Copy the store into @tmp inside the caller's read transaction. */
static int write_copy(ags_store *s, const char *tmp, ags_progress_cb progress,
		      void *ctx)
{
	const char *what = "write the backup";
	sqlite3 *dst = NULL;
	int rc, r;

	/* Made here first so that a bad path gets its real errno. */
	r = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (r < 0)
		return store_fail(s, -errno, "cannot write the backup %s: %s",
				  tmp, strerror(errno));
	close(r);
	rc = uri_open_file(tmp, &dst,
			   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (rc != SQLITE_OK) {
		r = store_sql_fail_db(s, dst, rc, what);
		sqlite3_close_v2(dst);
		return r;
	}
	r = exec_on(s, dst, sql_backup_dest_setup, what);
	if (r == 0)
		r = backup_copy_pages(s, dst, s->db, dst, what, progress, ctx);
	if (r == 0)
		r = exec_on(s, dst, sql_backup_dest_finish, what);
	rc = sqlite3_close_v2(dst);
	if (r == 0 && rc != SQLITE_OK)
		r = store_sql_fail_db(s, NULL, rc, what);
	return r;
}

/* Copy the store into @file through FILE.tmp, inside the caller's read
 * transaction. */
static int backup_locked(ags_store *s, const char *file,
			 ags_progress_cb progress, void *ctx)
{
	struct sbuf tmp = SBUF_INIT;
	int r;

	if (sbuf_addf(&tmp, "%s.tmp", file) < 0)
		return store_fail(s, -ENOMEM, "cannot back up: out of memory");
	backup_remove_db(tmp.buf);
	r = write_copy(s, tmp.buf, progress, ctx);
	if (r == 0) {
		r = fsync_path(tmp.buf, O_RDONLY);
		if (r == 0 && rename(tmp.buf, file) < 0)
			r = -errno;
		if (r == 0)
			r = sync_parent(file);
		if (r < 0)
			r = store_fail(s, r, "cannot write the backup %s: %s",
				       file, strerror(-r));
	}
	if (r < 0) {
		/* the message names the failure; say where it went */
		if (!strstr(s->err.buf, file)) {
			struct sbuf msg = SBUF_INIT;
			sbuf_addf(&msg, "%s (backup to %s)", s->err.buf, file);
			store_fail(s, r, "%s", msg.buf);
			sbuf_release(&msg);
		}
		backup_remove_db(tmp.buf);
	}
	sbuf_release(&tmp);
	return r;
}

/* Only after begin_snapshot() succeeded: a transaction open before it is
 * a batch of the caller's, which it refused and must leave alone. */
static void end_snapshot(ags_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, SQL_ROLLBACK, "end reading the store");
}

/* The read transaction pins one snapshot for all the steps, so the copy is
 * consistent however much other processes write meanwhile (without it the
 * backup would restart after each of their commits, and might never
 * finish). @ret_seq receives the seq of that snapshot. */
static int begin_snapshot(ags_store *s, int64_t *ret_seq)
{
	int r;

	if (s->batch)
		return store_fail(s, -EINVAL,
				  "cannot back up: a batch is open on this "
				  "handle; commit or roll it back first");
	r = store_exec(s, SQL_BEGIN_READ, "begin reading the store");
	if (r == 0) {
		r = ags_audit_last_seq(s, ret_seq);
		if (r < 0)
			end_snapshot(s);
	}
	return r;
}

/* The backup is renamed over @file: were it the store itself (or one of
 * its -wal, -shm, -journal files), every process with the store open would
 * go on writing to a file no longer under its name, or to a log that no
 * longer matches it, and the store would be damaged. */
static int check_not_store(ags_store *s, const char *file)
{
	struct sbuf p = SBUF_INIT;
	struct stat dst, st;
	int r = 0;

	if (stat(file, &dst) < 0)
		return 0; /* a new file, or one the copy fails to write */
	for (size_t i = 0; r == 0 && i < DB_FILES; i++) {
		sbuf_reset(&p);
		if (sbuf_addf(&p, "%s%s", s->path.buf, db_suffix[i]) < 0)
			r = store_fail(s, -ENOMEM,
				       "cannot back up: out of memory");
		else if (stat(p.buf, &st) == 0 && st.st_dev == dst.st_dev &&
			 st.st_ino == dst.st_ino)
			r = store_fail(s, -EINVAL,
				       "cannot back up to %s: it is %s, a file "
				       "of the store itself; give another file",
				       file, p.buf);
	}
	sbuf_release(&p);
	return r;
}

int ags_backup_write(ags_store *s, const char *file, ags_progress_cb progress,
		     void *ctx)
{
	int64_t seq;
	int r = check_not_store(s, file);

	if (r < 0)
		return r;
	r = begin_snapshot(s, &seq);
	if (r < 0)
		return r;
	r = backup_locked(s, file, progress, ctx);
	end_snapshot(s);
	return r;
}

/* ---- rotation ---------------------------------------------------------- */

/* "<stem>-YYYYMMDDTHHMMSSZ-<seq>.db": the time sorts as text; within one
 * second the seq decides. @return the seq, or -1 when not such a name. */
static int64_t rotated_seq(const char *name, const char *stem)
{
	size_t n = strlen(stem), i;
	const char *p = name;
	int64_t seq = 0;

	if (strncmp(p, stem, n) || p[n] != '-')
		return -1;
	p += n + 1;
	for (i = 0; i < 16; i++) {
		bool digit = p[i] >= '0' && p[i] <= '9';
		if (i == 8 ? p[i] != 'T' : i == 15 ? p[i] != 'Z' : !digit)
			return -1;
	}
	p += 16;
	if (*p++ != '-' || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && seq < INT64_MAX / 10)
		seq = seq * 10 + (*p++ - '0');
	return strcmp(p, ".db") ? -1 : seq;
}

struct rotated {
	const char *name;
	const char *time; /* the 16 characters of time inside name */
	int64_t seq;
};

static int cmp_rotated(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;
	int c = strncmp(x->time, y->time, 16);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int stem_of(struct sbuf *out, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	if (backup_is_memory(path))
		base = "memory";
	n = strlen(base);
	if (n > 3 && !strcmp(base + n - 3, ".db"))
		n -= 3;
	return sbuf_add(out, base, n);
}

int ags_backup_rotate(ags_store *s, char **ret_path, const char *dir,
		      unsigned keep)
{
	struct sbuf stem = SBUF_INIT, path = SBUF_INIT;
	struct fsu_names have = { 0 };
	struct rotated *list = NULL;
	size_t n = 0;
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int64_t seq;
	int dirfd = -1, r;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return store_fail(s, -errno, "cannot back up into %s: %s", dir,
				  strerror(errno));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dirfd < 0 ? -errno : fsu_list(dirfd, &have);
	if (r < 0) {
		if (dirfd >= 0)
			close(dirfd);
		return store_fail(s, r, "cannot back up into %s: %s", dir,
				  strerror(-r));
	}
	/* The name carries the seq of the very snapshot copied. */
	r = begin_snapshot(s, &seq);
	if (r < 0) {
		close(dirfd);
		fsu_names_release(&have);
		return r;
	}
	r = stem_of(&stem, s->path.buf);
	list = calloc(have.n + 1, sizeof(*list));
	if (r < 0 || !list)
		r = store_fail(s, -ENOMEM, "cannot back up: out of memory");
	for (size_t i = 0; r == 0 && i < have.n; i++) {
		int64_t v = rotated_seq(have.e[i].name, stem.buf);
		if (v >= 0 && have.e[i].type == DT_REG)
			list[n++] = (struct rotated){
				.name = have.e[i].name,
				.time = have.e[i].name + stem.len + 1,
				.seq = v,
			};
	}
	if (r == 0 && n)
		qsort(list, n, sizeof(*list), cmp_rotated);
	if (r == 0 && n && list[n - 1].seq == seq) {
		r = 1; /* the newest backup already holds this state */
		goto done;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (r == 0 && sbuf_addf(&path, "%s/%s-%s-%lld.db", dir, stem.buf, stamp,
				(long long)seq) < 0)
		r = store_fail(s, -ENOMEM, "cannot back up: out of memory");
	if (r == 0)
		r = backup_locked(s, path.buf, NULL, NULL);
	end_snapshot(s);
	/* the oldest go, the new one counting among those kept */
	for (size_t i = 0; r == 0 && keep && n + 1 > keep && i < n + 1 - keep;
	     i++)
		if (unlinkat(dirfd, list[i].name, 0) < 0 && errno != ENOENT)
			r = store_fail(s, -errno,
				       "cannot remove the old backup %s/%s: %s",
				       dir, list[i].name, strerror(errno));
	if (r == 0 && ret_path)
		*ret_path = sbuf_detach(&path);
done:
	end_snapshot(s);
	close(dirfd);
	free(list);
	fsu_names_release(&have);
	sbuf_release(&stem);
	sbuf_release(&path);
	if (r == 1 && ret_path)
		*ret_path = NULL;
	return r;
}
