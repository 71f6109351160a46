/* sql-int.h: every SQL statement of the library, by name. The text lives in
 * sql.c alone, so the SQL dialect is in one place for other backends. */
#ifndef AGS_SQL_INT_H
#define AGS_SQL_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "sbuf-int.h"

enum sql_id {
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_SAVEPOINT, /* a nested batch: SQLite's savepoints nest by name */
	SQL_RELEASE,
	SQL_ROLLBACK_TO,
	SQL_META_GET,
	SQL_SCHEMA_COOKIE,
	SQL_META_SET,
	SQL_COLL_BY_NAME,
	SQL_COLL_LIST,
	SQL_COLL_INSERT,
	SQL_COLL_DELETE,
	SQL_COLL_RENAME,
	SQL_COLL_COUNT_ADD,
	SQL_COLL_SET_ATTR,
	SQL_COLL_TOUCH,
	SQL_OBJ_BY_NAME,
	SQL_OBJ_BY_PATH,
	SQL_OBJ_BY_PATH_NO_BODY,
	SQL_OBJ_BY_NUMBER,
	SQL_OBJ_BY_NUMBER_NO_BODY,
	SQL_OBJ_LIST,
	SQL_OBJ_LIST_NO_BODY,
	SQL_OBJ_FIRST_ID,
	SQL_OBJ_EXPORT,
	SQL_OBJ_INSERT,
	SQL_OBJ_UPDATE,
	SQL_OBJ_DELETE,
	SQL_OBJ_MOVE,
	SQL_OBJ_SET_ATTR,
	SQL_HIST_SAVE,
	SQL_HIST_GET,
	SQL_HIST_PRUNE,
	SQL_HIST_HAS,
	SQL_AUDIT_INSERT,
	SQL_AUDIT_LAST,
	SQL_AUDIT_LIST,
	SQL_AUDIT_BY_OID,
	SQL_INDEX_BY_FIELD,
	SQL_INDEX_INSERT,
	SQL_INDEX_OF_COLL,
	SQL_INDEX_DELETE_COLL,
	SQL_INDEX_NEXT,
	SQL_VALUE_OF,
	SQL_FILTER_EACH,
	/* snapshots, backups and checks */
	SQL_BEGIN_READ,
	SQL_SNAP_SEQ_AT_TIME,
	SQL_SNAP_OBJECTS_AT,
	SQL_SNAP_COLLECTIONS_AT,
	SQL_SNAP_BODY_AT,
	SQL_CHECK_INTEGRITY,
	SQL_CHECK_FOREIGN_KEYS,
	SQL_CHECK_OBJECTS,
	SQL_CHECK_VERSIONS,
	SQL_CHECK_COUNTS,
	SQL_CHECK_SEQ,
	SQL_CHECK_SEQ_GAPS,
	SQL_CHECK_HISTORY,
	SQL_CHECK_COLLECTIONS,
	SQL_COUNT
};

/* Columns of SQL_OBJ_BY_NAME, SQL_OBJ_BY_PATH and SQL_OBJ_LIST, in this
 * order; their _NO_BODY forms (and SQL_OBJ_BY_NAME) select NULL for the
 * body, so that a read without it never touches its overflow pages. */
enum {
	OBJ_COL_OID,
	OBJ_COL_VERSION,
	OBJ_COL_SIZE,
	OBJ_COL_CTIME,
	OBJ_COL_VTIME,
	OBJ_COL_MTIME,
	OBJ_COL_MODE,
	OBJ_COL_UID,
	OBJ_COL_GID,
	OBJ_COL_ID,
	OBJ_COL_BODY,
	OBJ_COL_COLLECTION, /* SQL_OBJ_BY_NUMBER only */
	/* SQL_OBJ_BY_PATH only: the collection's cid, set when the object
	 * does not exist too */
	OBJ_COL_PATH_CID = OBJ_COL_COLLECTION,
};

/* Columns of SQL_COLL_BY_NAME and SQL_COLL_LIST. */
enum {
	COLL_COL_CID,
	COLL_COL_NAME,
	COLL_COL_COUNT,
	COLL_COL_CTIME,
	COLL_COL_MTIME,
	COLL_COL_MODE,
	COLL_COL_UID,
	COLL_COL_GID,
};

