/* bench-store.c: the store benchmark. Times put (one transaction each),
 * batched put, get, and find on an indexed and an unindexed field through
 * libagentstate, beside raw SQLite statements doing the same logical work on
 * a database of the identical schema, in the same run and on the same disk,
 * and prints µs/op with the ratio of the two rates.
 *
 * usage: bench-store [--quick] [SIZE...]     (default sizes: 10000 1000000)
 *
 * Fairness. The baseline database is created by ags_store_open() (so its
 * schema, CHECK constraints, indexes and AUTOINCREMENT tables are exactly
 * the library's, with no copied CREATE statement to drift), given the same
 * collection and field index through the library, then closed and reopened
 * with plain sqlite3 and the library's connection settings: WAL,
 * synchronous=NORMAL, foreign_keys=ON, a busy timeout. Each baseline
 * operation then runs the fewest prepared statements that make the same
 * logical change or read (see the raw_* functions); bodies, ids and lookup
 * values are generated before the clock starts. The two stores are
 * separate files in one scratch directory and are loaded with the same
 * objects; each measurement warms both up, then alternates chunks of
 * operations between them (which side goes first alternates too), so drift
 * in the machine's state is shared, and every chunk of writes ends with a
 * checkpoint on its own side (see checkpoint()).
 *
 * At each size: load SIZE objects in batches of 1000 (the "load" line), then
 * the reads, which so see exactly SIZE objects: get of random ids, find by
 * distinct values of the indexed field (MATCHES objects each), find on the
 * unindexed field (a scan of the collection); then the writes, of new
 * objects: put one transaction each, and put in batches of 1000. Finds
 * check that both sides return the same number of rows.
 *
 * Targets: put and get at >= 0.8x raw SQLite's rate, an indexed find under
 * 1 ms, an unindexed find within 1.2x of the raw json_extract scan. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentstate.h"
#include "bench-util.h"
#include "query-int.h"
#include "sbuf-int.h"

#define COLLECTION "bench"
#define INDEXED_FIELD "user" /* ags_index_create()d, path $.user */
#define SCAN_FIELD "n"	     /* not indexed, path $.n */
#define BODY_SIZE 200	     /* bytes, give or take a few */
#define BODY_MAX 256
#define BATCH 1000 /* puts per batched transaction */
#define MATCHES 10 /* objects sharing each user and n value */

enum side { AGS, RAW };

enum op {
	OP_PUT,	  /* one put, one transaction */
	OP_BATCH, /* one put; a chunk of them is one transaction */
	OP_GET,
	OP_FIND_INDEXED,
	OP_FIND_SCAN,
};

/* One prepared operation: what it needs, made before the clock starts. */
struct item {
	uint64_t i;	     /* object number, or the value looked up */
	size_t len;	     /* of body, or of json */
	char id[24];	     /* object id */
	char text[24];	     /* a string value as SQL text ("u12") */
	char json[24];	     /* the same value as JSON ("\"u12\"", "12") */
	char body[BODY_MAX]; /* the object's body */
};

/* A growable copy buffer, as a caller keeping a row past sqlite3_reset()
 * needs one. */
struct copy {
	char *buf;
	size_t alloc;
};

/* The baseline: a plain sqlite3 connection and its prepared statements. */
struct raw {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit;
	sqlite3_stmt *coll_by_name, *obj_by_name, *obj_insert, *coll_count;
	sqlite3_stmt *audit_insert;
	sqlite3_stmt *get, *find_indexed, *find_scan;
	int64_t cid; /* the collection, resolved once for get and find */
	uint32_t uid, gid;
	int32_t pid;
	struct copy id, body;
};

struct bench {
	bool quick;
	uint64_t size;	 /* objects loaded */
	uint64_t groups; /* distinct values of user and of n */
	uint64_t next;	 /* number of the next new object */
	char *dir;
	ags_store *ags;
	struct raw raw;
	sqlite3 *ckpt[2];   /* checkpointers of each side's file */
	long rows[2];	    /* rows returned by finds, per side */
	struct item *items; /* one chunk's operations */
	size_t items_alloc;
};

/* ---- data -------------------------------------------------------------- */

