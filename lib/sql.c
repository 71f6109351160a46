/* sql.c: the SQL text of every statement, the schema and its migrations, and
 * the builders of the dynamic find/filter queries. Nothing else in the
 * library writes SQL, so another backend replaces this file's dialect. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "sql-int.h"

#define OBJECT_META                                                            \
	"oid, version, size, ctime, vtime, mtime, mode, uid, gid, id"
#define OBJECT_COLUMNS OBJECT_META ", body"
/* NULL in the body's place: SQLite reads every selected column whole, a
 * body's overflow pages too, even one the caller never fetches. */
#define OBJECT_COLUMNS_NO_BODY OBJECT_META ", NULL"
/* The same, of an objects table named o in a join. */
#define OBJECT_META_OF_O                                                       \
	"o.oid, o.version, o.size, o.ctime, o.vtime, o.mtime, o.mode, o.uid, " \
	"o.gid, o.id"
#define COLLECTION_COLUMNS "cid, name, count, ctime, mtime, mode, uid, gid"
#define AUDIT_COLUMNS                                                          \
	"seq, time, op, collection, id, old_version, new_version, size, uid, " \
	"gid, pid, comm, origin, error, from_collection, from_id, oid"

static const char *const statements[SQL_COUNT] = {
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_SAVEPOINT] = "SAVEPOINT nested",
	[SQL_RELEASE] = "RELEASE nested",
	[SQL_ROLLBACK_TO] = "ROLLBACK TO nested",
	[SQL_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	/* Moves with any change of the schema, and when a restore writes a
	 * whole store over this one (the backup API bumps it). */
	[SQL_SCHEMA_COOKIE] = "PRAGMA schema_version",
	[SQL_META_SET] =
		"INSERT INTO meta(key, value) VALUES (?1, ?2) "
		"ON CONFLICT(key) DO UPDATE SET value = excluded.value",

	[SQL_COLL_BY_NAME] = "SELECT " COLLECTION_COLUMNS
			     " FROM collections WHERE name = ?1",
	[SQL_COLL_LIST] = "SELECT " COLLECTION_COLUMNS
			  " FROM collections WHERE name > ?1 ORDER BY name"
			  " LIMIT ?2",
	[SQL_COLL_INSERT] = "INSERT INTO collections"
			    "(name, count, ctime, mtime, mode, uid, gid)"
			    " VALUES (?1, 0, ?2, ?2, ?3, ?4, ?5)",
	[SQL_COLL_DELETE] = "DELETE FROM collections WHERE cid = ?1",
	[SQL_COLL_RENAME] = "UPDATE collections SET name = ?2 WHERE cid = ?1",
	[SQL_COLL_COUNT_ADD] = "UPDATE collections SET count = count + ?2,"
			       " mtime = ?3 WHERE cid = ?1",
	[SQL_COLL_SET_ATTR] = "UPDATE collections SET mode = ?2, uid = ?3,"
			      " gid = ?4, mtime = ?5 WHERE cid = ?1",
	[SQL_COLL_TOUCH] = "UPDATE collections SET mtime = ?2 WHERE cid = ?1",

	[SQL_OBJ_BY_NAME] = "SELECT " OBJECT_COLUMNS_NO_BODY
			    " FROM objects WHERE cid = ?1 AND id = ?2",
	/* By collection name and id in one statement: outside a transaction
	 * each statement takes and drops SQLite's locks (system calls that
	 * cost more than the lookup), so a read pays for them once. */
	/* A row whenever the collection exists, with NULL object columns
	 * when the object does not: one statement tells the two apart. */
	[SQL_OBJ_BY_PATH] = "SELECT " OBJECT_META_OF_O ", o.body, c.cid"
			    " FROM collections c"
			    " LEFT JOIN objects o ON o.cid = c.cid"
			    " AND o.id = ?2 WHERE c.name = ?1",
	[SQL_OBJ_BY_PATH_NO_BODY] = "SELECT " OBJECT_META_OF_O ", NULL, c.cid"
				    " FROM collections c"
				    " LEFT JOIN objects o ON o.cid = c.cid"
				    " AND o.id = ?2 WHERE c.name = ?1",
	[SQL_OBJ_BY_NUMBER] = "SELECT " OBJECT_COLUMNS ", (SELECT name FROM"
			      " collections c WHERE c.cid = objects.cid)"
			      " FROM objects WHERE oid = ?1",
	[SQL_OBJ_BY_NUMBER_NO_BODY] =
		"SELECT " OBJECT_COLUMNS_NO_BODY ", (SELECT name FROM"
		" collections c WHERE c.cid = objects.cid)"
		" FROM objects WHERE oid = ?1",
	[SQL_OBJ_LIST] = "SELECT " OBJECT_COLUMNS " FROM objects"
			 " WHERE cid = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[SQL_OBJ_LIST_NO_BODY] = "SELECT " OBJECT_COLUMNS_NO_BODY
				 " FROM objects WHERE cid = ?1 AND id > ?2"
				 " ORDER BY id LIMIT ?3",
	[SQL_OBJ_FIRST_ID] = "SELECT id FROM objects WHERE cid = ?1"
			     " ORDER BY id LIMIT 1",
	/* What an export needs of each object, and no more. */
	[SQL_OBJ_EXPORT] = "SELECT id, body, vtime FROM objects"
			   " WHERE cid = ?1 ORDER BY id",
	[SQL_OBJ_INSERT] =
		"INSERT INTO objects(cid, id, body, size, version,"
		" ctime, vtime, mtime, mode, uid, gid)"
		" VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?5, ?6, ?7, ?8)",
	/* A new version's time is after the last one's even if the clock
	 * stepped back: an export's stamp (snapshot-files-int.h) names one
	 * version. */
	[SQL_OBJ_UPDATE] = "UPDATE objects SET body = ?2, size = ?3,"
			   " version = version + 1, vtime = max(?4, vtime + 1),"
			   " mtime = ?4"
			   " WHERE oid = ?1",
	[SQL_OBJ_DELETE] = "DELETE FROM objects WHERE oid = ?1",
	[SQL_OBJ_MOVE] = "UPDATE objects SET cid = ?2, id = ?3,"
			 " version = version + 1, vtime = max(?4, vtime + 1)"
			 " WHERE oid = ?1",
	[SQL_OBJ_SET_ATTR] = "UPDATE objects SET mode = ?2, uid = ?3,"
			     " gid = ?4, mtime = ?5 WHERE oid = ?1",

	[SQL_HIST_SAVE] = "INSERT INTO history(oid, version, body, size, vtime)"
			  " SELECT oid, version, body, size, vtime"
			  " FROM objects WHERE oid = ?1",
	[SQL_HIST_GET] = "SELECT body, size, vtime FROM history"
			 " WHERE oid = ?1 AND version = ?2",
	[SQL_HIST_PRUNE] = "DELETE FROM history WHERE oid = ?1"
			   " AND version <= ?2",
	[SQL_HIST_HAS] = "SELECT version FROM history WHERE oid = ?1"
			 " ORDER BY version",

	[SQL_AUDIT_INSERT] = "INSERT INTO audit(time, op, collection, id,"
			     " old_version, new_version, size, uid, gid, pid,"
			     " comm, origin, error, from_collection, from_id,"
			     " oid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			     " ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[SQL_AUDIT_LAST] = "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1",
	[SQL_AUDIT_LIST] = "SELECT " AUDIT_COLUMNS " FROM audit"
			   " WHERE seq > ?1"
			   " AND (?2 IS NULL OR collection = ?2)"
			   " AND (?3 IS NULL OR id = ?3)"
			   " AND (?4 IS NULL OR op = ?4)"
			   " AND time >= ?5 AND (?6 = 0 OR time < ?6)"
			   " ORDER BY seq LIMIT ?7",
	[SQL_AUDIT_BY_OID] = "SELECT " AUDIT_COLUMNS " FROM audit"
			     " WHERE oid = ?1 AND new_version IS NOT NULL"
			     " AND error IS NULL ORDER BY seq",

	[SQL_INDEX_BY_FIELD] = "SELECT name FROM indexes"
			       " WHERE cid = ?1 AND path = ?2",
	[SQL_INDEX_INSERT] = "INSERT INTO indexes(cid, path, name)"
			     " VALUES (?1, ?2, ?3)",
	[SQL_INDEX_OF_COLL] = "SELECT name FROM indexes WHERE cid = ?1",
	[SQL_INDEX_DELETE_COLL] = "DELETE FROM indexes WHERE cid = ?1",
	[SQL_INDEX_NEXT] = "SELECT coalesce(max(rowid), 0) + 1 FROM indexes",
	/* A JSON value as SQLite compares it, with its type; a bad path
	 * given as ?2 fails here, before any query runs. */
	[SQL_VALUE_OF] = "SELECT json_extract(?1, '$'), json_type(?1),"
			 " json_extract('{}', ?2)",
	[SQL_FILTER_EACH] = "SELECT key, type, value FROM json_each(?1)",

	/* Snapshots: one read transaction sees one state of the store. */
	[SQL_BEGIN_READ] = "BEGIN DEFERRED",
	[SQL_SNAP_SEQ_AT_TIME] = "SELECT coalesce(max(seq), 0) FROM audit"
				 " WHERE time <= ?1",
	/* Each object's last row up to ?1 (SQLite takes the bare columns
	 * from the row holding the max): its name and version then, or a
	 * removal. */
	[SQL_SNAP_OBJECTS_AT] = "SELECT oid, max(seq), op, collection, id,"
				" new_version FROM audit WHERE oid IS NOT NULL"
				" AND seq <= ?1 AND error IS NULL GROUP BY oid",
	[SQL_SNAP_COLLECTIONS_AT] =
		"SELECT seq, op, collection, from_collection FROM audit"
		" WHERE oid IS NULL AND seq <= ?1 AND error IS NULL"
		" AND op IN ('mkcol', 'rmcol', 'mvcol') ORDER BY seq",
	[SQL_SNAP_BODY_AT] = "SELECT body FROM objects"
			     " WHERE oid = ?1 AND version = ?2 UNION ALL"
			     " SELECT body FROM history"
			     " WHERE oid = ?1 AND version = ?2 LIMIT 1",

	/* Checks: each returns the rows that break one invariant. */
	[SQL_CHECK_INTEGRITY] = "PRAGMA integrity_check",
	[SQL_CHECK_FOREIGN_KEYS] = "PRAGMA foreign_key_check",
	[SQL_CHECK_OBJECTS] = "SELECT o.oid, c.name, o.id, o.size,"
			      " json_valid(o.body), o.body FROM objects o"
			      " LEFT JOIN collections c ON c.cid = o.cid"
			      " ORDER BY o.oid",
	[SQL_CHECK_VERSIONS] =
		"SELECT c.name, o.id, o.version, (SELECT a.new_version"
		" FROM audit a WHERE a.oid = o.oid AND a.error IS NULL"
		" ORDER BY a.seq DESC LIMIT 1) AS v FROM objects o"
		" LEFT JOIN collections c ON c.cid = o.cid"
		" WHERE v IS NOT o.version ORDER BY o.oid",
	[SQL_CHECK_COUNTS] = "SELECT name, count, (SELECT count(*)"
			     " FROM objects o WHERE o.cid = c.cid) AS n"
			     " FROM collections c WHERE n != count"
			     " ORDER BY name",
	[SQL_CHECK_SEQ] = "SELECT count(*), coalesce(min(seq), 0),"
			  " coalesce(max(seq), 0), (SELECT coalesce(max(seq),"
			  " 0) FROM sqlite_sequence WHERE name = 'audit')"
			  " FROM audit",
	[SQL_CHECK_SEQ_GAPS] = "SELECT a.seq + 1, (SELECT min(b.seq) - 1"
			       " FROM audit b WHERE b.seq > a.seq)"
			       " FROM audit a WHERE a.seq < ?1"
			       " AND NOT EXISTS (SELECT 1 FROM audit b"
			       " WHERE b.seq = a.seq + 1) ORDER BY a.seq"
			       " LIMIT ?2",
	[SQL_CHECK_HISTORY] = "SELECT oid, version FROM history"
			      " WHERE NOT json_valid(body)"
			      " OR size != length(CAST(body AS BLOB))"
			      " ORDER BY oid, version",
	[SQL_CHECK_COLLECTIONS] = "SELECT name FROM collections ORDER BY name",
};

