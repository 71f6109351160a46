/* object.c: putting, reading, removing, renaming and listing objects. Each
 * change runs in one transaction with its audit row; the body is checked
 * against the strict JSON rules before any lock is taken. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "json-int.h"
#include "names-int.h"
#include "object-int.h"
#include "store-int.h"

#define FILE_MODE_DEFAULT 0644

static int check_names(ags_store *s, const char *what, const char *collection,
		       const char *id)
{
	if (name_check_collection(collection) < 0)
		return store_fail(s, -EINVAL, "cannot %s %s/%s: %s", what,
				  collection, id, name_collection_rule);
	if (name_check_id(id, strlen(id)) < 0)
		return store_fail(s, -EINVAL, "cannot %s %s/%s: %s", what,
				  collection, id, name_id_rule);
	return 0;
}

static int check_size(ags_store *s, const char *collection, const char *id,
		      size_t len)
{
	if (len > s->max_body)
		return store_fail(s, -EFBIG,
				  "cannot store %s/%s: the body is %zu bytes, "
				  "more than the store's limit of %zu",
				  collection, id, len, s->max_body);
	return 0;
}

int object_check_body(ags_store *s, const char *collection, const char *id,
		      const char *body, size_t len)
{
	struct json_error e;
	int r = check_size(s, collection, id, len);

	if (r < 0)
		return r;
	if (json_check(body, len, &e) < 0)
		return store_fail(
			s, -EINVAL,
			"cannot store %s/%s: invalid JSON at line %u, "
			"column %u: %s",
			collection, id, e.line, e.column, e.reason);
	return 0;
}

static int no_collection(ags_store *s, const char *what, const char *collection,
			 const char *id)
{
	return store_fail(s, -ENOENT,
			  "cannot %s %s/%s: no such collection '%s'; create it "
			  "first (agentstate mkcol %s)",
			  what, collection, id, collection, collection);
}

static int no_object(ags_store *s, const char *what, const char *collection,
		     const char *id)
{
	return store_fail(s, -ENOENT, "cannot %s %s/%s: no such object", what,
			  collection, id);
}

static int stale(ags_store *s, const char *what, const char *collection,
		 const char *id, int64_t have, int64_t want)
{
	if (!have)
		return store_fail(s, -ESTALE,
				  "cannot %s %s/%s: expected version %lld but "
				  "there is no such object (never created, or "
				  "removed by another writer)",
				  what, collection, id, (long long)want);
	return store_fail(s, -ESTALE,
			  "cannot %s %s/%s: expected version %lld but it is "
			  "at version %lld; another writer changed it, read "
			  "it again and retry",
			  what, collection, id, (long long)want,
			  (long long)have);
}

int object_find(ags_store *s, int64_t cid, const char *id,
		struct object_row *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_OBJ_BY_NAME, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->oid = sqlite3_column_int64(st, OBJ_COL_OID);
		out->version = sqlite3_column_int64(st, OBJ_COL_VERSION);
		out->size = sqlite3_column_int64(st, OBJ_COL_SIZE);
		out->attr.mode =
			(uint32_t)sqlite3_column_int64(st, OBJ_COL_MODE);
		out->attr.uid = (uint32_t)sqlite3_column_int64(st, OBJ_COL_UID);
		out->attr.gid = (uint32_t)sqlite3_column_int64(st, OBJ_COL_GID);
		out->attr.mtime_ns = sqlite3_column_int64(st, OBJ_COL_MTIME);
		r = 0;
	} else if (r == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_sql_fail(s, r, "look up an object");
	}
	sqlite3_reset(st);
	return r;
}

int object_row_read(ags_store *s, sqlite3_stmt *st, const char *collection,
		    size_t body_max, struct ags_object *out)
{
	int r = 0;

	if (collection != s->res_collection.buf) {
		sbuf_reset(&s->res_collection);
		r = sbuf_adds(&s->res_collection, collection);
	}
	sbuf_reset(&s->res_id);
	if (r == 0)
		r = sbuf_adds(&s->res_id, (const char *)sqlite3_column_text(
						  st, OBJ_COL_ID));
	out->collection = s->res_collection.buf;
	out->id = s->res_id.buf;
	out->body_len = (size_t)sqlite3_column_int64(st, OBJ_COL_SIZE);
	out->body = NULL;
	if (r == 0 && body_max && out->body_len <= body_max) {
		sbuf_reset(&s->res_body);
		r = sbuf_add(&s->res_body,
			     sqlite3_column_text(st, OBJ_COL_BODY),
			     (size_t)sqlite3_column_bytes(st, OBJ_COL_BODY));
		out->body = s->res_body.buf;
	}
	if (r < 0)
		return store_fail(s, r, "cannot read an object: out of memory");
	out->version = sqlite3_column_int64(st, OBJ_COL_VERSION);
	out->number = sqlite3_column_int64(st, OBJ_COL_OID) + AGS_OBJECT_BASE;
	out->ctime_ns = sqlite3_column_int64(st, OBJ_COL_CTIME);
	out->vtime_ns = sqlite3_column_int64(st, OBJ_COL_VTIME);
	out->attr.mtime_ns = sqlite3_column_int64(st, OBJ_COL_MTIME);
	out->attr.mode = (uint32_t)sqlite3_column_int64(st, OBJ_COL_MODE);
	out->attr.uid = (uint32_t)sqlite3_column_int64(st, OBJ_COL_UID);
	out->attr.gid = (uint32_t)sqlite3_column_int64(st, OBJ_COL_GID);
	return 0;
}

static int step_done(ags_store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : store_sql_fail(s, r, what);
}

static int count_add(ags_store *s, int64_t cid, int delta, int64_t now)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_COLL_COUNT_ADD, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int(st, 2, delta);
	sqlite3_bind_int64(st, 3, now);
	return step_done(s, st, "count the collection's objects");
}

/* The write of a put or revert once the transaction is open: replaces the
 * body of an existing object (keeping the old one in history) or creates
 * it, then writes the audit row. */
