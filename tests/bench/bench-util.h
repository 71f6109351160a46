/* bench-util.h: what the benchmarks share: a monotonic clock, a
 * deterministic random generator, the scratch directory on disk, and the
 * table every benchmark prints (µs/op of agentstate beside its baseline). */
#ifndef AGS_BENCH_UTIL_H
#define AGS_BENCH_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define BENCH_TMPFS_MAGIC 0x01021994

static inline double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* splitmix64: the same sequence on every run and machine. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

__attribute__((noreturn, format(printf, 1, 2))) static inline void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A new directory for one run's store files, under $BENCH_DIR, else
 * $TMPDIR, else /var/tmp: on disk by default, since /tmp is often a tmpfs
 * where commits cost nothing. Caller frees. */
static inline char *bench_scratch_dir(const char *prefix)
{
	const char *base = getenv("BENCH_DIR");
	struct statfs fs;
	char *dir;

	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/var/tmp";
	if (asprintf(&dir, "%s/%s.XXXXXX", base, prefix) < 0)
		bench_die("out of memory");
	if (!mkdtemp(dir))
		bench_die("cannot create a directory in %s: %s (set BENCH_DIR "
			  "to a writable directory on disk)",
			  base, strerror(errno));
	if (statfs(dir, &fs) == 0 && fs.f_type == BENCH_TMPFS_MAGIC)
		fprintf(stderr,
			"bench: warning: %s is a tmpfs; the timings leave out "
			"the disk (set BENCH_DIR)\n",
			dir);
	return dir;
}

static inline int bench_rm_one(const char *path, const struct stat *st,
			       int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Remove @dir and everything in it, unless $BENCH_KEEP is set. */
static inline void bench_remove_dir(const char *dir)
{
	const char *keep = getenv("BENCH_KEEP");

	if (keep && *keep) {
		fprintf(stderr, "bench: kept %s\n", dir);
		return;
	}
	if (nftw(dir, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "bench: cannot remove %s: %s\n", dir,
			strerror(errno));
}

/* One line of the table. ratio is the rate of agentstate over the rate of
 * the baseline (baseline µs / agentstate µs): 1.00 is as fast, below 1
 * slower. */
struct bench_row {
	const char *size;
	const char *op;
	double us;	    /* agentstate µs/op */
	double base_us;	    /* baseline µs/op */
	const char *target; /* "-" for none */
	int met;	    /* 1 yes, 0 no, -1 no target */
};

/* printf's widths count bytes: widen by the continuation bytes of UTF-8
 * characters such as µ so that columns line up on a terminal. */
static inline int bench_width(const char *s, int width)
{
	for (; *s; s++)
		width += ((unsigned char)*s & 0xc0) == 0x80;
	return width;
}

static inline void bench_table_header(FILE *f, const char *base_name)
{
	const char *ours = "agentstate µs/op";

	fprintf(f, "%-8s  %-20s  %*s  %*s  %7s  %-*s  %s\n", "size",
		"operation", bench_width(ours, 16), ours,
		bench_width(base_name, 12), base_name, "ratio",
		bench_width("target", 16), "target", "met?");
}

static inline void bench_table_row(FILE *f, const struct bench_row *r)
{
	fprintf(f, "%-8s  %-20s  %16.2f  %12.2f  %7.2f  %-*s  %s\n", r->size,
		r->op, r->us, r->base_us, r->base_us / r->us,
		bench_width(r->target, 16), r->target,
		r->met < 0 ? "-"
		: r->met   ? "yes"
			   : "NO");
	fflush(f);
}

#endif
