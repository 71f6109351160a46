/* bench-mount.c: the mount benchmark. Times file operations on an agentstate
 * mount beside the floor (bench-mount-memfs: an in-memory filesystem on the
 * same libfuse with the daemon's settings, so the difference is what the
 * daemon does, not what FUSE costs) and tmpfs (no FUSE at all), in the same
 * run, and prints µs/op with the ratios mount/floor and mount/tmpfs. Then it
 * measures the daemon's memory after walking and reading a large store.
 *
 * usage: bench-mount [--quick] [--files N] [--rss N] [--only PARTS]
 *
 * Operations, on files of 200 B and 10 KiB (valid JSON of exactly that
 * size), with 1 and 4 clients (threads, each in its own directory: a
 * collection on the mount), everything pinned to one CPU (the daemons and
 * the clients, so each request costs two context switches on it) and
 * unpinned. Per run N files (--files, split among the clients) go through:
 *
 *   create+write+close    open(O_WRONLY|O_CREAT|O_TRUNC), one write, close
 *   stat (uncached)       1.1 s later, when the kernel's entries expired
 *   stat (cached)         64 files again and again within the timeout
 *   open+read+close       read to EOF; the first read since the write
 *   ... (cached)          again: the pages are in the kernel's cache
 *   overwrite             open(O_WRONLY|O_TRUNC), write, close
 *   stat after own write  64 files overwritten, then stat()ed 0.5 s later
 *                         (what the kernel still has cached by then)
 *   rename                o<i>.json to r<i>.json in the same directory
 *   unlink                of every file
 *
 * The clients go through their files in chunks of 250, each first put in
 * the kernel's cache by an untimed stat (except for create and the
 * uncached stat), then timed, all clients together between two barriers:
 * so each step times the operation, not the lookups before it, however
 * long the step takes beside the 1 s the kernel trusts names. The three
 * filesystems take turns step by step (which goes first rotates), so drift
 * in the machine's state is shared. µs/op is the wall time of the timed
 * parts over the operations of all clients: latency with one client, the
 * inverse of throughput with four. Then readdir of directories of 10,000
 * and 100,000 files: names only (getdents), and with an fstatat() of each
 * entry as `ls -l` or nftw() do.
 *
 * Memory: a store of --rss objects (default 1,000,000, in collections of
 * 10,000) is built through the library in batched transactions and mounted
 * by a daemon of its own, walked with nftw() (as `ls -lR`), then every file
 * is read (as `cat`), and the daemon's VmRSS and VmHWM are read from
 * /proc/PID/status.
 *
 * Targets (mount / floor time): create+write+close <= 1.5x, open+read+close
 * <= 1.3x, cached stat <= 1.2x, unlink <= 1.5x; unpinned, 4 clients at >=
 * 1.5x the throughput of 1; the daemon's VmRSS after the walk and the reads
 * of the large store < 64 MiB.
 *
 * Cleanup: the benchmark runs in a private mount namespace when it can
 * (root), so no mount outlives it even if it is killed; it unmounts and
 * stops its daemons at exit and on fatal signals, and each daemon gets
 * SIGTERM should the benchmark die first (PR_SET_PDEATHSIG). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentstate.h"
#include "bench-util.h"

#ifndef BENCH_AGENTSTATE
#define BENCH_AGENTSTATE "agentstate"
#endif
#ifndef BENCH_MEMFS
#define BENCH_MEMFS "bench-mount-memfs"
#endif
#ifndef BENCH_FUSE_VERSION
#define BENCH_FUSE_VERSION "3"
#endif

#define FUSE_MAGIC 0x65735546
#define MAX_CLIENTS 4
#define STORE_BATCH 5000    /* puts per transaction when building stores */
#define RSS_PER_COLL 10000  /* objects per collection of the memory store */
#define RSS_TARGET_MIB 64.0 /* the daemon's VmRSS after the walk */
#define IO_BUF (64 * 1024)  /* read() size, as cat's */

/* ---- the filesystems ------------------------------------------------------ */

enum fs_kind { FS_MOUNT, FS_FLOOR, FS_TMPFS, NFS };

static const char *const fs_label[NFS] = { "mount", "floor", "tmpfs" };

struct fsys {
	const char *label;
	char *mnt;		 /* mountpoint */
	char *log;		 /* the daemon's output */
	pid_t pid;		 /* the daemon, 0 for none */
	bool mounted;		 /* by us, and not unmounted yet */
	bool fuse;		 /* unmounted with fusermount3 when not root */
	bool present;		 /* measured in this run */
	char *dirs[MAX_CLIENTS]; /* the clients' directories */
};

/* Everything the exit and signal handlers must undo. */
static struct {
	char *dir; /* scratch directory */
	struct fsys fs[NFS];
	struct fsys rss; /* the daemon of the memory measurement */
	bool root;
	bool keep_dir; /* a mount could not be removed: keep the files */
	cpu_set_t all; /* the CPUs we may use */
	cpu_set_t one; /* the CPU of pinned runs */
	int cpu;
} G;

static const char *wrap; /* $BENCH_MOUNT_WRAP: runs the daemon under it */