/* Columns of SQL_AUDIT_LIST and SQL_AUDIT_BY_OID. */
enum {
	AUDIT_COL_SEQ,
	AUDIT_COL_TIME,
	AUDIT_COL_OP,
	AUDIT_COL_COLLECTION,
	AUDIT_COL_ID,
	AUDIT_COL_OLD_VERSION,
	AUDIT_COL_NEW_VERSION,
	AUDIT_COL_SIZE,
	AUDIT_COL_UID,
	AUDIT_COL_GID,
	AUDIT_COL_PID,
	AUDIT_COL_COMM,
	AUDIT_COL_ORIGIN,
	AUDIT_COL_ERROR,
	AUDIT_COL_FROM_COLLECTION,
	AUDIT_COL_FROM_ID,
	AUDIT_COL_OBJECT,
};

/** The text of a statement. */
const char *sql_text(enum sql_id id);

/** The schema version this library writes (PRAGMA user_version). */
#define SQL_SCHEMA_VERSION 1
/** The statements that take a store from schema version @from to from + 1
 * (several statements separated by ';'), or NULL past the last. */
const char *sql_migration(int from);

/** Read the schema version; set it; set the sync level of commits. */
extern const char sql_user_version[];
/* What a database is: 0 empty (a new store), 1 an agentstate store (a
 * schema version and its core tables), -1 anything else. */
extern const char sql_schema_kind[];
int sql_set_user_version(struct sbuf *out, int version);
int sql_set_synchronous(struct sbuf *out, bool full);

/** Connection settings applied at every open (WAL, foreign keys ...). */
extern const char sql_connection_setup[];

/** Settings of the connection writing a backup copy, the statement that
 * turns the finished copy into one self-contained file, the checkpoint run
 * after a restore, and the page size query. */
extern const char sql_backup_dest_setup[];
extern const char sql_backup_dest_finish[];
extern const char sql_wal_truncate[];
extern const char sql_page_size[];

/** The text of an expression index on a JSON path of one collection: the
 * only place a path enters SQL text (SQLite cannot index a parameter). The
 * path is quoted as an SQL string literal and @cid is an integer, so neither
 * can change the statement's meaning. */
int sql_index_ddl(struct sbuf *out, const char *index_name, int64_t cid,
		  const char *path);
/** DROP INDEX for an index made by sql_index_ddl. */
int sql_drop_index_ddl(struct sbuf *out, const char *index_name);

/* Building find and filter queries. A path operand is either a parameter
 * ("?N") or, on an indexed path, the quoted literal that matches the index's
 * expression text so that SQLite uses it. */
/** "?N" or the quoted literal @path. */
int sql_path_operand(struct sbuf *out, const char *path, int param);
/** "SELECT <object columns> FROM objects WHERE cid = <cid or ?1>" */
int sql_find_head(struct sbuf *out, int64_t cid, bool cid_literal);
/** " AND " / " OR " / "NOT coalesce((" / "), 0)" / "(" / ")" / "0" */
int sql_and(struct sbuf *out);
int sql_or(struct sbuf *out);
int sql_not_open(struct sbuf *out);
int sql_not_close(struct sbuf *out);
int sql_open(struct sbuf *out);
int sql_close(struct sbuf *out);
int sql_false(struct sbuf *out);
/** "json_type(body, P) IN (?a, ?b)" */
int sql_type_in(struct sbuf *out, const char *p, int pa, int pb);
/** "json_type(body, P) IS NULL", "... IS NOT NULL" or "... = 'null'" */
int sql_type_null(struct sbuf *out, const char *p);
int sql_exists(struct sbuf *out, const char *p, bool exists);
/** "json_extract(body, P) <op> ?v", op one of = < <= > >= */
int sql_compare(struct sbuf *out, const char *p, const char *op, int pv);
/** "ags_json_canon(json_extract(body, P)) = ?v" (query-int.h) */
int sql_compare_canon(struct sbuf *out, const char *p, int pv);
/** " AND id > ?a ORDER BY id LIMIT ?l" */
int sql_find_tail(struct sbuf *out, int pafter, int plimit);
/** "EXPLAIN QUERY PLAN " */
int sql_explain(struct sbuf *out);

#endif
