/* query.c: find by field, filter documents, and field indexes.
 *
 * A query becomes one SELECT over the collection's objects. Equality keeps
 * JSON types apart (true != 1, "12" != 12) by testing json_type() beside
 * json_extract(), and numbers compare as numbers (12 == 12.0). Paths and
 * values are bound as parameters; only on an indexed path is the path
 * written as a quoted literal, because SQLite uses an expression index only
 * when the query's expression has the same text. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-int.h"
#include "names-int.h"
#include "query-int.h"
#include "store-int.h"

/* A JSON path as SQLite reads one: "$", then steps .label, ."quoted
 * label", [N], [#] or [#-N]. Checked here in full, since SQLite checks a
 * step only when a document reaches it: a path bad past a member most
 * bodies lack would pass a test and fail later, on some body (for an
 * index, on every write of such a body to the collection). */
static bool path_syntax_ok(const char *p)
{
	if (*p++ != '$')
		return false;
	while (*p) {
		if (*p == '.' && p[1] == '"') {
			p = strchr(p + 2, '"');
			if (!p)
				return false;
			p++;
		} else if (*p == '.') {
			size_t n = strcspn(p + 1, ".[");

			if (!n)
				return false;
			p += 1 + n;
		} else if (*p == '[') {
			p++;
			if (*p == '#' && p[1] == '-')
				p += 2;
			else if (*p == '#')
				p++;
			if (p[-1] != '#' && !isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p))
				p++;
			if (*p++ != ']')
				return false;
		} else {
			return false;
		}
	}
	return true;
}

int query_field_path(struct sbuf *out, const char *field)
{
	const char *seg = field;

	if (!*field)
		return -EINVAL;
	if (field[0] == '$')
		return path_syntax_ok(field) ? sbuf_adds(out, field) : -EINVAL;
	sbuf_addch(out, '$');
	while (seg) {
		const char *dot = strchr(seg, '.');
		size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
		size_t digits = 0, plain = 0;

		if (!len || memchr(seg, '"', len))
			return -EINVAL;
		for (size_t i = 0; i < len; i++) {
			digits += isdigit((unsigned char)seg[i]) != 0;
			plain +=
				isalnum((unsigned char)seg[i]) || seg[i] == '_';
		}
		if (digits == len)
			sbuf_addf(out, "[%.*s]", (int)len, seg);
		else if (plain == len)
			sbuf_addf(out, ".%.*s", (int)len, seg);
		else
			sbuf_addf(out, ".\"%.*s\"", (int)len, seg);
		seg = dot ? dot + 1 : NULL;
	}
	return 0;
}

/* ---- building a query ------------------------------------------------- */

struct bind {
	const char *text;   /* bound as text when set */
	char *owned;	    /* text this query allocated and frees */
	sqlite3_value *val; /* else this value */
};

struct query {
	ags_store *s;
	int64_t cid;
	struct sbuf sql;
	struct bind *b; /* b[i] is parameter ?(i+1) */
	int nb, alloc;
	const char *what; /* "find in C" for messages */
	const char *collection;
};

