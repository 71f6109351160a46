/* store-int.h: the private shape of a store handle and the helpers every
 * module of the library shares (errors, transactions, the actor, results). */
#ifndef AGS_STORE_INT_H
#define AGS_STORE_INT_H

#include <sqlite3.h>
#include <stdarg.h>

#include "agentstate.h"
#include "sbuf-int.h"
#include "sql-int.h"

/* Numbers handed out as stable identities (inode numbers in the mount):
 * objects get rowid + AGS_OBJECT_BASE, collections cid + AGS_COLLECTION_BASE,
 * so the two never meet and small numbers stay free for the mount's own. */
#define AGS_OBJECT_BASE 16
#define AGS_COLLECTION_BASE (INT64_C(1) << 48)

/* How deep ags_store_begin() nests batches in an open one. */
#define AGS_NESTED_MAX 8

/* The states of ags_store_begin()'s batch. */
enum {
	BATCH_NONE = 0,
	BATCH_OPEN,   /* changes join the open transaction */
	BATCH_BROKEN, /* a change failed half-way: all was rolled back */
};

struct ags_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT]; /* prepared once, on first use */
	struct sbuf path;	       /* database file name */
	struct sbuf err;	       /* ags_errmsg() */
	size_t max_body;
	bool read_only;
	int batch;	      /* a BATCH_* state */
	int64_t batch_writes; /* rows changed when the current change began */
	int nested;	      /* batches begun inside the open one */
	/* txn_last_seq as each nested batch began: its rollback drops the
	 * audit rows it wrote */
	int64_t nested_last_seq[AGS_NESTED_MAX];
	int busy_ms; /* the busy timeout */
	/* audit rows written by the open transaction, and by the last one
	 * this handle committed (ags_store_last_commit); 0: none */
	int64_t txn_first_seq, txn_last_seq;
	int64_t commit_first_seq, commit_last_seq;

	/* the actor of the following changes */
	uint32_t uid, gid;
	int32_t pid;
	struct sbuf comm, origin;

	/* storage behind the borrowed pointers of the last result */
	struct sbuf res_collection, res_id, res_body;
	struct sbuf what; /* store_what() */
};

/* A row of the collections table, as read by collection_find(). */
struct collection_row {
	int64_t cid;
	int64_t count;
};

/* An object's row, as read by object_find() (no body). */
struct object_row {
	int64_t oid;
	int64_t version;
	int64_t size;
	struct ags_attr attr;
};

/** What a change does, naming what it changes ("drop collection 'c'"), for
 * its messages: "cannot <what>: ...". Valid until the next call, so only
 * the public function a caller called uses it. On failure to format it is
 * @fallback, which names nothing. */
const char *store_what(ags_store *s, const char *fallback, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** For a change of attributes: -EINVAL (with the message) for bits of
 * @mask no AGS_ATTR_* names, 1 when it names none (nothing to do), else 0. */
int store_attr_mask(ags_store *s, const char *what, unsigned mask);

/** Set the handle's message and return @err (a negative errno). */
int store_fail(ags_store *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Translate a SQLite result code into a negative errno, with a message
 * "cannot <what>: <sqlite message>". The one place codes are mapped. */
int store_sql_fail(ags_store *s, int rc, const char *what);
/** The same for a failure on another connection @db (a backup's), whose
 * message it then gives. */
int store_sql_fail_db(ags_store *s, sqlite3 *db, int rc, const char *what);
/** The prepared statement @id of this connection, reset and unbound, ready
 * to bind. @return 0 or -errno (message set). */
int store_stmt(ags_store *s, enum sql_id id, sqlite3_stmt **out);
/** Run a statement that returns no rows. */
int store_exec(ags_store *s, enum sql_id id, const char *what);
/** Step @st (from store_stmt(), bound) for one integer: column 0 of its
 * first row, or 0 when it has none; then reset it. */
int store_step_int(ags_store *s, sqlite3_stmt *st, const char *what,
		   int64_t *out);
/** Fail with EROFS when the handle is read-only. */
int store_check_writable(ags_store *s, const char *what);

/** Start a write transaction (BEGIN IMMEDIATE), or join the open batch. */
int store_txn_begin(ags_store *s, const char *what);
/** Commit (r == 0) or roll back (r < 0) what store_txn_begin started; returns
 * r, or the commit's error. Inside a batch a change refused before it wrote
 * anything leaves the batch as it was; one that failed after writing rows
 * (disk full, I/O error) rolls the whole batch back and breaks it. */
int store_txn_end(ags_store *s, int r, const char *what);

/** Nanoseconds since the epoch, from CLOCK_REALTIME. */
int64_t store_now_ns(void);

/** Look up a collection by name inside the current transaction. */
int collection_find(ags_store *s, const char *name, struct collection_row *out);
/** Look up an object's row by collection id and object id. */
int object_find(ags_store *s, int64_t cid, const char *id,
		struct object_row *out);

/* One audit row to write: the actor comes from the handle. */
struct audit_entry {
	const char *op;
	const char *collection;
	const char *id;
	int64_t old_version; /* 0: none */
	int64_t new_version; /* 0: none */
	int64_t size;	     /* -1: none */
	const char *error;
	const char *from_collection;
	const char *from_id;
	int64_t oid; /* 0: not about an object */
	int64_t time_ns;
};
/** Insert one audit row in the current transaction. */
int audit_write(ags_store *s, const struct audit_entry *e);

/** Fill an ags_audit_row from the current row of an SQL_AUDIT_* statement. */
void audit_row_read(sqlite3_stmt *st, struct ags_audit_row *row);

/** Keep an earlier version in history before the object row changes, and
 * prune history past the retention limit. */
int history_save(ags_store *s, int64_t oid, int64_t new_version);

/** Remove an object inside the current transaction, audited. */
int object_remove_locked(ags_store *s, const char *collection, int64_t cid,
			 const char *id, int64_t if_version);

/** Check a body against the JSON rules and the size limit; on failure the
 * message reads "cannot store C/ID: ...". */
int object_check_body(ags_store *s, const char *collection, const char *id,
		      const char *body, size_t len);

/** Fill an ags_object from the current row of SQL_OBJ_* (column layout of
 * SQL_OBJECT_COLUMNS), with the body when it is at most @body_max bytes
 * (SIZE_MAX: always, 0: never). @return 0 or -ENOMEM (reported). */
int object_row_read(ags_store *s, sqlite3_stmt *st, const char *collection,
		    size_t body_max, struct ags_object *out);

#endif