static struct fsys *all_fsys(size_t i)
{
	return i < NFS ? &G.fs[i] : i == NFS ? &G.rss : NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Run fusermount3 -u (or -uz) on @mnt. @return its exit status. */
static int fusermount_u(const char *mnt, bool lazy)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", "--",
		       mnt, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Wait up to @ms for @pid to exit. */
static bool reap(pid_t pid, long ms)
{
	for (long t = 0; t <= ms; t += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		sleep_ms(10);
	}
	return false;
}

static void print_log(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

/* What every agentstate daemon says: anything else in its log is worth a
 * look (a warning under load, say), so it is shown with the results. */
static bool routine_line(const char *line)
{
	return strstr(line, "agentstate mount: serving ") ||
	       strstr(line, "agentstate mount: unmounted ");
}

#define LOG_SHOWN 5

/* Show the log of a daemon that reported a sanitizer error (a build with
 * -Db_sanitize): it would otherwise go with the scratch directory. Other
 * lines than the routine ones are shown too, the first few of them. */
static void check_log(const struct fsys *f)
{
	char line[512];
	bool bad = false;
	size_t other = 0;
	FILE *in = f->log ? fopen(f->log, "r") : NULL;

	if (!in)
		return;
	while (!bad && fgets(line, sizeof(line), in)) {
		bad = strstr(line, "Sanitizer") ||
		      strstr(line, "runtime error:");
		if (routine_line(line))
			continue;
		if (other++ == 0)
			fprintf(stderr, "bench: the %s daemon logged:\n",
				f->label);
		if (other <= LOG_SHOWN)
			fprintf(stderr, "  | %s", line);
	}
	fclose(in);
	if (other > LOG_SHOWN)
		fprintf(stderr, "  | ... %zu lines in all\n", other);
	if (bad) {
		fprintf(stderr, "bench: the %s daemon reported errors:\n",
			f->label);
		print_log(f->log);
	}
}

/* Unmount @f and stop its daemon: the daemon ends by itself once its
 * mount is gone (agentstate commits what is pending first). */
static void fsys_stop(struct fsys *f)
{
	if (f->mounted) {
		int r = umount2(f->mnt, 0);

		if (r < 0 && errno == EPERM && f->fuse)
			r = fusermount_u(f->mnt, false) == 0 ? 0 : -1;
		if (r < 0) {
			/* busy: detach it, it goes with its last user */
			r = umount2(f->mnt, MNT_DETACH);
			if (r < 0 && f->fuse)
				r = fusermount_u(f->mnt, true) == 0 ? 0 : -1;
		}
		if (r < 0) {
			fprintf(stderr, "bench: cannot unmount %s: %s\n",
				f->mnt, strerror(errno));
			G.keep_dir = true;
		}
		f->mounted = false;
	}
	if (f->pid > 0) {
		if (!reap(f->pid, 10000)) {
			kill(f->pid, SIGTERM);
			if (!reap(f->pid, 5000)) {
				kill(f->pid, SIGKILL);
				reap(f->pid, 5000);
			}
		}
		f->pid = 0;
		check_log(f);
	}
}

static void cleanup(void)
{
	struct fsys *f;

	for (size_t i = 0; (f = all_fsys(i)); i++) {
		fsys_stop(f);
		free(f->mnt);
		free(f->log);
		for (int k = 0; k < MAX_CLIENTS; k++)
			free(f->dirs[k]);
		memset(f, 0, sizeof(*f));
	}
	if (G.dir && !G.keep_dir)
		bench_remove_dir(G.dir);
	else if (G.dir)
		fprintf(stderr, "bench: left %s\n", G.dir);
	free(G.dir);
	G.dir = NULL;
}

/* What on_signal() says, made before any signal can come. */
static char interrupted[PATH_MAX + 128];

/* Only async-signal-safe calls: detach every mount, stop every daemon. */
static void on_signal(int sig)
{
	struct fsys *f;

	for (size_t i = 0; (f = all_fsys(i)); i++)
		if (f->mounted)
			umount2(f->mnt, MNT_DETACH);
	for (size_t i = 0; (f = all_fsys(i)); i++)
		if (f->pid > 0)
			kill(f->pid, SIGTERM);
	for (size_t i = 0; (f = all_fsys(i)); i++) {
		for (int t = 0; f->pid > 0 && t < 500; t++) {
			struct timespec ts = { 0, 10000000L };

			if (waitpid(f->pid, NULL, WNOHANG) != 0)
				break;
			nanosleep(&ts, NULL);
		}
		if (f->pid > 0 && waitpid(f->pid, NULL, WNOHANG) == 0)
			kill(f->pid, SIGKILL);
	}
	if (write(STDERR_FILENO, interrupted, strlen(interrupted)) < 0) {
		/* nothing more to do */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
				     SIGSEGV, SIGBUS,  SIGFPE, SIGABRT };

static void handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(*fatal_signals);
	     i++)
		sigaction(fatal_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Clients block the termination signals so they reach the main thread. */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* A mount namespace of our own: every mount in it goes when its last
 * process does, whatever killed it. Only root can. */
static void private_namespace(void)
{
	if (!G.root)
		return;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fprintf(stderr,
			"bench: warning: no private mount namespace (%s); "
			"mounts are cleaned up at exit only\n",
			strerror(errno));
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		bench_die("out of memory");
	return p;
}

/* Start the daemon @argv with its output in @f->log, and wait until its
 * mount serves. */
static void fsys_spawn(struct fsys *f, char **argv)
{
	char *words[64];
	int n = 0, fd;
	char *copy = NULL;
	struct statfs sf;

	if (f == &G.fs[FS_MOUNT] || f == &G.rss) {
		if (wrap && *wrap) {
			char *save = NULL, *w;

			copy = strdup(wrap);
			for (w = strtok_r(copy, " ", &save); w && n < 32;
			     w = strtok_r(NULL, " ", &save))
				words[n++] = w;
		}
	}
	for (int i = 0; argv[i] && n < 63; i++)
		words[n++] = argv[i];
	words[n] = NULL;

	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (f->pid == 0) {
		sigset_t none;

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fd = open(f->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(words[0], words);
		fprintf(stderr, "cannot run %s: %s\n", words[0],
			strerror(errno));
		_exit(127);
	}
	free(copy);
	f->fuse = true;
	for (int t = 0; t < 3000; t++) {
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			fprintf(stderr, "bench: the %s daemon exited:\n",
				f->label);
			print_log(f->log);
			bench_die("cannot mount %s", f->mnt);
		}
		if (statfs(f->mnt, &sf) == 0 && sf.f_type == FUSE_MAGIC) {
			f->mounted = true;
			return;
		}
		sleep_ms(10);
	}
	print_log(f->log);
	bench_die("the %s daemon did not mount %s within 30 s", f->label,
		  f->mnt);
}

static void fsys_dirs(struct fsys *f, const char *name)
{
	f->label = name;
	f->mnt = path_join(G.dir, name);
	if (asprintf(&f->log, "%s/%s.log", G.dir, name) < 0)
		bench_die("out of memory");
	if (mkdir(f->mnt, 0755) < 0)
		bench_die("mkdir %s: %s", f->mnt, strerror(errno));
}

static void start_mount(struct fsys *f, const char *store)
{
	const char *exe = getenv("BENCH_AGENTSTATE");
	char *argv[] = { (char *)(exe && *exe ? exe : BENCH_AGENTSTATE),
			 "--store",
			 (char *)store,
			 "mount",
			 f->mnt,
			 "-f",
			 NULL };

	fsys_spawn(f, argv);
}

static void start_floor(struct fsys *f)
{
	const char *exe = getenv("BENCH_MEMFS");
	char *argv[] = { (char *)(exe && *exe ? exe : BENCH_MEMFS), f->mnt,
			 "-f", NULL };

	fsys_spawn(f, argv);
}

static bool start_tmpfs(struct fsys *f)
{
	if (mount("bench-tmpfs", f->mnt, "tmpfs", 0, "mode=0755") < 0) {
		fprintf(stderr,
			"bench: no tmpfs column: cannot mount one: %s\n",
			strerror(errno));
		return false;
	}
	f->mounted = true;
	return true;
}

/* ---- CPUs ------------------------------------------------------------------ */

/* Every thread of @pid, and its children (a daemon under $BENCH_MOUNT_WRAP
 * is the wrapper's child). New threads inherit their creator's mask. */
static void pin_tree(pid_t pid, const cpu_set_t *set, int depth)
{
	char path[64], kids[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		FILE *f;

		if (tid <= 0)
			continue;
		sched_setaffinity(tid, sizeof(*set), set);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)pid, (int)tid);
		f = depth < 3 ? fopen(path, "r") : NULL;
		if (f) {
			size_t n = fread(kids, 1, sizeof(kids) - 1, f);
			char *p = kids, *end;

			kids[n] = '\0';
			for (long k; (k = strtol(p, &end, 10)) > 0; p = end)
				pin_tree((pid_t)k, set, depth + 1);
			fclose(f);
		}
	}
	closedir(d);
}

static void pin_daemons(bool pinned)
{
	const cpu_set_t *set = pinned ? &G.one : &G.all;

	for (size_t i = 0; all_fsys(i); i++)
		if (all_fsys(i)->pid > 0) {
			/* twice: a thread made while we walk may have
			 * inherited the old mask */
			pin_tree(all_fsys(i)->pid, set, 0);
			pin_tree(all_fsys(i)->pid, set, 0);
		}
	sched_setaffinity(0, sizeof(*set), set);
}

/* ---- bodies -------------------------------------------------------------- */

/* A JSON object of exactly @size bytes (at least 48), different for each
 * @n and @gen. */
static void make_body(char *out, size_t size, uint64_t n, int gen)
{
	int k = snprintf(out, size, "{\"n\":%" PRIu64 ",\"gen\":%d,\"pad\":\"",
			 n, gen);

	memset(out + k, 'a' + (int)((n + (uint64_t)gen) % 26),
	       size - (size_t)k - 2);
	out[size - 2] = '"';
	out[size - 1] = '}';
}

/* ---- the clients ------------------------------------------------------------ */

enum op {
	OP_CREATE,
	OP_STAT,
	OP_STAT_CACHED,
	OP_READ,
	OP_OVERWRITE,
	OP_STAT_AFTER_WRITE,
	OP_RENAME,
	OP_UNLINK,
};

/* Files per client between two synchronisation points of a step: small
 * enough that the untimed stat before each chunk is fresh (well within the
 * 1 s the kernel trusts it) when the chunk's timed part reaches its files. */
#define CHUNK 250
/* Files a client stats again and again for "stat (cached)". */
#define CACHED_FILES 64
/* Files each client writes then stats for "stat after own write", and the
 * pause between: longer than the agentstate watcher's 250 ms poll, well
 * under the 1 s the kernel trusts a name. */
#define AFTER_WRITE_FILES 64
#define AFTER_WRITE_PAUSE_MS 500

struct client {
	pthread_t thread;
	pthread_barrier_t *sync; /* all clients of the step */
	const char *dir;	 /* its own directory */
	const char *fsname;
	enum op op;
	size_t n;    /* files */
	size_t size; /* bytes of each */
	size_t reps; /* OP_STAT_CACHED: stats */
	int gen;     /* of the bodies written */
	bool pinned;
	size_t nchunks;
	double *t0, *t1; /* each chunk's timed part */
	size_t ops;	 /* operations timed */
	char *body;
	char *buf;
};

__attribute__((format(printf, 3, 4))) static void
client_fail(const struct client *c, int err, const char *fmt, ...)
{
	char what[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	bench_die("%s: %s: %s", c->fsname, what, strerror(err));
}

static void file_path(char *out, size_t size, const struct client *c,
		      char prefix, size_t i)
{
	snprintf(out, size, "%s/%c%zu.json", c->dir, prefix, i);
}

static void write_file(struct client *c, const char *path, int flags, size_t i,
		       int gen)
{
	int fd = open(path, flags, 0644);
	ssize_t w;

	if (fd < 0)
		client_fail(c, errno, "open %s", path);
	make_body(c->body, c->size, i, gen);
	w = write(fd, c->body, c->size);
	if (w != (ssize_t)c->size)
		client_fail(c, w < 0 ? errno : EIO, "write %s", path);
	if (close(fd) < 0)
		client_fail(c, errno, "close %s", path);
}

static void read_file(struct client *c, const char *path)
{
	size_t got = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		client_fail(c, errno, "open %s", path);
	while ((r = read(fd, c->buf, IO_BUF)) > 0)
		got += (size_t)r;
	if (r < 0)
		client_fail(c, errno, "read %s", path);
	if (got != c->size)
		client_fail(c, EIO, "read %zu bytes of %s, not %zu", got, path,
			    c->size);
	close(fd);
}

static void stat_file(struct client *c, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		client_fail(c, errno, "stat %s", path);
	if ((size_t)st.st_size != c->size)
		client_fail(c, EIO, "%s has %zu bytes, not %zu", path,
			    (size_t)st.st_size, c->size);
}

static void stat_files(struct client *c, char prefix, size_t lo, size_t hi)
{
	char path[PATH_MAX];

	for (size_t i = lo; i < hi; i++) {
		file_path(path, sizeof(path), c, prefix, i);
		stat_file(c, path);
	}
}

/* The files of the step's operations: n, or a few for the stat steps. */
static size_t op_files(const struct client *c)
{
	switch (c->op) {
	case OP_STAT_CACHED:
		return c->n < CACHED_FILES ? c->n : CACHED_FILES;
	case OP_STAT_AFTER_WRITE:
		return c->n < AFTER_WRITE_FILES ? c->n : AFTER_WRITE_FILES;
	default:
		return c->n;
	}
}

/* What comes before the timed part of the chunk [lo, hi): the files'
 * names and attributes put in the kernel's cache, unless the step times
 * exactly that. */
static void untimed(struct client *c, size_t lo, size_t hi)
{
	char path[PATH_MAX];

	switch (c->op) {
	case OP_CREATE:
	case OP_STAT:
		break;
	case OP_STAT_CACHED:
	case OP_READ:
	case OP_OVERWRITE:
	case OP_RENAME:
		stat_files(c, 'o', lo, hi);
		break;
	case OP_UNLINK:
		stat_files(c, 'r', lo, hi);
		break;
	case OP_STAT_AFTER_WRITE:
		stat_files(c, 'o', lo, hi);
		for (size_t i = lo; i < hi; i++) {
			file_path(path, sizeof(path), c, 'o', i);
			write_file(c, path, O_WRONLY | O_TRUNC, i, c->gen);
		}
		sleep_ms(AFTER_WRITE_PAUSE_MS);
		break;
	}
}

static size_t timed(struct client *c, size_t lo, size_t hi)
{
	char path[PATH_MAX], to[PATH_MAX];
	size_t k = hi - lo;

	switch (c->op) {
	case OP_CREATE:
	case OP_OVERWRITE:
		for (size_t i = lo; i < hi; i++) {
			file_path(path, sizeof(path), c, 'o', i);
			write_file(c, path,
				   O_WRONLY | O_TRUNC |
					   (c->op == OP_CREATE ? O_CREAT : 0),
				   i, c->gen);
		}
		return k;
	case OP_STAT:
	case OP_STAT_AFTER_WRITE:
		stat_files(c, 'o', lo, hi);
		return k;
	case OP_STAT_CACHED:
		for (size_t i = 0; i < c->reps; i++) {
			file_path(path, sizeof(path), c, 'o', lo + i % k);
			stat_file(c, path);
		}
		return c->reps;
	case OP_READ:
		for (size_t i = lo; i < hi; i++) {
			file_path(path, sizeof(path), c, 'o', i);
			read_file(c, path);
		}
		return k;
	case OP_RENAME:
		for (size_t i = lo; i < hi; i++) {
			file_path(path, sizeof(path), c, 'o', i);
			file_path(to, sizeof(to), c, 'r', i);
			if (rename(path, to) < 0)
				client_fail(c, errno, "rename %s", path);
		}
		return k;
	case OP_UNLINK:
		for (size_t i = lo; i < hi; i++) {
			file_path(path, sizeof(path), c, 'r', i);
			if (unlink(path) < 0)
				client_fail(c, errno, "unlink %s", path);
		}
		return k;
	}
	return 0;
}

/* Chunk by chunk: the untimed part, then all clients together time
 * theirs; the steps with a few files are one chunk. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	size_t n = op_files(c);
	size_t chunk = n == c->n ? CHUNK : n;

	block_signals();
	sched_setaffinity(0, sizeof(cpu_set_t), c->pinned ? &G.one : &G.all);
	for (size_t k = 0; k < c->nchunks; k++) {
		size_t lo = k * chunk < n ? k * chunk : n;
		size_t hi = lo + chunk < n ? lo + chunk : n;

		untimed(c, lo, hi);
		pthread_barrier_wait(c->sync);
		c->t0[k] = bench_now_us();
		if (hi > lo)
			c->ops += timed(c, lo, hi);
		c->t1[k] = bench_now_us();
		pthread_barrier_wait(c->sync);
	}
	return NULL;
}

/* One run's shape. */
struct run {
	bool pinned;
	size_t size;
	int clients;
	size_t files; /* in all */
	size_t reps;  /* cached stats in all */
	int gen;      /* of the bodies being written */
};

/* Run @op on @f with the clients of @r; returns µs per operation: the wall
 * time of the timed parts over the operations of all clients together. */
static double step(struct fsys *f, const struct run *r, enum op op)
{
	struct client cl[MAX_CLIENTS];
	pthread_barrier_t sync;
	size_t per = r->files / (size_t)r->clients, ops = 0, nchunks;
	double wall = 0;

	nchunks = op == OP_STAT_CACHED || op == OP_STAT_AFTER_WRITE
			  ? 1
			  : (per + CHUNK - 1) / CHUNK;
	pthread_barrier_init(&sync, NULL, (unsigned)r->clients);
	for (int k = 0; k < r->clients; k++) {
		struct client *c = &cl[k];

		memset(c, 0, sizeof(*c));
		c->sync = &sync;
		c->dir = f->dirs[k];
		c->fsname = f->label;
		c->op = op;
		c->n = per;
		c->size = r->size;
		c->reps = r->reps / (size_t)r->clients;
		c->gen = r->gen;
		c->pinned = r->pinned;
		c->nchunks = nchunks;
		c->t0 = calloc(nchunks + 1, sizeof(double));
		c->t1 = calloc(nchunks + 1, sizeof(double));
		c->body = malloc(r->size);
		c->buf = malloc(IO_BUF);
		if (!c->t0 || !c->t1 || !c->body || !c->buf)
			bench_die("out of memory");
		if (pthread_create(&c->thread, NULL, client_main, c) != 0)
			bench_die("cannot start a client thread");
	}
	for (int k = 0; k < r->clients; k++)
		pthread_join(cl[k].thread, NULL);
	for (size_t j = 0; j < nchunks; j++) {
		double t0 = INFINITY, t1 = 0;

		for (int k = 0; k < r->clients; k++) {
			t0 = cl[k].t0[j] < t0 ? cl[k].t0[j] : t0;
			t1 = cl[k].t1[j] > t1 ? cl[k].t1[j] : t1;
		}
		wall += t1 - t0;
	}
	for (int k = 0; k < r->clients; k++) {
		ops += cl[k].ops;
		free(cl[k].t0);
		free(cl[k].t1);
		free(cl[k].body);
		free(cl[k].buf);
	}
	pthread_barrier_destroy(&sync);
	return wall / (double)(ops ? ops : 1);
}

/* ---- the table ------------------------------------------------------------ */

struct row {
	const char *pin, *size, *clients, *op;
	double us[NFS]; /* NAN: not measured */
	const char *target;
	int met; /* 1, 0, or -1: no target */
};

static void print_header(void)
{
	printf("%-8s  %-7s  %-7s  %-24s  %*s  %*s  %*s  %11s  %11s  %-*s  "
	       "%s\n",
	       "pin", "size", "clients", "operation",
	       bench_width("mount µs/op", 11), "mount µs/op",
	       bench_width("floor µs/op", 11), "floor µs/op",
	       bench_width("tmpfs µs/op", 11), "tmpfs µs/op", "mount/floor",
	       "mount/tmpfs", 14, "target", "met?");
}

static void num(char *out, size_t size, double v, const char *fmt)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, fmt, v);
}

