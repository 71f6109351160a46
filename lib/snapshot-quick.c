/* snapshot-quick.c: the quick check of a re-export. An export compares each
 * object's file with the bytes it would write and leaves an equal file
 * alone; reading 100,000 files to find them all equal costs most of an
 * unchanged re-export. But DIR/.agentstate-export.json says which audit seq
 * and which collections the tree reflects, and the audit log says which
 * objects changed since: a file of an object that did not change, which
 * nobody touched after that manifest was written (its mtime is older), and
 * of a collection that export wrote, holds what the export would write.
 * Such a file is trusted unread, as rsync's quick check trusts size and
 * mtime. A file changed behind the export's back with its mtime set back
 * (cp -p, tar x of old files) is the one case it misses; --no-quick reads
 * every file. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil-int.h"
#include "snapshot-int.h"

/* Beyond this many audit rows since the manifest, every file is read. */
#define QUICK_MAX_ROWS 200000

struct quick_check {
	struct timespec manifest_mtime;
	char **trusted_cols; /* collections the manifest's export wrote */
	size_t ntrusted, atrusted;
	char **changed; /* "collection/id" of objects changed since, sorted */
	size_t nchanged, achanged;
	char **changed_cols; /* collections created, dropped or renamed */
	size_t nchanged_cols, achanged_cols;
	size_t rows;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qsort() of nothing: its base may be NULL, which qsort() must not get. */
static void sort(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(char *), cmp_str);
}

static int push(char ***v, size_t *n, size_t *alloc, char *s)
{
	char **grown;

	if (!s)
		return -ENOMEM;
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 64;

		grown = realloc(*v, na * sizeof(**v));
		if (!grown) {
			free(s);
			return -ENOMEM;
		}
		*v = grown;
		*alloc = na;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static char *join(const char *coll, const char *id)
{
	size_t a = strlen(coll), b = strlen(id);
	char *s = malloc(a + b + 2);

	if (s) {
		memcpy(s, coll, a);
		s[a] = '/'; /* never in a collection name */
		memcpy(s + a + 1, id, b + 1);
	}
	return s;
}

static int row_cb(void *ctx, const struct ags_audit_row *row)
{
	struct quick_check *q = ctx;
	int r = 0;

	if (++q->rows > QUICK_MAX_ROWS)
		return -E2BIG;
	if (row->error || !row->collection)
		return 0; /* refused: nothing changed */
	if (!row->id) {
		r = push(&q->changed_cols, &q->nchanged_cols, &q->achanged_cols,
			 strdup(row->collection));
		if (r == 0 && row->from_collection)
			r = push(&q->changed_cols, &q->nchanged_cols,
				 &q->achanged_cols,
				 strdup(row->from_collection));
		return r;
	}
	r = push(&q->changed, &q->nchanged, &q->achanged,
		 join(row->collection, row->id));
	if (r == 0 && row->from_collection && row->from_id)
		r = push(&q->changed, &q->nchanged, &q->achanged,
			 join(row->from_collection, row->from_id));
	return r;
}

/* The manifest's seq, form and collections. @return 0, or -ENOENT when it
 * is missing or not one an export wrote. */
static int read_manifest(struct quick_check *q, int root, bool raw,
			 int64_t *seq)
{
	struct sbuf text = SBUF_INIT;
	const cJSON *c, *form, *s;
	cJSON *m = NULL;
	struct stat st;
	int r;

	r = fsu_read(root, SNAP_MANIFEST, 1 << 20, &text);
	if (r == 0 && fstatat(root, SNAP_MANIFEST, &st, AT_SYMLINK_NOFOLLOW))
		r = -errno;
	if (r == 0)
		m = cJSON_ParseWithLength(text.buf, text.len);
	sbuf_release(&text);
	if (r < 0 || !m)
		goto out;
	q->manifest_mtime = st.st_mtim;
	form = cJSON_GetObjectItemCaseSensitive(m, "form");
	s = cJSON_GetObjectItemCaseSensitive(m, "seq");
	c = cJSON_GetObjectItemCaseSensitive(m, "collections");
	if (!cJSON_IsString(form) ||
	    strcmp(form->valuestring, raw ? "raw" : "pretty") != 0 ||
	    !cJSON_IsNumber(s) || !cJSON_IsObject(c))
		goto out;
	*seq = (int64_t)s->valuedouble;
	for (c = c->child; c; c = c->next)
		if (push(&q->trusted_cols, &q->ntrusted, &q->atrusted,
			 strdup(c->string)) < 0)
			goto out;
	cJSON_Delete(m);
	return 0;
out:
	cJSON_Delete(m);
	return -ENOENT;
}

int quick_begin(struct quick_check **out, ags_store *s, int root, bool raw,
		int64_t seq_now)
{
	struct ags_audit_filter f = { 0 };
	struct quick_check *q = calloc(1, sizeof(*q));
	int64_t seq = 0;
	int r;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	r = read_manifest(q, root, raw, &seq);
	/* A log that went back (a restore) says nothing of the tree. */
	if (r == 0 && (seq < 0 || seq > seq_now))
		r = -ENOENT;
	if (r == 0) {
		f.after_seq = seq;
		r = ags_audit_list(s, &f, row_cb, q);
	}
	if (r < 0) {
		quick_end(q);
		return r == -ENOENT || r == -E2BIG ? 0 : r;
	}
	sort(q->trusted_cols, q->ntrusted);
	sort(q->changed, q->nchanged);
	sort(q->changed_cols, q->nchanged_cols);
	*out = q;
	return 0;
}

static bool has(char **v, size_t n, const char *key)
{
	return n && bsearch(&key, v, n, sizeof(char *), cmp_str);
}

bool quick_collection(const struct quick_check *q, const char *coll)
{
	return q && has(q->trusted_cols, q->ntrusted, coll) &&
	       !has(q->changed_cols, q->nchanged_cols, coll);
}

bool quick_file(const struct quick_check *q, int dir, const char *coll,
		const char *id, const char *fname, ssize_t size)
{
	const struct timespec *m = &q->manifest_mtime;
	struct stat st;
	char *key;
	bool changed;

	if (fstatat(dir, fname, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || (size >= 0 && st.st_size != size))
		return false;
	/* Strictly older: a write in the same clock tick as the manifest's
	 * may have come after it. */
	if (st.st_mtim.tv_sec > m->tv_sec || (st.st_mtim.tv_sec == m->tv_sec &&
					      st.st_mtim.tv_nsec >= m->tv_nsec))
		return false;
	key = join(coll, id);
	if (!key)
		return false;
	changed = has(q->changed, q->nchanged, key);
	free(key);
	return !changed;
}

static void free_all(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void quick_end(struct quick_check *q)
{
	if (!q)
		return;
	free_all(q->trusted_cols, q->ntrusted);
	free_all(q->changed, q->nchanged);
	free_all(q->changed_cols, q->nchanged_cols);
	free(q);
}