static int put_locked(ags_store *s, struct put_result *ret, const char *op,
		      const char *collection, const char *id, const char *body,
		      size_t len, int64_t if_version)
{
	struct collection_row col;
	struct object_row cur;
	struct put_result res = { 0 };
	struct audit_entry e = { .op = op,
				 .collection = collection,
				 .id = id,
				 .size = (int64_t)len };
	sqlite3_stmt *st;
	int r;

	r = collection_find(s, collection, &col);
	if (r == -ENOENT)
		return no_collection(s, "store", collection, id);
	if (r < 0)
		return r;
	e.time_ns = store_now_ns();
	r = object_find(s, col.cid, id, &cur);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && if_version == AGS_VERSION_ABSENT)
		return store_fail(s, -EEXIST, "cannot create %s/%s: it exists",
				  collection, id);
	if (if_version > 0 && (r < 0 || cur.version != if_version))
		return stale(s, "store", collection, id,
			     r < 0 ? 0 : cur.version, if_version);

	if (r == 0) {
		e.oid = cur.oid;
		e.old_version = cur.version;
		e.new_version = cur.version + 1;
		if (!e.op)
			e.op = "update";
		r = history_save(s, cur.oid, e.new_version);
		if (r == 0)
			r = store_stmt(s, SQL_OBJ_UPDATE, &st);
		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, cur.oid);
		sqlite3_bind_text(st, 2, body, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)len);
		sqlite3_bind_int64(st, 4, e.time_ns);
		r = step_done(s, st, "update an object");
		res.attr = cur.attr;
	} else {
		e.new_version = 1;
		if (!e.op)
			e.op = "create";
		r = store_stmt(s, SQL_OBJ_INSERT, &st);
		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, col.cid);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, body, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)len);
		sqlite3_bind_int64(st, 5, e.time_ns);
		sqlite3_bind_int(st, 6, FILE_MODE_DEFAULT);
		sqlite3_bind_int64(st, 7, s->uid);
		sqlite3_bind_int64(st, 8, s->gid);
		r = step_done(s, st, "create an object");
		e.oid = sqlite3_last_insert_rowid(s->db);
		res.attr.mode = FILE_MODE_DEFAULT;
		res.attr.uid = s->uid;
		res.attr.gid = s->gid;
		if (r == 0)
			r = count_add(s, col.cid, 1, e.time_ns);
	}
	if (r == 0)
		r = audit_write(s, &e);
	if (r == 0 && ret) {
		res.version = e.new_version;
		res.number = e.oid + AGS_OBJECT_BASE;
		res.attr.mtime_ns = e.time_ns;
		*ret = res;
	}
	return r;
}

