/* agentstate.h: the public interface of libagentstate, a store of named
 * collections of JSON objects in SQLite where every change commits together
 * with its audit row, and earlier versions are kept.
 *
 * Conventions
 * - Every fallible call returns 0 (or a documented positive value) on success
 *   and a negative errno on failure; ags_errmsg() then says what failed, for
 *   which collection/id, and why.
 * - Out-parameters come first and are named out/ret_...; a failing call
 *   leaves them untouched.
 * - "borrowed" pointers stay valid until the next call on the same handle;
 *   a returned char * is the caller's to free().
 * - Threads: an ags_store is one database connection. Use a handle from one
 *   thread at a time; open one handle per thread (they share the file, and
 *   SQLite's locking with the busy timeout serialises writers). Several
 *   processes may open the same store at once.
 * - Callbacks passed to list/find/query/audit functions run while the read is
 *   in progress: they must not call into the same handle. A callback that
 *   returns non-zero stops the iteration, and the function returns that value.
 */
#ifndef AGENTSTATE_H
#define AGENTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ags_store ags_store;

/* Durability of each commit (SQLite's synchronous setting, in WAL mode). */
enum ags_sync {
	AGS_SYNC_NORMAL = 0, /* survives a crash of the process */
	AGS_SYNC_FULL = 1,   /* also survives power loss */
};

#define AGS_MAX_BODY_DEFAULT (16u << 20)

struct ags_options {
	bool read_only;	     /* open without write access (EROFS on writes) */
	bool no_create;	     /* ENOENT instead of creating a missing store */
	enum ags_sync sync;  /* AGS_SYNC_NORMAL unless set */
	size_t max_body;     /* 0: AGS_MAX_BODY_DEFAULT; larger bodies: EFBIG */
	int busy_timeout_ms; /* 0: 5000; then EBUSY */
	bool manual_checkpoint; /* commits copy the WAL back into the
				   database (SQLite's autocheckpoint) only
				   past 20000 pages, as a fallback: the
				   caller calls ags_store_checkpoint() */
};

/** Open (and on first use create) the store named by @uri:
 * "sqlite:///abs/path.db", "sqlite://./rel.db", "sqlite://rel.db", a plain
 * path, or "sqlite://:memory:". The schema is created or migrated forward.
 * @opts may be NULL for the defaults.
 * @return 0 with *out set, or -errno; when @ret_errmsg is not NULL it then
 * receives a message the caller frees (the one out-parameter written on
 * failure, since there is no handle to hold it). With @opts->no_create,
 * a missing file is -ENOENT and an empty one -ENODATA (SQLite would make a
 * store of any empty file). */
int ags_store_open(ags_store **out, const char *uri,
		   const struct ags_options *opts, char **ret_errmsg);

/** Close the handle; an open batch is rolled back. Accepts NULL. */
void ags_store_close(ags_store *store);

/** The message of the last failed call on @store (borrowed). */
const char *ags_errmsg(const ags_store *store);

/** The file name of the store's database ("" for :memory:, borrowed). */
const char *ags_store_path(const ags_store *store);

/* Who makes the changes: recorded in every audit row and history entry. */
struct ags_actor {
	uint32_t uid;
	uint32_t gid;
	int32_t pid;
	const char *comm;   /* process name */
	const char *origin; /* "api", "cli", "fs" or "import" */
};

/** Set the actor of the following changes on this handle (copied). NULL
 * restores the default: this process's ids and name, origin "api".
 * @return 0 or -ENOMEM/-EINVAL. */
int ags_store_set_actor(ags_store *store, const struct ags_actor *actor);

/** Group the following changes on this handle into one transaction: each
 * change still writes its own audit row, and all of them commit or none. A
 * change refused inside a batch (bad input, missing, stale, exists ...)
 * leaves the batch open and unchanged by it; the caller then commits what
 * succeeded or rolls back. A change that fails after it began writing (disk
 * full, I/O error) rolls the whole batch back: every later call in it fails
 * with -EIO until ags_store_rollback() ends it.
 * Begun while a batch is open, a batch nests in it (up to 8 inside the
 * outermost one, 9 open in all): its
 * commit keeps its changes in the enclosing batch, to commit or roll back
 * with it, and its rollback undoes its own changes only. Each begin is
 * ended by one commit or rollback, innermost first.
 * @return 0, -EBUSY, or -EINVAL when batches are nested too deep. */