const char *sql_text(enum sql_id id)
{
	return statements[id];
}

const char sql_user_version[] = "PRAGMA user_version";
/* One statement, so one snapshot: read in two, a store another process
 * creates in between would look like a database with foreign tables. */
const char sql_schema_kind[] =
	"SELECT CASE"
	" WHEN (SELECT count(*) FROM sqlite_master) = 0 THEN 0"
	" WHEN (SELECT user_version FROM pragma_user_version) > 0"
	"  AND (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	"       AND name IN ('collections', 'objects', 'audit')) = 3 THEN 1"
	" ELSE -1 END";

int sql_set_user_version(struct sbuf *out, int version)
{
	return sbuf_addf(out, "PRAGMA user_version = %d", version);
}

int sql_set_synchronous(struct sbuf *out, bool full)
{
	return sbuf_addf(out, "PRAGMA synchronous = %s",
			 full ? "FULL" : "NORMAL");
}

const char sql_connection_setup[] = "PRAGMA journal_mode = WAL;"
				    "PRAGMA foreign_keys = ON;";

/* Backups: the copy is written without a journal (it is a temporary file
 * until renamed), then made one self-contained file in rollback mode so it
 * can be opened read-only, copied and archived without a -wal beside it. */
const char sql_backup_dest_setup[] = "PRAGMA journal_mode = OFF;"
				     "PRAGMA synchronous = OFF;";
