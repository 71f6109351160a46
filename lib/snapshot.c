/* snapshot.c: exporting the store as a tree of JSON files that git can
 * track: DIR/<collection>/<file name>.json in the canonical pretty form,
 * written incrementally (unchanged files keep their mtime) and atomically
 * (each file renamed into place), from one consistent state of the store. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fsutil-int.h"
#include "json-int.h"
#include "json-write-int.h"
#include "names-int.h"
#include "snapshot-files-int.h"
#include "snapshot-int.h"

struct col {
	char *name;
	int64_t count; /* objects, for the progress total */
};

struct exporter {
	ags_store *s;
	const struct ags_export_options *o;
	const char *path; /* DIR, for messages */
	struct ags_export_result res;
	int root; /* DIR */
	struct col *cols;
	size_t ncols;
	struct sbuf manifest; /* the "collections" members so far */
	struct file_writer files;
	bool had_manifest; /* DIR holds an earlier export's manifest */
	bool old_form_ok;  /* DIR's manifest names this form and format */
	bool old_unsynced; /* and says its files may not be flushed yet */
	uint64_t done, total;

	/* the collection being written */
	const char *col;
	int dir;
	struct fsu_names have; /* its entries before the export */
	uint64_t count;
	struct sbuf fname;
};

static int fs_fail(struct exporter *x, int err, const char *what,
		   const char *name)
{
	return store_fail(x->s, err,
			  "cannot export to %s: cannot %s %s%s%s: %s", x->path,
			  what, x->col ? x->col : "", x->col && name ? "/" : "",
			  name ? name : "", strerror(-err));
}

/* The file thread's failure, once it is idle. */
static int files_fail(struct exporter *x)
{
	const struct file_writer *w = &x->files;

	if (w->err == -EIO && !strcmp(w->err_what, "format"))
		return store_fail(x->s, -EIO,
				  "cannot export %s/%s: its stored body is "
				  "not valid JSON; run agentstate check",
				  x->col, w->err_name.buf);
	return fs_fail(x, w->err, w->err_what, w->err_name.buf);
}

/* A failure to queue a file: the thread's own, or memory. */
static int files_failed(struct exporter *x, int r)
{
	if (files_drain(&x->files) < 0)
		return files_fail(x);
	return store_fail(x->s, r, "cannot export: out of memory");
}

/* Leftovers of an export that was killed: never a user's file, since an
 * export is the only writer of this prefix. */
static bool is_tmp(const char *name)
{
	return !strncmp(name, FSU_TMP_PREFIX, sizeof(FSU_TMP_PREFIX) - 1);
}

static int open_collection_dir(struct exporter *x, const char *name)
{
	int fd;

	if (mkdirat(x->root, name, 0755) < 0 && errno != EEXIST)
		return fs_fail(x, -errno, "create directory", NULL);
	fd = openat(x->root, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fs_fail(x, -errno, "open directory", NULL);
	return fd;
}

/* Queue one object's file, to be written unless it already holds its
 * bytes; @stamp: the mtime to give it (its version time), or
 * FSU_MTIME_NOW. */
static int put_file(struct exporter *x, const char *id, const char *body,
		    size_t len, int64_t stamp)
{
	struct file_spec f = { .body = body, .len = len, .stamp = stamp };
	long i;
	int r;

	sbuf_reset(&x->fname);
	r = name_encode_file(&x->fname, id, strlen(id));
	if (r == 0 && x->fname.len > NAME_MAX)
		return store_fail(x->s, -ENAMETOOLONG,
				  "cannot export %s/%.32s...: its file name "
				  "would be %zu bytes, more than the %d a "
				  "file name may have ('%%', '/' and control "
				  "bytes take three each); give it a shorter "
				  "id, or export the other collections with "
				  "--collection",
				  x->col, id, x->fname.len, NAME_MAX);
	if (r < 0)
		return store_fail(x->s, r, "cannot export: out of memory");
	x->count++;
	i = fsu_find(&x->have, x->fname.buf);
	if (i >= 0)
		x->have.e[i].seen = true;
	f.name = x->fname.buf;
	f.exists = i >= 0;
	r = files_put(&x->files, x->dir, &f);
	return r < 0 ? files_failed(x, r) : 0;
}

static void progress(struct exporter *x)
{
	x->done++;
	if (x->o->progress)
		x->o->progress(x->o->ctx, x->done, x->total);
}

/* Every object of the collection begun, as it is now. */
static int export_objects(struct exporter *x)
{
	struct collection_row col;
	sqlite3_stmt *st;
	int rc, r = collection_find(x->s, x->col, &col);

	if (r == 0)
		r = store_stmt(x->s, SQL_OBJ_EXPORT, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, col.cid);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = put_file(x, (const char *)sqlite3_column_text(st, 0),
			     sqlite3_column_blob(st, 1),
			     (size_t)sqlite3_column_bytes(st, 1),
			     sqlite3_column_int64(st, 2));
		progress(x);
	}
	sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_fail(x->s, rc, "read the objects to export");
	return r;
}