/* ags_object_put(), the body checked here unless @checked by the caller. */
static int put(ags_store *s, struct put_result *ret, const char *collection,
	       const char *id, const char *body, size_t len, int64_t if_version,
	       bool checked)
{
	struct sbuf what = SBUF_INIT;
	struct put_result res;
	int r;

	r = check_names(s, "store", collection, id);
	if (r == 0 && if_version < AGS_VERSION_ABSENT)
		r = store_fail(s, -EINVAL,
			       "cannot store %s/%s: invalid if_version %lld; "
			       "give a version (1 or more), AGS_VERSION_ANY or "
			       "AGS_VERSION_ABSENT",
			       collection, id, (long long)if_version);
	/* Named, for a failure of the transaction itself (a full disk). */
	if (r == 0 && sbuf_addf(&what, "store %s/%s", collection, id) < 0)
		r = store_fail(s, -ENOMEM, "cannot store %s/%s: out of memory",
			       collection, id);
	/* Nothing is written to a store open read-only, however good. */
	if (r == 0)
		r = store_check_writable(s, what.buf);
	if (r == 0)
		r = checked ? check_size(s, collection, id, len)
			    : object_check_body(s, collection, id, body, len);
	if (r == 0)
		r = store_txn_begin(s, what.buf);
	if (r == 0) {
		r = put_locked(s, &res, NULL, collection, id, body, len,
			       if_version);
		r = store_txn_end(s, r, what.buf);
	}
	sbuf_release(&what);
	if (r == 0 && ret)
		*ret = res;
	return r;
}

int ags_object_put(ags_store *s, int64_t *ret_version, const char *collection,
		   const char *id, const char *body, size_t len,
		   int64_t if_version)
{
	struct put_result res;
	int r = put(s, &res, collection, id, body, len, if_version, false);

	if (r == 0 && ret_version)
		*ret_version = res.version;
	return r;
}

int object_put_checked(ags_store *s, struct put_result *ret,
		       const char *collection, const char *id, const char *body,
		       size_t len, int64_t if_version)
{
	return put(s, ret, collection, id, body, len, if_version, true);
}

/* Read an earlier version's body from history into the result buffer. */
static int get_kept(ags_store *s, const char *collection, const char *id,
		    int64_t oid, int64_t version, struct ags_object *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_HIST_GET, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, oid);
	sqlite3_bind_int64(st, 2, version);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		sbuf_reset(&s->res_body);
		sbuf_add(&s->res_body, sqlite3_column_text(st, 0),
			 (size_t)sqlite3_column_bytes(st, 0));
		out->body = s->res_body.buf;
		out->body_len = (size_t)sqlite3_column_int64(st, 1);
		out->vtime_ns = sqlite3_column_int64(st, 2);
		out->version = version;
		r = 0;
	} else if (r == SQLITE_DONE) {
		r = store_fail(s, -ENOENT,
			       "cannot read %s/%s version %lld: no such "
			       "version is kept (see its history)",
			       collection, id, (long long)version);
	} else {
		r = store_sql_fail(s, r, "read an earlier version");
	}
	sqlite3_reset(st);
	return r;
}

