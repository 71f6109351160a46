/* test-snapshot.c: export (pretty and raw, incremental, deterministic,
 * touching nothing but object files), import (validated first, atomic, a
 * new version only where the value differs, prune, dry run), their round
 * trip, and exports of earlier states rebuilt from history. */
#include <errno.h>
#include <time.h>

#include "snap-fixture.h"
#include "tap.h"

static ags_store *s;

static int export_to(ags_store *st, const char *dir,
		     const struct ags_export_options *o,
		     struct ags_export_result *res)
{
	char *path = in_dir("%s", dir);
	int r = ags_snapshot_export(st, res, path, o);

	if (r < 0)
		printf("# export: %s\n", ags_errmsg(st));
	free(path);
	return r;
}

static void is_file(const char *rel, const char *want, const char *what)
{
	char *path = in_dir("%s", rel);
	char *got = slurp(path);

	is_str(got, want, "%s", what);
	free(got);
	free(path);
}

static void test_export(void)
{
	struct ags_export_result res;
	struct ags_export_options raw = { .raw = true };
	char *alice = in_dir("out/users/alice.json");
	int64_t before;

	ags_collection_create(s, "users");
	ags_collection_create(s, "notes");
	ags_collection_create(s, "empty");
	put_str(s, "users", "alice",
		"{\"name\":\"alice\",\"age\":30,"
		"\"tags\":[],\"n\":1e400}");
	put_str(s, "users", "bob", "[1,{\"a\":null}]");
	put_str(s, "users", ".hidden", "true");
	put_str(s, "notes", "a/b", "\"slash\"");
	put_str(s, "notes", "100%", "{}");

	is_int(export_to(s, "out", NULL, &res), 0, "export");
	is_int(res.objects, 5, "five objects exported");
	is_int(res.collections, 3, "three collections");
	is_int(res.written, 5, "five files written");
	is_int(res.seq, last_seq(s), "at the last seq");
	is_file("out/users/alice.json",
		"{\n  \"name\": \"alice\",\n  \"age\": 30,\n  \"tags\": [],\n"
		"  \"n\": 1e400\n}\n",
		"the canonical pretty form, spelling kept");
	is_file("out/users/bob.json", "[\n  1,\n  {\n    \"a\": null\n  }\n]\n",
		"arrays too");
	is_file("out/users/%2Ehidden.json", "true\n",
		"a leading dot is encoded as the mount does");
	is_file("out/notes/a%2Fb.json", "\"slash\"\n", "so is a slash");
	is_file("out/notes/100%25.json", "{}\n", "and a percent sign");
	ok(sh("test -d out/empty") == 0, "an empty collection is a directory");
	is_file("out/.agentstate-export.json",
		"{\n  \"format\": 1,\n  \"seq\": 8,\n  \"form\": \"pretty\",\n"
		"  \"collections\": {\n    \"empty\": 0,\n    \"notes\": 2,\n"
		"    \"users\": 3\n  },\n  \"objects\": 5\n}\n",
		"the manifest names the seq, without any time");

	/* incremental: nothing changes, nothing is written */
	sh("touch -d 2001-01-01 out/users/alice.json "
	   "out/.agentstate-export.json");
	before = mtime_ns(alice);
	is_int(export_to(s, "out", NULL, &res), 0, "export again");
	is_int(res.written, 0, "no file written when nothing changed");
	is_int(mtime_ns(alice), before, "the file keeps its mtime");
	is_int(mtime_ns(free_later(in_dir("out/.agentstate-export.json"))),
	       before, "so does the manifest");

	/* only what changed is written; what is gone is removed */
	put_str(s, "users", "alice", "{\"name\":\"alice\",\"age\":31}");
	ags_object_remove(s, "users", "bob", AGS_VERSION_ANY);
	sh("mkdir -p out/.git && echo hi > out/README && echo x > "
	   "out/users/alice.json~ && echo y > out/users/notes.txt && "
	   "echo '{}' > out/users/a%%41.json && mkdir out/users/sub");
	is_int(export_to(s, "out", NULL, &res), 0, "export after changes");
	is_int(res.written, 1, "one file written");
	is_int(res.removed, 1, "one file removed");
	ok(!exists(free_later(in_dir("out/users/bob.json"))),
	   "the removed object's file is gone");
	ok(sh("test -d out/.git && test -f out/README && test -f "
	      "out/users/alice.json~ && test -f out/users/notes.txt && "
	      "test -f out/users/a%%41.json && test -d out/users/sub") == 0,
	   "other files are left alone");
	ok(mtime_ns(alice) != before, "the changed file was replaced");

	/* dropped collections */
	ags_collection_drop(s, "empty", false);
	ags_collection_drop(s, "notes", true);
	sh("mkdir -p out/stale && echo '[]' > out/stale/x.json && "
	   "echo keep > out/stale/keep.txt");
	is_int(export_to(s, "out", NULL, &res), 0, "export after drops");
	is_int(res.dirs_removed, 2, "two directories removed");
	ok(!exists(free_later(in_dir("out/notes"))),
	   "a dropped collection's directory is gone");
	ok(!exists(free_later(in_dir("out/stale/x.json"))) &&
		   exists(free_later(in_dir("out/stale/keep.txt"))),
	   "a directory with other files keeps them and stays");

	/* raw: the stored bytes */
	put_str(s, "users", "carol", " {\"x\" :1} ");
	is_int(export_to(s, "raw", &raw, &res), 0, "raw export");
	is_file("raw/users/carol.json", " {\"x\" :1} ", "the stored bytes");

	/* files changed behind its back are put right */
	sh("printf 'x' > out/users/alice.json && "
	   "printf '{\n  \"x\": 2\n}\n' > out/users/carol.json && "
	   "cat out/users/%%2Ehidden.json out/users/%%2Ehidden.json > t && "
	   "mv t out/users/%%2Ehidden.json");
	is_int(export_to(s, "out", NULL, &res), 0, "export over edited files");
	is_int(res.written, 3,
	       "shorter, same-size and longer files are all rewritten");
	is_file("out/users/carol.json", "{\n  \"x\": 1\n}\n",
		"same size, other bytes: rewritten");
	is_file("out/users/%2Ehidden.json", "true\n", "longer: rewritten");

	/* stale temporary files of a killed export go */
	sh("echo part > out/users/.agentstate-tmp.1.1");
	export_to(s, "out", NULL, &res);
	ok(!exists(free_later(in_dir("out/users/.agentstate-tmp.1.1"))),
	   "leftovers of a killed export are removed");
	free(alice);
}