static void print_row(const struct row *r)
{
	char us[NFS][32], rf[32], rt[32];

	for (int i = 0; i < NFS; i++)
		num(us[i], sizeof(us[i]), r->us[i], "%.2f");
	num(rf, sizeof(rf), r->us[FS_MOUNT] / r->us[FS_FLOOR], "%.2f");
	num(rt, sizeof(rt), r->us[FS_MOUNT] / r->us[FS_TMPFS], "%.2f");
	printf("%-8s  %-7s  %-7s  %-24s  %11s  %11s  %11s  %11s  %11s  %-14s  "
	       "%s\n",
	       r->pin, r->size, r->clients, r->op, us[0], us[1], us[2], rf, rt,
	       r->target,
	       r->met < 0 ? "-"
	       : r->met	  ? "yes"
			  : "NO");
	fflush(stdout);
}

/* Targets and how each fared over all rows. */
struct target {
	const char *name; /* the operation it applies to */
	const char *text;
	const char *unit;
	double limit; /* at most, or for scaling at least */
	bool scaling;
	int rows, met;
	double worst;
	char worst_at[64];
};

static struct target targets[] = {
	{ "create+write+close", "<=1.5x floor", "x", 1.5, false, 0, 0, 0, "" },
	{ "open+read+close", "<=1.3x floor", "x", 1.3, false, 0, 0, 0, "" },
	{ "open+read+close (cached)", "<=1.3x floor", "x", 1.3, false, 0, 0, 0,
	  "" },
	{ "stat (cached)", "<=1.2x floor", "x", 1.2, false, 0, 0, 0, "" },
	{ "unlink", "<=1.5x floor", "x", 1.5, false, 0, 0, 0, "" },
	{ "4 clients / 1 client", ">=1.5x (mount)", "x", 1.5, true, 0, 0, 0,
	  "" },
	{ "daemon VmRSS", "<64 MiB", " MiB", RSS_TARGET_MIB, false, 0, 0, 0,
	  "" },
};