int ags_store_begin(ags_store *store);
int ags_store_commit(ags_store *store);
int ags_store_rollback(ags_store *store);

/** The audit rows written by the last transaction this handle committed
 * (a change, or a batch): seqs @first_seq..@last_seq, consecutive, or 0
 * and 0 when it wrote none. A program that also watches the log (the
 * mount) tells its own changes from other processes' with it. */
void ags_store_last_commit(ags_store *store, int64_t *first_seq,
			   int64_t *last_seq);

/** Copy what the WAL holds back into the database file as far as readers
 * allow, without waiting for readers or writers (a passive checkpoint);
 * once the WAL is past 4096 frames (16 MiB of 4 KiB pages), wait for
 * readers and hold writers for a moment so the WAL starts over. For a
 * writer opened with manual_checkpoint, called from another thread, so
 * commits rarely pay for it. @return 0 or -errno. */
int ags_store_checkpoint(ags_store *store);

/** A number that moves when the whole store is replaced under its users (a
 * forced restore) or its schema changes (an index made or dropped), and
 * stays through ordinary changes. A process that keeps the store's content
 * in memory drops all of it when this moves: the audit log need not tell
 * a restore apart (the restored log may end at the same sequence).
 * @return 0 or -errno. */
int ags_store_epoch(ags_store *store, int64_t *ret_epoch);

/** Make every change committed so far survive power loss, whatever the
 * sync setting (an fsync() in the mount calls this). @return 0 or -errno. */
int ags_store_sync(ags_store *store);

/** How many earlier versions each object keeps (0: all, the default). Stored
 * in the store, so every process applies the same rule. Pruning happens on
 * each object's next change. @return 0 or -errno. */
int ags_store_set_retention(ags_store *store, int64_t keep_versions);
int ags_store_get_retention(ags_store *store, int64_t *out);

/* Attributes a filesystem view needs; persisted per collection and object. */
struct ags_attr {
	uint32_t mode; /* permission bits only (07777) */
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_ns; /* last change, or what set_attr put there */
};

enum ags_attr_mask {
	AGS_ATTR_MODE = 1 << 0,
	AGS_ATTR_UID = 1 << 1,
	AGS_ATTR_GID = 1 << 2,
	AGS_ATTR_MTIME = 1 << 3,
};

/* ---- collections ------------------------------------------------------ */

struct ags_collection {
	const char *name; /* borrowed */
	int64_t number;	  /* stable, unique among collections and objects */
	int64_t count;	  /* objects in it */
	int64_t ctime_ns; /* creation */
	struct ags_attr attr;
};

typedef int (*ags_collection_cb)(void *ctx, const struct ags_collection *col);

/** Create a collection (audited as "mkcol"). @return 0, -EEXIST, -EINVAL. */
int ags_collection_create(ags_store *store, const char *name);

/** Drop a collection (audited as "rmcol"); with @force its objects are
 * removed first, each audited. @return 0, -ENOENT, -ENOTEMPTY. */
int ags_collection_drop(ags_store *store, const char *name, bool force);

/** Rename a collection with all its objects, in one transaction (audited as
 * "mvcol"). @return 0, -ENOENT, -EEXIST, -EINVAL. */
int ags_collection_rename(ags_store *store, const char *from, const char *to);

/** Look up one collection; fields borrowed. @return 0 or -ENOENT. */
int ags_collection_get(ags_store *store, const char *name,
		       struct ags_collection *out);

/** Call @cb for each collection ordered by name, starting after @after
 * (NULL: from the first), at most @limit of them (0: no limit). */
int ags_collection_list(ags_store *store, const char *after, size_t limit,
			ags_collection_cb cb, void *ctx);

/** Persist attributes named by @mask (audited as "setattr"). */
int ags_collection_set_attr(ags_store *store, const char *name,
			    const struct ags_attr *attr, unsigned mask);

/* ---- objects ---------------------------------------------------------- */

