/* snapshot-files.c: the export's second thread, which compares and writes
 * the files the exporter formats (see snapshot-files-int.h). Two batches
 * take turns: the exporter fills one while the thread works through the
 * other, so they meet once per batch. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "json-int.h"
#include "snapshot-files-int.h"

/* A buffer that grew past this (a big body) is given back once used,
 * so that one big object does not stay resident for the whole export. */
#define KEEP_BYTES (64u << 10)

static int fail(struct file_writer *w, int err, const char *what,
		const char *name)
{
	w->err = err;
	w->err_what = what;
	sbuf_reset(&w->err_name);
	if (sbuf_adds(&w->err_name, name) < 0)
		sbuf_reset(&w->err_name);
	return err;
}

/* Whether the file still has the stamp it was written with and has not
 * changed since the last export vouched for DIR (see snapshot-files-int.h).
 * Setting an mtime moves the ctime, so a copy with times kept (cp -p,
 * rsync -t, tar) or a touch -d is read again. A raw file must also have
 * the body's size; no file is ever empty. */
static bool has_stamp(const struct file_writer *w, int dir,
		      const struct file_job *j)
{
	struct stat st;

	if (j->stamp < 0 || fstatat(dir, j->name.buf, &st, AT_SYMLINK_NOFOLLOW))
		return false;
	return S_ISREG(st.st_mode) && fsu_ns(&st.st_mtim) == j->stamp &&
	       fsu_ns(&st.st_ctim) < w->trust_before && st.st_size > 0 &&
	       (w->pretty || (size_t)st.st_size == j->body.len);
}

/* Write one file unless it already holds its bytes. */
static int write_job(struct file_writer *w, int dir, const struct file_job *j)
{
	const char *data = j->body.buf;
	size_t len = j->body.len;
	int r;

	if (j->exists && w->trust && has_stamp(w, dir, j))
		return 0;
	if (w->pretty) {
		sbuf_reset(&w->text);
		r = json_pretty(&w->text, data, len);
		if (r < 0)
			return fail(w, r == -EINVAL ? -EIO : r, "format",
				    j->name.buf);
		if (w->text.len <= w->pretty_max) {
			data = w->text.buf;
			len = w->text.len;
		}
	}
	if (j->exists) {
		r = fsu_same(dir, j->name.buf, data, len);
		if (r < 0)
			return fail(w, r, "read", j->name.buf);
		if (r == 1)
			return 0;
	}
	/* A new file needs no temporary name (half the directory work). */
	r = j->exists ? -EEXIST
		      : fsu_create(dir, j->name.buf, data, len, j->stamp);
	if (r == -EEXIST)
		r = fsu_replace(dir, j->name.buf, data, len, false, j->stamp);
	if (r < 0)
		return fail(w, r, "write", j->name.buf);
	w->written++;
	return 0;
}

static void keep_small(struct sbuf *sb)
{
	if (sb->alloc > KEEP_BYTES)
		sbuf_release(sb);
	else
		sbuf_reset(sb);
}

/* After the first failure the rest are dropped: the export stops. */
static void write_batch(struct file_writer *w, struct file_batch *b)
{
	for (size_t i = 0; i < b->n && !w->err; i++) {
		write_job(w, b->dir, &b->job[i]);
		keep_small(&w->text);
	}
}

static void *writer_main(void *arg)
{
	struct file_writer *w = arg;
	struct file_batch *b;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->handed && !w->quit)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->handed)
			break;
		b = w->handed;
		pthread_mutex_unlock(&w->lock);
		write_batch(w, b);
		pthread_mutex_lock(&w->lock);
		w->handed = NULL;
		pthread_cond_signal(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void wait_idle(struct file_writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->handed)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Give the filled batch to the thread once it has finished the other,
 * and fill that one next. w->err is read only while the thread is idle. */
static int hand_over(struct file_writer *w)
{
	struct file_batch *b = w->filling;

	if (!w->threaded) {
		write_batch(w, b);
		b->n = b->bytes = 0;
		return w->err;
	}
	wait_idle(w);
	if (w->err || !b->n)
		return w->err;
	pthread_mutex_lock(&w->lock);
	w->handed = b;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	w->filling = b == &w->batch[0] ? &w->batch[1] : &w->batch[0];
	w->filling->n = w->filling->bytes = 0;
	return 0;
}

void files_start(struct file_writer *w)
{
	*w = (struct file_writer){ .text = SBUF_INIT, .err_name = SBUF_INIT };
	for (int b = 0; b < 2; b++)
		for (int i = 0; i < FILES_BATCH; i++)
			w->batch[b].job[i] =
				(struct file_job){ .name = SBUF_INIT,
						   .body = SBUF_INIT };
	w->filling = &w->batch[0];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	w->threaded = pthread_create(&w->thread, NULL, writer_main, w) == 0;
}

int files_put(struct file_writer *w, int dir, const struct file_spec *f)
{
	struct file_batch *b = w->filling;
	struct file_job *j;
	int r;

	/* One directory per batch: a new one starts a new batch. */
	if (b->n && b->dir != dir) {
		r = hand_over(w);
		if (r < 0)
			return r;
		b = w->filling;
	}
	j = &b->job[b->n];
	keep_small(&j->name);
	keep_small(&j->body);
	r = sbuf_adds(&j->name, f->name);
	if (r == 0)
		r = sbuf_add(&j->body, f->body, f->len);
	if (r < 0)
		return r;
	j->stamp = f->stamp;
	j->exists = f->exists;
	b->dir = dir;
	b->n++;
	b->bytes += f->len;
	if (b->n == FILES_BATCH || b->bytes >= FILES_BATCH_BYTES)
		return hand_over(w);
	return 0;
}

int files_drain(struct file_writer *w)
{
	hand_over(w);
	wait_idle(w);
	return w->err;
}

void files_stop(struct file_writer *w)
{
	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	for (int b = 0; b < 2; b++)
		for (int i = 0; i < FILES_BATCH; i++) {
			sbuf_release(&w->batch[b].job[i].name);
			sbuf_release(&w->batch[b].job[i].body);
		}
	sbuf_release(&w->text);
	sbuf_release(&w->err_name);
}