static struct target *target_of(const char *op, bool scaling)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++)
		if (targets[i].scaling == scaling &&
		    (scaling || strcmp(targets[i].name, op) == 0))
			return &targets[i];
	return NULL;
}

/* Judge @value against @t, remembering the worst and where it was. */
static int judge(struct target *t, double value, const char *where)
{
	bool ok = t->scaling ? value >= t->limit : value <= t->limit;
	bool worse = t->rows == 0 ||
		     (t->scaling ? value < t->worst : value > t->worst);

	if (isnan(value))
		return -1;
	t->rows++;
	t->met += ok;
	if (worse) {
		t->worst = value;
		snprintf(t->worst_at, sizeof(t->worst_at), "%s", where);
	}
	return ok;
}

/* ---- the operations ---------------------------------------------------- */

struct opdef {
	const char *name;
	enum op op;
	int gen;       /* added to the run's: each write differs */
	long sleep_ms; /* pause after the step, before the next one */
};

static const struct opdef ops[] = {
	{ "create+write+close", OP_CREATE, 0, 1100 },
	{ "stat (uncached)", OP_STAT, 0, 0 },
	{ "stat (cached)", OP_STAT_CACHED, 0, 0 },
	{ "open+read+close", OP_READ, 0, 0 },
	{ "open+read+close (cached)", OP_READ, 0, 0 },
	{ "overwrite", OP_OVERWRITE, 1, 0 },
	{ "stat after own write", OP_STAT_AFTER_WRITE, 2, 0 },
	{ "rename", OP_RENAME, 0, 300 },
	{ "unlink", OP_UNLINK, 0, 0 },
};

