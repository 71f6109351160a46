/* test-query.c: find with AEA's equality, filter documents, and indexes
 * that the query planner really uses. */
#include <errno.h>

#include "fixture.h"
#include "query-int.h"
#include "tap.h"

static ags_store *s;

static int ids_cb(void *ctx, const struct ags_object *o)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s,", o->id);
	return 0;
}

static void find_is(const char *field, const char *value, const char *want)
{
	struct sbuf out = SBUF_INIT;
	int r = ags_query_find(s, "people", field, value, strlen(value), NULL,
			       0, ids_cb, &out);

	if (r < 0)
		sbuf_addf(&out, "error %d: %s", r, ags_errmsg(s));
	is_str(out.buf, want, "find %s = %s", field, value);
	sbuf_release(&out);
}

static void filter_is(const char *filter, const char *want)
{
	struct sbuf out = SBUF_INIT;
	int r = ags_query_filter(s, "people", filter, strlen(filter), NULL, 0,
				 ids_cb, &out);

	if (r < 0)
		sbuf_addf(&out, "error %d", r);
	is_str(out.buf, want, "filter %s", filter);
	sbuf_release(&out);
}

static void filter_refused(const char *filter, const char *needle)
{
	struct sbuf out = SBUF_INIT;
	int r = ags_query_filter(s, "people", filter, strlen(filter), NULL, 0,
				 ids_cb, &out);

	is_int(r, -EINVAL, "filter %s is refused", filter);
	ok(strstr(ags_errmsg(s), needle), "message: %s", ags_errmsg(s));
	sbuf_release(&out);
}

static void setup(void)
{
	static const char *const rows[][2] = {
		{ "a",
		  "{\"age\": 30, \"role\": \"admin\", \"flag\": true,"
		  " \"d\": {\"opponent_addr\": \"x1\"}, \"tags\": [1, 2]}" },
		{ "b", "{\"age\": 12, \"role\": \"user\", \"flag\": 1,"
		       " \"d\": {\"opponent_addr\": \"x2\"}, \"n\": null}" },
		{ "c",
		  "{\"age\": \"12\", \"role\": \"user\", \"flag\": false}" },
		{ "d", "{\"age\": 12.0, \"role\": \"admin\", \"n\": null,"
		       " \"odd key\": 5}" },
		{ "e", "{\"age\": 18, \"obj\": {\"k\": [1, 2]}}" },
	};

	ags_collection_create(s, "people");
	for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++)
		ags_object_put(s, NULL, "people", rows[i][0], rows[i][1],
			       strlen(rows[i][1]), 0);
}

static void test_find(void)
{
	find_is("age", "12", "b,d,");
	find_is("age", "12.0", "b,d,");
	find_is("age", "\"12\"", "c,");
	find_is("flag", "true", "a,");
	find_is("flag", "1", "b,");
	find_is("flag", "false", "c,");
	find_is("n", "null", "b,d,");
	find_is("d.opponent_addr", "\"x2\"", "b,");
	find_is("$.d.opponent_addr", "\"x1\"", "a,");
	find_is("tags.1", "2", "a,");
	find_is("$.tags[0]", "1", "a,");
	find_is("odd key", "5", "d,");
	find_is("obj", "{\"k\": [1, 2]}", "e,");
	find_is("missing", "null", "");

	struct sbuf out = SBUF_INIT;
	is_int(ags_query_find(s, "people", "age", "12", 2, "b", 0, ids_cb,
			      &out),
	       0, "find after a cursor");
	is_str(out.buf, "d,", "starts past it");
	sbuf_reset(&out);
	ags_query_find(s, "people", "role", "\"user\"", 6, NULL, 1, ids_cb,
		       &out);
	is_str(out.buf, "b,", "find with a limit");
	is_int(ags_query_find(s, "people", "age", "12,", 3, NULL, 0, ids_cb,
			      &out),
	       -EINVAL, "a value that is not JSON is refused");
	is_int(ags_query_find(s, "people", "$.[", "1", 1, NULL, 0, ids_cb,
			      &out),
	       -EINVAL, "a bad JSON path is refused");
	ok(strstr(ags_errmsg(s), "$.["), "message: %s", ags_errmsg(s));
	is_int(ags_query_find(s, "people", "a..b", "1", 1, NULL, 0, ids_cb,
			      &out),
	       -EINVAL, "an empty path segment is refused");
	is_int(ags_query_find(s, "nobody", "a", "1", 1, NULL, 0, ids_cb, &out),
	       -ENOENT, "a missing collection is ENOENT");
	sbuf_release(&out);
}

/* Objects and arrays compare by value, members in order: how a member's
 * number or string is spelled does not matter. */
