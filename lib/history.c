/* history.c: earlier versions of objects. The current body lives in the
 * objects table; each change first copies the body it replaces here, and
 * the audit rows of the object tell who made each version and when. */
#include <errno.h>
#include <stdlib.h>

#include "names-int.h"
#include "store-int.h"

int history_save(ags_store *s, int64_t oid, int64_t new_version)
{
	sqlite3_stmt *st;
	int64_t keep;
	int r = store_stmt(s, SQL_HIST_SAVE, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, oid);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_sql_fail(s, r, "keep the earlier version");
	r = ags_store_get_retention(s, &keep);
	if (r < 0 || keep == 0)
		return r;
	/* Earlier versions are 1 .. new_version - 1; keep the newest @keep. */
	r = store_stmt(s, SQL_HIST_PRUNE, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, oid);
	sqlite3_bind_int64(st, 2, new_version - 1 - keep);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : store_sql_fail(s, r, "prune history");
}

/* The kept versions of one object, ascending, read before the audit rows
 * are walked (one statement at a time on the connection). */
struct kept {
	int64_t *v;
	size_t n, alloc;
};

static int kept_load(ags_store *s, int64_t oid, struct kept *k)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_HIST_HAS, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, oid);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (k->n == k->alloc) {
			size_t cap = k->alloc ? k->alloc * 2 : 16;
			int64_t *v = realloc(k->v, cap * sizeof(*v));
			if (!v) {
				sqlite3_reset(st);
				return store_fail(s, -ENOMEM, "out of memory");
			}
			k->v = v;
			k->alloc = cap;
		}
		k->v[k->n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : store_sql_fail(s, r, "read history");
}

static bool kept_has(const struct kept *k, int64_t version)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (k->v[mid] == version)
			return true;
		if (k->v[mid] < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int ags_history_list(ags_store *s, const char *collection, const char *id,
		     ags_version_cb cb, void *ctx)
{
	struct ags_object cur;
	struct kept kept = { 0 };
	struct ags_audit_row row;
	struct ags_version_info v;
	sqlite3_stmt *st;
	int rc, stop = 0;
	int64_t oid, current;
	int r;

	r = ags_object_get(s, collection, id, 0, false, &cur);
	if (r < 0)
		return r;
	oid = cur.number - AGS_OBJECT_BASE;
	current = cur.version;
	r = kept_load(s, oid, &kept);
	if (r == 0)
		r = store_stmt(s, SQL_AUDIT_BY_OID, &st);
	if (r < 0) {
		free(kept.v);
		return r;
	}
	sqlite3_bind_int64(st, 1, oid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		audit_row_read(st, &row);
		/* setattr rows keep the version: they are not versions */
		if (row.new_version == row.old_version)
			continue;
		v.version = row.new_version;
		v.kept = v.version == current || kept_has(&kept, v.version);
		v.row = &row;
		stop = cb(ctx, &v);
		if (stop)
			break;
	}
	sqlite3_reset(st);
	free(kept.v);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : store_sql_fail(s, rc, "read history");
}