#define NOPS (sizeof(ops) / sizeof(*ops))

struct opts {
	bool quick;
	size_t files;
	size_t rss;
	size_t readdir[2];
	bool do_ops, do_readdir, do_rss;
};

static const char *size_label(size_t size)
{
	return size >= 1024 ? "10 KiB" : "200 B";
}

/* µs/op of every operation, per filesystem, of one run. */
static void run_ops(const struct run *r, int rot, double out[NOPS][NFS])
{
	struct run rr = *r;

	for (size_t i = 0; i < NOPS; i++) {
		const struct opdef *d = &ops[i];

		rr.gen = r->gen + d->gen;
		for (int j = 0; j < NFS; j++) {
			struct fsys *f = &G.fs[(rot + j) % NFS];

			out[i][(rot + j) % NFS] = NAN;
			if (f->present)
				out[i][(rot + j) % NFS] = step(f, &rr, d->op);
		}
		if (d->sleep_ms)
			sleep_ms(d->sleep_ms);
	}
}

static const size_t sizes[] = { 200, 10240 };
static const int nclients[] = { 1, 4 };

/* The rows of one run, judged against the targets. */
static void report_run(const struct run *r, double out[NOPS][NFS])
{
	const char *pin = r->pinned ? "pinned" : "unpinned";
	char clients[8], where[64];

	snprintf(clients, sizeof(clients), "%d", r->clients);
	for (size_t i = 0; i < NOPS; i++) {
		struct row row = { .pin = pin,
				   .size = size_label(r->size),
				   .clients = clients,
				   .op = ops[i].name,
				   .target = "-",
				   .met = -1 };
		struct target *t = target_of(ops[i].name, false);

		memcpy(row.us, out[i], sizeof(row.us));
		if (t) {
			snprintf(where, sizeof(where), "%s, %s, %d client%s",
				 pin, row.size, r->clients,
				 r->clients > 1 ? "s" : "");
			row.target = t->text;
			row.met = judge(t, row.us[FS_MOUNT] / row.us[FS_FLOOR],
					where);
		}
		print_row(&row);
	}
}

/* Throughput of 4 clients over 1 for operation @i, from the µs/op of
 * both runs; the target holds unpinned, where clients may use every CPU. */
static void scaling_row(bool pinned, size_t size, size_t i,
			const double one[NFS], const double four[NFS])
{
	const char *pin = pinned ? "pinned" : "unpinned";
	struct target *t = target_of(NULL, true);
	char v[NFS][16], where[64];
	int met = -1;

	for (int f = 0; f < NFS; f++)
		num(v[f], sizeof(v[f]), one[f] / four[f], "%.2f");
	snprintf(where, sizeof(where), "%s, %s, %s", pin, size_label(size),
		 ops[i].name);
	if (!pinned)
		met = judge(t, one[FS_MOUNT] / four[FS_MOUNT], where);
	printf("%-8s  %-7s  %-24s  %6s  %6s  %6s  %-15s  %s\n", pin,
	       size_label(size), ops[i].name, v[0], v[1], v[2],
	       pinned ? "-" : t->text,
	       met < 0 ? "-"
	       : met   ? "yes"
		       : "NO");
}