const char sql_backup_dest_finish[] = "PRAGMA journal_mode = DELETE;";
/* After a restore, fold the WAL (which then holds the whole store) back. */
const char sql_wal_truncate[] = "PRAGMA wal_checkpoint(TRUNCATE);";
const char sql_page_size[] = "PRAGMA page_size";

/* Schema version 1. Objects and collections are rowid tables (large bodies
 * spill to overflow pages, cheap in rowid tables); the unique index on
 * (cid, id) orders listings and finds by name. AUTOINCREMENT everywhere: a
 * number is never given twice, so an object's number (its inode in the
 * mount) and its history rows can never be mistaken for a removed one's,
 * and audit seq only grows. */
static const char schema_v1[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value);"
	"CREATE TABLE collections ("
	" cid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" count INTEGER NOT NULL,"
	" ctime INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL,"
	" mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL);"
	"CREATE TABLE objects ("
	" oid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" cid INTEGER NOT NULL REFERENCES collections(cid),"
	" version INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" ctime INTEGER NOT NULL,"
	" vtime INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL,"
	" mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" id TEXT NOT NULL,"
	" body TEXT NOT NULL CHECK (json_valid(body)));"
	"CREATE UNIQUE INDEX objects_by_name ON objects(cid, id);"
	"CREATE TABLE history ("
	" oid INTEGER NOT NULL,"
	" version INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" vtime INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" UNIQUE (oid, version));"
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" op TEXT NOT NULL,"
	" collection TEXT,"
	" id TEXT,"
	" old_version INTEGER,"
	" new_version INTEGER,"
	" size INTEGER,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" pid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" origin TEXT NOT NULL,"
	" error TEXT,"
	" from_collection TEXT,"
	" from_id TEXT,"
	" oid INTEGER);"
	"CREATE INDEX audit_by_object ON audit(oid) WHERE oid IS NOT NULL;"
	"CREATE TABLE indexes ("
	" cid INTEGER NOT NULL,"
	" path TEXT NOT NULL,"
	" name TEXT NOT NULL UNIQUE,"
	" PRIMARY KEY (cid, path));";

