/* mount.c: running the FUSE daemon: the session and its worker threads, one
 * store handle per thread, the caller of each request, logging, and the
 * orderly end that commits or refuses every pending change before the
 * mountpoint goes away. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mount.h"

/* Worker threads kept when idle: as many as the kernel sends requests in
 * parallel, so threads (and their store handles) are not remade. */
#define MOUNT_IDLE_THREADS 10

void mount_log(struct mount *m, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (m->foreground) {
		struct sbuf line = SBUF_INIT;

		/* One write per line, so threads do not interleave. */
		sbuf_adds(&line, "agentstate mount: ");
		sbuf_vaddf(&line, fmt, ap);
		sbuf_addch(&line, '\n');
		fputs(line.buf, stderr);
		fflush(stderr);
		sbuf_release(&line);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

static void store_destroy(void *p)
{
	ags_store_close(p);
}

/* A store handle of the daemon's, or NULL (logged). */
static ags_store *open_store(struct mount *m, const struct ags_options *o)
{
	ags_store *s = NULL;
	char *msg = NULL;
	int r = ags_store_open(&s, m->uri, o, &msg);

	if (r < 0) {
		mount_log(m, LOG_ERR, "cannot open the store: %s",
			  msg ? msg : strerror(-r));
		free(msg);
		return NULL;
	}
	return s;
}

ags_store *mount_store(struct mount *m)
{
	ags_store *s = pthread_getspecific(m->store_key);

	if (s)
		return s;
	s = open_store(m, &m->opts);
	if (s && pthread_setspecific(m->store_key, s) != 0) {
		ags_store_close(s);
		return NULL;
	}
	return s;
}

ags_store *mount_writer(struct mount *m)
{
	struct ags_options o = m->opts;

	if (m->writer)
		return m->writer;
	/* The watcher copies the WAL back between polls (mount-watch.c), so
	 * no commit, and no close() waiting for one, pays for it. */
	o.manual_checkpoint = m->watching;
	m->writer = open_store(m, &o);
	return m->writer;
}

ags_store *mount_reader(struct mount *m)
{
	/* ns is held, so no change is running on the writer and m->writer
	 * stays as it is; the mutex keeps two readers off it. */
	if (m->writer && pthread_mutex_trylock(&m->writer_lent) == 0)
		return m->writer;
	return mount_store(m);
}

void mount_reader_put(struct mount *m, ags_store *s)
{
	if (s && s == m->writer)
		pthread_mutex_unlock(&m->writer_lent);
}

void mount_write_unlock(struct mount *m)
{
	/* Whatever the change was, bodies read before it are stale. */
	recent_forget_all(&m->recent);
	watch_own_commit(m);
	pthread_rwlock_unlock(&m->ns);
}

static void comm_files_init(struct comm_files *c)
{
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < COMM_FILES; i++)
		c->fd[i] = -1;
}

static void comm_files_release(struct comm_files *c)
{
	for (size_t i = 0; i < COMM_FILES; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	pthread_mutex_destroy(&c->lock);
}

/* Read /proc/@pid/comm into @out through the kept files, opening it (in
 * place of the oldest) when it is not kept or its process is gone. Lock
 * held: a file is never closed while another thread reads it. */
static ssize_t comm_read(struct comm_files *c, char *out, size_t size,
			 int32_t pid)
{
	size_t i, slot = COMM_FILES;
	char path[64];
	ssize_t n;
	int fd;

	for (i = 0; i < COMM_FILES; i++) {
		if (c->fd[i] < 0 || c->pid[i] != pid)
			continue;
		n = pread(c->fd[i], out, size, 0);
		if (n > 0)
			return n;
		close(c->fd[i]);
		c->fd[i] = -1;
		slot = i;
		break;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, out, size, 0);
	if (n <= 0) {
		close(fd);
		return n;
	}
	if (slot == COMM_FILES) {
		slot = c->next++ % COMM_FILES;
		if (c->fd[slot] >= 0)
			close(c->fd[slot]);
	}
	c->fd[slot] = fd;
	c->pid[slot] = pid;
	return n;
}

/* The process name of @pid, or "?" when it exited already. */
static void read_comm(struct mount *m, char *out, size_t size, int32_t pid)
{
	ssize_t n = -1;

	if (pid > 0) {
		pthread_mutex_lock(&m->comm.lock);
		n = comm_read(&m->comm, out, size - 1, pid);
		pthread_mutex_unlock(&m->comm.lock);
	}
	if (n <= 0) {
		snprintf(out, size, "?");
		return;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
}

void actor_ids_from_req(struct actor *out, fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	out->uid = ctx->uid;
	out->gid = ctx->gid;
	out->pid = ctx->pid;
	out->comm[0] = '\0';
}

void actor_read_comm(struct mount *m, struct actor *a)
{
	read_comm(m, a->comm, sizeof(a->comm), a->pid);
}

void actor_from_req(struct actor *out, fuse_req_t req)
{
	actor_ids_from_req(out, req);
	actor_read_comm(fuse_req_userdata(req), out);
}

int actor_apply(ags_store *s, const struct actor *a)
{
	struct ags_actor actor = {
		.uid = a->uid,
		.gid = a->gid,
		.pid = a->pid,
		.comm = a->comm,
		.origin = "fs",
	};

	return ags_store_set_actor(s, &actor);
}

/* ---- the end: commit or refuse what is pending --------------------------- */

/* Chain @n into the list at @ctx: through the nodes themselves, so that
 * gathering them needs no memory and cannot fail. Lock held. */
static void collect_pending(void *ctx, struct node *n)
{
	struct node **head = ctx;

	if (!n->content.dirty || !n->content.written)
		return;
	n->next_pending = *head;
	*head = node_ref(n);
}

/* Every file written since its last commit (open when the signal came, or
 * whose commit failed for a passing reason) is committed or refused now.
 * Objects a rename hid stay as the store holds them: a temporary file that
 * held one vanishes at unmount, and so does the hiding, exactly as when the
 * daemon is killed. */
static void commit_pending(struct mount *m)
{
	struct node *head = NULL, *n;
	bool inval;
	int r;

	pthread_mutex_lock(&m->lock);
	nodes_each(m, collect_pending, &head);
	pthread_mutex_unlock(&m->lock);
	while ((n = head) != NULL) {
		head = n->next_pending;
		inval = false;
		pthread_rwlock_wrlock(&m->ns);
		r = content_commit(m, n, &inval);
		mount_write_unlock(m);
		pthread_mutex_lock(&m->lock);
		if (r < 0 && r != -EINVAL && r != -EFBIG)
			mount_log(m, LOG_ERR,
				  "lost the unstored changes to %s at unmount: "
				  "%s",
				  n->name, strerror(-r));
		node_unref(m, n);
		pthread_mutex_unlock(&m->lock);
	}
}

/* ---- signals ----------------------------------------------------------------- */

/* SIGTERM, SIGINT and SIGHUP end the daemon as an unmount does, but the loop
 * must not stop answering while the watcher may be sending a notice: the
 * kernel would have it wait for a directory lock held by a process waiting
 * for an answer that never comes, and closing /dev/fuse does not free it
 * (the notice's own write holds the device open). So the handler only asks
 * the watcher to end; the watcher, once it sends nothing more, ends the
 * loop. Without a watcher the handler ends the loop at once, as libfuse's
 * does. */

static const int end_signals[] = { SIGHUP, SIGINT, SIGTERM };

/* The mount the handler ends: one per process. */
static struct mount *signal_mount;

void mount_end_loop(struct mount *m)
{
	fuse_session_exit(m->se);
	/* The loop's thread waits in sem_wait() for a worker to see the end;
	 * a signal interrupts it, and it looks again. */
	if (!pthread_equal(pthread_self(), m->loop_thread))
		pthread_kill(m->loop_thread, atomic_load(&m->signalled));
}

static void on_signal(int sig)
{
	struct mount *m = signal_mount;
	int saved = errno;

	if (m) {
		atomic_store(&m->signalled, sig);
		if (atomic_load(&m->watch_busy))
			watch_wake(m);
		else
			mount_end_loop(m);
	}
	errno = saved;
}

/* Put our handler in place of libfuse's: only where libfuse put its own, so
 * a signal ignored when the daemon started (SIGINT of a background job,
 * SIGHUP under nohup) stays ignored. */
static void signals_take(struct mount *m)
{
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++)
		sigaddset(&sa.sa_mask, end_signals[i]);
	m->loop_thread = pthread_self();
	signal_mount = m;
	for (i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++)
		if (sigaction(end_signals[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(end_signals[i], &sa, NULL);
}

static void signals_give_back(void)
{
	struct sigaction old;
	size_t i;

	for (i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++)
		if (sigaction(end_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == on_signal)
			signal(end_signals[i], SIG_DFL);
	signal_mount = NULL;
}

/* ---- setup ----------------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int state_init(struct mount *m)
{
	pthread_rwlockattr_t ra;
	int r;

	m->start_ns = now_ns();
	m->uid = getuid();
	m->gid = getgid();
	m->pool.cap = MOUNT_TEMP_CAP;
#ifdef M_MMAP_THRESHOLD
	/* The daemon's large blocks are file contents, counted against the
	 * pool as allocated (tmpfile.c). A fixed threshold makes each its
	 * own mapping, which free() and a shrinking realloc() give back to
	 * the system at once; glibc would otherwise raise the threshold to
	 * 32 MiB at the first large free() and keep such blocks in its
	 * heaps, so memory the pool took back would stay in the process.
	 * Above the largest FUSE request (1 MiB), whose buffers come and go
	 * with every read. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
	m->open_files.prev = m->open_files.next = &m->open_files;
	m->open_dirs.prev = m->open_dirs.next = &m->open_dirs;
	pthread_rwlockattr_init(&ra);
	/* Writers must not starve behind a stream of lookups. */
	pthread_rwlockattr_setkind_np(
		&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->ns, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->writer_lent, NULL);
	pthread_mutex_init(&m->own.lock, NULL);
	pthread_mutex_init(&m->notify_lock, NULL);
	comm_files_init(&m->comm);
	recent_init(&m->recent);
	atomic_store(&m->signalled, 0);
	atomic_store(&m->ending, false);
	atomic_store(&m->watch_busy, false);
	atomic_store(&m->stop, false);
	r = sem_init(&m->watch_wake, 0, 0) < 0 ? -errno : 0;
	if (r == 0)
		r = -pthread_key_create(&m->store_key, store_destroy);
	if (r == 0)
		r = nodes_init(m);
	if (r == 0)
		r = audit_view_init(&m->audit);
	return r;
}

static void state_release(struct mount *m)
{
	ags_store_close(m->writer);
	m->writer = NULL;
	ags_store_close(pthread_getspecific(m->store_key));
	pthread_setspecific(m->store_key, NULL);
	pthread_key_delete(m->store_key);
	audit_view_release(&m->audit);
	handles_release(m);
	nodes_release(m);
	sem_destroy(&m->watch_wake);
	pthread_mutex_destroy(&m->own.lock);
	pthread_mutex_destroy(&m->notify_lock);
	comm_files_release(&m->comm);
	recent_release(&m->recent);
	pthread_mutex_destroy(&m->writer_lent);
	pthread_mutex_destroy(&m->lock);
	pthread_rwlock_destroy(&m->ns);
}

int mount_run(struct mount *m, int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_loop_config cfg = { .clone_fd = 0,
					.max_idle_threads =
						MOUNT_IDLE_THREADS };
	int r;

	r = state_init(m);
	if (r < 0) {
		fprintf(stderr, "agentstate: cannot mount: %s\n", strerror(-r));
		return r;
	}
	m->se = fuse_session_new(&args, &mount_ops, sizeof(mount_ops), m);
	if (!m->se) {
		/* libfuse printed why (an unknown option, usually). */
		r = -EINVAL;
		goto out_state;
	}
	if (fuse_set_signal_handlers(m->se) != 0) {
		r = -EIO;
		goto out_session;
	}
	signals_take(m);
	if (fuse_session_mount(m->se, m->mountpoint) != 0) {
		r = -EIO;
		goto out_signals;
	}
	if (!m->foreground)
		openlog("agentstate", LOG_PID, LOG_DAEMON);
	/* The parent returns once the mount is in place, so a script can use
	 * the mountpoint as soon as `agentstate mount` exits. */
	fuse_daemonize(m->foreground);
	m->loop_thread = pthread_self(); /* in the child, after the fork */
	mount_log(m, LOG_INFO, "serving %s at %s%s", m->uri, m->mountpoint,
		  m->read_only ? " (read-only)" : "");

	r = watch_start(m);
	if (r < 0)
		mount_log(m, LOG_WARNING,
			  "cannot watch for changes by other processes: %s; "
			  "they show after %g s",
			  strerror(-r), MOUNT_TIMEOUT);
	if (audit_index_start(m) < 0)
		mount_log(m, LOG_WARNING,
			  "cannot index the audit log ahead: the first read "
			  "of " CTL_NAME "/" AUDIT_NAME " does it");
	if (mount_backup_start(m, &m->backup) < 0)
		mount_log(m, LOG_ERR, "cannot start periodic backups into %s",
			  m->backup.dir);
	r = fuse_session_loop_mt(m->se, &cfg);
	/* In this order: no notice is sent any more, since nobody answers
	 * the requests one may wait for, and none is being sent once
	 * /dev/fuse closes (mount-watch.c); the indexer stops;
	 * pending buffers are committed, whatever the watcher is doing; the
	 * mountpoint goes and /dev/fuse is closed; only then is the watcher
	 * joined, which by now waits for nothing. A backup being written is
	 * finished first: it reads the store only. */
	atomic_store(&m->ending, true);
	watch_quiesce(m);
	mount_backup_stop(&m->backup);
	audit_index_stop(m);
	commit_pending(m);
	fuse_session_unmount(m->se);
	watch_stop(m);
	mount_log(m, LOG_INFO, "unmounted %s", m->mountpoint);
	if (r > 0)
		r = 0; /* ended by a signal: an orderly end */
out_signals:
	signals_give_back();
	fuse_remove_signal_handlers(m->se);
out_session:
	fuse_session_destroy(m->se);
	m->se = NULL;
out_state:
	state_release(m);
	if (!m->foreground)
		closelog();
	fuse_opt_free_args(&args);
	return r;
}