static void report_scaling(double res[2][2][2][NOPS][NFS])
{
	printf("\nscaling: throughput of 4 clients / 1 client (higher is "
	       "better; the machine has %ld CPUs)\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-8s  %-7s  %-24s  %6s  %6s  %6s  %-15s  %s\n", "pin", "size",
	       "operation", "mount", "floor", "tmpfs", "target", "met?");
	for (int p = 0; p < 2; p++)
		for (int s = 0; s < 2; s++)
			for (size_t i = 0; i < NOPS; i++)
				scaling_row(p == 1, sizes[s], i,
					    res[p][s][0][i], res[p][s][1][i]);
}

/* The 200 B and 10 KiB runs with 1 and 4 clients, unpinned then pinned. */
static void bench_ops(const struct opts *o)
{
	double res[2][2][2][NOPS][NFS]; /* pin, size, clients */
	int rot = 0;

	for (int p = 0; p < 2; p++) {
		pin_daemons(p == 1);
		for (int s = 0; s < 2; s++) {
			for (int c = 0; c < 2; c++) {
				struct run r = { .pinned = p == 1,
						 .size = sizes[s],
						 .clients = nclients[c],
						 .files = o->files,
						 .reps = o->files * 20,
						 .gen = rot * 3 };

				fprintf(stderr, "bench: %s, %s, %d client%s\n",
					p ? "pinned" : "unpinned",
					size_label(sizes[s]), nclients[c],
					nclients[c] > 1 ? "s" : "");
				run_ops(&r, rot++ % NFS, res[p][s][c]);
				report_run(&r, res[p][s][c]);
			}
		}
	}
	pin_daemons(false);
	report_scaling(res);
}

/* ---- readdir ---------------------------------------------------------------- */

/* List @path; with @stat_each, fstatat() every entry as it comes (as
 * nftw and `ls -l` do). @return the entries seen, . and .. left out. */
static size_t list_dir(const char *path, bool stat_each)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d = opendir(path);

	if (!d)
		bench_die("opendir %s: %s", path, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] ||
		     (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (stat_each &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			bench_die("stat %s/%s: %s", path, de->d_name,
				  strerror(errno));
		n++;
	}
	if (errno)
		bench_die("readdir %s: %s", path, strerror(errno));
	closedir(d);
	return n;
}

/* Fill the directory @path with @n files of 200 B, through the filesystem. */
static void fill_dir(const char *path, size_t n)
{
	char name[PATH_MAX], body[200];

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		bench_die("mkdir %s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof(name), "%s/o%zu.json", path, i);
		make_body(body, sizeof(body), i, 0);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, body, sizeof(body)) != sizeof(body) ||
		    close(fd) < 0)
			bench_die("cannot write %s: %s", name, strerror(errno));
	}
}

static char *count_label(size_t n)
{
	char *s;
	int r = n % 1000 == 0 ? asprintf(&s, "%zuk", n / 1000)
			      : asprintf(&s, "%zu", n);

	if (r < 0)
		bench_die("out of memory");
	return s;
}

/* µs per listing of the directory @name (@n entries) on each filesystem:
 * one untimed listing, then @reps timed ones, the filesystems taking
 * turns. */
static void time_listings(const char *name, size_t n, bool plus, int reps,
			  int *rot, double us[NFS])
{
	char *path[NFS];

	for (int f = 0; f < NFS; f++) {
		path[f] = path_join(G.fs[f].mnt, name);
		us[f] = G.fs[f].present ? 0 : NAN;
	}
	for (int rep = -1; rep < reps; rep++, (*rot)++) {
		for (int j = 0; j < NFS; j++) {
			int f = (*rot + j) % NFS;
			double t0 = bench_now_us();
			size_t got;

			if (!G.fs[f].present)
				continue;
			got = list_dir(path[f], plus);
			if (got != n)
				bench_die("%s: %s lists %zu entries, not %zu",
					  G.fs[f].label, path[f], got, n);
			if (rep >= 0)
				us[f] += (bench_now_us() - t0) / reps;
		}
	}
	for (int f = 0; f < NFS; f++)
		free(path[f]);
}

static void bench_readdir(const struct opts *o)
{
	int rot = 0;

	for (int p = 0; p < 2; p++) {
		pin_daemons(p == 1);
		for (int k = 0; k < 2; k++) {
			size_t n = o->readdir[k];
			int reps = o->quick ? 2 : n > 50000 ? 3 : 10;
			char *lab = count_label(n), name[32], op[40];

			snprintf(name, sizeof(name), "ls%s", lab);
			for (int plus = 0; plus < 2; plus++) {
				struct row row = {
					.pin = p ? "pinned" : "unpinned",
					.size = "200 B",
					.clients = "1",
					.op = op,
					.target = "-",
					.met = -1,
				};

				snprintf(op, sizeof(op), "%s %s",
					 plus ? "readdir+stat" : "readdir",
					 lab);
				time_listings(name, n, plus, reps, &rot,
					      row.us);
				print_row(&row);
			}
			free(lab);
		}
	}
	pin_daemons(false);
}

/* ---- stores ------------------------------------------------------------------ */

static void store_check(ags_store *s, int r, const char *what)
{
	if (r < 0)
		bench_die("%s: %s", what, ags_errmsg(s));
}

/* Add to the store @path (created if needed) the collection @coll with
 * @per objects of 200 B, o0 to o<per-1>, in batched transactions. */
static void store_fill(const char *path, const char *coll, size_t per,
		       uint64_t seed)
{
	char id[32], body[200], *msg = NULL;
	ags_store *s;

	if (ags_store_open(&s, path, NULL, &msg) < 0)
		bench_die("cannot open %s: %s", path, msg);
	store_check(s, ags_collection_create(s, coll), "create");
	for (size_t i = 0; i < per; i++) {
		if (i % STORE_BATCH == 0)
			store_check(s, ags_store_begin(s), "begin");
		snprintf(id, sizeof(id), "o%zu", i);
		make_body(body, sizeof(body), seed + i, 0);
		store_check(s,
			    ags_object_put(s, NULL, coll, id, body,
					   sizeof(body), AGS_VERSION_ANY),
			    "put");
		if (i % STORE_BATCH == STORE_BATCH - 1 || i == per - 1)
			store_check(s, ags_store_commit(s), "commit");
	}
	ags_store_close(s);
}

/* ---- memory ------------------------------------------------------------------ */

/* VmRSS and VmHWM of @pid in MiB. */
static void mem_of(pid_t pid, double *rss, double *hwm)
{
	char path[64], line[256];
	FILE *f;

	*rss = *hwm = NAN;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long kb;

		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			*rss = (double)kb / 1024;
		else if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			*hwm = (double)kb / 1024;
	}
	fclose(f);
}

