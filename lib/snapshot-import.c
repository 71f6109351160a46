/* snapshot-import.c: making the store match a tree of JSON files (as export
 * writes it, or as a git checkout of one holds it). Every file is checked
 * before anything changes; then all changes commit in one transaction, and
 * only objects whose JSON value differs get a new version. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil-int.h"
#include "json-int.h"
#include "names-int.h"
#include "snapshot-int.h"

/* Bodies read while checking are kept for the second pass up to this much
 * in all; past it, files are read again (and checked again). */
#define HOLD_MAX (256u << 20)

struct imp_file {
	size_t col; /* index into importer.cols */
	char *id;
	char *fname;
	size_t off, len; /* in importer.held, when held */
	bool held;
};

struct importer {
	ags_store *s;
	const struct ags_import_options *o;
	const char *path;
	struct ags_import_result res;
	int root;
	char **cols; /* collection directories, sorted */
	size_t ncols;
	struct imp_file *files; /* sorted by collection, then id */
	size_t nfiles, alloc;
	struct sbuf held, body, line;
	uint64_t invalid; /* files found invalid */
	uint64_t done, total;
};

static int oom(struct importer *x)
{
	return store_fail(x->s, -ENOMEM, "cannot import: out of memory");
}

static int fs_fail(struct importer *x, int err, const char *col,
		   const char *name)
{
	return store_fail(x->s, err, "cannot import %s: cannot read %s%s%s: %s",
			  x->path, col, name ? "/" : "", name ? name : "",
			  strerror(-err));
}

static void progress(struct importer *x)
{
	x->done++;
	if (x->o->progress)
		x->o->progress(x->o->ctx, x->done, x->total);
}

static void report(struct importer *x, ags_report_cb cb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct importer *x, ags_report_cb cb, const char *fmt, ...)
{
	va_list ap;

	if (!cb)
		return;
	sbuf_reset(&x->line);
	va_start(ap, fmt);
	sbuf_vaddf(&x->line, fmt, ap);
	va_end(ap);
	cb(x->o->ctx, x->line.buf);
}