static const char lorem[] =
	"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
	"tempor incididunt ut labore et dolore magna aliqua ut enim ad minim "
	"veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
	"commodo consequat duis aute irure dolor in reprehenderit in voluptate "
	"velit esse cillum dolore eu fugiat nulla pariatur excepteur sint "
	"occaecat cupidatat non proident sunt in culpa qui officia deserunt "
	"mollit anim id est laborum";

/* Object number -> its user value and n value, each shared by MATCHES
 * objects among the first size (n spread by a multiplier prime to it). */
static uint64_t user_of(const struct bench *b, uint64_t i)
{
	return i % b->groups;
}

static uint64_t n_of(const struct bench *b, uint64_t i)
{
	return (i * UINT64_C(2654435761)) % b->groups;
}

static void make_id(char *out, size_t cap, uint64_t i)
{
	snprintf(out, cap, "obj%09" PRIu64, i);
}

/* A body of about BODY_SIZE bytes, the same for the same object number:
 * {"user":"u12","n":345,"role":"user","tags":["t1","t4"],"text":"..."} */
static size_t make_body(const struct bench *b, char *out, uint64_t i)
{
	uint64_t h = i;
	uint64_t r = bench_rand(&h);
	size_t off = (size_t)(r % (sizeof(lorem) - 1 - BODY_SIZE));
	int n;

	n = snprintf(out, BODY_MAX,
		     "{\"user\":\"u%" PRIu64 "\",\"n\":%" PRIu64
		     ",\"role\":\"%s\",\"tags\":[\"t%u\",\"t%u\"],\"text\":\"",
		     user_of(b, i), n_of(b, i), r % 10 ? "user" : "admin",
		     (unsigned)(r >> 8) % 16, (unsigned)(r >> 16) % 16);
	if (n < 0 || n >= BODY_SIZE - 3)
		bench_die("body prefix too long");
	memcpy(out + n, lorem + off, (size_t)(BODY_SIZE - 2 - n));
	memcpy(out + BODY_SIZE - 2, "\"}", 3);
	return BODY_SIZE;
}

/* ---- the baseline ------------------------------------------------------- */

static void raw_check(struct raw *w, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		bench_die("raw sqlite: %s: %s", what, sqlite3_errmsg(w->db));
}

static sqlite3_stmt *raw_prepare(struct raw *w, const char *sql)
{
	sqlite3_stmt *st = NULL;

	raw_check(w,
		  sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				     &st, NULL),
		  sql);
	return st;
}

static void raw_done(struct raw *w, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		bench_die("raw sqlite: %s: %s", what, sqlite3_errmsg(w->db));
}