static void test_filter(void)
{
	const char *only_users[] = { "users", NULL };
	const char *missing[] = { "nope", NULL };
	struct ags_export_options o = { .collections = only_users };
	struct ags_export_result res;

	ags_collection_create(s, "other");
	put_str(s, "other", "o", "1");
	is_int(export_to(s, "filtered", &o, &res), 0, "export one collection");
	ok(exists(free_later(in_dir("filtered/users/alice.json"))) &&
		   !exists(free_later(in_dir("filtered/other"))),
	   "only that collection is written");
	sh("mkdir -p filtered/zzz && echo 1 > filtered/zzz/a.json");
	export_to(s, "filtered", &o, &res);
	ok(exists(free_later(in_dir("filtered/zzz/a.json"))),
	   "other collection directories are not touched then");
	o.collections = missing;
	is_int(export_to(s, "filtered", &o, &res), -ENOENT,
	       "a missing collection is ENOENT");
	ok(strstr(ags_errmsg(s), "nope"), "message: %s", ags_errmsg(s));
}

static int import_from(ags_store *st, const char *dir,
		       const struct ags_import_options *o,
		       struct ags_import_result *res)
{
	char *path = in_dir("%s", dir);
	int r = ags_snapshot_import(st, res, path, o);

	free(path);
	return r;
}

static void lines_cb(void *ctx, const char *line)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s|", line);
}