/* Remove the object files of a directory that were not written now (and
 * the temporary files of a killed export); other files stay. */
static int sweep(struct exporter *x, int dir, const struct fsu_names *have,
		 uint64_t *removed)
{
	for (size_t i = 0; i < have->n; i++) {
		const struct fsu_entry *e = &have->e[i];
		bool tmp = is_tmp(e->name);

		if (e->seen || e->type != DT_REG)
			continue;
		if (!tmp && !name_is_object_file(e->name))
			continue;
		if (unlinkat(dir, e->name, 0) < 0 && errno != ENOENT)
			return fs_fail(x, -errno, "remove", e->name);
		if (!tmp)
			++*removed;
	}
	return 0;
}

static int manifest_add(struct exporter *x)
{
	int r = 0;

	if (x->manifest.len)
		r = sbuf_adds(&x->manifest, ", ");
	if (r == 0)
		r = json_add_string(&x->manifest, x->col, strlen(x->col));
	if (r == 0)
		r = sbuf_addf(&x->manifest, ": %llu",
			      (unsigned long long)x->count);
	return r < 0 ? store_fail(x->s, r, "cannot export: out of memory") : 0;
}

static int begin_collection(struct exporter *x, const char *name)
{
	int r;

	x->col = name;
	x->count = 0;
	x->dir = open_collection_dir(x, name);
	if (x->dir < 0)
		return x->dir;
	r = fsu_list(x->dir, &x->have);
	if (r < 0) {
		close(x->dir);
		x->dir = -1;
		return fs_fail(x, r, "list directory", NULL);
	}
	return 0;
}

static int end_collection(struct exporter *x, int r)
{
	/* Every file written before the directory closes. */
	int err = files_drain(&x->files);

	if (r == 0 && err < 0)
		r = files_fail(x);
	x->res.written = x->files.written;
	if (r == 0)
		r = sweep(x, x->dir, &x->have, &x->res.removed);
	if (r == 0)
		r = manifest_add(x);
	fsu_names_release(&x->have);
	close(x->dir);
	x->dir = -1;
	x->res.collections++;
	x->res.objects += x->count;
	x->col = NULL;
	return r;
}

bool snap_named(const char *const *names, const char *name)
{
	if (!names)
		return true;
	for (const char *const *c = names; *c; c++)
		if (!strcmp(*c, name))
			return true;
	return false;
}

/* Each named collection must exist (in the state being exported). */
static int check_named(struct exporter *x, const char *const *names, size_t n,
		       const char *when)
{
	if (!x->o->collections)
		return 0;
	for (const char *const *c = x->o->collections; *c; c++) {
		bool found = false;

		if (name_check_collection(*c) < 0)
			return store_fail(x->s, -EINVAL,
					  "cannot export collection '%s': %s",
					  *c, name_collection_rule);
		for (size_t i = 0; i < n && !found; i++)
			found = !strcmp(names[i], *c);
		if (!found)
			return store_fail(x->s, -ENOENT,
					  "cannot export collection '%s': no "
					  "such collection%s",
					  *c, when);
	}
	return 0;
}