static void copy_set(struct copy *c, const void *p, size_t n)
{
	if (n + 1 > c->alloc) {
		c->alloc = (n + 1) * 2;
		c->buf = realloc(c->buf, c->alloc);
		if (!c->buf)
			bench_die("out of memory");
	}
	memcpy(c->buf, p, n);
	c->buf[n] = '\0';
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define OBJ_COLUMNS                                                            \
	"oid, version, size, ctime, vtime, mtime, mode, uid, gid, id, body"

/* Open the database ags_store_open() created, with the same settings the
 * library gives its connections. */
static void raw_open(struct raw *w, const char *path)
{
	sqlite3_stmt *st;
	char sql[512];

	if (sqlite3_open_v2(path, &w->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		bench_die("raw sqlite: cannot open %s", path);
	sqlite3_busy_timeout(w->db, 5000);
	raw_check(w,
		  sqlite3_exec(w->db,
			       "PRAGMA journal_mode = WAL;"
			       "PRAGMA foreign_keys = ON;"
			       "PRAGMA synchronous = NORMAL;",
			       NULL, NULL, NULL),
		  "settings");
	w->uid = getuid();
	w->gid = getgid();
	w->pid = getpid();

	w->begin = raw_prepare(w, "BEGIN IMMEDIATE");
	w->commit = raw_prepare(w, "COMMIT");
	w->coll_by_name =
		raw_prepare(w, "SELECT cid FROM collections WHERE name = ?1");
	w->obj_by_name = raw_prepare(w, "SELECT oid, version FROM objects"
					" WHERE cid = ?1 AND id = ?2");
	w->obj_insert = raw_prepare(
		w, "INSERT INTO objects(cid, id, body, size, version, ctime,"
		   " vtime, mtime, mode, uid, gid)"
		   " VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?5, 420, ?6, ?7)");
	w->coll_count = raw_prepare(w, "UPDATE collections SET count = count"
				       " + 1, mtime = ?2 WHERE cid = ?1");
	w->audit_insert = raw_prepare(
		w, "INSERT INTO audit(time, op, collection, id, new_version,"
		   " size, uid, gid, pid, comm, origin, oid)"
		   " VALUES (?1, 'create', ?2, ?3, 1, ?4, ?5, ?6, ?7,"
		   " 'bench-store', 'api', ?8)");

	st = w->coll_by_name;
	sqlite3_bind_text(st, 1, COLLECTION, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		bench_die("raw sqlite: no collection " COLLECTION);
	w->cid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	w->get = raw_prepare(w, "SELECT " OBJ_COLUMNS " FROM objects"
				" WHERE cid = ?1 AND id = ?2");
	/* The index made by ags_index_create() is partial (WHERE cid = N) on
	 * the expression json_extract(body, '$.user'): SQLite uses it only
	 * for a query whose text has the same literal cid and path, so they
	 * are written in here, once, as a program would. */
	snprintf(sql, sizeof(sql),
		 "SELECT " OBJ_COLUMNS " FROM objects WHERE cid = %" PRId64
		 " AND json_extract(body, '$." INDEXED_FIELD "') = ?1"
		 " ORDER BY id",
		 w->cid);
	w->find_indexed = raw_prepare(w, sql);
	w->find_scan = raw_prepare(w, "SELECT " OBJ_COLUMNS " FROM objects"
				      " WHERE cid = ?1 AND json_extract(body,"
				      " '$." SCAN_FIELD "') = ?2 ORDER BY id");
}

static void raw_close(struct raw *w)
{
	sqlite3_stmt *all[] = { w->begin,	 w->commit,	w->coll_by_name,
				w->obj_by_name,	 w->obj_insert, w->coll_count,
				w->audit_insert, w->get,	w->find_indexed,
				w->find_scan };

	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(w->db);
	free(w->id.buf);
	free(w->body.buf);
	memset(w, 0, sizeof(*w));
}

/* The write of one put inside an open transaction: the least a program
 * needs to do for the same logical change as ags_object_put() creating an
 * object. It resolves the collection by name and looks the object up (the
 * library must, to choose create or update and to count), inserts the
 * object row, counts it in its collection, and writes the audit row; the
 * CHECK (json_valid(body)) of the schema runs here as in the library. What
 * it leaves out is the library's own work: name and strict JSON checks in
 * C, the update/history path (never taken: every put creates), the
 * savepoint around each change of a batch, and error messages. */
static void raw_put_locked(struct raw *w, const struct item *it)
{
	int64_t now = realtime_ns(), cid, oid;
	sqlite3_stmt *st;
	int rc;

	st = w->coll_by_name;
	sqlite3_bind_text(st, 1, COLLECTION, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		bench_die("raw sqlite: no collection");
	cid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	st = w->obj_by_name;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, it->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		bench_die("raw sqlite: %s exists or lookup failed", it->id);

	st = w->obj_insert;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, it->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->body, (int)it->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)it->len);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, w->uid);
	sqlite3_bind_int64(st, 7, w->gid);
	raw_done(w, st, "insert the object");
	oid = sqlite3_last_insert_rowid(w->db);

	st = w->coll_count;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, now);
	raw_done(w, st, "count the object");

	st = w->audit_insert;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, COLLECTION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)it->len);
	sqlite3_bind_int64(st, 5, w->uid);
	sqlite3_bind_int64(st, 6, w->gid);
	sqlite3_bind_int64(st, 7, w->pid);
	sqlite3_bind_int64(st, 8, oid);
	raw_done(w, st, "write the audit row");
}

/* Read a result row as a caller keeping it would: every column, the id and
 * body copied out (the library copies them into its result buffers). */
