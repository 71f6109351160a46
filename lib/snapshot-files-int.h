/* snapshot-files: the export's second thread. The exporter reads the store
 * and formats each file; this thread compares it with the file already in
 * DIR and writes it only where it differs. Reading the store and the file
 * system's work then overlap: an unchanged re-export is mostly opening and
 * reading files, and a full one mostly creating them. */
#ifndef AGS_SNAPSHOT_FILES_INT_H
#define AGS_SNAPSHOT_FILES_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sbuf-int.h"

/* A batch is handed over when it holds this many files or bytes: the
 * thread wakes once per batch, not once per file, and the memory the two
 * batches hold stays small whatever the bodies' sizes. */
#define FILES_BATCH 64
#define FILES_BATCH_BYTES (1u << 20)

struct file_job {
	struct sbuf name, data;
	bool exists; /* in the directory before the export: compare first */
};

struct file_batch {
	int dir; /* where its files go: one collection's directory */
	struct file_job job[FILES_BATCH];
	size_t n, bytes;
};

struct file_writer {
	bool threaded; /* false: every file is written at once, inline */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a batch was handed over, or quit */
	pthread_cond_t idle; /* the thread finished its batch */
	struct file_batch batch[2];
	struct file_batch *filling; /* the exporter's */
	struct file_batch *handed;  /* the thread's; NULL when it is idle */
	bool quit;

	/* Results: read by the exporter only while the thread is idle. */
	uint64_t written;
	int err;	      /* the first failure, -errno; then it stops */
	const char *err_what; /* "read" or "write" */
	struct sbuf err_name; /* the file it failed on */
};

/** Start the thread (if it cannot start, files are written inline: slower,
 * the same result). */
void files_start(struct file_writer *w);

/** Queue @name in directory @dir with @len bytes @data (copied), unless the
 * file already holds them; @exists: the file was listed in @dir. Files of
 * one directory must be drained before @dir is closed.
 * @return 0, -ENOMEM, or a failure of an earlier file (err_what and
 * err_name say which; errors surface a batch late, so drain before
 * reporting). */
int files_put(struct file_writer *w, int dir, const char *name,
	      const char *data, size_t len, bool exists);

/** Wait until every queued file is written or found equal.
 * @return 0 or the first failure. */
int files_drain(struct file_writer *w);

/** Stop the thread and free everything (queued files are dropped: drain
 * first to keep them). */
void files_stop(struct file_writer *w);

#endif
