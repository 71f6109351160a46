/* fsutil: the few POSIX file operations snapshots and backups share: reading
 * a whole file, replacing one atomically, and listing a directory. */
#ifndef AGS_FSUTIL_INT_H
#define AGS_FSUTIL_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sbuf-int.h"

/* Temporary files of an export or a backup start with this, so a later run
 * can tell the leftovers of a crash from a user's files. It begins with '.',
 * so it is neither an object file name nor a collection name. */
#define FSU_TMP_PREFIX ".agentstate-tmp."

/** Read the regular file @name (relative to @dirfd; symlinks not followed)
 * and append its bytes to @out, refusing files over @max bytes with -EFBIG.
 * @return 0 or -errno. */
int fsu_read(int dirfd, const char *name, size_t max, struct sbuf *out);

/** Whether the regular file @name holds exactly @len bytes @data.
 * @return 1 same, 0 different or missing, -errno on a read error. */
int fsu_same(int dirfd, const char *name, const char *data, size_t len);

/* A file time as ns since the epoch, as the store keeps times. */
static inline int64_t fsu_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* For the mtime_ns arguments below: the time of the writing. */
#define FSU_MTIME_NOW (-1)

/** Replace @name with @len bytes @data atomically: a temporary file in the
 * same directory, renamed over it. With @sync the file is fsync()ed before
 * the rename and the directory after. The file has mtime @mtime_ns (ns since
 * the epoch) from the moment it is under @name. @return 0 or -errno. */
int fsu_replace(int dirfd, const char *name, const char *data, size_t len,
		bool sync, int64_t mtime_ns);

/** Create @name, which does not exist yet, with @len bytes @data and mtime
 * @mtime_ns, so that it appears whole or not at all (O_TMPFILE linked in,
 * else a temporary renamed). @return 0, -EEXIST if it appeared meanwhile,
 * or -errno. */
int fsu_create(int dirfd, const char *name, const char *data, size_t len,
	       int64_t mtime_ns);

/** fsync() a directory (or file) by descriptor. @return 0 or -errno. */
int fsu_sync_fd(int fd);

/* The names in one directory, sorted (strcmp), for lookups while a tree is
 * compared with the store. */
struct fsu_entry {
	char *name;
	unsigned char type; /* d_type, resolved: DT_REG, DT_DIR, DT_LNK ... */
	bool seen;	    /* for the caller: set when matched */
};

struct fsu_names {
	struct fsu_entry *e;
	size_t n, alloc;
};

/** List @dirfd (the descriptor stays the caller's), with each entry's type
 * (lstat when readdir cannot tell). "." and ".." are left out.
 * @return 0 or -errno. */
int fsu_list(int dirfd, struct fsu_names *out);
/** The index of @name, or -1. */
long fsu_find(const struct fsu_names *names, const char *name);
void fsu_names_release(struct fsu_names *names);

#endif