static int origin_cb(void *ctx, const struct ags_audit_row *row)
{
	struct sbuf *out = ctx;

	sbuf_addf(out, "%s:%s,", row->op, row->origin);
	return 0;
}

static void test_round_trip(void)
{
	struct ags_import_result ir;
	struct ags_export_result er;
	ags_store *t = open_other("copy.db");

	sh("rm -rf rt1 rt2");
	is_int(export_to(s, "rt1", NULL, &er), 0, "export the store");
	is_int(import_from(t, "rt1", NULL, &ir), 0,
	       "import it into an empty store");
	is_int(ir.created, er.objects, "every object created");
	is_int(ir.collections_created, er.collections,
	       "every collection created");
	is_int(export_to(t, "rt2", NULL, &er), 0, "export the copy");
	is_int(sh("diff -r -x .agentstate-export.json rt1 rt2"), 0,
	       "the two trees are byte-identical");
	is_int(import_from(t, "rt1", NULL, &ir), 0, "import again");
	is_int(ir.unchanged, er.objects, "nothing changed the second time");
	ags_store_close(t);
}

static void test_import(void)
{
	struct sbuf changes = SBUF_INIT, bad = SBUF_INIT, rows = SBUF_INIT;
	struct ags_import_options o = { .change = lines_cb, .ctx = &changes };
	struct ags_import_result ir;
	struct ags_audit_filter f = { 0 };
	struct ags_object obj;
	ags_store *t = open_other("imp.db");
	int64_t seq;
	char *b;

	sh("rm -rf in && mkdir -p in/a in/b in/.git in/-x && "
	   "printf '{\"k\": 1}' > in/a/one.json && "
	   "printf '[1, 2]' > in/a/two.json && "
	   "printf 'junk' > in/a/two.json~ && echo 1 > in/README && "
	   "echo '{}' > in/.git/x.json && echo '{}' > in/-x/y.json");
	is_int(import_from(t, "in", &o, &ir), 0, "import a tree");
	is_str(changes.buf,
	       "mkcol a|create a/one.json|create a/two.json|mkcol b|",
	       "collections and objects are created, other files ignored");
	b = body_of(t, "a", "one");
	is_str(b, "{\"k\": 1}", "the body is the file's bytes");
	free(b);

	/* the same value written differently is no change */
	sh("printf '{\\n  \"k\" :   1\\n}\\n' > in/a/one.json && "
	   "printf '[1, 3]' > in/a/two.json && printf '{}' > in/b/new.json");
	sbuf_reset(&changes);
	is_int(import_from(t, "in", &o, &ir), 0, "import changes");
	is_str(changes.buf, "update a/two.json|create b/new.json|",
	       "only a different value is an update");
	ags_object_get(t, "a", "one", 0, false, &obj);
	is_int(obj.version, 1, "white space alone makes no new version");
	f.after_seq = last_seq(t) - 2;
	ags_audit_list(t, &f, origin_cb, &rows);
	is_str(rows.buf, "update:import,create:import,",
	       "audited with origin import");

	/* dry run and prune */
	ags_collection_create(t, "gone");
	put_str(t, "gone", "g", "1");
	put_str(t, "a", "extra", "2");
	sh("rm in/a/two.json");
	seq = last_seq(t);
	o.prune = o.dry_run = true;
	sbuf_reset(&changes);
	is_int(import_from(t, "in", &o, &ir), 0, "a dry run with prune");
	is_str(changes.buf,
	       "remove a/extra.json|remove a/two.json|remove gone/g.json|"
	       "rmcol gone|",
	       "it names what would be removed");
	is_int(last_seq(t), seq, "and changes nothing");
	o.dry_run = false;
	is_int(import_from(t, "in", &o, &ir), 0, "prune");
	is_int(ir.removed, 3, "three objects removed");
	is_int(ir.collections_dropped, 1, "one collection dropped");
	ok(ags_collection_get(t, "gone", &(struct ags_collection){ 0 }) ==
		   -ENOENT,
	   "the collection is gone");

	/* invalid files: every one listed, nothing changed */
	sh("printf '{\"a\": 1,}' > in/a/bad1.json && "
	   "printf '{\\n  \"x\": tru\\n}' > in/b/bad2.json && "
	   "printf '[9]' > in/a/one.json");
	seq = last_seq(t);
	o = (struct ags_import_options){ .invalid = lines_cb, .ctx = &bad };
	is_int(import_from(t, "in", &o, &ir), -EINVAL,
	       "invalid files refuse the import");
	is_str(bad.buf,
	       "a/bad1.json: invalid JSON at line 1, column 9: trailing "
	       "comma|b/bad2.json: invalid JSON at line 2, column 11: "
	       "invalid literal|",
	       "each bad file with line and column");
	ok(strstr(ags_errmsg(t), "2 of 4 files are invalid"), "message: %s",
	   ags_errmsg(t));
	is_int(last_seq(t), seq, "nothing was written");
	b = body_of(t, "a", "one");
	is_str(b, "{\"k\": 1}", "not even the valid files");
	free(b);
	sbuf_release(&changes);
	sbuf_release(&bad);
	sbuf_release(&rows);
	ags_store_close(t);
}