static int param(struct query *q, const char *text, sqlite3_value *val)
{
	if (q->nb == q->alloc) {
		int cap = q->alloc ? q->alloc * 2 : 16;
		struct bind *b = realloc(q->b, (size_t)cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		q->b = b;
		q->alloc = cap;
	}
	q->b[q->nb].text = text;
	q->b[q->nb].owned = NULL;
	q->b[q->nb].val = val;
	return ++q->nb;
}

static void query_release(struct query *q)
{
	for (int i = 0; i < q->nb; i++) {
		sqlite3_value_free(q->b[i].val);
		free(q->b[i].owned);
	}
	free(q->b);
	sbuf_release(&q->sql);
}

/* The operand text for @field's path, appended to @operand: the quoted
 * literal when an index covers the path, else a parameter. */
static int path_operand(struct query *q, const char *field,
			struct sbuf *operand)
{
	struct sbuf path = SBUF_INIT;
	sqlite3_stmt *st;
	char *copy;
	bool indexed;
	int r;

	r = query_field_path(&path, field);
	if (r < 0) {
		sbuf_release(&path);
		return store_fail(q->s, -EINVAL,
				  "cannot %s: invalid field '%s'; write a "
				  "dotted path such as a.b.0 or a JSON path "
				  "such as $.a[0].b",
				  q->what, field);
	}
	r = store_stmt(q->s, SQL_INDEX_BY_FIELD, &st);
	if (r < 0) {
		sbuf_release(&path);
		return r;
	}
	sqlite3_bind_int64(st, 1, q->cid);
	sqlite3_bind_text(st, 2, path.buf, (int)path.len, SQLITE_STATIC);
	indexed = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (indexed) {
		r = sql_path_operand(operand, path.buf, 0);
	} else {
		/* the parameter slot owns the path until the query ends */
		copy = sbuf_detach(&path);
		r = copy ? param(q, copy, NULL) : -ENOMEM;
		if (r > 0) {
			q->b[r - 1].owned = copy;
			r = sql_path_operand(operand, NULL, r);
		} else {
			free(copy);
		}
	}
	sbuf_release(&path);
	return r < 0 ? r : 0;
}

/* The two json_type() names a value of type @type may have in a body.
 * They are static strings: the query binds them after @type is gone. */
static int type_pair(const char *type, const char **a, const char **b)
{
	static const char *const types[] = { "text", "true",   "false",
					     "null", "object", "array" };

	if (!strcmp(type, "integer") || !strcmp(type, "real")) {
		*a = "integer";
		*b = "real";
		return 0;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (!strcmp(type, types[i])) {
			*a = *b = types[i];
			return 0;
		}
	return -EINVAL;
}

static void canon_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sbuf out = SBUF_INIT;
	const char *text;
	int r;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
		sqlite3_result_null(ctx);
		return;
	}
	text = (const char *)sqlite3_value_text(argv[0]);
	r = json_canon(&out, text, (size_t)sqlite3_value_bytes(argv[0]));
	if (r == -ENOMEM)
		sqlite3_result_error_nomem(ctx);
	else if (r < 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx, out.buf, (int)out.len,
				    SQLITE_TRANSIENT);
	sbuf_release(&out);
}

int query_add_functions(sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "ags_json_canon", 1,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC |
						  SQLITE_INNOCUOUS,
					  NULL, canon_fn, NULL, NULL, NULL);
}

/* "P holds the object or array v": compared in the canonical spelling, so
 * that members spelled otherwise ({"n": 1.0}, "\u00e9") still match. */
static int add_equal_container(struct query *q, const char *p, const char *type,
			       sqlite3_value *val)
{
	struct sbuf canon = SBUF_INIT;
	const char *text = (const char *)sqlite3_value_text(val);
	const char *ta, *tb;
	int pt, pv, r;

	r = text ? json_canon(&canon, text, (size_t)sqlite3_value_bytes(val))
		 : -ENOMEM;
	sqlite3_value_free(val);
	if (r == 0)
		r = type_pair(type, &ta, &tb);
	pt = r == 0 ? param(q, ta, NULL) : r;
	pv = pt > 0 ? param(q, canon.buf, NULL) : pt;
	if (pv < 0) {
		sbuf_release(&canon);
		return pv;
	}
	q->b[pv - 1].owned = sbuf_detach(&canon); /* freed with the query */
	sql_compare_canon(&q->sql, p, pv);
	sql_and(&q->sql);
	return sql_type_in(&q->sql, p, pt, pt);
}

/* "P has the JSON value v": type and value both match. The value is compared
 * first: SQLite tests the terms in order, and a row whose value differs then
 * costs one JSON function call instead of two. */
static int add_equal(struct query *q, const char *p, const char *type,
		     sqlite3_value *val)
{
	const char *ta, *tb;
	int pa, pb, pv;

	if (!strcmp(type, "null")) {
		sqlite3_value_free(val);
		return sql_type_null(&q->sql, p);
	}
	if (!strcmp(type, "object") || !strcmp(type, "array"))
		return add_equal_container(q, p, type, val);
	if (type_pair(type, &ta, &tb) < 0) {
		sqlite3_value_free(val);
		return -EINVAL;
	}
	pa = param(q, ta, NULL);
	pb = param(q, tb, NULL);
	pv = param(q, NULL, val);
	if (pa < 0 || pb < 0 || pv < 0) {
		sqlite3_value_free(val);
		return -ENOMEM;
	}
	sql_compare(&q->sql, p, "=", pv);
	sql_and(&q->sql);
	return sql_type_in(&q->sql, p, pa, pb);
}