static size_t walked;

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR)
		bench_die("cannot walk %s", path);
	walked++;
	return 0;
}

struct reader {
	pthread_t thread;
	const char *mnt;
	size_t first, step, ncoll; /* collections first, first+step, ... */
	size_t files;
};

/* Read every file of the collections given to @arg, as cat does. */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	char path[PATH_MAX], *buf = malloc(IO_BUF);

	block_signals();
	if (!buf)
		bench_die("out of memory");
	for (size_t c = rd->first; c < rd->ncoll; c += rd->step) {
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "%s/k%03zu", rd->mnt, c);
		d = opendir(path);
		if (!d)
			bench_die("opendir %s: %s", path, strerror(errno));
		while ((de = readdir(d))) {
			ssize_t r;
			int fd;

			if (de->d_name[0] == '.')
				continue;
			fd = openat(dirfd(d), de->d_name, O_RDONLY);
			if (fd < 0)
				bench_die("open %s/%s: %s", path, de->d_name,
					  strerror(errno));
			while ((r = read(fd, buf, IO_BUF)) > 0)
				;
			if (r < 0)
				bench_die("read %s/%s: %s", path, de->d_name,
					  strerror(errno));
			close(fd);
			rd->files++;
		}
		closedir(d);
	}
	free(buf);
	return NULL;
}

static void mem_row(const char *step, double secs, size_t files, pid_t pid,
		    bool judged)
{
	double rss, hwm;
	char s[32], per[32], r[32], h[32];
	int met = -1;

	mem_of(pid, &rss, &hwm);
	if (judged)
		met = judge(target_of("daemon VmRSS", false), rss,
			    "after the walk and the reads");
	num(s, sizeof(s), secs, "%.1f");
	num(per, sizeof(per), files ? secs * 1e6 / (double)files : NAN, "%.1f");
	num(r, sizeof(r), rss, "%.1f");
	num(h, sizeof(h), hwm, "%.1f");
	printf("%-32s  %8s  %*s  %9s  %9s  %-10s  %s\n", step, s,
	       bench_width("µs/file", 8), per, r, h, judged ? "<64 MiB" : "-",
	       met < 0 ? "-"
	       : met   ? "yes"
		       : "NO");
	fflush(stdout);
}

static void bench_rss(const struct opts *o)
{
	size_t per = o->quick ? 500 : RSS_PER_COLL;
	size_t ncoll = (o->rss + per - 1) / per;
	struct reader rd[2];
	char *store = path_join(G.dir, "rss.db");
	double t0;
	pid_t pid;

	fprintf(stderr, "bench: building a store of %zu objects\n",
		ncoll * per);
	t0 = bench_now_us();
	for (size_t c = 0; c < ncoll; c++) {
		char coll[32];

		snprintf(coll, sizeof(coll), "k%03zu", c);
		store_fill(store, coll, per, c * per);
	}
	printf("\nmemory of the agentstate daemon: a store of %zu objects of "
	       "200 B in %zu collections,\nbuilt in %.1f s; walked with nftw "
	       "(ls -lR), then every file read by 2 threads (cat)\n",
	       ncoll * per, ncoll, (bench_now_us() - t0) / 1e6);
	fsys_dirs(&G.rss, "mnt-rss");
	G.rss.label = "memory";
	start_mount(&G.rss, store);
	pid = G.rss.pid;
	if (wrap && *wrap)
		fprintf(stderr,
			"bench: the daemon runs under '%s': its memory "
			"is the wrapper's\n",
			wrap);
	printf("%-32s  %8s  %*s  %9s  %9s  %-10s  %s\n", "step", "seconds",
	       bench_width("µs/file", 8), "µs/file", "VmRSS MiB", "VmHWM MiB",
	       "target", "met?");
	mem_row("mounted", NAN, 0, pid, false);

	walked = 0;
	t0 = bench_now_us();
	if (nftw(G.rss.mnt, walk_one, 64, FTW_PHYS) < 0)
		bench_die("nftw %s: %s", G.rss.mnt, strerror(errno));
	mem_row("ls -lR (nftw, lstat each)", (bench_now_us() - t0) / 1e6,
		walked, pid, false);
	if (walked < ncoll * per)
		bench_die("the walk saw %zu entries, not %zu", walked,
			  ncoll * per);

	t0 = bench_now_us();
	for (int k = 0; k < 2; k++) {
		rd[k] = (struct reader){ .mnt = G.rss.mnt,
					 .first = (size_t)k,
					 .step = 2,
					 .ncoll = ncoll };
		if (pthread_create(&rd[k].thread, NULL, reader_main, &rd[k]))
			bench_die("cannot start a reader thread");
	}
	for (int k = 0; k < 2; k++)
		pthread_join(rd[k].thread, NULL);
	if (rd[0].files + rd[1].files != ncoll * per)
		bench_die("read %zu files, not %zu", rd[0].files + rd[1].files,
			  ncoll * per);
	mem_row("cat of every file", (bench_now_us() - t0) / 1e6, ncoll * per,
		pid, true);
	fsys_stop(&G.rss);
	free(store);
}

/* ---- main ------------------------------------------------------------------ */