struct ags_object {
	const char *collection; /* borrowed */
	const char *id;		/* borrowed, NUL-terminated */
	const char *body; /* borrowed, body_len bytes plus a NUL; NULL when
				   the call was asked for no body */
	size_t body_len;  /* size of the body in bytes (always set) */
	int64_t version;
	int64_t number;	  /* stable identity (inode number), kept across
				   updates and renames */
	int64_t ctime_ns; /* creation of the object */
	int64_t vtime_ns; /* when this version was written */
	struct ags_attr attr;
};

typedef int (*ags_object_cb)(void *ctx, const struct ags_object *obj);

/* if_version values for put and remove, besides a version (1 or more):
 * other values are EINVAL. AGS_VERSION_ABSENT is for put only: the object
 * must not exist (else -EEXIST). */
#define AGS_VERSION_ANY 0 /* no condition */
#define AGS_VERSION_ABSENT -1

/** Create or replace an object. The body is validated strictly (design.md)
 * and stored byte for byte. With @if_version > 0 the object must be at that
 * version, else -ESTALE (compare-and-set). Audited as "create" or "update".
 * @ret_version (may be NULL) receives the new version.
 * @return 0, -EINVAL (bad name, id or JSON), -EFBIG, -ENOENT (no such
 * collection), -ESTALE, -EEXIST, -EBUSY, -EROFS, -ENOSPC, -EIO. */
int ags_object_put(ags_store *store, int64_t *ret_version,
		   const char *collection, const char *id, const char *body,
		   size_t len, int64_t if_version);

/** Read an object: @version 0 for the current one, or an earlier kept
 * version. With @with_body false only the metadata is read. Fields are
 * borrowed. @return 0 or -ENOENT. */
int ags_object_get(ags_store *store, const char *collection, const char *id,
		   int64_t version, bool with_body, struct ags_object *out);

/** A filesystem's lookup: ags_object_get() of the current version, with
 * the body only when it is at most @max_body bytes (out->body NULL
 * otherwise), for a caller that would use a small body but needs only the
 * metadata of a large one; and @ret_collection_number (may be NULL) set to
 * the collection's number (struct ags_collection.number), or 0 when there
 * is no such collection, whether or not the object exists: one query
 * tells a missing object in a known collection from a missing collection.
 * @return as ags_object_get(). */
int ags_object_peek(ags_store *store, const char *collection, const char *id,
		    size_t max_body, int64_t *ret_collection_number,
		    struct ags_object *out);

/** Read the object whose number (struct ags_object.number, its inode in
 * the mount) is @number, wherever it is now: numbers are never reused, so
 * this finds that object or none. @return 0 or -ENOENT. */
int ags_object_get_by_number(ags_store *store, int64_t number, bool with_body,
			     struct ags_object *out);

/** Remove an object (audited as "remove"); its last body stays in history.
 * @return 0, -ENOENT, -ESTALE. */
int ags_object_remove(ags_store *store, const char *collection, const char *id,
		      int64_t if_version);

/** ags_object_remove() that also sets @ret_number (may be NULL) to the
 * removed object's number (struct ags_object.number), for a caller that
 * keeps state by number and would otherwise read the object first: the
 * mount's unlink. @return as ags_object_remove(). */
int ags_object_remove_number(ags_store *store, int64_t *ret_number,
			     const char *collection, const char *id,
			     int64_t if_version);

/* rename flags, as renameat2() */
#define AGS_RENAME_NOREPLACE (1u << 0)
#define AGS_RENAME_EXCHANGE (1u << 1)

/** Move an object to another id and/or collection in one transaction; it
 * keeps its number and history and gets a new version (audited as "rename",
 * with the source in from_collection/from_id). An existing target is replaced
 * (its removal audited), unless AGS_RENAME_NOREPLACE (-EEXIST). With
 * AGS_RENAME_EXCHANGE both must exist and swap bodies, each getting a new
 * version (two "exchange" rows). @return 0, -ENOENT, -EEXIST, -EINVAL. */
int ags_object_rename(ags_store *store, const char *from_collection,
		      const char *from_id, const char *to_collection,
		      const char *to_id, unsigned flags);

/** Persist attributes named by @mask (audited as "setattr"; the version does
 * not change). */
int ags_object_set_attr(ags_store *store, const char *collection,
			const char *id, const struct ags_attr *attr,
			unsigned mask);