static int add_col(struct exporter *x, const char *name, int64_t count)
{
	struct col *nc = realloc(x->cols, (x->ncols + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	x->cols = nc;
	nc[x->ncols].name = strdup(name);
	if (!nc[x->ncols].name)
		return -ENOMEM;
	nc[x->ncols++].count = count;
	x->total += (uint64_t)count;
	return 0;
}

static int col_cb(void *ctx, const struct ags_collection *c)
{
	struct exporter *x = ctx;

	return snap_named(x->o->collections, c->name)
		       ? add_col(x, c->name, c->count)
		       : 0;
}

static int export_now(struct exporter *x)
{
	const char **names;
	int r = ags_collection_list(x->s, NULL, 0, col_cb, x);

	if (r == -ENOMEM)
		return store_fail(x->s, r, "cannot export: out of memory");
	if (r < 0)
		return r;
	names = calloc(x->ncols + 1, sizeof(*names));
	if (!names)
		return store_fail(x->s, -ENOMEM,
				  "cannot export: out of memory");
	for (size_t i = 0; i < x->ncols; i++)
		names[i] = x->cols[i].name;
	r = check_named(x, names, x->ncols, "");
	free(names);
	for (size_t i = 0; r == 0 && i < x->ncols; i++) {
		r = begin_collection(x, x->cols[i].name);
		if (r < 0)
			break;
		r = export_objects(x);
		r = end_collection(x, r);
	}
	return r;
}

static int export_at(struct exporter *x, int64_t seq)
{
	struct snap_state st;
	struct sbuf body = SBUF_INIT;
	struct sbuf when = SBUF_INIT;
	size_t i, j;
	int r = snap_state_load(x->s, seq, &st);

	if (r < 0)
		return r;
	sbuf_addf(&when, " at seq %lld", (long long)seq);
	r = check_named(x, (const char *const *)st.collections, st.ncollections,
			when.buf);
	sbuf_release(&when);
	/* Objects are sorted by collection: walk both lists together. */
	for (i = 0, j = 0; r == 0 && i < st.ncollections; i++) {
		const char *c = st.collections[i];
		int64_t n = 0;

		for (; j < st.nobjects && st.objects[j].collection == c; j++)
			n++;
		if (snap_named(x->o->collections, c) && add_col(x, c, n) < 0)
			r = store_fail(x->s, -ENOMEM,
				       "cannot export: out of memory");
	}
	for (i = 0, j = 0; r == 0 && i < st.ncollections; i++) {
		const char *c = st.collections[i];

		if (!snap_named(x->o->collections, c)) {
			while (j < st.nobjects && st.objects[j].collection == c)
				j++;
			continue;
		}
		r = begin_collection(x, c);
		if (r < 0)
			break;
		for (;
		     r == 0 && j < st.nobjects && st.objects[j].collection == c;
		     j++) {
			sbuf_reset(&body);
			r = snap_body_at(x->s, &st, &st.objects[j], &body);
			if (r == 0)
				r = put_file(x, st.objects[j].id, body.buf,
					     body.len, FSU_MTIME_NOW);
			progress(x);
		}
		r = end_collection(x, r);
	}
	sbuf_release(&body);
	snap_state_release(&st);
	return r;
}

static int exported(const struct exporter *x, const char *name)
{
	for (size_t i = 0; i < x->ncols; i++)
		if (!strcmp(x->cols[i].name, name))
			return 1;
	return 0;
}

/* Directories of collections that are gone: their object files go, and
 * the directory too once nothing else is left in it. */
static int sweep_top(struct exporter *x, const struct fsu_names *top)
{
	for (size_t i = 0; i < top->n; i++) {
		const struct fsu_entry *e = &top->e[i];
		struct fsu_names have = { 0 };
		uint64_t removed = 0;
		int dir, r;

		if (e->type != DT_DIR || name_check_collection(e->name) < 0 ||
		    exported(x, e->name))
			continue;
		x->col = e->name;
		dir = openat(x->root, e->name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir < 0)
			return fs_fail(x, -errno, "open directory", NULL);
		r = fsu_list(dir, &have);
		if (r == 0)
			r = sweep(x, dir, &have, &removed);
		fsu_names_release(&have);
		close(dir);
		x->res.removed += removed;
		if (r < 0)
			return r;
		if (unlinkat(x->root, e->name, AT_REMOVEDIR) == 0)
			x->res.dirs_removed++;
		else if (errno != ENOTEMPTY && errno != EEXIST)
			return fs_fail(x, -errno, "remove directory", NULL);
		x->col = NULL;
	}
	return 0;
}

static bool changed(const struct exporter *x)
{
	return x->res.written || x->res.removed || x->res.dirs_removed;
}

/* DIR/.agentstate-export.json: what the tree reflects, without times, so
 * an export of an unchanged store leaves it untouched. */
static int write_manifest(struct exporter *x)
{
	struct sbuf compact = SBUF_INIT, pretty = SBUF_INIT;
	/* A --collection export vouches only for its collections: where the
	 * others may be of another form, the tree is "mixed" (nothing is
	 * trusted) until a full export. */
	const char *form = x->o->collections && !x->old_form_ok ? "mixed"
			   : x->o->raw				? "raw"
								: "pretty";
	bool unsynced = x->o->no_sync && (changed(x) || x->old_unsynced);
	int r;

	r = sbuf_addf(&compact,
		      "{\"format\": %d, \"seq\": %lld, \"form\": \"%s\", "
		      "%s%s\"collections\": {%s}, \"objects\": %llu}",
		      SNAP_FORMAT, (long long)x->res.seq, form,
		      x->o->collections ? "\"partial\": true, " : "",
		      unsynced ? "\"synced\": false, " : "", x->manifest.buf,
		      (unsigned long long)x->res.objects);
	if (r == 0)
		r = json_pretty(&pretty, compact.buf, compact.len);
	if (r < 0) {
		r = store_fail(x->s, r, "cannot export: out of memory");
	} else {
		/* Rewritten also when files changed: its ctime then follows
		 * theirs, and they can be trusted next time. */
		r = changed(x) ? 0
			       : fsu_same(x->root, SNAP_MANIFEST, pretty.buf,
					  pretty.len);
		if (r == 0)
			r = fsu_replace(x->root, SNAP_MANIFEST, pretty.buf,
					pretty.len, !x->o->no_sync,
					FSU_MTIME_NOW);
		if (r < 0)
			r = fs_fail(x, r, "write", SNAP_MANIFEST);
		else
			r = 0;
	}
	sbuf_release(&compact);
	sbuf_release(&pretty);
	return r;
}

static int resolve_seq(struct exporter *x, int64_t *out)
{
	int64_t last;
	int r = ags_audit_last_seq(x->s, &last);

	if (r < 0)
		return r;
	switch (x->o->at) {
	case AGS_AT_NOW:
		*out = last;
		return 0;
	case AGS_AT_SEQ:
		if (x->o->at_value < 0 || x->o->at_value > last)
			return store_fail(x->s, -EINVAL,
					  "cannot export at seq %lld: the "
					  "audit runs from 1 to %lld",
					  (long long)x->o->at_value,
					  (long long)last);
		*out = x->o->at_value;
		return 0;
	case AGS_AT_TIME:
		return snap_seq_at_time(x->s, x->o->at_value, out);
	}
	return store_fail(x->s, -EINVAL, "cannot export: unknown 'at' kind");
}

/* What the manifest an earlier export left in DIR says of its files, and
 * whether files that still have their stamp may be taken as they are
 * (snapshot-files-int.h): only if it names this export's form and format,
 * was written after its files were flushed, and only for files unchanged
 * since it was written (their ctime is older than its ctime). An export
 * killed before writing its manifest leaves only files changed after the
 * old one: they are all read again. */
static void prepare_trust(struct exporter *x)
{
	struct sbuf text = SBUF_INIT, format = SBUF_INIT;
	const char *form = x->o->raw ? "\n  \"form\": \"raw\",\n"
				     : "\n  \"form\": \"pretty\",\n";
	struct stat st;

	x->had_manifest =
		fstatat(x->root, SNAP_MANIFEST, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (x->had_manifest &&
	    fsu_read(x->root, SNAP_MANIFEST, SNAP_MANIFEST_MAX, &text) == 0 &&
	    sbuf_addf(&format, "\n  \"format\": %d,\n", SNAP_FORMAT) == 0) {
		x->old_form_ok =
			strstr(text.buf, format.buf) && strstr(text.buf, form);
		x->old_unsynced = strstr(text.buf, "\n  \"synced\": false,\n");
		x->files.trust =
			x->old_form_ok && !x->old_unsynced && !x->o->verify;
		x->files.trust_before = fsu_ns(&st.st_ctim);
	}
	sbuf_release(&text);
	sbuf_release(&format);
}

/* The first file of DIR an export would own (snapshot.c's top comment):
 * named like an object, in a directory named like a collection (one this
 * export writes, with --collection). 1 with @path set, 0 if none. */
static int find_owned(struct exporter *x, struct sbuf *path)
{
	struct fsu_names top = { 0 }, have = { 0 };
	int r = fsu_list(x->root, &top), dir;

	if (r < 0)
		return fs_fail(x, r, "list", x->path);
	for (size_t i = 0; r == 0 && i < top.n; i++) {
		const struct fsu_entry *e = &top.e[i];

		if (e->type != DT_DIR || name_check_collection(e->name) < 0 ||
		    !snap_named(x->o->collections, e->name))
			continue;
		dir = openat(x->root, e->name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir < 0)
			continue; /* not ours to look into: not touched */
		r = fsu_list(dir, &have);
		close(dir);
		if (r < 0) {
			r = fs_fail(x, r, "list", e->name);
			break;
		}
		for (size_t j = 0; r == 0 && j < have.n; j++)
			if (have.e[j].type == DT_REG &&
			    name_is_object_file(have.e[j].name))
				r = sbuf_addf(path, "%s/%s", e->name,
					      have.e[j].name) < 0
					    ? -ENOMEM
					    : 1;
		fsu_names_release(&have);
	}
	fsu_names_release(&top);
	return r == -ENOMEM ? store_fail(x->s, r,
					 "cannot export: out of "
					 "memory")
			    : r;
}

/* An export owns the object files of DIR, and removes those of objects
 * that are gone: only in a tree it wrote before. Into a directory no export
 * wrote, holding no such file, it first leaves its manifest, so that an
 * export killed half-way is completed by the next; holding one (a project
 * directory given by mistake, say), it refuses. */
static int claim_dir(struct exporter *x)
{
	static const char claim[] =
		"{\n  \"format\": %d,\n  \"seq\": 0,\n"
		"  \"form\": \"mixed\",\n  \"partial\": true,\n"
		"  \"synced\": false,\n"
		"  \"collections\": {},\n  \"objects\": 0\n}\n";
	struct sbuf owned = SBUF_INIT, text = SBUF_INIT;
	int r;

	if (x->had_manifest)
		return 0;
	r = find_owned(x, &owned);
	if (r > 0)
		r = store_fail(x->s, -EEXIST,
			       "cannot export to %s: it holds %s, a file an "
			       "export would own and may remove, but no "
			       "earlier export (no %s); nothing was written: "
			       "export into an empty or new directory, or "
			       "move such files away",
			       x->path, owned.buf, SNAP_MANIFEST);
	/* A manifest that vouches for no file: "mixed", unsynced, and
	 * partial, so that import --prune does not take the files written
	 * so far for the whole store. */
	if (r == 0 && sbuf_addf(&text, claim, SNAP_FORMAT) < 0)
		r = store_fail(x->s, -ENOMEM, "cannot export: out of memory");
	if (r == 0) {
		r = fsu_replace(x->root, SNAP_MANIFEST, text.buf, text.len,
				!x->o->no_sync, FSU_MTIME_NOW);
		if (r < 0)
			r = fs_fail(x, r, "write", SNAP_MANIFEST);
	}
	sbuf_release(&owned);
	sbuf_release(&text);
	return r;
}

/* The whole export inside one read transaction. */
static int export_tree(struct exporter *x)
{
	struct fsu_names top = { 0 };
	int r = resolve_seq(x, &x->res.seq);

	prepare_trust(x);
	if (r == 0)
		r = claim_dir(x);
	if (r == 0)
		r = x->o->at == AGS_AT_NOW ? export_now(x)
					   : export_at(x, x->res.seq);
	if (r == 0 && !x->o->collections) {
		r = fsu_list(x->root, &top);
		if (r < 0)
			r = fs_fail(x, r, "list", x->path);
		else
			r = sweep_top(x, &top);
		fsu_names_release(&top);
	}
	/* Files first, then the manifest: its seq then vouches for them. A
	 * run that changed no file has nothing of its own to flush (syncfs
	 * would wait for every other writer of the filesystem), unless an
	 * earlier --no-sync run left files unflushed. */
	if (r == 0 && !x->o->no_sync && (changed(x) || x->old_unsynced) &&
	    syncfs(x->root) < 0)
		r = fs_fail(x, -errno, "sync", x->path);
	if (r == 0)
		r = write_manifest(x);
	return r;
}

/* The top of a store's mount, or one of its collections: the top's
 * directories are that store's collections, and an export would remove
 * their objects as files of objects that are gone; a collection holds no
 * directory, and would keep the export's first file as a temporary one. */
static bool is_store_mount(int dir)
{
	struct statfs fs;

	return fstatfs(dir, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC &&
	       (faccessat(dir, ".agentstate/audit.jsonl", F_OK, 0) == 0 ||
		faccessat(dir, "../.agentstate/audit.jsonl", F_OK, 0) == 0);
}

int ags_snapshot_export(ags_store *s, struct ags_export_result *ret,
			const char *dir, const struct ags_export_options *opts)
{
	static const struct ags_export_options defaults;
	struct exporter x = { .s = s,
			      .o = opts ? opts : &defaults,
			      .path = dir,
			      .root = -1,
			      .dir = -1,
			      .manifest = SBUF_INIT,
			      .fname = SBUF_INIT };
	int r;

	if (s->batch)
		return store_fail(s, -EINVAL,
				  "cannot export: a batch is open on this "
				  "handle; commit or roll it back first");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return store_fail(s, -errno, "cannot export to %s: %s", dir,
				  strerror(errno));
	x.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.root < 0)
		return store_fail(s, -errno, "cannot export to %s: %s", dir,
				  strerror(errno));
	if (is_store_mount(x.root)) {
		close(x.root);
		return store_fail(s, -EPERM,
				  "cannot export to %s: it is the mount of a "
				  "store, or one of its collections, whose "
				  "directories are that store's; export into "
				  "a directory outside it",
				  dir);
	}
	/* Two exports into one DIR would sweep each other's temporary
	 * files: they take turns. */
	while (flock(x.root, LOCK_EX) < 0 && errno == EINTR)
		;
	files_start(&x.files);
	x.files.pretty = !x.o->raw;
	x.files.pretty_max = s->max_body;
	r = store_exec(s, SQL_BEGIN_READ, "begin reading the store");
	if (r == 0) {
		r = export_tree(&x);
		if (!sqlite3_get_autocommit(s->db))
			store_exec(s, SQL_ROLLBACK, "end reading the store");
	}
	files_stop(&x.files);
	close(x.root);
	for (size_t i = 0; i < x.ncols; i++)
		free(x.cols[i].name);
	free(x.cols);
	sbuf_release(&x.manifest);
	sbuf_release(&x.fname);
	if (r == 0 && ret)
		*ret = x.res;
	return r;
}
