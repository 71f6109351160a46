/* snap-fixture.h: helpers the snapshot and backup tests share: paths in
 * the fixture directory, whole-file reads, shell commands, second stores. */
#ifndef AGS_SNAP_FIXTURE_H
#define AGS_SNAP_FIXTURE_H

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fixture.h"

/* Strings a test builds inline, freed at exit (so ASan sees no leak). */
static char *later[1024];
static int nlater;

static void free_all_later(void)
{
	while (nlater)
		free(later[--nlater]);
}

static inline char *free_later(char *p)
{
	if (!nlater)
		atexit(free_all_later);
	if (nlater < (int)(sizeof(later) / sizeof(*later)))
		later[nlater++] = p;
	return p;
}

/* A path inside the fixture directory (caller frees). */
static inline char *__attribute__((format(printf, 1, 2)))
in_dir(const char *fmt, ...)
{
	struct sbuf p = SBUF_INIT;
	va_list ap;

	fixture_path();
	sbuf_addf(&p, "%s/", fixture_dir);
	va_start(ap, fmt);
	sbuf_vaddf(&p, fmt, ap);
	va_end(ap);
	return sbuf_detach(&p);
}

/* The contents of a file, or NULL when it cannot be read. Caller frees. */
static inline char *slurp(const char *path)
{
	struct sbuf b = SBUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbuf_add(&b, chunk, n);
	fclose(f);
	return sbuf_detach(&b);
}

static inline bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static inline int64_t mtime_ns(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* Run a shell command in the fixture directory; its exit status. */
static inline int __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
	struct sbuf cmd = SBUF_INIT;
	va_list ap;
	int r;

	fixture_path();
	sbuf_addf(&cmd, "cd %s && ", fixture_dir);
	va_start(ap, fmt);
	sbuf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	r = system(cmd.buf);
	sbuf_release(&cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Another store in the fixture directory. */
static inline ags_store *open_other(const char *name)
{
	char *path = in_dir("%s", name);
	ags_store *o = NULL;
	char *msg = NULL;

	if (ags_store_open(&o, path, NULL, &msg) < 0) {
		printf("Bail out! cannot open %s: %s\n", path, msg);
		exit(1);
	}
	free(path);
	return o;
}

static inline int put_str(ags_store *st, const char *c, const char *id,
			  const char *body)
{
	return ags_object_put(st, NULL, c, id, body, strlen(body),
			      AGS_VERSION_ANY);
}

static inline int64_t last_seq(ags_store *st)
{
	int64_t seq = -1;

	ags_audit_last_seq(st, &seq);
	return seq;
}

#endif
