/* mount-audit.c: .agentstate/audit.jsonl, the audit log as JSON Lines that
 * grows while it is read (tail -f works). Rows never change once written,
 * so the byte offset of each is fixed: a sparse index of (row, offset)
 * marks, one per AUDIT_STRIDE rows, gives an exact st_size and serves a read
 * at any offset by scanning at most one stride of rows.
 *
 * A forced restore replaces the log with the backup's: the index is then
 * built again from the first row, and the file shrinks or changes as a
 * log file replaced in place does (tail -f reports it truncated).
 *
 * Indexing a long log takes time (seconds at a million rows), so it never
 * holds the namespace lock (the callbacks take none for this file), it
 * holds the view's own lock one batch at a time, and a thread builds the
 * index of the existing log as the mount starts, so the first stat of the
 * file does not pay for it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"

#define AUDIT_STRIDE 256
/* Rows indexed per query, so the index grows in steps a reader of the
 * store never waits long for. */
#define AUDIT_BATCH 4096

int audit_view_init(struct audit_view *v)
{
	memset(v, 0, sizeof(*v));
	return -pthread_mutex_init(&v->lock, NULL);
}

void audit_view_release(struct audit_view *v)
{
	free(v->marks);
	v->marks = NULL;
	pthread_mutex_destroy(&v->lock);
}

void audit_view_reset(struct audit_view *v)
{
	pthread_mutex_lock(&v->lock);
	v->ready = false;
	v->last_seq = 0;
	v->size = 0;
	v->mtime_ns = 0;
	v->since_mark = 0;
	v->nmarks = 0;
	pthread_mutex_unlock(&v->lock);
}

static int add_mark(struct audit_view *v)
{
	struct audit_mark *grown;

	if (v->nmarks == v->amarks) {
		size_t n = v->amarks ? v->amarks * 2 : 64;

		grown = realloc(v->marks, n * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		v->marks = grown;
		v->amarks = n;
	}
	v->marks[v->nmarks++] =
		(struct audit_mark){ .after_seq = v->last_seq, .off = v->size };
	v->since_mark = 0;
	return 0;
}

struct index_scan {
	struct audit_view *v;
	size_t rows;
};

static int index_row(void *ctx, const struct ags_audit_row *row)
{
	struct index_scan *sc = ctx;
	struct audit_view *v = sc->v;
	char *line;
	int r;

	if (v->since_mark == AUDIT_STRIDE && (r = add_mark(v)) < 0)
		return r;
	line = ags_audit_row_json(row);
	if (!line)
		return -ENOMEM;
	v->size += strlen(line) + 1;
	free(line);
	v->last_seq = row->seq;
	v->mtime_ns = row->time_ns;
	v->since_mark++;
	sc->rows++;
	return 0;
}

/* Index up to AUDIT_BATCH new rows. @return 1 when there may be more, 0
 * when the index is complete, or -errno. */
static int refresh_batch(struct audit_view *v, ags_store *s)
{
	struct ags_audit_filter f = { .limit = AUDIT_BATCH };
	struct index_scan sc = { v, 0 };
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (!v->ready) {
		r = add_mark(v);
		v->ready = r == 0;
	}
	if (r == 0) {
		f.after_seq = v->last_seq;
		r = ags_audit_list(s, &f, index_row, &sc);
	}
	pthread_mutex_unlock(&v->lock);
	if (r < 0)
		return r;
	return sc.rows == AUDIT_BATCH;
}

int audit_view_refresh(struct audit_view *v, ags_store *s)
{
	int r;

	/* The lock is let go between batches: readers of what is indexed
	 * already, and another refresh, go on meanwhile. */
	while ((r = refresh_batch(v, s)) > 0)
		;
	return r;
}

static void *index_main(void *arg)
{
	struct mount *m = arg;
	ags_store *s = mount_store(m);

	while (s && !atomic_load(&m->ending) && refresh_batch(&m->audit, s) > 0)
		;
	return NULL;
}

int audit_index_start(struct mount *m)
{
	sigset_t all, old;
	int r;

	/* Signals are for the FUSE threads (mount.c). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&m->audit_thread, NULL, index_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	m->audit_indexing = r == 0;
	return r;
}

void audit_index_stop(struct mount *m)
{
	if (!m->audit_indexing)
		return;
	pthread_join(m->audit_thread, NULL);
	m->audit_indexing = false;
}

struct read_scan {
	struct sbuf *out;
	uint64_t pos; /* offset of the next row */
	uint64_t off; /* first byte wanted */
	uint64_t end; /* bytes the file has (as its size says) */
	size_t size;  /* bytes wanted */
};

static int read_row(void *ctx, const struct ags_audit_row *row)
{
	struct read_scan *sc = ctx;
	uint64_t len, from, n;
	char *line;
	int r;

	line = ags_audit_row_json(row);
	if (!line)
		return -ENOMEM;
	len = strlen(line) + 1;
	line[len - 1] = '\n'; /* in place of the NUL */
	if (sc->pos + len > sc->off) {
		from = sc->off > sc->pos ? sc->off - sc->pos : 0;
		n = len - from;
		if (n > sc->size - sc->out->len)
			n = sc->size - sc->out->len;
		r = sbuf_add(sc->out, line + from, (size_t)n);
		if (r < 0) {
			free(line);
			return r;
		}
	}
	free(line);
	sc->pos += len;
	return sc->out->len == sc->size || sc->pos >= sc->end ? 1 : 0;
}

int audit_view_read(struct audit_view *v, ags_store *s, struct sbuf *out,
		    uint64_t off, size_t size)
{
	struct ags_audit_filter f = { 0 };
	struct read_scan sc = { out, 0, off, 0, size };
	size_t lo, hi, mid;
	int r;

	r = audit_view_refresh(v, s);
	if (r < 0)
		return r;
	pthread_mutex_lock(&v->lock);
	sc.end = v->size;
	if (off >= v->size || !size) {
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	/* The last mark at or before @off. */
	lo = 0;
	hi = v->nmarks;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (v->marks[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	f.after_seq = v->marks[lo].after_seq;
	sc.pos = v->marks[lo].off;
	pthread_mutex_unlock(&v->lock);
	r = ags_audit_list(s, &f, read_row, &sc);
	return r > 0 ? 0 : r;
}
