/* snapshot-files: the export's second thread. The exporter reads the store;
 * this thread formats each object's file, compares it with the file already
 * in DIR and writes it only where it differs. Reading the store and the
 * file system's work then overlap.
 *
 * Each file written gets its object's version time as mtime (a stamp). With
 * trust on, a file that still has its stamp to the nanosecond, and whose
 * ctime is older than the manifest the last complete export wrote after
 * flushing DIR, is taken as it is, without reading it: re-exporting an
 * unchanged store is then a stat per file. Any change to a file (a write,
 * a rename onto it, setting its times) moves its ctime to the present, and
 * a new version of an object has a new time. */
#ifndef AGS_SNAPSHOT_FILES_INT_H
#define AGS_SNAPSHOT_FILES_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fsutil-int.h"
#include "sbuf-int.h"

/* A batch is handed over when it holds this many files or bytes: the
 * thread wakes once per batch, not once per file, and the memory the two
 * batches hold stays small whatever the bodies' sizes. */
#define FILES_BATCH 64
#define FILES_BATCH_BYTES (1u << 20)

/* One object's file, as the exporter describes it. */
struct file_spec {
	const char *name; /* file name in the directory */
	const char *body; /* the stored body */
	size_t len;
	int64_t stamp; /* mtime to give it, ns; FSU_MTIME_NOW for none */
	bool exists;   /* in the directory before the export: compare first */
};

struct file_job {
	struct sbuf name, body;
	int64_t stamp;
	bool exists;
};

struct file_batch {
	int dir; /* where its files go: one collection's directory */
	struct file_job job[FILES_BATCH];
	size_t n, bytes;
};

struct file_writer {
	/* Set by the exporter before the first file. */
	bool pretty; /* write the canonical pretty form, not the stored bytes */
	/* ... when it is at most this long: import takes no file longer than
	 * the store's limit, and the stored bytes are within it */
	size_t pretty_max;
	bool trust;	      /* take a file that has its stamp as it is ... */
	int64_t trust_before; /* ... if its ctime is before this (ns) */

	bool threaded; /* false: every file is written at once, inline */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a batch was handed over, or quit */
	pthread_cond_t idle; /* the thread finished its batch */
	struct file_batch batch[2];
	struct file_batch *filling; /* the exporter's */
	struct file_batch *handed;  /* the thread's; NULL when it is idle */
	bool quit;

	struct sbuf text; /* the thread's: a file in the pretty form */

	/* Results: read by the exporter only while the thread is idle. */
	uint64_t written;
	int err;	      /* the first failure, -errno; then it stops */
	const char *err_what; /* "read", "write", or "format" (-EIO: the
				 stored body is not valid JSON) */
	struct sbuf err_name; /* the file it failed on */
};

/** Start the thread (if it cannot start, files are written inline: slower,
 * the same result). */
void files_start(struct file_writer *w);

/** Queue the file @f describes (copied) in directory @dir, to be written
 * unless it already holds its bytes. Files of one directory must be
 * drained before @dir is closed.
 * @return 0, -ENOMEM, or a failure of an earlier file (err_what and
 * err_name say which; errors surface a batch late, so drain before
 * reporting). */
int files_put(struct file_writer *w, int dir, const struct file_spec *f);

/** Wait until every queued file is written or found equal.
 * @return 0 or the first failure. */
int files_drain(struct file_writer *w);

/** Stop the thread and free everything (queued files are dropped: drain
 * first to keep them). */
void files_stop(struct file_writer *w);

#endif