static void raw_read_row(struct raw *w, sqlite3_stmt *st)
{
	for (int c = 0; c < 9; c++)
		(void)sqlite3_column_int64(st, c);
	copy_set(&w->id, sqlite3_column_text(st, 9),
		 (size_t)sqlite3_column_bytes(st, 9));
	copy_set(&w->body, sqlite3_column_text(st, 10),
		 (size_t)sqlite3_column_bytes(st, 10));
}

/* Get: one SELECT by (cid, id), the collection's cid resolved once when the
 * connection opened (the library resolves the name on every call). */
static void raw_get(struct raw *w, const struct item *it)
{
	sqlite3_stmt *st = w->get;

	sqlite3_bind_int64(st, 1, w->cid);
	sqlite3_bind_text(st, 2, it->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		bench_die("raw sqlite: no object %s", it->id);
	raw_read_row(w, st);
	sqlite3_reset(st);
}

/* Find: the prepared SELECT ... WHERE cid = ? AND json_extract(body, path)
 * = ? ORDER BY id, all rows read. Unlike the library it does not test the
 * JSON type of the match (json_type() IN ...), which the library needs to
 * keep "12" and 12 apart. */
static long raw_find(struct raw *w, sqlite3_stmt *st, const struct item *it,
		     bool indexed)
{
	long rows = 0;
	int rc;

	if (indexed) {
		sqlite3_bind_text(st, 1, it->text, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 1, w->cid);
		sqlite3_bind_int64(st, 2, (int64_t)it->i);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		raw_read_row(w, st);
		rows++;
	}
	raw_check(w, rc, "find");
	sqlite3_reset(st);
	return rows;
}

/* ---- agentstate --------------------------------------------------------- */

static void ags_check(struct bench *b, int r, const char *what)
{
	if (r < 0)
		bench_die("agentstate: %s: %s", what, ags_errmsg(b->ags));
}

static int count_row(void *ctx, const struct ags_object *obj)
{
	long *rows = ctx;

	*rows += obj->body_len > 0;
	return 0;
}

/* ---- one operation on one side ----------------------------------------- */

static void prepare_item(struct bench *b, enum op op, uint64_t arg,
			 struct item *it)
{
	it->i = arg;
	switch (op) {
	case OP_PUT:
	case OP_BATCH:
		make_id(it->id, sizeof(it->id), arg);
		it->len = make_body(b, it->body, arg);
		break;
	case OP_GET:
		make_id(it->id, sizeof(it->id), arg);
		break;
	case OP_FIND_INDEXED:
		snprintf(it->text, sizeof(it->text), "u%" PRIu64, arg);
		it->len = (size_t)snprintf(it->json, sizeof(it->json),
					   "\"u%" PRIu64 "\"", arg);
		break;
	case OP_FIND_SCAN:
		it->len = (size_t)snprintf(it->json, sizeof(it->json),
					   "%" PRIu64, arg);
		break;
	}
}

static void run_item(struct bench *b, enum side side, enum op op,
		     const struct item *it)
{
	struct raw *w = &b->raw;
	struct ags_object obj;

	switch (op) {
	case OP_PUT:
		if (side == AGS) {
			ags_check(b,
				  ags_object_put(b->ags, NULL, COLLECTION,
						 it->id, it->body, it->len,
						 AGS_VERSION_ANY),
				  "put");
		} else {
			raw_done(w, w->begin, "begin");
			raw_put_locked(w, it);
			raw_done(w, w->commit, "commit");
		}
		break;
	case OP_BATCH:
		if (side == AGS)
			ags_check(b,
				  ags_object_put(b->ags, NULL, COLLECTION,
						 it->id, it->body, it->len,
						 AGS_VERSION_ANY),
				  "put in a batch");
		else
			raw_put_locked(w, it);
		break;
	case OP_GET:
		if (side == AGS)
			ags_check(b,
				  ags_object_get(b->ags, COLLECTION, it->id, 0,
						 true, &obj),
				  "get");
		else
			raw_get(w, it);
		break;
	case OP_FIND_INDEXED:
	case OP_FIND_SCAN:
		if (side == AGS)
			ags_check(b,
				  ags_query_find(b->ags, COLLECTION,
						 op == OP_FIND_INDEXED
							 ? INDEXED_FIELD
							 : SCAN_FIELD,
						 it->json, it->len, NULL, 0,
						 count_row, &b->rows[AGS]),
				  "find");
		else
			b->rows[RAW] +=
				raw_find(w,
					 op == OP_FIND_INDEXED ? w->find_indexed
							       : w->find_scan,
					 it, op == OP_FIND_INDEXED);
		break;
	}
}

static void batch_begin(struct bench *b, enum side side)
{
	if (side == AGS)
		ags_check(b, ags_store_begin(b->ags), "begin a batch");
	else
		raw_done(&b->raw, b->raw.begin, "begin");
}

static void batch_commit(struct bench *b, enum side side)
{
	if (side == AGS)
		ags_check(b, ags_store_commit(b->ags), "commit a batch");
	else
		raw_done(&b->raw, b->raw.commit, "commit");
}

/* Write the WAL back into the database. SQLite does it when a commit finds
 * the WAL past 1000 pages: a checkpoint costs as much as hundreds of puts,
 * and which side's chunk it fell in would decide a short measurement. So
 * each chunk of writes ends with one, timed, on each side: each pays for
 * writing back its own pages, and the automatic ones stay rare. */
static void checkpoint(struct bench *b, enum side side)
{
	int rc = sqlite3_wal_checkpoint_v2(
		b->ckpt[side], NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	if (rc != SQLITE_OK)
		bench_die("checkpoint: %s", sqlite3_errmsg(b->ckpt[side]));
}

/* Run @op over @args on both sides in chunks of @chunk, alternating sides
 * (and which goes first) chunk by chunk; the items of a chunk are made
 * before its clock starts. With OP_BATCH each chunk is one transaction.
 * out[side] receives the total µs of that side. */
static void measure(struct bench *b, enum op op, const uint64_t *args,
		    size_t nargs, size_t chunk, double out[2])
{
	out[AGS] = out[RAW] = 0;
	if (chunk > b->items_alloc) {
		free(b->items);
		b->items = calloc(chunk, sizeof(*b->items));
		if (!b->items)
			bench_die("out of memory");
		b->items_alloc = chunk;
	}
	for (size_t start = 0, round = 0; start < nargs;
	     start += chunk, round++) {
		size_t m = nargs - start < chunk ? nargs - start : chunk;

		for (size_t k = 0; k < m; k++)
			prepare_item(b, op, args[start + k], &b->items[k]);
		for (int s = 0; s < 2; s++) {
			enum side side = (enum side)((round + (size_t)s) % 2);
			double t0 = bench_now_us();

			if (op == OP_BATCH)
				batch_begin(b, side);
			for (size_t k = 0; k < m; k++)
				run_item(b, side, op, &b->items[k]);
			if (op == OP_BATCH)
				batch_commit(b, side);
			if (op == OP_PUT || op == OP_BATCH)
				checkpoint(b, side);
			out[side] += bench_now_us() - t0;
		}
	}
}

/* ---- the runs ------------------------------------------------------------ */

static uint64_t *new_args(size_t n)
{
	uint64_t *a = calloc(n ? n : 1, sizeof(*a));

	if (!a)
		bench_die("out of memory");
	return a;
}

/* @n numbers of new objects, taken from b->next on. */
static uint64_t *fresh_objects(struct bench *b, size_t n)
{
	uint64_t *a = new_args(n);

	for (size_t k = 0; k < n; k++)
		a[k] = b->next++;
	return a;
}

/* @n distinct values among the b->groups of a field (n <= groups). */
static uint64_t *distinct_values(struct bench *b, size_t n, uint64_t seed)
{
	uint64_t *a = new_args(n);
	uint64_t start = bench_rand(&seed) % b->groups;

	/* 7919 is prime: stepping by it visits every value before any twice,
	 * unless groups is a multiple of it */
	for (size_t k = 0; k < n; k++)
		a[k] = (start + k * 7919) % b->groups;
	return a;
}

static void report(const char *size, const char *op, const double t[2],
		   double ops, const char *target, int met)
{
	struct bench_row row = { .size = size,
				 .op = op,
				 .us = t[AGS] / ops,
				 .base_us = t[RAW] / ops,
				 .target = target,
				 .met = met };

	bench_table_row(stdout, &row);
}

static void check_rows(struct bench *b, const char *what)
{
	if (b->rows[AGS] != b->rows[RAW])
		bench_die("%s: agentstate found %ld rows, raw sqlite %ld", what,
			  b->rows[AGS], b->rows[RAW]);
	b->rows[AGS] = b->rows[RAW] = 0;
}

/* Create both stores: the library's, and the baseline's through the
 * library too so the schema is its own, then reopened raw. */
static void setup(struct bench *b)
{
	char *path, *msg = NULL;
	ags_store *s;

	b->dir = bench_scratch_dir("bench-store");
	for (int side = AGS; side <= RAW; side++) {
		if (asprintf(&path, "%s/%s.db", b->dir,
			     side == AGS ? "agentstate" : "raw") < 0)
			bench_die("out of memory");
		if (ags_store_open(&s, path, NULL, &msg) < 0)
			bench_die("cannot open %s: %s", path, msg);
		if (ags_collection_create(s, COLLECTION) < 0 ||
		    ags_index_create(s, COLLECTION, INDEXED_FIELD) < 0)
			bench_die("cannot set up %s: %s", path, ags_errmsg(s));
		if (side == AGS) {
			b->ags = s;
		} else {
			ags_store_close(s);
			raw_open(&b->raw, path);
		}
		if (sqlite3_open_v2(path, &b->ckpt[side], SQLITE_OPEN_READWRITE,
				    NULL) != SQLITE_OK ||
		    sqlite3_exec(b->ckpt[side], "PRAGMA synchronous = NORMAL",
				 NULL, NULL, NULL) != SQLITE_OK)
			bench_die("cannot open %s to checkpoint it", path);
		sqlite3_busy_timeout(b->ckpt[side], 5000);
		free(path);
	}
}

static void teardown(struct bench *b)
{
	ags_store_close(b->ags);
	b->ags = NULL;
	for (int side = AGS; side <= RAW; side++) {
		sqlite3_close(b->ckpt[side]);
		b->ckpt[side] = NULL;
	}
	raw_close(&b->raw);
	bench_remove_dir(b->dir);
	free(b->dir);
	b->dir = NULL;
}

/* Fail if the library's indexed find does not use the field's index (with
 * query_explain_find(), hence the internal library): its line of the table
 * would then time a scan. */
static void check_plan(struct bench *b)
{
	struct sbuf plan = SBUF_INIT;

	if (query_explain_find(b->ags, COLLECTION, INDEXED_FIELD, "\"u1\"", 4,
			       &plan) < 0)
		bench_die("explain: %s", ags_errmsg(b->ags));
	if (!strstr(plan.buf, "ags_field_"))
		bench_die("the indexed find does not use its index:\n%s",
			  plan.buf);
	sbuf_release(&plan);
}

static void bench_size(struct bench *b, uint64_t size)
{
	size_t nget = b->quick ? 10000 : 100000;
	size_t nfind = b->quick ? 100 : 1000;
	size_t nscan = size >= 1000000 ? 3 : size >= 100000 ? 5 : 20;
	size_t nput = b->quick ? 200 : 2000;
	size_t nbatch = b->quick ? 2 : 20;
	char label[32];
	uint64_t *args, seed = size;
	double t[2];
	int met;

	if (b->quick)
		nscan = nscan > 2 ? 2 : nscan;
	b->size = size;
	b->groups = size / MATCHES ? size / MATCHES : 1;
	b->next = 0;
	snprintf(label, sizeof(label), "%" PRIu64, size);
	setup(b);

	/* load both stores in batches, alternating */
	fprintf(stderr, "bench: loading %" PRIu64 " objects into %s\n", size,
		b->dir);
	args = fresh_objects(b, size);
	measure(b, OP_BATCH, args, size, BATCH, t);
	free(args);
	report(label, "load (batches)", t, (double)size, "-", -1);
	check_plan(b);

	/* get: random existing objects */
	args = new_args(nget);
	for (size_t k = 0; k < nget; k++)
		args[k] = bench_rand(&seed) % size;
	measure(b, OP_GET, args, nget / 10, nget / 10, t); /* warm-up */
	measure(b, OP_GET, args, nget, 10000, t);
	free(args);
	met = t[RAW] / t[AGS] >= 0.8;
	report(label, "get", t, (double)nget, ">=0.80x rate", met);

	/* find on the indexed field: distinct values, MATCHES rows each */
	if (nfind > b->groups)
		nfind = b->groups;
	args = distinct_values(b, nfind, seed++);
	measure(b, OP_FIND_INDEXED, args, nfind / 10 + 1, 100, t);
	measure(b, OP_FIND_INDEXED, args, nfind, 100, t);
	free(args);
	check_rows(b, "indexed find");
	met = t[AGS] / (double)nfind < 1000;
	report(label, "find indexed", t, (double)nfind, "<1 ms", met);

	/* find on a field without an index: a scan of the collection */
	args = distinct_values(b, nscan + 1, seed++);
	measure(b, OP_FIND_SCAN, args + nscan, 1, 1, t); /* warm-up */
	measure(b, OP_FIND_SCAN, args, nscan, 1, t);
	free(args);
	check_rows(b, "unindexed find");
	met = t[AGS] <= 1.2 * t[RAW];
	report(label, "find unindexed", t, (double)nscan, "<=1.2x raw time",
	       met);

	/* put, one transaction each: new objects */
	args = fresh_objects(b, nput / 10);
	measure(b, OP_PUT, args, nput / 10, 100, t); /* warm-up */
	free(args);
	args = fresh_objects(b, nput);
	measure(b, OP_PUT, args, nput, 100, t);
	free(args);
	met = t[RAW] / t[AGS] >= 0.8;
	report(label, "put (1 txn each)", t, (double)nput, ">=0.80x rate", met);

	/* put, BATCH to a transaction */
	args = fresh_objects(b, BATCH);
	measure(b, OP_BATCH, args, BATCH, BATCH, t); /* warm-up */
	free(args);
	args = fresh_objects(b, nbatch * BATCH);
	measure(b, OP_BATCH, args, nbatch * BATCH, BATCH, t);
	free(args);
	met = t[RAW] / t[AGS] >= 0.8;
	report(label, "put (batch of 1000)", t, (double)(nbatch * BATCH),
	       ">=0.80x rate", met);

	teardown(b);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-store [--quick] [SIZE...]\n"
		   "Time agentstate's put, batched put, get and find beside "
		   "raw SQLite at each\nSIZE objects (default: 10000 "
		   "1000000). Store files go in $BENCH_DIR (else\n$TMPDIR, "
		   "else /var/tmp); set BENCH_KEEP=1 to keep them.\n");
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	uint64_t sizes[16];
	size_t nsizes = 0;

	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long long v;

		if (!strcmp(argv[i], "--quick")) {
			b.quick = true;
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		errno = 0;
		v = strtoull(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || v < MATCHES ||
		    nsizes == sizeof(sizes) / sizeof(*sizes)) {
			fprintf(stderr,
				"bench-store: bad argument '%s' (a size is a "
				"number of objects, at least %d)\n",
				argv[i], MATCHES);
			usage(stderr);
			return 2;
		}
		sizes[nsizes++] = v;
	}
	if (!nsizes) {
		sizes[nsizes++] = 10000;
		sizes[nsizes++] = 1000000;
	}

	printf("store benchmark: bodies of %d B, WAL, synchronous=NORMAL, "
	       "SQLite %s%s\n",
	       BODY_SIZE, sqlite3_libversion(), b.quick ? ", --quick" : "");
	printf("ratio = agentstate's rate / raw SQLite's rate (raw µs / "
	       "agentstate µs); higher is better\n");
	bench_table_header(stdout, "raw µs/op");
	for (size_t i = 0; i < nsizes; i++)
		bench_size(&b, sizes[i]);
	free(b.items);
	return 0;
}