static int cmp_files(const void *a, const void *b)
{
	const struct imp_file *x = a, *y = b;

	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int add_file(struct importer *x, size_t col, const char *fname)
{
	struct sbuf id = SBUF_INIT;
	struct imp_file *f;

	if (name_decode_file(&id, fname) < 0) {
		sbuf_release(&id);
		/* Not an object name, so not ours; but one ending in .json
		 * was most likely meant as one, and --prune would remove the
		 * object it was meant for. */
		if (name_is_json(fname))
			report(x, x->o->ignored,
			       "%s/%s: ignored: not an object's file name (an "
			       "id is spelled as export writes it: '%%', '/', "
			       "control bytes and a leading '.' as %%XX in "
			       "upper-case hex, nothing else escaped)",
			       x->cols[col], fname);
		return 0;
	}
	if (x->nfiles == x->alloc) {
		size_t cap = x->alloc ? x->alloc * 2 : 256;
		f = realloc(x->files, cap * sizeof(*f));
		if (!f) {
			sbuf_release(&id);
			return oom(x);
		}
		x->files = f;
		x->alloc = cap;
	}
	f = &x->files[x->nfiles];
	*f = (struct imp_file){ .col = col,
				.id = sbuf_detach(&id),
				.fname = strdup(fname) };
	if (!f->id || !f->fname) {
		free(f->id);
		free(f->fname);
		return oom(x);
	}
	x->nfiles++;
	return 0;
}

static int scan_collection(struct importer *x, size_t col)
{
	struct fsu_names have = { 0 };
	int dir, r;

	dir = openat(x->root, x->cols[col],
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return fs_fail(x, -errno, x->cols[col], NULL);
	r = fsu_list(dir, &have);
	close(dir);
	if (r < 0)
		return fs_fail(x, r, x->cols[col], NULL);
	for (size_t i = 0; r == 0 && i < have.n; i++)
		if (have.e[i].type == DT_REG)
			r = add_file(x, col, have.e[i].name);
	fsu_names_release(&have);
	return r;
}

/* Which directories are collections and which files in them objects. */
static int scan(struct importer *x)
{
	struct fsu_names top = { 0 };
	int r = fsu_list(x->root, &top);

	if (r < 0)
		return fs_fail(x, r, x->path, NULL);
	x->cols = calloc(top.n ? top.n : 1, sizeof(*x->cols));
	if (!x->cols)
		r = oom(x);
	for (size_t i = 0; r == 0 && i < top.n; i++) {
		if (top.e[i].type != DT_DIR ||
		    name_check_collection(top.e[i].name) < 0 ||
		    !snap_named(x->o->collections, top.e[i].name))
			continue;
		x->cols[x->ncols] = top.e[i].name; /* taken over */
		top.e[i].name = NULL;
		r = scan_collection(x, x->ncols++);
	}
	fsu_names_release(&top);
	if (r == 0 && x->nfiles > 1)
		qsort(x->files, x->nfiles, sizeof(*x->files), cmp_files);
	return r;
}

static long tree_collection(const struct importer *x, const char *name)
{
	for (size_t i = 0; i < x->ncols; i++)
		if (!strcmp(x->cols[i], name))
			return (long)i;
	return -1;
}

/* Each collection named by --collection must be a directory of DIR: one
 * missing is a typo, or a tree of other collections. */
static int check_named(struct importer *x)
{
	if (!x->o->collections)
		return 0;
	for (const char *const *c = x->o->collections; *c; c++)
		if (tree_collection(x, *c) < 0)
			return store_fail(x->s, -ENOENT,
					  "cannot import collection '%s': %s "
					  "holds no directory '%s'; nothing "
					  "was changed: name a collection "
					  "the tree holds",
					  *c, x->path, *c);
	return 0;
}

/* Read one file into x->body and check it. @return 0 valid, 1 invalid
 * (reported), or -errno. */
static int read_checked(struct importer *x, const struct imp_file *f)
{
	const char *col = x->cols[f->col];
	struct json_error e;
	int dir, r;

	sbuf_reset(&x->body);
	if (f->held)
		return sbuf_add(&x->body, x->held.buf + f->off, f->len) < 0
			       ? oom(x)
			       : 0;
	dir = openat(x->root, col,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return fs_fail(x, -errno, col, NULL);
	r = fsu_read(dir, f->fname, x->s->max_body, &x->body);
	close(dir);
	if (r == -EFBIG) {
		report(x, x->o->invalid,
		       "%s/%s: the file is larger than the store's limit of "
		       "%zu bytes",
		       col, f->fname, x->s->max_body);
		return 1;
	}
	if (r < 0)
		return fs_fail(x, r, col, f->fname);
	if (json_check(x->body.buf, x->body.len, &e) < 0) {
		report(x, x->o->invalid,
		       "%s/%s: invalid JSON at line %u, column %u: %s", col,
		       f->fname, e.line, e.column, e.reason);
		return 1;
	}
	return 0;
}

/* The first pass: every file is read and checked before anything changes;
 * each invalid one is reported. */
static int check_all(struct importer *x)
{
	for (size_t i = 0; i < x->nfiles; i++) {
		struct imp_file *f = &x->files[i];
		int r = read_checked(x, f);

		progress(x);
		if (r < 0)
			return r;
		x->res.files++;
		if (r == 1) {
			x->invalid++;
			continue;
		}
		if (x->held.len + x->body.len <= HOLD_MAX) {
			f->off = x->held.len;
			f->len = x->body.len;
			if (sbuf_add(&x->held, x->body.buf, x->body.len) < 0)
				return oom(x);
			f->held = true;
		}
	}
	if (x->invalid)
		return store_fail(x->s, -EINVAL,
				  "cannot import %s: %llu of %llu files are "
				  "invalid; nothing was changed",
				  x->path, (unsigned long long)x->invalid,
				  (unsigned long long)x->res.files);
	return 0;
}

static int apply_file(struct importer *x, const struct imp_file *f,
		      bool col_exists)
{
	const char *col = x->cols[f->col];
	struct ags_object cur;
	int r = read_checked(x, f);

	if (r == 1)
		return store_fail(x->s, -EINVAL,
				  "cannot import %s: %s/%s changed while it "
				  "was imported and is no longer valid; "
				  "nothing was changed",
				  x->path, col, f->fname);
	if (r < 0)
		return r;
	r = col_exists ? ags_object_get(x->s, col, f->id, 0, true, &cur)
		       : -ENOENT;
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && ((cur.body_len == x->body.len &&
			!memcmp(cur.body, x->body.buf, x->body.len)) ||
		       json_same_value(cur.body, cur.body_len, x->body.buf,
				       x->body.len))) {
		x->res.unchanged++;
		return 0;
	}
	report(x, x->o->change, "%s %s/%s", r == 0 ? "update" : "create", col,
	       f->fname);
	if (r == 0)
		x->res.updated++;
	else
		x->res.created++;
	if (x->o->dry_run)
		return 0;
	return ags_object_put(x->s, NULL, col, f->id, x->body.buf, x->body.len,
			      AGS_VERSION_ANY);
}

struct ids {
	char **id;
	size_t n, alloc;
	int err;
};

static int id_cb(void *ctx, const struct ags_object *obj)
{
	struct ids *l = ctx;

	if (l->n == l->alloc) {
		size_t cap = l->alloc ? l->alloc * 2 : 64;
		char **nv = realloc(l->id, cap * sizeof(*nv));
		if (!nv)
			return l->err = -ENOMEM;
		l->id = nv;
		l->alloc = cap;
	}
	l->id[l->n] = strdup(obj->id);
	if (!l->id[l->n])
		return l->err = -ENOMEM;
	l->n++;
	return 0;
}

static void ids_release(struct ids *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->id[i]);
	free(l->id);
	*l = (struct ids){ 0 };
}

static int collect_ids(struct importer *x, const char *col, struct ids *out)
{
	int r = ags_object_list(x->s, col, NULL, 0, false, id_cb, out);

	return out->err ? oom(x) : r;
}

/* Whether the tree has object @id in collection @col (files are sorted
 * by collection, then id). */
static bool tree_has(const struct importer *x, size_t col, const char *id)
{
	size_t lo = 0, hi = x->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct imp_file *f = &x->files[mid];
		int c = f->col != col ? (f->col < col ? -1 : 1)
				      : strcmp(f->id, id);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int remove_absent(struct importer *x, const char *col, long in_tree)
{
	struct ids l = { 0 };
	struct sbuf fname = SBUF_INIT;
	int r = collect_ids(x, col, &l);

	for (size_t i = 0; r == 0 && i < l.n; i++) {
		if (in_tree >= 0 && tree_has(x, (size_t)in_tree, l.id[i]))
			continue;
		sbuf_reset(&fname);
		if (name_encode_file(&fname, l.id[i], strlen(l.id[i])) < 0) {
			r = oom(x);
			break;
		}
		report(x, x->o->change, "remove %s/%s", col, fname.buf);
		x->res.removed++;
		/* A dropped collection's objects go with the drop. */
		if (!x->o->dry_run && in_tree >= 0)
			r = ags_object_remove(x->s, col, l.id[i],
					      AGS_VERSION_ANY);
	}
	if (r == 0 && in_tree < 0) {
		report(x, x->o->change, "rmcol %s", col);
		x->res.collections_dropped++;
		if (!x->o->dry_run)
			r = ags_collection_drop(x->s, col, true);
	}
	sbuf_release(&fname);
	ids_release(&l);
	return r;
}

static int name_cb(void *ctx, const struct ags_collection *c)
{
	struct ids *l = ctx;
	struct ags_object o = { .id = c->name };

	return id_cb(l, &o);
}

static int prune(struct importer *x)
{
	struct ids cols = { 0 };
	int r = 0;

	/* Named collections: objects go, collections stay. One a dry run
	 * only planned to create has nothing to remove. */
	if (x->o->collections) {
		struct collection_row row;

		for (size_t i = 0; r == 0 && i < x->ncols; i++) {
			r = collection_find(x->s, x->cols[i], &row);
			if (r == 0)
				r = remove_absent(x, x->cols[i], (long)i);
			else if (r == -ENOENT)
				r = 0;
		}
		return r;
	}
	r = ags_collection_list(x->s, NULL, 0, name_cb, &cols);

	if (cols.err)
		r = oom(x);
	for (size_t i = 0; r == 0 && i < cols.n; i++)
		r = remove_absent(x, cols.id[i],
				  tree_collection(x, cols.id[i]));
	ids_release(&cols);
	return r;
}

/* The second pass, inside the caller's transaction. */
static int apply_all(struct importer *x)
{
	struct collection_row row;
	size_t i = 0;
	int r = 0;

	for (size_t c = 0; r == 0 && c < x->ncols; c++) {
		bool exists;

		r = collection_find(x->s, x->cols[c], &row);
		if (r < 0 && r != -ENOENT)
			break;
		exists = r == 0;
		r = 0;
		if (!exists) {
			report(x, x->o->change, "mkcol %s", x->cols[c]);
			x->res.collections_created++;
			if (!x->o->dry_run)
				r = ags_collection_create(x->s, x->cols[c]);
			exists = !x->o->dry_run;
		}
		for (; r == 0 && i < x->nfiles && x->files[i].col == c; i++) {
			r = apply_file(x, &x->files[i], exists);
			progress(x);
		}
	}
	if (r == 0 && x->o->prune)
		r = prune(x);
	return r;
}

/* Whether DIR's manifest says an export of some collections wrote it (or
 * a first export was stopped half-way): DIR is then not the whole store.
 * @return 1 when it says so, 0 when it does not or there is none, or
 * -errno when it cannot be read (and may say so). */
static int tree_partial(struct importer *x)
{
	struct sbuf text = SBUF_INIT;
	int r = fsu_read(x->root, SNAP_MANIFEST, SNAP_MANIFEST_MAX, &text);

	if (r == 0)
		r = strstr(text.buf, SNAP_PARTIAL) != NULL;
	else if (r == -ENOENT)
		r = 0;
	sbuf_release(&text);
	return r;
}

/* --prune makes the store what DIR holds: given an empty directory, or
 * one that holds no collection and that no export wrote (a mistake, most
 * likely), it would remove every collection; given the tree of an export
 * of some collections, every other one. An export of an empty store
 * leaves its manifest, and may be imported so. */
static int check_prune(struct importer *x)
{
	struct stat st;
	int partial;

	if (!x->o->prune || x->o->collections)
		return 0;
	partial = tree_partial(x);
	if (partial < 0)
		return store_fail(x->s, partial,
				  "cannot import %s with --prune: cannot read "
				  "its %s (%s), which tells whether it holds "
				  "the whole store; nothing was changed",
				  x->path, SNAP_MANIFEST, strerror(-partial));
	if (partial)
		return store_fail(x->s, -EINVAL,
				  "cannot import %s with --prune: an export "
				  "of only some collections wrote it (its %s "
				  "says \"partial\"), and the store's other "
				  "collections would be removed; nothing was "
				  "changed: name the collections to make "
				  "match with --collection, or export the "
				  "whole store into it",
				  x->path, SNAP_MANIFEST);
	if (x->ncols ||
	    fstatat(x->root, SNAP_MANIFEST, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return store_fail(x->s, -EINVAL,
			  "cannot import %s with --prune: it holds no "
			  "collection (no directory named like one) and no "
			  "export wrote it (no %s), so every collection "
			  "would be removed; nothing was changed: give the "
			  "directory an export wrote, or remove collections "
			  "with 'agentstate rmcol'",
			  x->path, SNAP_MANIFEST);
}

/* Changes made by an import carry origin "import", whoever runs it. */
static void swap_origin(ags_store *s, struct sbuf *keep)
{
	struct sbuf tmp = s->origin;

	s->origin = *keep;
	*keep = tmp;
}

static int run(struct importer *x)
{
	struct sbuf origin = SBUF_INIT;
	int r = scan(x);

	x->total = 2 * (uint64_t)x->nfiles;
	if (r == 0)
		r = check_named(x);
	if (r == 0)
		r = check_all(x);
	if (r == 0)
		r = check_prune(x);
	if (r < 0)
		return r;
	if (x->o->dry_run) {
		r = store_exec(x->s, SQL_BEGIN_READ, "begin reading the store");
		if (r == 0) {
			r = apply_all(x);
			if (!sqlite3_get_autocommit(x->s->db))
				store_exec(x->s, SQL_ROLLBACK,
					   "end reading the store");
		}
		return r;
	}
	if (sbuf_adds(&origin, "import") < 0)
		return oom(x);
	r = ags_store_begin(x->s);
	if (r == 0) {
		swap_origin(x->s, &origin);
		r = apply_all(x);
		swap_origin(x->s, &origin);
		if (r == 0)
			r = ags_store_commit(x->s);
		else
			ags_store_rollback(x->s); /* keeps the message */
	}
	sbuf_release(&origin);
	return r;
}

int ags_snapshot_import(ags_store *s, struct ags_import_result *ret,
			const char *dir, const struct ags_import_options *opts)
{
	static const struct ags_import_options defaults;
	struct importer x = { .s = s,
			      .o = opts ? opts : &defaults,
			      .path = dir,
			      .held = SBUF_INIT,
			      .body = SBUF_INIT,
			      .line = SBUF_INIT };
	int r;

	if (s->batch)
		return store_fail(s, -EINVAL,
				  "cannot import: a batch is open on this "
				  "handle; commit or roll it back first");
	x.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.root < 0)
		return store_fail(s, -errno,
				  "cannot import %s: %s; give the directory "
				  "an export wrote",
				  dir, strerror(errno));
	r = run(&x);
	close(x.root);
	for (size_t i = 0; i < x.nfiles; i++) {
		free(x.files[i].id);
		free(x.files[i].fname);
	}
	free(x.files);
	for (size_t i = 0; i < x.ncols; i++)
		free(x.cols[i]);
	free(x.cols);
	sbuf_release(&x.held);
	sbuf_release(&x.body);
	sbuf_release(&x.line);
	if (r == 0 && ret)
		*ret = x.res;
	return r;
}
