/* collection.c: creating, dropping, renaming, listing collections and their
 * attributes. A collection is a row with a stable number; its objects refer
 * to that number, so a rename touches one row. */
#include <errno.h>
#include <string.h>

#include "names-int.h"
#include "store-int.h"

#define DIR_MODE_DEFAULT 0755

static int check_name(ags_store *s, const char *what, const char *name)
{
	if (name_check_collection(name) < 0)
		return store_fail(s, -EINVAL, "cannot %s '%s': %s", what, name,
				  name_collection_rule);
	return 0;
}

int collection_find(ags_store *s, const char *name, struct collection_row *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_COLL_BY_NAME, &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->cid = sqlite3_column_int64(st, COLL_COL_CID);
		out->count = sqlite3_column_int64(st, COLL_COL_COUNT);
		r = 0;
	} else if (r == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_sql_fail(s, r, "look up a collection");
	}
	sqlite3_reset(st);
	return r;
}

static void read_row(ags_store *s, sqlite3_stmt *st, struct ags_collection *c)
{
	sbuf_reset(&s->res_collection);
	sbuf_adds(&s->res_collection,
		  (const char *)sqlite3_column_text(st, COLL_COL_NAME));
	c->name = s->res_collection.buf;
	c->number =
		sqlite3_column_int64(st, COLL_COL_CID) + AGS_COLLECTION_BASE;
	c->count = sqlite3_column_int64(st, COLL_COL_COUNT);
	c->ctime_ns = sqlite3_column_int64(st, COLL_COL_CTIME);
	c->attr.mtime_ns = sqlite3_column_int64(st, COLL_COL_MTIME);
	c->attr.mode = (uint32_t)sqlite3_column_int64(st, COLL_COL_MODE);
	c->attr.uid = (uint32_t)sqlite3_column_int64(st, COLL_COL_UID);
	c->attr.gid = (uint32_t)sqlite3_column_int64(st, COLL_COL_GID);
}

static int audit_collection(ags_store *s, const char *op, const char *name,
			    const char *from)
{
	struct audit_entry e = {
		.op = op,
		.collection = name,
		.size = -1,
		.from_collection = from,
		.time_ns = store_now_ns(),
	};

	return audit_write(s, &e);
}

int ags_collection_create(ags_store *s, const char *name)
{
	struct collection_row row;
	sqlite3_stmt *st;
	int r;
	const char *what = store_what(s, "create a collection",
				      "create collection '%s'", name);

	r = check_name(s, "create collection", name);
	if (r < 0)
		return r;
	r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = collection_find(s, name, &row);
	if (r == 0)
		r = store_fail(s, -EEXIST,
			       "cannot create collection '%s': it exists",
			       name);
	else if (r == -ENOENT)
		r = store_stmt(s, SQL_COLL_INSERT, &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, store_now_ns());
		sqlite3_bind_int(st, 3, DIR_MODE_DEFAULT);
		sqlite3_bind_int64(st, 4, s->uid);
		sqlite3_bind_int64(st, 5, s->gid);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		r = r == SQLITE_DONE ? 0 : store_sql_fail(s, r, what);
	}
	if (r == 0)
		r = audit_collection(s, "mkcol", name, NULL);
	return store_txn_end(s, r, what);
}

static int drop_indexes(ags_store *s, int64_t cid)
{
	struct sbuf ddl = SBUF_INIT;
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_INDEX_OF_COLL, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cid);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		sql_drop_index_ddl(&ddl,
				   (const char *)sqlite3_column_text(st, 0));
		sbuf_addch(&ddl, ';');
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		sbuf_release(&ddl);
		return store_sql_fail(s, r, "drop the collection's indexes");
	}
	r = sqlite3_exec(s->db, ddl.buf, NULL, NULL, NULL);
	sbuf_release(&ddl);
	if (r != SQLITE_OK)
		return store_sql_fail(s, r, "drop the collection's indexes");
	r = store_stmt(s, SQL_INDEX_DELETE_COLL, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cid);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : store_sql_fail(s, r, "drop indexes");
}

