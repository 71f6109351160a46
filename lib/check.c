/* check.c: ags_store_check(), SQLite's own integrity check followed by the
 * invariants the store keeps on top of it (design.md "Store"): versions
 * agree with the audit, bodies are valid JSON of the stated size, names are
 * valid, the audit has no gaps, and collection counts are right. Each
 * problem is one line; a healthy store has none. */
#include <errno.h>
#include <string.h>

#include "json-int.h"
#include "names-int.h"
#include "store-int.h"

/* Report at most this many missing seq ranges: a damaged audit could have
 * millions, and the first few say enough. */
#define GAPS_SHOWN 20

struct checker {
	ags_store *s;
	ags_report_cb cb;
	void *ctx;
	int problems;
	struct sbuf line;
};

static void problem(struct checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (!c->cb)
		return;
	sbuf_reset(&c->line);
	va_start(ap, fmt);
	sbuf_vaddf(&c->line, fmt, ap);
	va_end(ap);
	c->cb(c->ctx, c->line.buf);
}

static const char *text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "(null)";
}

/* Step @st to the end, calling @row for each row. */
static int each_row(struct checker *c, sqlite3_stmt *st,
		    void (*row)(struct checker *, sqlite3_stmt *))
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(c, st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_fail(c->s, rc, "check");
}

static int run(struct checker *c, enum sql_id id,
	       void (*row)(struct checker *, sqlite3_stmt *))
{
	sqlite3_stmt *st;
	int r = store_stmt(c->s, id, &st);

	return r < 0 ? r : each_row(c, st, row);
}

static void integrity_row(struct checker *c, sqlite3_stmt *st)
{
	if (strcmp(text(st, 0), "ok"))
		problem(c, "database: %s", text(st, 0));
}

static void foreign_row(struct checker *c, sqlite3_stmt *st)
{
	problem(c,
		"database: row %lld of table %s refers to a missing row "
		"of %s",
		(long long)sqlite3_column_int64(st, 1), text(st, 0),
		text(st, 2));
}

static void collection_row(struct checker *c, sqlite3_stmt *st)
{
	if (name_check_collection(text(st, 0)) < 0)
		problem(c, "collection '%s': invalid name (%s)", text(st, 0),
			name_collection_rule);
}

/* Columns of SQL_CHECK_OBJECTS: oid, collection, id, size, json_valid,
 * body. */
static void object_row(struct checker *c, sqlite3_stmt *st)
{
	const char *col = text(st, 1), *id = text(st, 2);
	const char *body = (const char *)sqlite3_column_text(st, 5);
	size_t len = (size_t)sqlite3_column_bytes(st, 5);
	int64_t size = sqlite3_column_int64(st, 3);
	struct json_error e;

	if (sqlite3_column_type(st, 1) == SQLITE_NULL)
		problem(c, "object number %lld (%s): its collection is missing",
			(long long)sqlite3_column_int64(st, 0) +
				AGS_OBJECT_BASE,
			id);
	if (name_check_id(id, strlen(id)) < 0)
		problem(c, "%s/%s: invalid id (%s)", col, id, name_id_rule);
	if (!sqlite3_column_int(st, 4))
		problem(c, "%s/%s: the body fails SQLite's json_valid()", col,
			id);
	if (body && json_check(body, len, &e) < 0)
		problem(c, "%s/%s: invalid JSON at line %u, column %u: %s", col,
			id, e.line, e.column, e.reason);
	if (size < 0 || (size_t)size != len)
		problem(c,
			"%s/%s: its size is recorded as %lld but the body "
			"has %zu bytes",
			col, id, (long long)size, len);
}

static void version_row(struct checker *c, sqlite3_stmt *st)
{
	if (sqlite3_column_type(st, 3) == SQLITE_NULL)
		problem(c, "%s/%s: at version %lld but no audit row made it",
			text(st, 0), text(st, 1),
			(long long)sqlite3_column_int64(st, 2));
	else
		problem(c,
			"%s/%s: at version %lld but its last audit row "
			"says %lld",
			text(st, 0), text(st, 1),
			(long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 3));
}