int ags_object_get_by_number(ags_store *s, int64_t number, bool with_body,
			     struct ags_object *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(
		s, with_body ? SQL_OBJ_BY_NUMBER : SQL_OBJ_BY_NUMBER_NO_BODY,
		&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, number - AGS_OBJECT_BASE);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		sbuf_reset(&s->res_collection);
		sbuf_adds(&s->res_collection, (const char *)sqlite3_column_text(
						      st, OBJ_COL_COLLECTION));
		r = object_row_read(s, st, s->res_collection.buf,
				    with_body ? SIZE_MAX : 0, out);
	} else if (r == SQLITE_DONE) {
		r = store_fail(s, -ENOENT, "no object has number %lld",
			       (long long)number);
	} else {
		r = store_sql_fail(s, r, "read an object by number");
	}
	sqlite3_reset(st);
	return r;
}

/* ags_object_get() and ags_object_peek(): the body of the current version
 * when it is at most @body_max bytes, of an earlier one when @body_max;
 * @ret_cnum (may be NULL) the collection's number, 0 if there is none. */
static int object_get(ags_store *s, const char *collection, const char *id,
		      int64_t version, size_t body_max, int64_t *ret_cnum,
		      struct ags_object *out)
{
	struct ags_object obj;
	sqlite3_stmt *st;
	int64_t cnum = 0;
	int r;

	r = check_names(s, "read", collection, id);
	if (r == 0)
		r = store_stmt(
			s, body_max ? SQL_OBJ_BY_PATH : SQL_OBJ_BY_PATH_NO_BODY,
			&st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		cnum = sqlite3_column_int64(st, OBJ_COL_PATH_CID) +
		       AGS_COLLECTION_BASE;
	/* Told on ENOENT too; left alone when the query failed. */
	if (ret_cnum && (r == SQLITE_ROW || r == SQLITE_DONE))
		*ret_cnum = cnum;
	if (r == SQLITE_ROW &&
	    sqlite3_column_type(st, OBJ_COL_OID) == SQLITE_NULL) {
		r = 1; /* the collection exists, the object does not */
	} else if (r == SQLITE_ROW) {
		bool current =
			!version ||
			version == sqlite3_column_int64(st, OBJ_COL_VERSION);
		r = object_row_read(s, st, collection, current ? body_max : 0,
				    &obj);
	} else if (r == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = store_sql_fail(s, r, "read an object");
	}
	sqlite3_reset(st);
	if (r == -ENOENT)
		return store_fail(s, r,
				  "cannot read %s/%s: no such collection '%s'",
				  collection, id, collection);
	if (r == 1)
		return no_object(s, "read", collection, id);
	if (r < 0)
		return r;
	if (version && version != obj.version) {
		if (version < 0 || version > obj.version)
			return store_fail(s, -ENOENT,
					  "cannot read %s/%s version %lld: it "
					  "is at version %lld",
					  collection, id, (long long)version,
					  (long long)obj.version);
		r = get_kept(s, collection, id, obj.number - AGS_OBJECT_BASE,
			     version, &obj);
		if (r < 0)
			return r;
		if (!body_max)
			obj.body = NULL;
	}
	*out = obj;
	return 0;
}

int ags_object_get(ags_store *s, const char *collection, const char *id,
		   int64_t version, bool with_body, struct ags_object *out)
{
	return object_get(s, collection, id, version, with_body ? SIZE_MAX : 0,
			  NULL, out);
}

int ags_object_peek(ags_store *s, const char *collection, const char *id,
		    size_t max_body, int64_t *ret_collection_number,
		    struct ags_object *out)
{
	return object_get(s, collection, id, 0, max_body, ret_collection_number,
			  out);
}

/* object_remove_locked(), setting @ret_oid to the removed row's oid. */
static int remove_locked(ags_store *s, int64_t *ret_oid, const char *collection,
			 int64_t cid, const char *id, int64_t if_version)
{
	struct object_row cur;
	struct audit_entry e = {
		.op = "remove", .collection = collection, .id = id, .size = -1
	};
	sqlite3_stmt *st;
	int r;

	r = object_find(s, cid, id, &cur);
	if (r == -ENOENT)
		return if_version > 0 ? stale(s, "remove", collection, id, 0,
					      if_version)
				      : no_object(s, "remove", collection, id);
	if (r < 0)
		return r;
	if (if_version > 0 && cur.version != if_version)
		return stale(s, "remove", collection, id, cur.version,
			     if_version);
	e.time_ns = store_now_ns();
	e.oid = cur.oid;
	e.old_version = cur.version;
	/* The last body stays readable in history after the removal. */
	r = history_save(s, cur.oid, cur.version + 1);
	if (r == 0)
		r = store_stmt(s, SQL_OBJ_DELETE, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, cur.oid);
		r = step_done(s, st, "remove an object");
	}
	if (r == 0)
		r = count_add(s, cid, -1, e.time_ns);
	if (r == 0)
		r = audit_write(s, &e);
	if (r == 0)
		*ret_oid = cur.oid;
	return r;
}