/* Remove every object of the collection, one audited removal each. */
static int empty_collection(ags_store *s, const char *name, int64_t cid)
{
	struct sbuf id = SBUF_INIT;
	sqlite3_stmt *st;
	int r;

	for (;;) {
		r = store_stmt(s, SQL_OBJ_FIRST_ID, &st);
		if (r < 0)
			break;
		sqlite3_bind_int64(st, 1, cid);
		r = sqlite3_step(st);
		if (r == SQLITE_DONE) {
			sqlite3_reset(st);
			r = 0;
			break;
		}
		if (r != SQLITE_ROW) {
			sqlite3_reset(st);
			r = store_sql_fail(s, r, "empty the collection");
			break;
		}
		sbuf_reset(&id);
		sbuf_adds(&id, (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		r = object_remove_locked(s, name, cid, id.buf, AGS_VERSION_ANY);
		if (r < 0)
			break;
	}
	sbuf_release(&id);
	return r;
}

int ags_collection_drop(ags_store *s, const char *name, bool force)
{
	struct collection_row row;
	sqlite3_stmt *st;
	int r;
	const char *what = store_what(s, "drop a collection",
				      "drop collection '%s'", name);

	r = check_name(s, "drop collection", name);
	if (r < 0)
		return r;
	r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = collection_find(s, name, &row);
	if (r == -ENOENT)
		r = store_fail(s, r,
			       "cannot drop collection '%s': no such "
			       "collection",
			       name);
	if (r == 0 && row.count > 0 && !force)
		r = store_fail(s, -ENOTEMPTY,
			       "cannot drop collection '%s': it holds %lld "
			       "objects; remove them first, or drop it with "
			       "them (agentstate rmcol --force %s)",
			       name, (long long)row.count, name);
	if (r == 0 && row.count > 0)
		r = empty_collection(s, name, row.cid);
	if (r == 0)
		r = drop_indexes(s, row.cid);
	if (r == 0)
		r = store_stmt(s, SQL_COLL_DELETE, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, row.cid);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		r = r == SQLITE_DONE ? 0 : store_sql_fail(s, r, what);
	}
	if (r == 0)
		r = audit_collection(s, "rmcol", name, NULL);
	return store_txn_end(s, r, what);
}

int ags_collection_rename(ags_store *s, const char *from, const char *to)
{
	struct collection_row src, dst;
	sqlite3_stmt *st;
	int r;
	const char *what = store_what(s, "rename a collection",
				      "rename collection '%s'", from);

	r = check_name(s, "rename collection", from);
	if (r == 0)
		r = check_name(s, "rename collection to", to);
	if (r < 0)
		return r;
	r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = collection_find(s, from, &src);
	if (r == -ENOENT)
		r = store_fail(s, r,
			       "cannot rename collection '%s': no such "
			       "collection",
			       from);
	if (r == 0 && strcmp(from, to) == 0)
		return store_txn_end(s, 0, what);
	if (r == 0) {
		r = collection_find(s, to, &dst);
		if (r == 0)
			r = store_fail(s, -EEXIST,
				       "cannot rename collection '%s' to '%s': "
				       "'%s' exists",
				       from, to, to);
		else if (r == -ENOENT)
			r = store_stmt(s, SQL_COLL_RENAME, &st);
	}
	if (r == 0) {
		sqlite3_bind_int64(st, 1, src.cid);
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		r = r == SQLITE_DONE ? 0 : store_sql_fail(s, r, what);
	}
	if (r == 0)
		r = audit_collection(s, "mvcol", to, from);
	return store_txn_end(s, r, what);
}

int ags_collection_get(ags_store *s, const char *name,
		       struct ags_collection *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_COLL_BY_NAME, &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		read_row(s, st, out);
		r = 0;
	} else if (r == SQLITE_DONE) {
		r = store_fail(s, -ENOENT, "no such collection '%s'", name);
	} else {
		r = store_sql_fail(s, r, "look up a collection");
	}
	sqlite3_reset(st);
	return r;
}

int ags_collection_list(ags_store *s, const char *after, size_t limit,
			ags_collection_cb cb, void *ctx)
{
	struct ags_collection c;
	sqlite3_stmt *st;
	int rc, stop = 0;
	int r = store_stmt(s, SQL_COLL_LIST, &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(s, st, &c);
		stop = cb(ctx, &c);
		if (stop)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, rc, "list collections");
	return 0;
}

int ags_collection_set_attr(ags_store *s, const char *name,
			    const struct ags_attr *attr, unsigned mask)
{
	struct ags_collection cur;
	sqlite3_stmt *st;
	int r;
	const char *what =
		store_what(s, "change a collection's attributes",
			   "change the attributes of collection '%s'", name);

	r = check_name(s, "change collection", name);
	if (r == 0)
		r = store_attr_mask(s, what, mask);
	if (r != 0)
		return r < 0 ? r : 0;
	r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = ags_collection_get(s, name, &cur);
	if (r == 0)
		r = store_stmt(s, SQL_COLL_SET_ATTR, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, cur.number - AGS_COLLECTION_BASE);
		sqlite3_bind_int64(st, 2,
				   mask & AGS_ATTR_MODE ? attr->mode & 07777
							: cur.attr.mode);
		sqlite3_bind_int64(
			st, 3, mask & AGS_ATTR_UID ? attr->uid : cur.attr.uid);
		sqlite3_bind_int64(
			st, 4, mask & AGS_ATTR_GID ? attr->gid : cur.attr.gid);
		sqlite3_bind_int64(st, 5,
				   mask & AGS_ATTR_MTIME ? attr->mtime_ns
							 : cur.attr.mtime_ns);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		r = r == SQLITE_DONE ? 0
				     : store_sql_fail(s, r, "set attributes");
	}
	if (r == 0)
		r = audit_collection(s, "setattr", name, NULL);
	return store_txn_end(s, r, what);
}