/** Call @cb for the objects of @collection ordered by id (bytewise), those
 * after @after (NULL: from the first), at most @limit (0: all). Rows are read
 * a page at a time, so a collection of any size is never held in memory.
 * @return 0, -ENOENT, or the callback's non-zero value. */
int ags_object_list(ags_store *store, const char *collection, const char *after,
		    size_t limit, bool with_body, ags_object_cb cb, void *ctx);

/** Make a new version of an object holding the body of its earlier
 * @version (audited as "revert"). @return 0, -ENOENT (no such object or
 * version kept). */
int ags_object_revert(ags_store *store, int64_t *ret_version,
		      const char *collection, const char *id, int64_t version);

/* ---- queries ---------------------------------------------------------- */

/** Objects of @collection whose @field equals the JSON value @value (len
 * bytes). @field is a dotted path ("a.b.0") or a JSONPath "$.a[0].b". Equality
 * compares JSON type and value: true != 1, "12" != 12, 12 == 12.0, null
 * matches null (a missing field matches nothing). Ordered by id, after
 * @after, at most @limit (0: all). Uses an index made by ags_index_create. */
int ags_query_find(ags_store *store, const char *collection, const char *field,
		   const char *value, size_t len, const char *after,
		   size_t limit, ags_object_cb cb, void *ctx);

/** Objects matching a filter document such as
 * {"age": {"$gte": 18}, "role": "admin"}: operators $eq $ne $gt $gte $lt
 * $lte $in $nin $exists, fields joined by AND. @return -EINVAL with the
 * reason for a bad filter. */
int ags_query_filter(ags_store *store, const char *collection,
		     const char *filter, size_t len, const char *after,
		     size_t limit, ags_object_cb cb, void *ctx);

/** Add an index on @field of @collection, used by find and filter equality
 * and ranges on that field. Idempotent. @return 0, -ENOENT, -EINVAL. */
int ags_index_create(ags_store *store, const char *collection,
		     const char *field);

/* ---- history and audit ------------------------------------------------ */

struct ags_audit_row {
	int64_t seq;
	int64_t time_ns;
	const char *op; /* create update remove rename exchange revert
				   setattr mkcol rmcol mvcol */
	const char *collection;
	const char *id;	     /* NULL for collection operations */
	int64_t old_version; /* 0: none */
	int64_t new_version; /* 0: none */
	int64_t size;	     /* body size after the change, -1: none */
	uint32_t uid;
	uint32_t gid;
	int32_t pid;
	const char *comm;
	const char *origin;
	const char *error;	     /* NULL unless the change was refused */
	const char *from_collection; /* rename sources, else NULL */
	const char *from_id;
	int64_t number; /* the object's number (struct ags_object), which
			   it keeps through renames; 0 for a collection's
			   rows */
};

typedef int (*ags_audit_cb)(void *ctx, const struct ags_audit_row *row);

struct ags_audit_filter {
	const char *collection; /* NULL: any */
	const char *id;		/* NULL: any */
	const char *op;		/* NULL: any */
	int64_t after_seq;	/* rows with seq > after_seq */
	int64_t since_ns;	/* rows with time >= since_ns (0: any) */
	int64_t until_ns;	/* rows with time < until_ns (0: any) */
	size_t limit;		/* 0: all */
};

/** Call @cb for each audit row matching @filter (NULL: all), by sequence. */
int ags_audit_list(ags_store *store, const struct ags_audit_filter *filter,
		   ags_audit_cb cb, void *ctx);

/** The sequence number of the newest audit row (0 for none). Cheap: call it
 * to learn whether anything changed. */
int ags_audit_last_seq(ags_store *store, int64_t *out);

/** Record a refused change (with its reason) as an audit row of its own.
 * @op and @error may not be NULL or empty; @collection and @id, when
 * given, must be valid names. @return 0, -EINVAL, -EBUSY or -errno. */
int ags_audit_refusal(ags_store *store, const char *op, const char *collection,
		      const char *id, int64_t size, const char *error);

/** One audit row as a JSON object on one line (no newline); caller frees.
 * NULL on allocation failure. */
char *ags_audit_row_json(const struct ags_audit_row *row);