int object_remove_locked(ags_store *s, const char *collection, int64_t cid,
			 const char *id, int64_t if_version)
{
	int64_t oid;

	return remove_locked(s, &oid, collection, cid, id, if_version);
}

int ags_object_remove(ags_store *s, const char *collection, const char *id,
		      int64_t if_version)
{
	return ags_object_remove_number(s, NULL, collection, id, if_version);
}

int ags_object_remove_number(ags_store *s, int64_t *ret_number,
			     const char *collection, const char *id,
			     int64_t if_version)
{
	struct sbuf what = SBUF_INIT;
	struct collection_row col;
	int64_t oid = 0;
	int r;

	r = check_names(s, "remove", collection, id);
	if (r == 0 && if_version < AGS_VERSION_ANY)
		r = store_fail(s, -EINVAL,
			       "cannot remove %s/%s: invalid if_version %lld; "
			       "give a version (1 or more) or AGS_VERSION_ANY",
			       collection, id, (long long)if_version);
	if (r == 0 && sbuf_addf(&what, "remove %s/%s", collection, id) < 0)
		r = store_fail(s, -ENOMEM, "cannot remove %s/%s: out of memory",
			       collection, id);
	if (r == 0)
		r = store_txn_begin(s, what.buf);
	if (r < 0) {
		sbuf_release(&what);
		return r;
	}
	r = collection_find(s, collection, &col);
	if (r == -ENOENT)
		r = store_fail(s, r,
			       "cannot remove %s/%s: no such collection "
			       "'%s'",
			       collection, id, collection);
	if (r == 0)
		r = remove_locked(s, &oid, collection, col.cid, id, if_version);
	r = store_txn_end(s, r, what.buf);
	sbuf_release(&what);
	if (r == 0 && ret_number)
		*ret_number = oid + AGS_OBJECT_BASE;
	return r;
}

/* Swap the bodies of two objects; each gets a new version and an audit
 * row. The bodies are read first, since each update overwrites one. */
static int exchange_locked(ags_store *s, const char *ca, const char *ia,
			   const struct object_row *a, const char *cb,
			   const char *ib, const struct object_row *b)
{
	struct sbuf body_a = SBUF_INIT, body_b = SBUF_INIT;
	struct ags_object tmp;
	int r;

	r = ags_object_get(s, ca, ia, 0, true, &tmp);
	if (r == 0)
		r = sbuf_add(&body_a, tmp.body, tmp.body_len);
	if (r == 0)
		r = ags_object_get(s, cb, ib, 0, true, &tmp);
	if (r == 0)
		r = sbuf_add(&body_b, tmp.body, tmp.body_len);
	if (r == 0)
		r = put_locked(s, NULL, "exchange", ca, ia, body_b.buf,
			       body_b.len, a->version);
	if (r == 0)
		r = put_locked(s, NULL, "exchange", cb, ib, body_a.buf,
			       body_a.len, b->version);
	sbuf_release(&body_a);
	sbuf_release(&body_b);
	return r;
}