/* ---- earlier states ---------------------------------------------------- */

static ags_store *u;
static int64_t marks[32];
static int64_t mark_time[32];
static int nmarks;

/* Export the live state now, to compare with its rebuild later. */
static void mark(void)
{
	struct ags_export_result res;
	struct timespec ts;
	char dir[32];

	snprintf(dir, sizeof(dir), "live-%d", nmarks);
	export_to(u, dir, NULL, &res);
	clock_gettime(CLOCK_REALTIME, &ts);
	mark_time[nmarks] = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	marks[nmarks++] = res.seq;
	/* rows of the next mark are strictly later than this time */
	usleep(2000);
}

static void test_at(void)
{
	struct ags_export_options o = { .at = AGS_AT_SEQ };
	struct ags_export_result res;
	char dir[32];
	int same = 0;

	u = open_other("at.db");
	mark(); /* the empty store */
	ags_collection_create(u, "a");
	ags_collection_create(u, "b");
	put_str(u, "a", "x", "{\"v\": 1}");
	put_str(u, "a", "y", "[1]");
	mark();
	put_str(u, "a", "x", "{\"v\": 2}");
	ags_object_rename(u, "a", "y", "b", "y2", 0);
	ags_audit_refusal(u, "update", "a", "x", 3, "invalid JSON");
	mark();
	put_str(u, "b", "z", "\"z\"");
	ags_object_rename(u, "b", "z", "b", "y2", AGS_RENAME_EXCHANGE);
	ags_object_revert(u, NULL, "a", "x", 1);
	ags_object_set_attr(u, "a", "x", &(struct ags_attr){ .mode = 0600 },
			    AGS_ATTR_MODE);
	mark();
	ags_collection_rename(u, "a", "c");
	ags_collection_create(u, "a");
	put_str(u, "a", "x", "\"new a\"");
	mark();
	ags_object_rename(u, "b", "z", "c", "x", 0); /* replaces c/x */
	ags_collection_drop(u, "b", true);
	ags_object_remove(u, "a", "x", AGS_VERSION_ANY);
	mark();
	ags_collection_rename(u, "c", "d");
	put_str(u, "d", "x", "{\"after\": true}");
	mark();

	for (int i = 0; i < nmarks; i++) {
		snprintf(dir, sizeof(dir), "past-%d", i);
		o.at_value = marks[i];
		if (export_to(u, dir, &o, &res) == 0 &&
		    sh("diff -r live-%d past-%d", i, i) == 0)
			same++;
		else
			printf("# seq %lld differs\n", (long long)marks[i]);
	}
	is_int(same, nmarks, "every earlier state is rebuilt exactly");

	/* an existing tree is brought back to the earlier state in place */
	o.at_value = marks[1];
	export_to(u, "past-6", &o, &res);
	is_int(sh("diff -r live-1 past-6"), 0,
	       "exporting an earlier state over a later tree");

	o = (struct ags_export_options){ .at = AGS_AT_TIME,
					 .at_value = mark_time[3] };
	is_int(export_to(u, "by-time", &o, &res), 0, "export at a time");
	is_int(res.seq, marks[3], "the time gives the seq then");
	is_int(sh("diff -r live-3 by-time"), 0, "and the same state");

	o = (struct ags_export_options){ .at = AGS_AT_SEQ,
					 .at_value = last_seq(u) + 1 };
	is_int(export_to(u, "future", &o, &res), -EINVAL,
	       "a seq past the newest is refused");
	ags_store_close(u);
}

