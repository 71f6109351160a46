/* snapshot-at.c: the state of the store right after an earlier audit seq.
 * The audit log names every version of every object (by its stable oid)
 * and every collection create, drop and rename, and history keeps the
 * bodies, so an earlier state is rebuilt without any extra bookkeeping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot-int.h"

/* A collection rename, to carry objects whose last row predates it. */
struct mvcol {
	int64_t seq;
	char *from, *to;
};

struct replay {
	char **names; /* collections alive so far, unsorted */
	size_t n, alloc;
	struct mvcol *mv;
	size_t nmv, allocmv;
};

static const char *text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "";
}

static long name_index(const struct replay *rp, const char *name)
{
	for (size_t i = 0; i < rp->n; i++)
		if (!strcmp(rp->names[i], name))
			return (long)i;
	return -1;
}

static int grow(void **p, size_t *alloc, size_t n, size_t size)
{
	void *np;
	size_t cap;

	if (n < *alloc)
		return 0;
	cap = *alloc ? *alloc * 2 : 16;
	np = realloc(*p, cap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*alloc = cap;
	return 0;
}

/* Apply one mkcol, rmcol or mvcol row. Rows that do not fit (a drop of an
 * unknown name) are skipped: the later object rows still decide. */
static int replay_row(struct replay *rp, int64_t seq, const char *op,
		      const char *name, const char *from)
{
	long i;

	if (!strcmp(op, "mkcol")) {
		if (name_index(rp, name) >= 0)
			return 0;
		if (grow((void **)&rp->names, &rp->alloc, rp->n,
			 sizeof(*rp->names)) < 0)
			return -ENOMEM;
		rp->names[rp->n] = strdup(name);
		return rp->names[rp->n++] ? 0 : -ENOMEM;
	}
	if (!strcmp(op, "rmcol")) {
		i = name_index(rp, name);
		if (i >= 0) {
			free(rp->names[i]);
			rp->names[i] = rp->names[--rp->n];
		}
		return 0;
	}
	/* mvcol: the row names the new name, from_collection the old */
	i = name_index(rp, from);
	if (i >= 0) {
		char *to = strdup(name);
		if (!to)
			return -ENOMEM;
		free(rp->names[i]);
		rp->names[i] = to;
	}
	if (grow((void **)&rp->mv, &rp->allocmv, rp->nmv, sizeof(*rp->mv)) < 0)
		return -ENOMEM;
	rp->mv[rp->nmv] = (struct mvcol){ .seq = seq,
					  .from = strdup(from),
					  .to = strdup(name) };
	if (!rp->mv[rp->nmv].from || !rp->mv[rp->nmv].to) {
		free(rp->mv[rp->nmv].from);
		free(rp->mv[rp->nmv].to);
		return -ENOMEM;
	}
	rp->nmv++;
	return 0;
}

static int load_collections(ags_store *s, int64_t seq, struct replay *rp)
{
	sqlite3_stmt *st;
	int rc, r = store_stmt(s, SQL_SNAP_COLLECTIONS_AT, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, seq);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = replay_row(rp, sqlite3_column_int64(st, 0), text(st, 1),
			       text(st, 2), text(st, 3));
	sqlite3_reset(st);
	if (r < 0)
		return store_fail(s, r,
				  "cannot rebuild the collections at seq "
				  "%lld: out of memory",
				  (long long)seq);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, rc, "read the audit");
	return 0;
}

/* The name a collection had at the end, given its name at @seq: the
 * renames after @seq carry it along (rows are in seq order). */