static int move_locked(ags_store *s, const char *fc, const char *fi,
		       const struct collection_row *src_col,
		       const struct object_row *src, const char *tc,
		       const char *ti, const struct collection_row *dst_col)
{
	struct audit_entry e = { .op = "rename",
				 .collection = tc,
				 .id = ti,
				 .size = src->size,
				 .from_collection = fc,
				 .from_id = fi,
				 .oid = src->oid,
				 .old_version = src->version,
				 .new_version = src->version + 1 };
	sqlite3_stmt *st;
	int r;

	e.time_ns = store_now_ns();
	r = history_save(s, src->oid, e.new_version);
	if (r == 0)
		r = store_stmt(s, SQL_OBJ_MOVE, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, src->oid);
	sqlite3_bind_int64(st, 2, dst_col->cid);
	sqlite3_bind_text(st, 3, ti, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e.time_ns);
	r = step_done(s, st, "rename an object");
	if (r == 0 && src_col->cid != dst_col->cid) {
		r = count_add(s, src_col->cid, -1, e.time_ns);
		if (r == 0)
			r = count_add(s, dst_col->cid, 1, e.time_ns);
	}
	if (r == 0)
		r = audit_write(s, &e);
	return r;
}

static int rename_locked(ags_store *s, const char *fc, const char *fi,
			 const char *tc, const char *ti, unsigned flags)
{
	struct collection_row src_col, dst_col;
	struct object_row src, dst;
	int r, have_dst;

	r = collection_find(s, fc, &src_col);
	if (r == -ENOENT)
		return no_collection(s, "rename", fc, fi);
	if (r == 0)
		r = collection_find(s, tc, &dst_col);
	if (r == -ENOENT)
		return no_collection(s, "rename to", tc, ti);
	if (r == 0)
		r = object_find(s, src_col.cid, fi, &src);
	if (r == -ENOENT)
		return no_object(s, "rename", fc, fi);
	if (r < 0)
		return r;
	r = object_find(s, dst_col.cid, ti, &dst);
	if (r < 0 && r != -ENOENT)
		return r;
	have_dst = r == 0;
	if (have_dst && dst.oid == src.oid)
		return 0; /* rename onto itself changes nothing (POSIX) */
	if (flags & AGS_RENAME_EXCHANGE) {
		if (!have_dst)
			return no_object(s, "exchange with", tc, ti);
		return exchange_locked(s, fc, fi, &src, tc, ti, &dst);
	}
	if (have_dst && (flags & AGS_RENAME_NOREPLACE))
		return store_fail(s, -EEXIST,
				  "cannot rename %s/%s to %s/%s: the target "
				  "exists",
				  fc, fi, tc, ti);
	if (have_dst) {
		r = object_remove_locked(s, tc, dst_col.cid, ti,
					 AGS_VERSION_ANY);
		if (r < 0)
			return r;
	}
	return move_locked(s, fc, fi, &src_col, &src, tc, ti, &dst_col);
}