static void count_row(struct checker *c, sqlite3_stmt *st)
{
	problem(c,
		"collection %s: its count says %lld objects but it holds "
		"%lld",
		text(st, 0), (long long)sqlite3_column_int64(st, 1),
		(long long)sqlite3_column_int64(st, 2));
}

static void history_row(struct checker *c, sqlite3_stmt *st)
{
	problem(c,
		"history of object number %lld, version %lld: the body "
		"is not valid JSON or its size is wrong",
		(long long)sqlite3_column_int64(st, 0) + AGS_OBJECT_BASE,
		(long long)sqlite3_column_int64(st, 1));
}

static void gap_row(struct checker *c, sqlite3_stmt *st)
{
	int64_t from = sqlite3_column_int64(st, 0);
	int64_t to = sqlite3_column_int64(st, 1);

	if (from == to)
		problem(c, "audit: seq %lld is missing", (long long)from);
	else
		problem(c, "audit: seq %lld to %lld are missing",
			(long long)from, (long long)to);
}

/* seq must run 1..max: AUTOINCREMENT never reuses a number, and a rolled
 * back change takes its number back with it, so any hole is a lost row.
 * The highest number it gave out is the last row's: rows lost at the end
 * leave no hole, but that number past the last. */
static int check_seq(struct checker *c)
{
	int64_t count, min, max, given;
	sqlite3_stmt *st;
	int r = store_stmt(c->s, SQL_CHECK_SEQ, &st);

	if (r < 0)
		return r;
	r = sqlite3_step(st);
	count = sqlite3_column_int64(st, 0);
	min = sqlite3_column_int64(st, 1);
	max = sqlite3_column_int64(st, 2);
	given = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return store_sql_fail(c->s, r, "check the audit");
	if (given > max)
		problem(c,
			"audit: seq %lld to %lld are missing (the newest rows)",
			(long long)max + 1, (long long)given);
	if (count == max)
		return 0;
	if (min > 1)
		problem(c, "audit: seq 1 to %lld are missing",
			(long long)min - 1);
	r = store_stmt(c->s, SQL_CHECK_SEQ_GAPS, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, max);
	sqlite3_bind_int(st, 2, GAPS_SHOWN);
	return each_row(c, st, gap_row);
}

static int check_all(struct checker *c)
{
	int r = run(c, SQL_CHECK_INTEGRITY, integrity_row);

	/* With a damaged file the rest would only repeat it, or fail. */
	if (r < 0 || c->problems)
		return r;
	r = run(c, SQL_CHECK_FOREIGN_KEYS, foreign_row);
	if (r == 0)
		r = run(c, SQL_CHECK_COLLECTIONS, collection_row);
	if (r == 0)
		r = run(c, SQL_CHECK_OBJECTS, object_row);
	if (r == 0)
		r = run(c, SQL_CHECK_VERSIONS, version_row);
	if (r == 0)
		r = check_seq(c);
	if (r == 0)
		r = run(c, SQL_CHECK_HISTORY, history_row);
	if (r == 0)
		r = run(c, SQL_CHECK_COUNTS, count_row);
	return r;
}

int ags_store_check(ags_store *s, ags_report_cb cb, void *ctx)
{
	struct checker c = { .s = s, .cb = cb, .ctx = ctx, .line = SBUF_INIT };
	int r;

	if (s->batch)
		return store_fail(s, -EINVAL,
				  "cannot check: a batch is open on this "
				  "handle; commit or roll it back first");
	/* One read transaction: the invariants hold between commits, not
	 * necessarily across two of them. */
	r = store_exec(s, SQL_BEGIN_READ, "begin reading the store");
	if (r == 0) {
		r = check_all(&c);
		if (!sqlite3_get_autocommit(s->db))
			store_exec(s, SQL_ROLLBACK, "end reading the store");
	}
	sbuf_release(&c.line);
	return r < 0 ? r : c.problems;
}