static const char *carry(const struct replay *rp, int64_t seq, const char *name)
{
	for (size_t i = 0; i < rp->nmv; i++)
		if (rp->mv[i].seq > seq && !strcmp(rp->mv[i].from, name))
			name = rp->mv[i].to;
	return name;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_objects(const void *a, const void *b)
{
	const struct snap_object *x = a, *y = b;
	int c = strcmp(x->collection, y->collection);

	return c ? c : strcmp(x->id, y->id);
}

/* The collection name as stored in the state (so objects can point to it),
 * or NULL when no such collection was alive. */
static const char *find_collection(const struct snap_state *out,
				   const char *name)
{
	char *const *hit = bsearch(&name, out->collections, out->ncollections,
				   sizeof(*out->collections), cmp_str);

	return hit ? *hit : NULL;
}

static int add_object(ags_store *s, struct snap_state *out, size_t *alloc,
		      sqlite3_stmt *st, const char *collection)
{
	const char *stored = find_collection(out, collection);
	struct snap_object *o;

	if (!stored)
		return store_fail(s, -EIO,
				  "cannot rebuild the state at seq %lld: "
				  "object %s/%s lives in a collection the "
				  "audit never created; run agentstate check",
				  (long long)out->seq, collection, text(st, 4));
	if (grow((void **)&out->objects, alloc, out->nobjects,
		 sizeof(*out->objects)) < 0)
		return store_fail(s, -ENOMEM, "out of memory");
	o = &out->objects[out->nobjects];
	o->collection = stored;
	o->id = strdup(text(st, 4));
	if (!o->id)
		return store_fail(s, -ENOMEM, "out of memory");
	o->oid = sqlite3_column_int64(st, 0);
	o->version = sqlite3_column_int64(st, 5);
	out->nobjects++;
	return 0;
}

static int load_objects(ags_store *s, const struct replay *rp,
			struct snap_state *out)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc = SQLITE_DONE, r = store_stmt(s, SQL_SNAP_OBJECTS_AT, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, out->seq);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!strcmp(text(st, 2), "remove"))
			continue;
		r = add_object(
			s, out, &alloc, st,
			carry(rp, sqlite3_column_int64(st, 1), text(st, 3)));
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, rc, "read the audit");
	if (out->nobjects > 1)
		qsort(out->objects, out->nobjects, sizeof(*out->objects),
		      cmp_objects);
	return 0;
}

static void replay_release(struct replay *rp)
{
	for (size_t i = 0; i < rp->n; i++)
		free(rp->names[i]);
	for (size_t i = 0; i < rp->nmv; i++) {
		free(rp->mv[i].from);
		free(rp->mv[i].to);
	}
	free(rp->names);
	free(rp->mv);
}

int snap_state_load(ags_store *s, int64_t seq, struct snap_state *out)
{
	struct snap_state st = { .seq = seq };
	struct replay rp = { 0 };
	int r = load_collections(s, seq, &rp);

	if (r == 0) {
		/* The replay's names become the state's, sorted. */
		st.collections = rp.names;
		st.ncollections = rp.n;
		rp.names = NULL;
		rp.n = 0;
		if (st.ncollections > 1)
			qsort(st.collections, st.ncollections,
			      sizeof(*st.collections), cmp_str);
		r = load_objects(s, &rp, &st);
	}
	replay_release(&rp);
	if (r < 0) {
		snap_state_release(&st);
		return r;
	}
	*out = st;
	return 0;
}

int snap_body_at(ags_store *s, const struct snap_state *state,
		 const struct snap_object *o, struct sbuf *out)
{
	sqlite3_stmt *st;
	int64_t keep = 0;
	int r = store_stmt(s, SQL_SNAP_BODY_AT, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, o->oid);
	sqlite3_bind_int64(st, 2, o->version);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		r = sbuf_add(out, sqlite3_column_text(st, 0),
			     (size_t)sqlite3_column_bytes(st, 0));
		sqlite3_reset(st);
		return r < 0 ? store_fail(s, r, "out of memory") : 0;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_sql_fail(s, r, "read an earlier version");
	ags_store_get_retention(s, &keep);
	if (keep == 0)
		return store_fail(s, -EIO,
				  "cannot rebuild the state at seq %lld: "
				  "version %lld of %s/%s is missing from "
				  "history although all versions are kept; "
				  "run agentstate check",
				  (long long)state->seq, (long long)o->version,
				  o->collection, o->id);
	return store_fail(s, -ENOENT,
			  "cannot rebuild the state at seq %lld: version "
			  "%lld of %s/%s is no longer kept (the store keeps "
			  "%lld earlier versions per object); choose a later "
			  "seq or time",
			  (long long)state->seq, (long long)o->version,
			  o->collection, o->id, (long long)keep);
}

int snap_seq_at_time(ags_store *s, int64_t time_ns, int64_t *out)
{
	sqlite3_stmt *st;
	int r = store_stmt(s, SQL_SNAP_SEQ_AT_TIME, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, time_ns);
	return store_step_int(s, st, "read the audit", out);
}

void snap_state_release(struct snap_state *st)
{
	for (size_t i = 0; i < st->nobjects; i++)
		free(st->objects[i].id);
	for (size_t i = 0; i < st->ncollections; i++)
		free(st->collections[i]);
	free(st->objects);
	free(st->collections);
	*st = (struct snap_state){ 0 };
}