/** Call @cb for each version of an object, oldest first: the audit rows that
 * made its versions (op, time, actor), with kept=true where the body of
 * that version can still be read. */
struct ags_version_info {
	int64_t version;
	bool kept;
	const struct ags_audit_row *row;
};
typedef int (*ags_version_cb)(void *ctx, const struct ags_version_info *v);
int ags_history_list(ags_store *store, const char *collection, const char *id,
		     ags_version_cb cb, void *ctx);

/* ---- snapshots -------------------------------------------------------- */

/* Progress of a long operation: @done of @total units (objects, files or
 * pages) so far. Called often; drawing it is the caller's business. */
typedef void (*ags_progress_cb)(void *ctx, uint64_t done, uint64_t total);

/* One line of a report (an invalid file, a planned change, a problem). */
typedef void (*ags_report_cb)(void *ctx, const char *line);

/* Which state an export writes. */
enum ags_at {
	AGS_AT_NOW = 0, /* the current state */
	AGS_AT_SEQ,	/* right after audit row at_value */
	AGS_AT_TIME,	/* after the last row at or before at_value ns */
};

struct ags_export_options {
	const char *const *collections; /* NULL-terminated; NULL: all */
	bool raw;			/* stored bytes, not the pretty form */
	enum ags_at at;
	int64_t at_value; /* a seq, or ns since the epoch */
	bool no_sync;	  /* do not flush the files at the end */
	bool verify;	  /* read every file, even one that has its stamp */
	ags_progress_cb progress; /* may be NULL; counts objects */
	void *ctx;
};

struct ags_export_result {
	int64_t seq;	       /* audit seq the tree reflects */
	uint64_t collections;  /* collection directories exported */
	uint64_t objects;      /* object files in them */
	uint64_t written;      /* files created or replaced */
	uint64_t removed;      /* files of objects that are gone */
	uint64_t dirs_removed; /* directories of dropped collections */
};

/** Write the state of the store into @dir as DIR/<collection>/<file name>
 * .json (the mount's file names), each file in the canonical pretty form
 * (or the stored bytes with @raw), plus DIR/.agentstate-export.json naming
 * the audit seq it reflects. The export reads one consistent state (one
 * read transaction) and is incremental: a file whose content would not
 * change is not rewritten, files of objects that are gone are removed, and
 * so are directories of dropped collections once they hold nothing else.
 * A file written gets its object's version time as mtime; a later export
 * (of the same form, not at = AGS_AT_SEQ/TIME, without @verify) takes a
 * file that still has that exact mtime as it is, without reading it. Any
 * other file is read and compared.
 * Nothing else in @dir is touched. A file appears or is replaced whole (an
 * O_TMPFILE linked in, or a temporary renamed over it), so a crash leaves
 * only whole files; one syncfs() at the end flushes them unless @no_sync.
 * Exports into one @dir take turns (flock). While it runs, one thread of
 * its own compares and writes the files (the progress callback is called
 * on the caller's thread). With at = AGS_AT_SEQ or
 * AGS_AT_TIME the state is rebuilt from the audit log and history.
 * @ret (may be NULL) receives counts.
 * @return 0, -ENOENT (a named collection does not exist), -EINVAL (a batch
 * is open, a seq past the newest), -ENOENT when a version needed by @at is
 * no longer kept, or -errno of the filesystem. */
int ags_snapshot_export(ags_store *store, struct ags_export_result *ret,
			const char *dir, const struct ags_export_options *opts);

struct ags_import_options {
	bool prune;   /* remove objects and collections not in DIR */
	bool dry_run; /* change nothing; report what would change */
	/* NULL-terminated; NULL: every collection directory of DIR. Only
	 * these are imported, and --prune removes objects only in them and
	 * drops no collection. Each must be a directory of DIR. */
	const char *const *collections;
	ags_progress_cb progress; /* may be NULL; counts files */
	/* each change made (or planned by a dry run), as "create C/FILE",
	 * "update C/FILE", "remove C/FILE", "mkcol C" or "rmcol C" (FILE:
	 * the object's file name); may be NULL */
	ags_report_cb change;
	/* each invalid file, as "C/FILE: invalid JSON at line L, column C:
	 * reason"; may be NULL */
	ags_report_cb invalid;
	/* each file named *.json in a collection directory that is no
	 * object's file name, as "C/FILE: ignored: why"; may be NULL */
	ags_report_cb ignored;
	void *ctx;
};