static void test_containers(void)
{
	static const char body[] = "{\"obj\": {\"k\": [1.0, 2e0]}, "
				   "\"tags\": [\"\\u00e9\", \"\\n\"], "
				   "\"s\": \"{\\\"k\\\": 1}\"}";
	static const char in[] = "{\"obj\": {\"$in\": [{\"k\": [1, 2]}]}}";
	struct sbuf out = SBUF_INIT;
	static const char *const cases[][3] = {
		{ "obj", "{\"k\": [1, 2]}", "t," },
		{ "obj", "{\"k\":[1.0,2]}", "t," },
		{ "obj", "{\"k\": [2, 1]}", "" },
		{ "tags", "[\"\u00e9\", \"\\u000a\"]", "t," },
		/* a string holding JSON is a string */
		{ "s", "{\"k\": 1}", "" },
		{ "s", "\"{\\\"k\\\": 1}\"", "t," },
	};

	ags_collection_create(s, "things");
	ags_object_put(s, NULL, "things", "t", body, strlen(body), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sbuf_reset(&out);
		ags_query_find(s, "things", cases[i][0], cases[i][1],
			       strlen(cases[i][1]), NULL, 0, ids_cb, &out);
		is_str(out.buf, cases[i][2], "find %s = %s", cases[i][0],
		       cases[i][1]);
	}
	sbuf_reset(&out);
	ags_query_filter(s, "things", in, strlen(in), NULL, 0, ids_cb, &out);
	is_str(out.buf, "t,", "$in compares containers by value too");
	sbuf_release(&out);
}

static void test_filter(void)
{
	filter_is("{\"age\": {\"$gte\": 18}, \"role\": \"admin\"}", "a,");
	filter_is("{\"age\": {\"$gt\": 12}}", "a,e,");
	filter_is("{\"age\": {\"$lt\": 18, \"$gte\": 12}}", "b,d,");
	filter_is("{\"age\": {\"$lte\": 12}}", "b,d,");
	filter_is("{\"age\": {\"$gte\": \"1\"}}", "c,");
	filter_is("{\"role\": {\"$ne\": \"admin\"}}", "b,c,e,");
	filter_is("{\"role\": {\"$eq\": \"admin\"}}", "a,d,");
	filter_is("{\"age\": {\"$in\": [30, \"12\"]}}", "a,c,");
	filter_is("{\"age\": {\"$in\": []}}", "");
	filter_is("{\"age\": {\"$nin\": [12, 18]}}", "a,c,");
	filter_is("{\"n\": {\"$exists\": true}}", "b,d,");
	filter_is("{\"n\": {\"$exists\": false}}", "a,c,e,");
	filter_is("{\"flag\": true}", "a,");
	filter_is("{\"d.opponent_addr\": \"x1\"}", "a,");
	filter_is("{\"obj\": {\"k\": [1, 2]}}", "e,");
	filter_is("{}", "a,b,c,d,e,");
	filter_refused("{\"age\": {\"$regex\": \"x\"}}", "unknown operator");
	filter_refused("{\"age\": {\"$gt\": 1, \"x\": 2}}", "mixes");
	filter_refused("{\"$or\": []}", "not supported");
	filter_refused("{\"age\": {\"$in\": 3}}", "array");
	filter_refused("{\"age\": {\"$gt\": true}}", "number or a string");
	filter_refused("{\"age\": {\"$exists\": 1}}", "true or false");
	filter_refused("[1]", "JSON object");
	filter_refused("{\"a\": 1,}", "line 1, column 9");
}

static void test_index(void)
{
	struct sbuf plan = SBUF_INIT;

	query_explain_find(s, "people", "age", "12", 2, &plan);
	ok(!strstr(plan.buf, "ags_field_"), "without an index: %s", plan.buf);
	sbuf_reset(&plan);
	is_int(ags_index_create(s, "people", "age"), 0, "index a field");
	is_int(ags_index_create(s, "people", "age"), 0, "again: idempotent");
	query_explain_find(s, "people", "age", "12", 2, &plan);
	ok(strstr(plan.buf, "USING INDEX ags_field_"),
	   "find on the field uses the index: %s", plan.buf);
	sbuf_reset(&plan);
	query_explain_find(s, "people", "role", "1", 1, &plan);
	ok(!strstr(plan.buf, "ags_field_"), "another field does not: %s",
	   plan.buf);
	sbuf_release(&plan);
	find_is("age", "12", "b,d,");
	find_is("age", "\"12\"", "c,");
	filter_is("{\"age\": {\"$gt\": 12}}", "a,e,");
	ags_object_put(s, NULL, "people", "f", "{\"age\": 12}", 11, 0);
	find_is("age", "12", "b,d,f,");
	is_int(ags_index_create(s, "people", "x'); DROP TABLE objects; --"), 0,
	       "a hostile path is only ever a quoted string");
	find_is("age", "12", "b,d,f,");
	is_int(ags_index_create(s, "nobody", "age"), -ENOENT,
	       "indexing a missing collection is ENOENT");
	is_int(ags_collection_drop(s, "people", true), 0,
	       "dropping the collection drops its indexes");
}

static void test_paths(void)
{
	struct sbuf p = SBUF_INIT;

	query_field_path(&p, "a.b.0");
	is_str(p.buf, "$.a.b[0]", "dotted path with an index");
	sbuf_reset(&p);
	query_field_path(&p, "dialogue_label.opponent_addr");
	is_str(p.buf, "$.dialogue_label.opponent_addr", "AEA's dotted path");
	sbuf_reset(&p);
	query_field_path(&p, "odd key.x-y");
	is_str(p.buf, "$.\"odd key\".\"x-y\"", "odd keys are quoted");
	sbuf_reset(&p);
	is_int(query_field_path(&p, "a\"b"), -EINVAL,
	       "a quote in a dotted key is refused");
	sbuf_release(&p);
}

int main(void)
{
	s = fixture_open();
	setup();
	test_paths();
	test_find();
	test_containers();
	test_filter();
	test_index();
	ags_store_close(s);
	return done_testing();
}