static void test_at_pruned(void)
{
	struct ags_export_options o = { .at = AGS_AT_SEQ };
	struct ags_export_result res;
	ags_store *p = open_other("pruned.db");
	int64_t early;

	ags_store_set_retention(p, 1);
	ags_collection_create(p, "c");
	put_str(p, "c", "k", "1");
	early = last_seq(p);
	for (int i = 2; i <= 4; i++)
		put_str(p, "c", "k", i == 2 ? "2" : i == 3 ? "3" : "4");
	o.at_value = early;
	is_int(export_to(p, "pruned", &o, &res), -ENOENT,
	       "a pruned version needed by --at is ENOENT");
	ok(strstr(ags_errmsg(p), "version 1 of c/k is no longer kept"),
	   "message: %s", ags_errmsg(p));
	o.at_value = last_seq(p) - 1;
	is_int(export_to(p, "pruned", &o, &res), 0,
	       "a kept version can be exported");
	is_file("pruned/c/k.json", "3\n", "with its body");
	ags_store_close(p);
}

/* Enough files for many batches of the export's file thread, some of them
 * big, and a failure in the middle that must be reported by name. */
static void test_many_files(void)
{
	struct ags_export_result res;
	ags_store *m = open_other("many.db");
	struct sbuf big = SBUF_INIT;
	char id[16], want[64];
	int64_t seq;

	sbuf_addf(&big, "{\"pad\": \"%0*d\"}", 100000, 0);
	ags_collection_create(m, "bulk");
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "o%04d", i);
		if (i >= 100 && i < 120)
			put_str(m, "bulk", id, big.buf);
		else
			put_str(m, "bulk", id, "{\"a\":1}");
	}
	is_int(export_to(m, "bulk", NULL, &res), 0, "export 300 objects");
	is_int(res.written, 300, "300 files written");
	is_file("bulk/bulk/o0299.json", "{\n  \"a\": 1\n}\n", "the last one");
	ok(sh("test $(wc -c < bulk/bulk/o0119.json) -eq 100016") == 0,
	   "a big one, whole");
	is_int(export_to(m, "bulk", NULL, &res), 0, "export them again");
	is_int(res.written, 0, "nothing written the second time");

	seq = last_seq(m);
	put_str(m, "bulk", "o0250", "{\"a\":2}");
	sh("rm bulk/bulk/o0200.json && mkdir -p bulk/bulk/o0200.json/sub");
	is_int(export_to(m, "bulk", NULL, &res), -EISDIR,
	       "a directory in the way of a file fails the export");
	ok(strstr(ags_errmsg(m),
		  "cannot write bulk/o0200.json: Is a directory"),
	   "message names the file: %s", ags_errmsg(m));
	snprintf(want, sizeof(want), "\"seq\": %lld,", (long long)seq);
	ok(strstr(free_later(slurp(
			  free_later(in_dir("bulk/.agentstate-export.json")))),
		  want),
	   "the manifest still names the earlier seq");
	sh("rm -r bulk/bulk/o0200.json");
	is_int(export_to(m, "bulk", NULL, &res), 0, "export once it is gone");
	is_int(res.written, 2, "the missing file and the changed one");
	is_file("bulk/bulk/o0250.json", "{\n  \"a\": 2\n}\n",
		"the change is there");
	sbuf_release(&big);
	ags_store_close(m);
}