static int add_order(struct query *q, const char *p, const char *op,
		     const char *type, sqlite3_value *val)
{
	const char *ta, *tb;
	int pa, pb, pv;

	if (type_pair(type, &ta, &tb) < 0) {
		sqlite3_value_free(val);
		return -EINVAL;
	}
	pa = param(q, ta, NULL);
	pb = param(q, tb, NULL);
	pv = param(q, NULL, val);
	if (pa < 0 || pb < 0 || pv < 0) {
		sqlite3_value_free(val);
		return -ENOMEM;
	}
	sql_compare(&q->sql, p, op, pv); /* first, as in add_equal */
	sql_and(&q->sql);
	return sql_type_in(&q->sql, p, pa, pb);
}

/* ---- reading the filter document -------------------------------------- */

/* One member or element of a JSON container, as json_each() gives it. */
struct member {
	const char *key;
	const char *type;
	sqlite3_value *val; /* owned by the iteration; dup to keep */
};

typedef int (*member_cb)(struct query *q, const struct member *m, void *ctx);

static int each_member(struct query *q, sqlite3_value *container, member_cb cb,
		       void *ctx)
{
	sqlite3_stmt *st;
	struct member m;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(q->s->db, sql_text(SQL_FILTER_EACH), -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return store_sql_fail(q->s, rc, "read the filter");
	sqlite3_bind_value(st, 1, container);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.key = (const char *)sqlite3_column_text(st, 0);
		m.type = (const char *)sqlite3_column_text(st, 1);
		m.val = sqlite3_column_value(st, 2);
		r = cb(q, &m, ctx);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_fail(q->s, rc, "read the filter");
	sqlite3_finalize(st);
	return r;
}

static int bad_filter(struct query *q, const char *fmt, const char *arg)
{
	struct sbuf why = SBUF_INIT;
	int r;

	sbuf_addf(&why, fmt, arg);
	r = store_fail(q->s, -EINVAL, "cannot %s: bad filter: %s", q->what,
		       why.buf);
	sbuf_release(&why);
	return r;
}

struct in_list {
	const char *p;
	int n;
};

static int add_in_member(struct query *q, const struct member *m, void *ctx)
{
	struct in_list *in = ctx;
	sqlite3_value *v = sqlite3_value_dup(m->val);
	int r;

	if (!v && sqlite3_value_type(m->val) != SQLITE_NULL)
		return -ENOMEM;
	if (in->n++)
		sql_or(&q->sql);
	sql_open(&q->sql);
	r = add_equal(q, in->p, m->type, v);
	sql_close(&q->sql);
	return r;
}

static int add_in(struct query *q, const char *p, const struct member *m,
		  bool negate)
{
	struct in_list in = { p, 0 };
	int r;

	if (strcmp(m->type, "array") != 0)
		return bad_filter(q, "%s needs an array of values",
				  negate ? "$nin" : "$in");
	if (negate)
		sql_not_open(&q->sql);
	else
		sql_open(&q->sql);
	r = each_member(q, m->val, add_in_member, &in);
	if (r == 0 && in.n == 0)
		sql_false(&q->sql);
	if (negate)
		sql_not_close(&q->sql);
	else
		sql_close(&q->sql);
	return r;
}

static const char *order_op(const char *name)
{
	static const char *const ops[][2] = {
		{ "$gt", ">" },
		{ "$gte", ">=" },
		{ "$lt", "<" },
		{ "$lte", "<=" },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
		if (!strcmp(name, ops[i][0]))
			return ops[i][1];
	return NULL;
}

/* One "$op": value member of a field's operator object. */
static int add_operator(struct query *q, const struct member *m, void *ctx)
{
	const char *p = ctx;
	const char *op = order_op(m->key);
	sqlite3_value *v;
	int r;

	/* operators of one field are joined by AND inside its parentheses */
	if (q->sql.buf[q->sql.len - 1] != '(')
		sql_and(&q->sql);
	if (!strcmp(m->key, "$in"))
		return add_in(q, p, m, false);
	if (!strcmp(m->key, "$nin"))
		return add_in(q, p, m, true);
	if (!strcmp(m->key, "$exists")) {
		if (strcmp(m->type, "true") && strcmp(m->type, "false"))
			return bad_filter(q, "%s needs true or false", m->key);
		return sql_exists(&q->sql, p, !strcmp(m->type, "true"));
	}
	if (op && strcmp(m->type, "integer") && strcmp(m->type, "real") &&
	    strcmp(m->type, "text"))
		return bad_filter(q, "%s needs a number or a string", m->key);
	if (!op && strcmp(m->key, "$eq") && strcmp(m->key, "$ne"))
		return bad_filter(q,
				  "unknown operator '%s'; use $eq $ne $gt $gte "
				  "$lt $lte $in $nin or $exists",
				  m->key);
	v = sqlite3_value_dup(m->val);
	if (!v && sqlite3_value_type(m->val) != SQLITE_NULL)
		return -ENOMEM;
	if (op)
		return add_order(q, p, op, m->type, v);
	if (!strcmp(m->key, "$eq")) {
		sql_open(&q->sql);
		r = add_equal(q, p, m->type, v);
		sql_close(&q->sql);
		return r;
	}
	sql_not_open(&q->sql);
	r = add_equal(q, p, m->type, v);
	sql_not_close(&q->sql);
	return r;
}

/* Is the object an operator object ({"$gt": 1}), a plain value ({"a": 1}),
 * or a mix of both (refused)? */
struct op_scan {
	int ops, plain;
};

static int scan_member(struct query *q, const struct member *m, void *ctx)
{
	struct op_scan *sc = ctx;

	(void)q;
	if (m->key && m->key[0] == '$')
		sc->ops++;
	else
		sc->plain++;
	return 0;
}

/* One "field": condition member of the filter document. */
static int add_field(struct query *q, const struct member *m, void *ctx)
{
	struct sbuf operand = SBUF_INIT;
	struct op_scan sc = { 0, 0 };
	sqlite3_value *v;
	int r;

	(void)ctx;
	/* "$", "$.a", "$[0]": a JSON path, as find takes; "$or" and the like
	 * would be operators of a filter. */
	if (m->key[0] == '$' && m->key[1] && m->key[1] != '.' &&
	    m->key[1] != '[')
		return bad_filter(q,
				  "'%s' is not supported; fields are joined "
				  "by AND, write one member per field",
				  m->key);
	r = path_operand(q, m->key, &operand);
	if (r == 0 && !strcmp(m->type, "object"))
		r = each_member(q, m->val, scan_member, &sc);
	if (r == 0 && sc.ops && sc.plain)
		r = bad_filter(q,
			       "the object given for '%s' mixes operators and "
			       "plain members",
			       m->key);
	if (r == 0) {
		sql_and(&q->sql);
		sql_open(&q->sql);
		if (sc.ops) {
			r = each_member(q, m->val, add_operator, operand.buf);
		} else {
			v = sqlite3_value_dup(m->val);
			r = v || sqlite3_value_type(m->val) == SQLITE_NULL
				    ? add_equal(q, operand.buf, m->type, v)
				    : -ENOMEM;
		}
		sql_close(&q->sql);
	}
	sbuf_release(&operand);
	return r;
}

/* ---- running a query -------------------------------------------------- */

static int query_start(struct query *q, ags_store *s, const char *collection,
		       const char *what)
{
	struct collection_row col;
	int r;

	memset(q, 0, sizeof(*q));
	q->s = s;
	q->sql = (struct sbuf)SBUF_INIT;
	q->what = what;
	q->collection = collection;
	if (name_check_collection(collection) < 0)
		return store_fail(s, -EINVAL, "cannot %s: %s", what,
				  name_collection_rule);
	r = collection_find(s, collection, &col);
	if (r == -ENOENT)
		return store_fail(s, r, "cannot %s: no such collection '%s'",
				  what, collection);
	if (r < 0)
		return r;
	q->cid = col.cid;
	return sql_find_head(&q->sql, q->cid, true);
}

static int query_run(struct query *q, bool explain, const char *after,
		     size_t limit, ags_object_cb cb, void *ctx,
		     struct sbuf *plan)
{
	struct ags_object obj;
	struct sbuf text = SBUF_INIT;
	sqlite3_stmt *st = NULL;
	int pa, pl, rc, r, stop = 0;

	pa = param(q, after ? after : "", NULL);
	pl = param(q, NULL, NULL);
	if (pa < 0 || pl < 0)
		return -ENOMEM;
	sql_find_tail(&q->sql, pa, pl);
	if (explain)
		sql_explain(&text);
	sbuf_add(&text, q->sql.buf, q->sql.len);
	rc = sqlite3_prepare_v2(q->s->db, text.buf, -1, &st, NULL);
	sbuf_release(&text);
	if (rc != SQLITE_OK)
		return store_fail(q->s, -EINVAL, "cannot %s: %s", q->what,
				  sqlite3_errmsg(q->s->db));
	for (int i = 0; i < q->nb; i++) {
		if (q->b[i].text)
			sqlite3_bind_text(st, i + 1, q->b[i].text, -1,
					  SQLITE_STATIC);
		else if (q->b[i].val)
			sqlite3_bind_value(st, i + 1, q->b[i].val);
	}
	sqlite3_bind_int64(st, pl, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (explain) {
			sbuf_adds(plan,
				  (const char *)sqlite3_column_text(st, 3));
			sbuf_addch(plan, '\n');
			continue;
		}
		stop = object_row_read(q->s, st, q->collection, SIZE_MAX, &obj);
		if (stop)
			break;
		stop = cb(ctx, &obj);
		if (stop)
			break;
	}
	r = stop;
	if (!stop && rc != SQLITE_DONE) {
		/* a bad JSON path only shows when the query runs */
		if ((rc & 0xff) == SQLITE_ERROR)
			r = store_fail(q->s, -EINVAL, "cannot %s: %s", q->what,
				       sqlite3_errmsg(q->s->db));
		else
			r = store_sql_fail(q->s, rc, q->what);
	}
	sqlite3_finalize(st);
	return r;
}

static int find_build(struct query *q, ags_store *s, const char *collection,
		      const char *field, const char *value, size_t len,
		      struct sbuf *what)
{
	struct sbuf operand = SBUF_INIT;
	struct json_error e;
	sqlite3_stmt *st;
	sqlite3_value *v = NULL;
	struct sbuf type = SBUF_INIT, path = SBUF_INIT;
	int r;

	sbuf_addf(what, "find in %s", collection);
	r = query_start(q, s, collection, what->buf);
	if (r < 0)
		return r;
	if (json_check(value, len, &e) < 0)
		return store_fail(s, -EINVAL,
				  "cannot %s: the value is not JSON (line %u, "
				  "column %u: %s)",
				  what->buf, e.line, e.column, e.reason);
	r = path_operand(q, field, &operand);
	if (r == 0)
		r = store_stmt(s, SQL_VALUE_OF, &st);
	if (r < 0) {
		sbuf_release(&operand);
		return r;
	}
	sqlite3_bind_text(st, 1, value, (int)len, SQLITE_STATIC);
	query_field_path(&path, field);
	sqlite3_bind_text(st, 2, path.buf, (int)path.len, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		v = sqlite3_value_dup(sqlite3_column_value(st, 0));
		sbuf_reset(&type);
		sbuf_adds(&type, (const char *)sqlite3_column_text(st, 1));
		r = 0;
	} else {
		r = store_fail(s, -EINVAL, "cannot %s: invalid field '%s': %s",
			       what->buf, field, sqlite3_errmsg(s->db));
	}
	sqlite3_reset(st);
	if (r == 0) {
		sql_and(&q->sql);
		sql_open(&q->sql);
		r = add_equal(q, operand.buf, type.buf, v);
		sql_close(&q->sql);
	}
	sbuf_release(&type);
	sbuf_release(&path);
	sbuf_release(&operand);
	return r;
}

int ags_query_find(ags_store *s, const char *collection, const char *field,
		   const char *value, size_t len, const char *after,
		   size_t limit, ags_object_cb cb, void *ctx)
{
	struct sbuf what = SBUF_INIT;
	struct query q;
	int r;

	r = find_build(&q, s, collection, field, value, len, &what);
	if (r == 0)
		r = query_run(&q, false, after, limit, cb, ctx, NULL);
	query_release(&q);
	sbuf_release(&what);
	return r;
}

int query_explain_find(ags_store *s, const char *collection, const char *field,
		       const char *value, size_t len, struct sbuf *out)
{
	struct sbuf what = SBUF_INIT;
	struct query q;
	int r;

	r = find_build(&q, s, collection, field, value, len, &what);
	if (r == 0)
		r = query_run(&q, true, NULL, 0, NULL, NULL, out);
	query_release(&q);
	sbuf_release(&what);
	return r;
}

int ags_query_filter(ags_store *s, const char *collection, const char *filter,
		     size_t len, const char *after, size_t limit,
		     ags_object_cb cb, void *ctx)
{
	struct sbuf what = SBUF_INIT;
	struct json_error e;
	sqlite3_value *doc = NULL;
	sqlite3_stmt *st;
	struct query q;
	size_t i = 0;
	int r;

	sbuf_addf(&what, "query %s", collection);
	r = query_start(&q, s, collection, what.buf);
	if (r == 0 && json_check(filter, len, &e) < 0)
		r = store_fail(s, -EINVAL,
			       "cannot %s: the filter is not JSON (line %u, "
			       "column %u: %s)",
			       what.buf, e.line, e.column, e.reason);
	while (r == 0 && i < len && isspace((unsigned char)filter[i]))
		i++;
	if (r == 0 && filter[i] != '{')
		r = store_fail(s, -EINVAL,
			       "cannot %s: the filter must be a JSON object "
			       "such as {\"age\": {\"$gte\": 18}}",
			       what.buf);
	if (r == 0)
		r = store_stmt(s, SQL_VALUE_OF, &st);
	if (r == 0) {
		/* the document as an SQL value json_each() can take */
		sqlite3_bind_text(st, 1, filter, (int)len, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, "$", 1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			doc = sqlite3_value_dup(sqlite3_column_value(st, 0));
		sqlite3_reset(st);
		r = doc ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = each_member(&q, doc, add_field, NULL);
	if (r == 0)
		r = query_run(&q, false, after, limit, cb, ctx, NULL);
	sqlite3_value_free(doc);
	query_release(&q);
	sbuf_release(&what);
	return r;
}

int ags_index_create(ags_store *s, const char *collection, const char *field)
{
	struct collection_row col;
	struct sbuf path = SBUF_INIT, name = SBUF_INIT, ddl = SBUF_INIT;
	sqlite3_stmt *st;
	char *msg = NULL;
	int r;
	const char *what =
		store_what(s, "create an index", "index %s", collection);

	if (name_check_collection(collection) < 0)
		return store_fail(s, -EINVAL, "cannot index %s: %s", collection,
				  name_collection_rule);
	if (query_field_path(&path, field) < 0) {
		sbuf_release(&path);
		return store_fail(s, -EINVAL,
				  "cannot index %s: invalid field '%s'; write "
				  "a dotted path or a JSON path",
				  collection, field);
	}
	r = store_txn_begin(s, what);
	if (r < 0)
		goto done;
	r = collection_find(s, collection, &col);
	if (r == -ENOENT)
		r = store_fail(s, r, "cannot index %s: no such collection",
			       collection);
	if (r == 0)
		r = store_stmt(s, SQL_INDEX_BY_FIELD, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, col.cid);
		sqlite3_bind_text(st, 2, path.buf, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r == SQLITE_ROW) { /* already indexed: nothing to do */
			r = store_txn_end(s, 0, what);
			goto done;
		}
		r = r == SQLITE_DONE ? store_stmt(s, SQL_INDEX_NEXT, &st)
				     : store_sql_fail(s, r, what);
	}
	if (r == 0) {
		sqlite3_step(st);
		sbuf_addf(&name, "ags_field_%lld",
			  (long long)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		sql_index_ddl(&ddl, name.buf, col.cid, path.buf);
		if (sqlite3_exec(s->db, ddl.buf, NULL, NULL, &msg) != SQLITE_OK)
			r = store_fail(s, -EINVAL,
				       "cannot index %s on '%s': %s",
				       collection, field, msg);
		sqlite3_free(msg);
	}
	if (r == 0)
		r = store_stmt(s, SQL_INDEX_INSERT, &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, col.cid);
		sqlite3_bind_text(st, 2, path.buf, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name.buf, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		r = r == SQLITE_DONE ? 0
				     : store_sql_fail(s, r, "record the index");
	}
	r = store_txn_end(s, r, what);
done:
	sbuf_release(&path);
	sbuf_release(&name);
	sbuf_release(&ddl);
	return r;
}
