/* audit.c: the append-only audit log. Rows are written inside the
 * transaction of the change they describe and never updated or deleted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-write-int.h"
#include "names-int.h"
#include "store-int.h"

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v != none)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int audit_write(ags_store *s, const struct audit_entry *e)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_AUDIT_INSERT, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, e->time_ns);
	sqlite3_bind_text(st, 2, e->op, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, e->collection);
	bind_text_or_null(st, 4, e->id);
	bind_int_or_null(st, 5, e->old_version, 0);
	bind_int_or_null(st, 6, e->new_version, 0);
	bind_int_or_null(st, 7, e->size, -1);
	sqlite3_bind_int64(st, 8, s->uid);
	sqlite3_bind_int64(st, 9, s->gid);
	sqlite3_bind_int64(st, 10, s->pid);
	sqlite3_bind_text(st, 11, s->comm.buf, (int)s->comm.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, s->origin.buf, (int)s->origin.len,
			  SQLITE_STATIC);
	bind_text_or_null(st, 13, e->error);
	bind_text_or_null(st, 14, e->from_collection);
	bind_text_or_null(st, 15, e->from_id);
	bind_int_or_null(st, 16, e->oid, 0);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_sql_fail(s, r, "write the audit row");
	/* One writer at a time: a transaction's rows have consecutive seqs. */
	s->txn_last_seq = sqlite3_last_insert_rowid(s->db);
	if (!s->txn_first_seq)
		s->txn_first_seq = s->txn_last_seq;
	return 0;
}

static const char *text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

void audit_row_read(sqlite3_stmt *st, struct ags_audit_row *row)
{
	row->seq = sqlite3_column_int64(st, AUDIT_COL_SEQ);
	row->time_ns = sqlite3_column_int64(st, AUDIT_COL_TIME);
	row->op = text(st, AUDIT_COL_OP);
	row->collection = text(st, AUDIT_COL_COLLECTION);
	row->id = text(st, AUDIT_COL_ID);
	row->old_version = sqlite3_column_int64(st, AUDIT_COL_OLD_VERSION);
	row->new_version = sqlite3_column_int64(st, AUDIT_COL_NEW_VERSION);
	row->size = sqlite3_column_type(st, AUDIT_COL_SIZE) == SQLITE_NULL
			    ? -1
			    : sqlite3_column_int64(st, AUDIT_COL_SIZE);
	row->uid = (uint32_t)sqlite3_column_int64(st, AUDIT_COL_UID);
	row->gid = (uint32_t)sqlite3_column_int64(st, AUDIT_COL_GID);
	row->pid = (int32_t)sqlite3_column_int64(st, AUDIT_COL_PID);
	row->comm = text(st, AUDIT_COL_COMM);
	row->origin = text(st, AUDIT_COL_ORIGIN);
	row->error = text(st, AUDIT_COL_ERROR);
	row->from_collection = text(st, AUDIT_COL_FROM_COLLECTION);
	row->from_id = text(st, AUDIT_COL_FROM_ID);
	row->number = sqlite3_column_type(st, AUDIT_COL_OBJECT) == SQLITE_NULL
			      ? 0
			      : sqlite3_column_int64(st, AUDIT_COL_OBJECT) +
					AGS_OBJECT_BASE;
}

int ags_audit_list(ags_store *s, const struct ags_audit_filter *f,
		   ags_audit_cb cb, void *ctx)
{
	static const struct ags_audit_filter all;
	struct ags_audit_row row;
	sqlite3_stmt *st;
	int rc, stop = 0;
	int r = store_stmt(s, SQL_AUDIT_LIST, &st);

	if (r < 0)
		return r;
	if (!f)
		f = &all;
	sqlite3_bind_int64(st, 1, f->after_seq);
	bind_text_or_null(st, 2, f->collection);
	bind_text_or_null(st, 3, f->id);
	bind_text_or_null(st, 4, f->op);
	sqlite3_bind_int64(st, 5, f->since_ns);
	sqlite3_bind_int64(st, 6, f->until_ns);
	sqlite3_bind_int64(st, 7, f->limit ? (int64_t)f->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		audit_row_read(st, &row);
		stop = cb(ctx, &row);
		if (stop)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : store_sql_fail(s, rc, "read the audit");
}

int ags_audit_last_seq(ags_store *s, int64_t *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_AUDIT_LAST, &st);

	return r < 0 ? r : store_step_int(s, st, "read the audit", out);
}

int ags_audit_refusal(ags_store *s, const char *op, const char *collection,
		      const char *id, int64_t size, const char *error)
{
	struct audit_entry e = { .op = op,
				 .collection = collection,
				 .id = id,
				 .size = size,
				 .error = error };
	int r;

	/* Without its reason, the row would read as a change that was made:
	 * an audit row without its change. */
	if (!op || !*op || !error || !*error)
		return store_fail(s, -EINVAL,
				  "cannot record a refused change: it needs "
				  "an op and the reason it was refused");
	if (collection && name_check_collection(collection) < 0)
		return store_fail(s, -EINVAL,
				  "cannot record a refused change of "
				  "collection '%s': %s",
				  collection, name_collection_rule);
	if (id && name_check_id(id, strlen(id)) < 0)
		return store_fail(s, -EINVAL,
				  "cannot record a refused change of %s/%s: %s",
				  collection ? collection : "", id,
				  name_id_rule);
	r = store_txn_begin(s, "record a refused change");
	if (r < 0)
		return r;
	e.time_ns = store_now_ns();
	r = audit_write(s, &e);
	return store_txn_end(s, r, "record a refused change");
}

static int add_version(struct sbuf *out, const char *name, int64_t v)
{
	return v ? json_add_member_int(out, name, v)
		 : json_add_member_null(out, name);
}

char *ags_audit_row_json(const struct ags_audit_row *row)
{
	struct sbuf out = SBUF_INIT;
	int r;

	r = sbuf_addch(&out, '{');
	r = r ? r : json_add_member_int(&out, "seq", row->seq);
	r = r ? r : json_add_member_int(&out, "time", row->time_ns);
	r = r ? r : json_add_member_string(&out, "op", row->op);
	r = r ? r : json_add_member_string(&out, "collection", row->collection);
	r = r ? r : json_add_member_string(&out, "id", row->id);
	r = r ? r : add_version(&out, "old_version", row->old_version);
	r = r ? r : add_version(&out, "new_version", row->new_version);
	if (!r)
		r = row->size < 0
			    ? json_add_member_null(&out, "size")
			    : json_add_member_int(&out, "size", row->size);
	r = r ? r : json_add_member_int(&out, "uid", row->uid);
	r = r ? r : json_add_member_int(&out, "gid", row->gid);
	r = r ? r : json_add_member_int(&out, "pid", row->pid);
	r = r ? r : json_add_member_string(&out, "comm", row->comm);
	r = r ? r : json_add_member_string(&out, "origin", row->origin);
	if (!r && row->error)
		r = json_add_member_string(&out, "error", row->error);
	if (!r && row->from_collection)
		r = json_add_member_string(&out, "from_collection",
					   row->from_collection);
	if (!r && row->from_id)
		r = json_add_member_string(&out, "from_id", row->from_id);
	r = r ? r : sbuf_addch(&out, '}');
	if (r) {
		sbuf_release(&out);
		return NULL;
	}
	return sbuf_detach(&out);
}