static const char *const migrations[] = {
	schema_v1, /* 0 -> 1 */
};

const char *sql_migration(int from)
{
	if (from < 0 ||
	    (size_t)from >= sizeof(migrations) / sizeof(*migrations))
		return NULL;
	return migrations[from];
}

int sql_index_ddl(struct sbuf *out, const char *index_name, int64_t cid,
		  const char *path)
{
	char *quoted = sqlite3_mprintf("%Q", path);
	int r;

	if (!quoted)
		return -ENOMEM;
	/* id follows the value so an equality lookup comes out ordered by id,
	 * and the partial WHERE keeps other collections out of the index. */
	r = sbuf_addf(out,
		      "CREATE INDEX \"%s\" ON objects(json_extract(body, %s),"
		      " id) WHERE cid = %lld",
		      index_name, quoted, (long long)cid);
	sqlite3_free(quoted);
	return r;
}

int sql_drop_index_ddl(struct sbuf *out, const char *index_name)
{
	return sbuf_addf(out, "DROP INDEX IF EXISTS \"%s\"", index_name);
}

int sql_path_operand(struct sbuf *out, const char *path, int param)
{
	char *quoted;
	int r;

	if (param > 0)
		return sbuf_addf(out, "?%d", param);
	quoted = sqlite3_mprintf("%Q", path);
	if (!quoted)
		return -ENOMEM;
	r = sbuf_adds(out, quoted);
	sqlite3_free(quoted);
	return r;
}