static void setup_fs(const struct opts *o)
{
	static const char *const names[NFS] = { "mnt-agentstate", "mnt-floor",
						"mnt-tmpfs" };
	char *store = path_join(G.dir, "store.db");
	char *lab[2];

	for (int k = 0; k < 2; k++)
		lab[k] = count_label(o->readdir[k]);
	for (int f = 0; f < NFS; f++) {
		fsys_dirs(&G.fs[f], names[f]);
		G.fs[f].label = fs_label[f];
	}
	/* The agentstate side's big directories are made through the
	 * library before it is mounted: through the mount they would take
	 * minutes, and the daemon would then see them in its audit log. */
	if (o->do_readdir)
		for (int k = 0; k < 2; k++) {
			char name[32];

			snprintf(name, sizeof(name), "ls%s", lab[k]);
			store_fill(store, name, o->readdir[k], 0);
		}
	else
		store_fill(store, "unused", 0, 0);
	start_mount(&G.fs[FS_MOUNT], store);
	start_floor(&G.fs[FS_FLOOR]);
	G.fs[FS_MOUNT].present = G.fs[FS_FLOOR].present = true;
	G.fs[FS_TMPFS].present = G.root && start_tmpfs(&G.fs[FS_TMPFS]);
	for (int f = 0; f < NFS; f++) {
		struct fsys *fs = &G.fs[f];

		if (!fs->present)
			continue;
		for (int k = 0; k < MAX_CLIENTS; k++) {
			char name[16];

			snprintf(name, sizeof(name), "c%d", k);
			fs->dirs[k] = path_join(fs->mnt, name);
			if (mkdir(fs->dirs[k], 0755) < 0)
				bench_die("%s: mkdir %s: %s", fs->label,
					  fs->dirs[k], strerror(errno));
		}
		if (f != FS_MOUNT && o->do_readdir) {
			fprintf(stderr, "bench: filling the %s directories\n",
				fs->label);
			for (int k = 0; k < 2; k++) {
				char name[32], *path;

				snprintf(name, sizeof(name), "ls%s", lab[k]);
				path = path_join(fs->mnt, name);
				fill_dir(path, o->readdir[k]);
				free(path);
			}
		}
	}
	/* Warm up: worker threads started, store handles opened. */
	for (int f = 0; f < NFS; f++) {
		struct run r = { .size = 200, .clients = 4, .files = 64 };

		if (!G.fs[f].present)
			continue;
		step(&G.fs[f], &r, OP_CREATE);
		step(&G.fs[f], &r, OP_READ);
		step(&G.fs[f], &r, OP_RENAME);
		step(&G.fs[f], &r, OP_UNLINK);
	}
	for (int k = 0; k < 2; k++)
		free(lab[k]);
	free(store);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-mount [--quick] [--files N] [--rss N] [--only "
		"PARTS]\n"
		"Time file operations on an agentstate mount beside an "
		"in-memory FUSE\nfilesystem with the same settings (the "
		"floor) and tmpfs, then the daemon's\nmemory after walking "
		"and reading a store of N objects.\n"
		"  --quick      tiny sizes, to check that it works\n"
		"  --files N    files per run of the operations (default "
		"4000)\n"
		"  --rss N      objects of the memory measurement (default "
		"1000000, 0: none)\n"
		"  --only PARTS a comma-separated subset of ops,readdir,rss\n"
		"Files go in $BENCH_DIR (else $TMPDIR, else /var/tmp); "
		"BENCH_KEEP=1 keeps them.\n"
		"$BENCH_AGENTSTATE and $BENCH_MEMFS override the programs "
		"run; the\nagentstate daemon runs under $BENCH_MOUNT_WRAP "
		"when set (e.g. 'strace -c -f\n-o FILE').\n");
}

static size_t parse_size(const char *arg, const char *opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg ? arg : "", &end, 10);
	if (!arg || errno || *end || end == arg) {
		fprintf(stderr, "bench-mount: %s needs a number\n", opt);
		usage(stderr);
		exit(2);
	}
	return (size_t)v;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	bool files_set = false, rss_set = false;

	*o = (struct opts){ .files = 4000,
			    .rss = 1000000,
			    .readdir = { 10000, 100000 },
			    .do_ops = true,
			    .do_readdir = true,
			    .do_rss = true };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->quick = true;
		} else if (!strcmp(argv[i], "--files")) {
			o->files = parse_size(argv[++i], "--files");
			files_set = true;
		} else if (!strcmp(argv[i], "--rss")) {
			o->rss = parse_size(argv[++i], "--rss");
			rss_set = true;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			const char *p = argv[++i];

			o->do_ops = strstr(p, "ops") != NULL;
			o->do_readdir = strstr(p, "readdir") != NULL;
			o->do_rss = strstr(p, "rss") != NULL;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "bench-mount: bad argument '%s'\n",
				argv[i]);
			usage(stderr);
			exit(2);
		}
	}
	if (o->quick) {
		if (!files_set)
			o->files = 40;
		if (!rss_set)
			o->rss = 2000;
		o->readdir[0] = 200;
		o->readdir[1] = 1000;
	}
	/* every client gets a share */
	o->files = (o->files + MAX_CLIENTS - 1) / MAX_CLIENTS * MAX_CLIENTS;
	if (o->files == 0)
		o->files = MAX_CLIENTS;
	if (o->rss == 0)
		o->do_rss = false;
}

static void print_targets(void)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++) {
		const struct target *t = &targets[i];

		if (!t->rows)
			continue;
		if (!any)
			printf("\ntargets\n");
		any = true;
		printf("  %-26s %-15s met in %d of %d rows; worst %.2f%s "
		       "(%s)\n",
		       t->name, t->text, t->met, t->rows, t->worst, t->unit,
		       t->worst_at);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct utsname u;

	parse_args(&o, argc, argv);
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		printf("bench-mount: skipped: no usable /dev/fuse\n");
		return 77;
	}
	wrap = getenv("BENCH_MOUNT_WRAP");
	G.root = geteuid() == 0;
	if (sched_getaffinity(0, sizeof(G.all), &G.all) < 0)
		bench_die("sched_getaffinity: %s", strerror(errno));
	for (G.cpu = 0; G.cpu < CPU_SETSIZE && !CPU_ISSET(G.cpu, &G.all);
	     G.cpu++)
		;
	CPU_ZERO(&G.one);
	CPU_SET(G.cpu, &G.one);
	private_namespace();
	G.dir = bench_scratch_dir("bench-mount");
	snprintf(interrupted, sizeof(interrupted),
		 "bench: interrupted; mounts detached, daemons stopped, %s "
		 "left\n",
		 G.dir);
	atexit(cleanup);
	handle_signals();
	uname(&u);

	setup_fs(&o);
	printf("mount benchmark: the agentstate mount beside the floor (an "
	       "in-memory FUSE filesystem,\nsame libfuse %s, same "
	       "settings) and tmpfs; %s %s; %zu files per run%s\n",
	       BENCH_FUSE_VERSION, u.sysname, u.release, o.files,
	       o.quick ? ", --quick" : "");
	printf("pinned: the daemons and the clients all on CPU %d; µs/op: "
	       "wall time / operations of all\nclients; ratio: mount µs / "
	       "other µs (lower is better)\n",
	       G.cpu);
	if (o.do_ops || o.do_readdir)
		print_header();
	if (o.do_ops)
		bench_ops(&o);
	if (o.do_readdir) {
		if (o.do_ops) {
			printf("\n");
			print_header();
		}
		bench_readdir(&o);
	}
	for (int f = 0; f < NFS; f++)
		fsys_stop(&G.fs[f]);
	if (o.do_rss)
		bench_rss(&o);
	print_targets();
	return 0;
}