static int64_t vtime_of(ags_store *st, const char *c, const char *id)
{
	struct ags_object o;

	if (ags_object_get(st, c, id, AGS_VERSION_ANY, false, &o) < 0)
		return -1;
	return o.vtime_ns;
}

/* touch -d with the exact nanoseconds of @ns, on a path in the fixture. */
static int set_mtime(const char *rel, int64_t ns)
{
	return sh("touch -m -d @%lld.%09lld %s", (long long)(ns / 1000000000),
		  (long long)(ns % 1000000000), rel);
}

static bool manifest_has(const char *dir, const char *text)
{
	char *path = in_dir("%s/.agentstate-export.json", dir);
	char *m = slurp(path);
	bool has = m && strstr(m, text);

	free(m);
	free(path);
	return has;
}

/* A file written gets its object's version time; a later export takes a
 * file that still has it, and has not changed since the manifest was
 * written, as it is, and reads every other one. (That a trusted file is not
 * read shows only in the time it takes: bench-snapshot.) */
static void test_stamps(void)
{
	struct ags_export_result res;
	struct ags_export_options raw = { .raw = true },
				  verify = { .verify = true },
				  nosync = { .no_sync = true };
	const char *only_c[] = { "c", NULL };
	struct ags_export_options raw_c = { .raw = true,
					    .collections = only_c };
	ags_store *a = open_other("stamp-a.db"), *b = open_other("stamp-b.db");
	char *file = in_dir("st/c/k.json");

	ags_collection_create(a, "c");
	put_str(a, "c", "k", "{\"v\":1}");
	is_int(export_to(a, "st", NULL, &res), 0, "export");
	is_int(mtime_ns(file), vtime_of(a, "c", "k"),
	       "the file's mtime is the object's version time");
	is_int(export_to(a, "st", &verify, &res), 0, "export --verify");
	is_int(res.written, 0, "--verify of an unchanged tree writes nothing");

	/* setting the exact stamp again moves the ctime: read again */
	sh("printf '{\\n  \"v\": 9\\n}\\n' > st/c/k.json");
	set_mtime("st/c/k.json", vtime_of(a, "c", "k"));
	is_int(export_to(a, "st", NULL, &res), 0, "export over a reset stamp");
	is_int(res.written, 1, "the file is read and put right");
	is_file("st/c/k.json", "{\n  \"v\": 1\n}\n", "the stored body again");

	/* an edit moves the mtime: read, found different, rewritten */
	sh("printf '{\\n  \"v\": 8\\n}\\n' > st/c/k.json");
	is_int(export_to(a, "st", NULL, &res), 0, "export over an edit");
	is_int(res.written, 1, "the edited file is rewritten");

	/* an older file of the same object moved back into place */
	sh("cp -p st/c/k.json old.json");
	put_str(a, "c", "k", "{\"v\":2}");
	is_int(export_to(a, "st", NULL, &res), 0, "export version 2");
	sh("mv old.json st/c/k.json");
	is_int(export_to(a, "st", NULL, &res), 0, "export over the old file");
	is_int(res.written, 1, "an older version's stamp is not this one's");
	is_file("st/c/k.json", "{\n  \"v\": 2\n}\n", "version 2 again");

	/* the same version in the other form, copied with its times */
	is_int(export_to(a, "r2", &raw, &res), 0, "a raw export elsewhere");
	sh("cp -p r2/c/k.json st/c/k.json");
	is_int(export_to(a, "st", NULL, &res), 0, "export over the raw copy");
	is_int(res.written, 1, "a copy with the right stamp is read");
	is_file("st/c/k.json", "{\n  \"v\": 2\n}\n", "pretty again");

	/* another store with the same names, into the same DIR */
	ags_collection_create(b, "c");
	put_str(b, "c", "k", "{\"v\":3}");
	is_int(export_to(b, "st", NULL, &res), 0, "export another store");
	is_file("st/c/k.json", "{\n  \"v\": 3\n}\n", "its body");
	is_int(export_to(a, "st", NULL, &res), 0, "and the first again");
	is_file("st/c/k.json", "{\n  \"v\": 2\n}\n", "the first's body");

	/* a version time ahead of the clock (a clock stepped back) still
	 * moves on with the next version */
	sh("sqlite3 stamp-a.db \"UPDATE objects SET vtime = vtime + "
	   "3600000000000 WHERE id = 'k'\"");
	{
		int64_t ahead = vtime_of(a, "c", "k");

		put_str(a, "c", "k", "{\"v\":4}");
		ok(vtime_of(a, "c", "k") > ahead,
		   "a new version's time is after the last one's");
	}

	/* a raw export that fails halfway: the files it wrote changed after
	 * the manifest, so the next export reads them */
	put_str(a, "c", "z", "{\"z\":0}");
	is_int(export_to(a, "st", NULL, &res), 0, "export with c/z");
	sh("rm st/c/z.json && mkdir -p st/c/z.json/sub");
	is_int(export_to(a, "st", &raw, &res), -EISDIR,
	       "a raw export fails on c/z");
	is_file("st/c/k.json", "{\"v\":4}", "after writing c/k raw");
	ok(manifest_has("st", "\"form\": \"pretty\""),
	   "the manifest is the pretty export's");
	sh("rm -r st/c/z.json");
	is_int(export_to(a, "st", NULL, &res), 0, "a pretty export after it");
	is_file("st/c/k.json", "{\n  \"v\": 4\n}\n",
		"reads the raw file despite its stamp and rewrites it");

	/* a --collection export of the other form vouches for no form */
	ags_collection_create(a, "d");
	put_str(a, "d", "m", "{\"m\":1}");
	is_int(export_to(a, "st", NULL, &res), 0, "a pretty export of c and d");
	is_int(export_to(a, "st", &raw_c, &res), 0, "a raw export of c only");
	ok(manifest_has("st", "\"form\": \"mixed\""), "the tree is mixed");
	is_int(export_to(a, "st", &raw, &res), 0, "a raw export of all");
	is_file("st/d/m.json", "{\"m\":1}", "d is raw too");
	ok(manifest_has("st", "\"form\": \"raw\""), "the tree is raw");
	is_int(export_to(a, "st", NULL, &res), 0, "a pretty one");
	is_int(res.written, 3, "every file rewritten when the form changes");

	/* files a --no-sync export wrote are not trusted until flushed */
	put_str(a, "c", "k", "{\"v\":5}");
	is_int(export_to(a, "st", &nosync, &res), 0, "export --no-sync");
	ok(manifest_has("st", "\"synced\": false"), "the manifest says so");
	is_int(export_to(a, "st", NULL, &res), 0, "export");
	is_int(res.written, 0, "nothing to write");
	ok(!manifest_has("st", "\"synced\""), "and now they are flushed");

	/* a body spoiled behind the store's back (SQLite's json_valid allows
	 * duplicate names; the store does not) is named, not exported */
	sh("sqlite3 stamp-a.db \"UPDATE objects SET body = "
	   "'{\\\"z\\\":1,\\\"z\\\":2}' WHERE id = 'z'\"");
	is_int(export_to(a, "st", &verify, &res), -EIO,
	       "a stored body that is not JSON fails the export");
	ok(strstr(ags_errmsg(a), "c/z.json: its stored body is not valid JSON; "
				 "run agentstate check"),
	   "message: %s", ags_errmsg(a));
	is_file("st/c/z.json", "{\n  \"z\": 0\n}\n", "the file is untouched");
	free(file);
	ags_store_close(a);
	ags_store_close(b);
}

int main(void)
{
	s = fixture_open();
	test_export();
	test_filter();
	test_round_trip();
	test_import();
	test_at();
	test_at_pruned();
	test_many_files();
	test_stamps();
	ags_store_close(s);
	return done_testing();
}
