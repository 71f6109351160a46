/* fsutil.c: reading, comparing and atomically replacing files, and sorted
 * directory listings, for export, import and backups. Everything works
 * relative to a directory descriptor so a tree is walked without building
 * paths, and symlinks are never followed into. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil-int.h"

static int open_regular(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

int fsu_read(int dirfd, const char *name, size_t max, struct sbuf *out)
{
	struct stat st;
	size_t old = out->len, want;
	ssize_t n;
	int fd, r = 0;

	fd = open_regular(dirfd, name, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	/* One byte more than the size, so the end of file shows in the
	 * second read; a file growing meanwhile is read to its end still. */
	want = (size_t)st.st_size + 1;
	for (;;) {
		r = sbuf_grow(out, want);
		if (r < 0)
			break;
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break;
		out->len += (size_t)n;
		if (out->len - old > max) {
			r = -EFBIG;
			break;
		}
		want = 65536;
	}
	close(fd);
	if (r < 0) {
		sbuf_setlen(out, old);
		return r;
	}
	out->buf[out->len] = '\0';
	return 0;
}

int fsu_same(int dirfd, const char *name, const char *data, size_t len)
{
	char buf[65536];
	size_t done = 0, want;
	ssize_t n;
	int fd, r;

	/* No fstat: a read one byte longer than the data answers both the
	 * size and the content, in three system calls for a small file (an
	 * unchanged re-export is mostly this). O_NONBLOCK keeps a FIFO from
	 * hanging us; a directory fails the read. */
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -errno;
	for (;;) {
		want = len - done < sizeof(buf) ? len - done + 1 : sizeof(buf);
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == EISDIR || errno == EAGAIN ? 0 : -errno;
			break;
		}
		if ((size_t)n > len - done || memcmp(buf, data + done, n)) {
			r = 0;
			break;
		}
		done += (size_t)n;
		/* a short read of a regular file is its end */
		if ((size_t)n < want) {
			r = done == len;
			break;
		}
	}
	close(fd);
	return r;
}

int fsu_sync_fd(int fd)
{
	return fsync(fd) < 0 ? -errno : 0;
}

static int write_full(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Set the mtime of a file not yet under its name, so that it appears with
 * it. A failure is not one: the file then has the time of its writing,
 * which is what it would have had anyway. */
static void set_mtime(int fd, int64_t mtime_ns)
{
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT } };

	if (mtime_ns < 0)
		return;
	t[1].tv_sec = mtime_ns / 1000000000;
	t[1].tv_nsec = mtime_ns % 1000000000;
	futimens(fd, t);
}

int fsu_replace(int dirfd, const char *name, const char *data, size_t len,
		bool sync, int64_t mtime_ns)
{
	static _Atomic unsigned counter; /* exports may run in threads */
	char tmp[64];
	int fd, r;

	do {
		snprintf(tmp, sizeof(tmp), FSU_TMP_PREFIX "%ld.%u",
			 (long)getpid(), counter++);
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0644);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		return -errno;
	r = write_full(fd, data, len);
	if (r == 0)
		set_mtime(fd, mtime_ns);
	if (r == 0 && sync)
		r = fsu_sync_fd(fd);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return sync ? fsu_sync_fd(dirfd) : 0;
}

/* A new file appears whole under its name in one directory operation: an
 * unnamed O_TMPFILE is written, then linked in. @return 0, -EEXIST, or
 * -EOPNOTSUPP where the filesystem has no O_TMPFILE. */
static int create_linked(int dirfd, const char *name, const char *data,
			 size_t len, int64_t mtime_ns)
{
	char proc[64];
	int fd, r;

	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EISDIR || errno == EINVAL || errno == ENOENT
			       ? -EOPNOTSUPP
			       : -errno;
	r = write_full(fd, data, len);
	if (r == 0)
		set_mtime(fd, mtime_ns);
	/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc link
	 * does the same for anyone. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (r == 0 &&
	    linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) < 0)
		r = errno == ENOENT && access("/proc/self/fd", F_OK) < 0
			    ? -EOPNOTSUPP
			    : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int fsu_create(int dirfd, const char *name, const char *data, size_t len,
	       int64_t mtime_ns)
{
	static _Atomic bool no_tmpfile;
	int r;

	if (!no_tmpfile) {
		r = create_linked(dirfd, name, data, len, mtime_ns);
		if (r != -EOPNOTSUPP)
			return r;
		no_tmpfile = true;
	}
	return fsu_replace(dirfd, name, data, len, false, mtime_ns);
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct fsu_entry *)a)->name,
		      ((const struct fsu_entry *)b)->name);
}

static int names_add(struct fsu_names *l, const char *name, unsigned char type)
{
	char *copy;

	if (l->n == l->alloc) {
		size_t cap = l->alloc ? l->alloc * 2 : 64;
		struct fsu_entry *e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->e = e;
		l->alloc = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	l->e[l->n++] = (struct fsu_entry){ .name = copy, .type = type };
	return 0;
}

static unsigned char type_of(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	if (S_ISREG(st.st_mode))
		return DT_REG;
	if (S_ISDIR(st.st_mode))
		return DT_DIR;
	if (S_ISLNK(st.st_mode))
		return DT_LNK;
	return DT_UNKNOWN;
}

int fsu_list(int dirfd, struct fsu_names *out)
{
	struct fsu_names l = { 0 };
	struct dirent *d;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	errno = 0;
	while (r == 0 && (d = readdir(dir))) {
		unsigned char type = d->d_type;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (type == DT_UNKNOWN)
			type = type_of(dirfd, d->d_name);
		r = names_add(&l, d->d_name, type);
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	if (r < 0) {
		fsu_names_release(&l);
		return r;
	}
	if (l.n > 1)
		qsort(l.e, l.n, sizeof(*l.e), cmp_entries);
	*out = l;
	return 0;
}

long fsu_find(const struct fsu_names *l, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->e[mid].name, name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void fsu_names_release(struct fsu_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	*l = (struct fsu_names){ 0 };
}