int ags_object_rename(ags_store *s, const char *fc, const char *fi,
		      const char *tc, const char *ti, unsigned flags)
{
	int r;
	const char *what =
		store_what(s, "rename an object", "rename %s/%s", fc, fi);

	if (flags & ~(AGS_RENAME_EXCHANGE | AGS_RENAME_NOREPLACE))
		return store_fail(
			s, -EINVAL,
			"cannot rename %s/%s: unknown flags %#x; "
			"the flags are AGS_RENAME_NOREPLACE and "
			"AGS_RENAME_EXCHANGE",
			fc, fi,
			flags & ~(AGS_RENAME_EXCHANGE | AGS_RENAME_NOREPLACE));
	if ((flags & AGS_RENAME_EXCHANGE) && (flags & AGS_RENAME_NOREPLACE))
		return store_fail(s, -EINVAL,
				  "cannot rename %s/%s: exchange and "
				  "no-replace exclude each other",
				  fc, fi);
	r = check_names(s, "rename", fc, fi);
	if (r == 0)
		r = check_names(s, "rename to", tc, ti);
	if (r == 0)
		r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = rename_locked(s, fc, fi, tc, ti, flags);
	return store_txn_end(s, r, what);
}

int ags_object_set_attr(ags_store *s, const char *collection, const char *id,
			const struct ags_attr *attr, unsigned mask)
{
	struct ags_object cur;
	struct audit_entry e = { .op = "setattr",
				 .collection = collection,
				 .id = id };
	sqlite3_stmt *st;
	int r;
	const char *what =
		store_what(s, "change an object's attributes",
			   "change the attributes of %s/%s", collection, id);

	r = check_names(s, "change", collection, id);
	if (r == 0)
		r = store_attr_mask(s, what, mask);
	if (r == 0)
		r = store_txn_begin(s, what);
	if (r != 0)
		return r < 0 ? r : 0;
	r = ags_object_get(s, collection, id, 0, false, &cur);
	if (r == 0)
		r = store_stmt(s, SQL_OBJ_SET_ATTR, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, cur.number - AGS_OBJECT_BASE);
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
		r = step_done(s, st, what);
	}
	if (r == 0) {
		e.oid = cur.number - AGS_OBJECT_BASE;
		e.old_version = e.new_version = cur.version;
		e.size = (int64_t)cur.body_len;
		e.time_ns = store_now_ns();
		r = audit_write(s, &e);
	}
	return store_txn_end(s, r, what);
}

int ags_object_list(ags_store *s, const char *collection, const char *after,
		    size_t limit, bool with_body, ags_object_cb cb, void *ctx)
{
	struct collection_row col;
	struct ags_object obj;
	sqlite3_stmt *st;
	int rc, stop = 0;
	int r;

	r = name_check_collection(collection);
	if (r < 0)
		return store_fail(s, r, "cannot list collection '%s': %s",
				  collection, name_collection_rule);
	r = collection_find(s, collection, &col);
	if (r == -ENOENT)
		return store_fail(s, r,
				  "cannot list collection '%s': no such "
				  "collection",
				  collection);
	if (r == 0)
		r = store_stmt(s,
			       with_body ? SQL_OBJ_LIST : SQL_OBJ_LIST_NO_BODY,
			       &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, col.cid);
	sqlite3_bind_text(st, 2, after ? after : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		stop = object_row_read(s, st, collection,
				       with_body ? SIZE_MAX : 0, &obj);
		if (stop)
			break;
		stop = cb(ctx, &obj);
		if (stop)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : store_sql_fail(s, rc, "list objects");
}

int ags_object_revert(ags_store *s, int64_t *ret_version,
		      const char *collection, const char *id, int64_t version)
{
	struct sbuf body = SBUF_INIT;
	struct put_result res;
	struct ags_object old;
	int r;
	const char *what = store_what(s, "revert an object", "revert %s/%s",
				      collection, id);

	r = check_names(s, "revert", collection, id);
	if (r == 0)
		r = store_txn_begin(s, what);
	if (r < 0)
		return r;
	r = ags_object_get(s, collection, id, version, true, &old);
	if (r == 0)
		r = sbuf_add(&body, old.body, old.body_len);
	if (r == 0)
		r = put_locked(s, &res, "revert", collection, id, body.buf,
			       body.len, AGS_VERSION_ANY);
	if (r == 0 && ret_version)
		*ret_version = res.version;
	sbuf_release(&body);
	return store_txn_end(s, r, what);
}