struct ags_import_result {
	uint64_t files; /* object files read */
	uint64_t created, updated, unchanged, removed;
	uint64_t collections_created, collections_dropped;
};

/** Make the store match @dir, a tree as ags_snapshot_export() writes it:
 * every directory with a collection name is a collection, every file in it
 * with an object file name an object, whose body is the file's bytes.
 * Anything else (.git, a README, the export's own file, temporary names) is
 * ignored. Every file is validated first: if any is invalid, each is
 * reported and nothing changes. Objects get a new version only where the
 * JSON value differs (white space aside). With @prune objects and
 * collections absent from @dir are removed; a @dir whose manifest an export
 * of some collections wrote is refused for that unless the collections are
 * named. All in one transaction, audited with origin "import". @ret (may be
 * NULL) receives counts.
 * @return 0, -EINVAL (invalid files, or a batch is open), -ENOENT, -EBUSY,
 * or another -errno. */
int ags_snapshot_import(ags_store *store, struct ags_import_result *ret,
			const char *dir, const struct ags_import_options *opts);

/* ---- backups ---------------------------------------------------------- */

/** Write a consistent copy of the whole store (objects, history, audit) to
 * @file: one read transaction is copied in steps, so writers in other
 * processes are never held up; the copy goes to FILE.tmp, is synced and
 * renamed, and is one self-contained SQLite file. @progress counts pages.
 * @return 0, -EINVAL (a batch is open), or -errno. */
int ags_backup_write(ags_store *store, const char *file,
		     ags_progress_cb progress, void *ctx);

/** Write a backup named <store name>-<UTC time>-<seq>.db into @dir and then
 * remove the oldest such files beyond @keep (0: keep all). Nothing is
 * written when the newest backup there already holds the current seq. For
 * periodic backups (the mount's -o backup_dir=...).
 * @ret_path (may be NULL) receives the file written (caller frees) or NULL.
 * @return 0 when a backup was written, 1 when the store had not changed,
 * or -errno. */
int ags_backup_rotate(ags_store *store, char **ret_path, const char *dir,
		      unsigned keep);

struct ags_restore_options {
	bool force;		  /* even while a mount holds the store */
	ags_progress_cb progress; /* may be NULL; counts pages */
	ags_report_cb problem;	  /* each problem found in the backup */
	void *ctx;
};

/** Replace the store named by @uri (created when missing) with the backup
 * @file, after checking that the backup is an agentstate store that passes
 * ags_store_check(). The new content is written through SQLite into the
 * live store in one transaction, so other processes see either the old or
 * the new store, never a mix, and no -wal or -shm file goes stale. Refused
 * with -EBUSY while a mount holds the store (ags_store_in_use()) unless
 * @opts->force. @return 0 or -errno; @ret_errmsg as in ags_store_open(). */
int ags_backup_restore(const char *uri, const char *file,
		       const struct ags_restore_options *opts,
		       char **ret_errmsg);

/** Whether a long-lived user (a mount) holds the store: it keeps a shared
 * flock() on "<database file>.lock", taken by ags_store_hold().
 * @return 1 in use, 0 not, or -errno. */
int ags_store_in_use(const char *uri);

/** Mark the store in use until the returned descriptor is closed (a
 * shared flock() on "<database file>.lock"; fork() passes it on). Restore
 * refuses while it is held. @return 0 with *ret_fd set (-1 for :memory:),
 * -EBUSY while a restore runs, or -errno. */
int ags_store_hold(ags_store *store, int *ret_fd);

/** Check the store: SQLite's integrity_check and foreign keys, then the
 * store's invariants: each object's version is the new_version of its last
 * audit row, every body passes json_valid() and the strict JSON rules and
 * its size is exact, names are valid, audit seq runs 1..max without gaps,
 * kept versions are valid JSON, collection counts match. @problem (may be
 * NULL) receives each problem as one line.
 * @return the number of problems (0: healthy), or -errno. */
int ags_store_check(ags_store *store, ags_report_cb problem, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