int sql_find_head(struct sbuf *out, int64_t cid, bool cid_literal)
{
	if (cid_literal)
		return sbuf_addf(out,
				 "SELECT " OBJECT_COLUMNS
				 " FROM objects WHERE cid = %lld",
				 (long long)cid);
	return sbuf_adds(out, "SELECT " OBJECT_COLUMNS
			      " FROM objects WHERE cid = ?1");
}

int sql_and(struct sbuf *out)
{
	return sbuf_adds(out, " AND ");
}

int sql_or(struct sbuf *out)
{
	return sbuf_adds(out, " OR ");
}

int sql_not_open(struct sbuf *out)
{
	return sbuf_adds(out, "NOT coalesce((");
}

int sql_not_close(struct sbuf *out)
{
	return sbuf_adds(out, "), 0)");
}

int sql_open(struct sbuf *out)
{
	return sbuf_addch(out, '(');
}

int sql_close(struct sbuf *out)
{
	return sbuf_addch(out, ')');
}

int sql_false(struct sbuf *out)
{
	return sbuf_addch(out, '0');
}

int sql_type_in(struct sbuf *out, const char *p, int pa, int pb)
{
	return sbuf_addf(out, "json_type(body, %s) IN (?%d, ?%d)", p, pa, pb);
}

int sql_type_null(struct sbuf *out, const char *p)
{
	return sbuf_addf(out, "json_type(body, %s) = 'null'", p);
}

int sql_exists(struct sbuf *out, const char *p, bool exists)
{
	return sbuf_addf(out, "json_type(body, %s) IS %s", p,
			 exists ? "NOT NULL" : "NULL");
}

int sql_compare(struct sbuf *out, const char *p, const char *op, int pv)
{
	return sbuf_addf(out, "json_extract(body, %s) %s ?%d", p, op, pv);
}

int sql_compare_canon(struct sbuf *out, const char *p, int pv)
{
	return sbuf_addf(out, "ags_json_canon(json_extract(body, %s)) = ?%d", p,
			 pv);
}

int sql_find_tail(struct sbuf *out, int pafter, int plimit)
{
	return sbuf_addf(out, " AND id > ?%d ORDER BY id LIMIT ?%d", pafter,
			 plimit);
}

int sql_explain(struct sbuf *out)
{
	return sbuf_adds(out, "EXPLAIN QUERY PLAN ");
}
