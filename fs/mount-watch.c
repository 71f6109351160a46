/* mount-watch.c: changes made by other processes (the CLI, another mount,
 * programs using the library) show in the mount within a second. A thread
 * polls the audit log's last sequence number every WATCH_INTERVAL_MS; for
 * each new row it drops the kernel's cached entries, attributes and pages
 * of exactly the names and objects the row changed, and follows objects and
 * collections that were renamed. While the store is unchanged the kernel
 * keeps its caches. Our own changes come back as rows too; the writer
 * notes their seqs as it commits and the watcher passes over them (were
 * one missed, dropping caches just filled would cost a re-read, never a
 * wrong answer).
 *
 * A notice can wait: the kernel takes the directory's lock to drop an
 * entry, and a process holding that lock may be waiting for our answer to
 * its request. While the loop answers, that wait ends; once the loop has
 * stopped it never would, and neither would the join of this thread. So no
 * notice is sent once the loop is ending, and a signal ends the loop only
 * after this thread has stopped sending (see mount.c). Notices are sent
 * under notify_lock, which the end takes before /dev/fuse is closed: none
 * is written into a descriptor closed, or reused, meanwhile, unless one
 * notice was held up in the kernel for 2 s (then the unmount frees it, and
 * the rest see the end coming). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "mount.h"
#include "names-int.h"

#define WATCH_INTERVAL_MS 250
#define WATCH_BATCH 256
#define CHECKPOINT_COMMITS 256

/* ---- our own rows ---------------------------------------------------------- */

void watch_own_commit(struct mount *m)
{
	struct own_rows *o = &m->own;
	int64_t first, last;
	size_t tail;

	if (!m->writer)
		return;
	ags_store_last_commit(m->writer, &first, &last);
	if (!first)
		return;
	pthread_mutex_lock(&o->lock);
	/* An operation that committed nothing leaves the writer's last range
	 * as it was: noted already (and, after a restore emptied the queue,
	 * of the old log: not to be noted again). */
	if (first == o->seen_first && last == o->seen_last)
		goto out;
	o->seen_first = first;
	o->seen_last = last;
	if (o->n == OWN_RANGES) {
		o->head = (o->head + 1) % OWN_RANGES;
		o->n--;
	}
	tail = (o->head + o->n) % OWN_RANGES;
	o->first[tail] = first;
	o->last[tail] = last;
	o->n++;
	/* Under a stream of changes the WAL grows by a few pages each: have
	 * it checkpointed this often rather than only at the next poll. */
	if (++o->commits % CHECKPOINT_COMMITS == 0)
		watch_wake(m);
out:
	pthread_mutex_unlock(&o->lock);
}

/* Is row @seq one of ours? Rows are asked in increasing order, so ranges
 * below it are done with. */
static bool own_row(struct mount *m, int64_t seq)
{
	struct own_rows *o = &m->own;
	bool own = false;

	pthread_mutex_lock(&o->lock);
	while (o->n && o->last[o->head] < seq) {
		o->head = (o->head + 1) % OWN_RANGES;
		o->n--;
	}
	if (o->n && o->first[o->head] <= seq)
		own = true;
	pthread_mutex_unlock(&o->lock);
	return own;
}

/* The log went back (a restore): our noted rows are of the old log, and
 * new rows may reuse their seqs. */
static void own_rows_forget(struct mount *m)
{
	pthread_mutex_lock(&m->own.lock);
	m->own.n = 0;
	pthread_mutex_unlock(&m->own.lock);
}

/* One audit row's names, copied out of the store's callback. */
struct change {
	char *coll, *id, *from_coll, *from_id;
	int64_t number; /* the object's, 0 for a collection */
	bool attrs;	/* setattr: only attributes changed */
	bool removed;	/* the object is gone from the store */
};

struct changes {
	struct mount *m;
	struct change *v;
	size_t n, alloc;
	int64_t last_seq;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int take_row(void *ctx, const struct ags_audit_row *row)
{
	struct changes *cs = ctx;
	struct change *c, *grown;

	cs->last_seq = row->seq;
	if (row->error || !row->collection)
		return 0; /* refused: nothing changed */
	if (own_row(cs->m, row->seq))
		return 0;
	if (cs->n == cs->alloc) {
		size_t n = cs->alloc ? cs->alloc * 2 : 64;

		grown = realloc(cs->v, n * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		cs->v = grown;
		cs->alloc = n;
	}
	c = &cs->v[cs->n];
	memset(c, 0, sizeof(*c));
	c->coll = strdup(row->collection);
	c->id = dup_or_null(row->id);
	c->from_coll = dup_or_null(row->from_collection);
	c->from_id = dup_or_null(row->from_id);
	c->number = row->number;
	c->attrs = row->op && strcmp(row->op, "setattr") == 0;
	c->removed = row->op && strcmp(row->op, "remove") == 0;
	if (!c->coll || (row->id && !c->id) ||
	    (row->from_collection && !c->from_coll) ||
	    (row->from_id && !c->from_id)) {
		free(c->coll);
		free(c->id);
		free(c->from_coll);
		free(c->from_id);
		return -ENOMEM;
	}
	cs->n++;
	return 0;
}

static void changes_release(struct changes *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		free(cs->v[i].coll);
		free(cs->v[i].id);
		free(cs->v[i].from_coll);
		free(cs->v[i].from_id);
	}
	free(cs->v);
}

/* The node id the kernel knows a collection by, or 0. */
static uint64_t collection_ino(struct mount *m, ags_store *s, const char *name)
{
	struct ags_collection c;
	struct node *n;
	uint64_t ino = 0;

	if (ags_collection_get(s, name, &c) < 0)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = node_by_number(m, c.number);
	if (n && n->kind == NODE_COLLECTION && node_is_born(m, n, c.ctime_ns)) {
		/* Renamed by another process: follow it. */
		if (strcmp(n->name, name) != 0)
			node_rename(m, n, &m->nodes.root, name);
		ino = n->ino;
	}
	pthread_mutex_unlock(&m->lock);
	return ino;
}

/* What one row asks of the kernel, gathered under the namespace lock and
 * sent once no lock is held (see mount.h). */
struct notes {
	uint64_t dir[2]; /* drop the entry name[i] of directory dir[i] */
	struct sbuf name[2];
	uint64_t ino;	    /* drop attributes and pages of this node */
	uint64_t of_number; /* and of this one (when another) */
	uint64_t attrs_of;  /* drop only the attributes of this one */
};

/* Should the watcher end: asked to (unmount), or signalled? */
static bool stopping(struct mount *m)
{
	return atomic_load(&m->stop) || atomic_load(&m->signalled);
}

/* Once the loop is ending nobody answers the request a notice may wait
 * for, and /dev/fuse is about to close: then no notice is sent. */
static bool may_notify(struct mount *m)
{
	return !atomic_load(&m->ending) && !fuse_session_exited(m->se);
}

static void notes_send(struct mount *m, struct notes *nt)
{
	int i;

	/* may_notify() before each: the end may have given up waiting for
	 * this lock while one notice was held up. */
	pthread_mutex_lock(&m->notify_lock);
	for (i = 0; i < 2; i++) {
		if (nt->dir[i] && may_notify(m))
			fuse_lowlevel_notify_inval_entry(m->se, nt->dir[i],
							 nt->name[i].buf,
							 nt->name[i].len);
		sbuf_release(&nt->name[i]);
	}
	if (nt->ino && may_notify(m))
		fuse_lowlevel_notify_inval_inode(m->se, nt->ino, 0, 0);
	if (nt->of_number && nt->of_number != nt->ino && may_notify(m))
		fuse_lowlevel_notify_inval_inode(m->se, nt->of_number, 0, 0);
	if (nt->attrs_of && may_notify(m))
		fuse_lowlevel_notify_inval_inode(m->se, nt->attrs_of, -1, 0);
	pthread_mutex_unlock(&m->notify_lock);
}

/* Called once m->ending is set: wait until no notice is being sent, so
 * that none is once /dev/fuse is closed. A notice the kernel holds up (it
 * waits for a process that waits for an answer the loop no longer gives)
 * is freed by the unmount itself: past a while, go on without. */
void watch_quiesce(struct mount *m)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (pthread_mutex_timedlock(&m->notify_lock, &until) == 0)
		pthread_mutex_unlock(&m->notify_lock);
}

/* Drop the clean bytes of the node of object @number, which another
 * process changed, wherever its name now is: the row may name the object
 * as it was called before a rename this daemon made since, or in a
 * collection renamed since, where a lookup by name would not find it.
 * Of an object @removed while a file holds it open, the file reads on
 * what it holds, as on any filesystem (reading it again would find
 * nothing). Returns its node id, or 0. */
static uint64_t drop_by_number(struct mount *m, int64_t number, bool removed)
{
	struct node *n;
	uint64_t ino = 0;

	pthread_mutex_lock(&m->lock);
	n = number ? node_by_number(m, number) : NULL;
	if (n && n->kind == NODE_OBJECT) {
		ino = n->ino;
		/* A buffer being written stays: its close decides (and finds
		 * the object gone). So do the bytes of a removed object
		 * a file holds open, no longer the store's. */
		if (removed && n->opens && n->content.loaded)
			n->content.matches_store = false;
		else if (!n->content.dirty)
			content_drop(m, n);
	}
	pthread_mutex_unlock(&m->lock);
	return ino;
}

/* Follow the object now named @coll/@id (by number) to that name. Its
 * bytes went already, by the row's number (drop_by_number). Returns its
 * node id. */
static uint64_t follow_object(struct mount *m, ags_store *s, uint64_t dir,
			      const char *coll, const char *id,
			      const char *fname)
{
	struct ags_object obj;
	struct node *n, *d;
	uint64_t ino = 0;

	if (ags_object_get(s, coll, id, 0, false, &obj) < 0)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = node_by_number(m, obj.number);
	if (n && n->kind == NODE_OBJECT) {
		d = dir ? node_find(m, dir) : NULL;
		ino = n->ino;
		/* Unless a restore gave the number to another object: then
		 * the node is gone, and the object gets its own. */
		if (node_is_born(m, n, obj.ctime_ns) && d &&
		    (n->parent != d || strcmp(n->name, fname) != 0))
			node_rename(m, n, d, fname);
	} else if (!n && !node_find(m, (uint64_t)obj.number)) {
		/* A node let go while idle: the kernel may still cache the
		 * inode, whose id is the number. */
		ino = (uint64_t)obj.number;
	}
	pthread_mutex_unlock(&m->lock);
	return ino;
}

/* Gather what row @c changed: the kernel's names of the object (or
 * collection) before and after, its attributes and pages. */
static void gather(struct mount *m, ags_store *s, const struct change *c,
		   struct notes *nt)
{
	uint64_t dir;

	if (!c->id) {
		nt->dir[0] = INO_ROOT;
		sbuf_adds(&nt->name[0], c->coll);
		if (c->from_coll) {
			nt->dir[1] = INO_ROOT;
			sbuf_adds(&nt->name[1], c->from_coll);
		}
		nt->ino = collection_ino(m, s, c->coll);
		return;
	}
	nt->of_number = drop_by_number(m, c->number, c->removed);
	dir = collection_ino(m, s, c->coll);
	if (dir && name_encode_file(&nt->name[0], c->id, strlen(c->id)) == 0) {
		nt->dir[0] = dir;
		nt->ino = follow_object(m, s, dir, c->coll, c->id,
					nt->name[0].buf);
	}
	if (c->from_id && c->from_coll &&
	    name_encode_file(&nt->name[1], c->from_id, strlen(c->from_id)) == 0)
		nt->dir[1] = collection_ino(m, s, c->from_coll);
	/* The collection's count and time change with a create or remove. */
	if (!c->attrs)
		nt->attrs_of = dir;
}

static void apply(struct mount *m, ags_store *s, const struct change *c)
{
	struct notes nt = { .name = { SBUF_INIT, SBUF_INIT } };

	recent_forget_all(&m->recent);
	/* Shared: no change of ours runs between reading the store and
	 * following its numbers in the node table. */
	pthread_rwlock_rdlock(&m->ns);
	gather(m, s, c, &nt);
	pthread_rwlock_unlock(&m->ns);
	notes_send(m, &nt);
}

/* The store was replaced: no body read from it before may be served
 * again, by the daemon or from the kernel's pages of a kept body. Open
 * files keep their buffers, as they do when the object is removed. */
static void drop_everything(struct mount *m)
{
	uint64_t *inos;
	size_t i, n;

	recent_forget_all(&m->recent);
	pthread_mutex_lock(&m->lock);
	n = kept_drop_all(m, &inos);
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_lock(&m->notify_lock);
	for (i = 0; i < n && may_notify(m); i++)
		fuse_lowlevel_notify_inval_inode(m->se, inos[i], 0, 0);
	pthread_mutex_unlock(&m->notify_lock);
	free(inos);
}

/* The names the kernel may hold of objects and collections, gathered to
 * be dropped once no lock is held. */
struct names {
	struct name_of {
		uint64_t dir;
		char *name;
	} * v;
	size_t n, alloc;
};

static void name_gather(void *ctx, struct node *n)
{
	struct names *ns = ctx;
	struct name_of *grown;
	size_t more;

	if ((n->kind != NODE_OBJECT && n->kind != NODE_COLLECTION) ||
	    !n->nlookup || !n->parent)
		return;
	if (ns->n == ns->alloc) {
		more = ns->alloc ? 2 * ns->alloc : 256;
		grown = realloc(ns->v, more * sizeof(*grown));
		if (!grown)
			return; /* the kernel's timeouts will do */
		ns->v = grown;
		ns->alloc = more;
	}
	ns->v[ns->n].name = strdup(n->name);
	if (ns->v[ns->n].name)
		ns->v[ns->n++].dir = n->parent->ino;
}

/* After a restore every name the kernel holds may be gone or another's:
 * have it look each up again now rather than after its timeout. */
static void drop_names(struct mount *m)
{
	struct names ns = { 0 };
	size_t i;

	pthread_mutex_lock(&m->lock);
	nodes_each(m, name_gather, &ns);
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_lock(&m->notify_lock);
	for (i = 0; i < ns.n; i++) {
		if (may_notify(m))
			fuse_lowlevel_notify_inval_entry(m->se, ns.v[i].dir,
							 ns.v[i].name,
							 strlen(ns.v[i].name));
		free(ns.v[i].name);
	}
	pthread_mutex_unlock(&m->notify_lock);
	free(ns.v);
}

/* The store was replaced (a forced restore), or its schema changed: the
 * rows of a restored log say nothing about what was read before, and their
 * sequence numbers may be those of rows already seen, or noted as ours.
 * Start over from @last, the end of the log as it is now, read after
 * @epoch: every change up to it was made before everything read from the
 * store is dropped here (kept bodies now, the kernel's pages of each
 * object at its next open), and every later one has a sequence past it.
 * Files open across it keep what they read. The kernel's names are
 * dropped too; its attributes expire on their own.
 *
 * @seen is where this poll began. A log that ended below it went back: a
 * restore. Otherwise the rows this poll listed are of the log as it is
 * now, and were acted on: they need not be listed again. */
static void start_over(struct mount *m, int64_t epoch, int64_t last,
		       int64_t seen)
{
	bool back = last < seen;

	if (back)
		mount_log(m, LOG_WARNING,
			  "the store was replaced under the mount (audit "
			  "sequence %lld, was %lld); cached attributes "
			  "refresh within %g s",
			  (long long)last, (long long)seen, MOUNT_TIMEOUT);
	else
		mount_log(m, LOG_NOTICE,
			  "the store's schema version changed (a restore, an "
			  "index made or dropped, or a vacuum); bodies are "
			  "read again at their next open, cached attributes "
			  "refresh within %g s",
			  MOUNT_TIMEOUT);
	m->seen_epoch = epoch;
	if (back || last > m->seen_seq)
		m->seen_seq = last;
	m->ckpt_seq = 0;
	/* A change of ours holds ns exclusively from its commit to its note:
	 * with ns, none made in the old log can be noted after this. */
	pthread_rwlock_wrlock(&m->ns);
	own_rows_forget(m);
	pthread_mutex_lock(&m->lock);
	m->restores++;
	pthread_mutex_unlock(&m->lock);
	pthread_rwlock_unlock(&m->ns);
	/* A restored log is another log: its rows, their bytes, its size. */
	audit_view_reset(&m->audit);
	drop_everything(m);
	drop_names(m);
}

/* Act on the rows up to @last, the log's newest. */
static void poll_once(struct mount *m, ags_store *s, int64_t last)
{
	struct ags_audit_filter f = { .limit = WATCH_BATCH };
	struct changes cs;
	size_t i;
	int r;

	if (last == m->seen_seq)
		return;
	do {
		memset(&cs, 0, sizeof(cs));
		cs.m = m;
		f.after_seq = m->seen_seq;
		/* Shared: a change of ours holds ns exclusively from its
		 * commit to its note, so every row of ours listed here is
		 * noted already, never taken for another process's. */
		pthread_rwlock_rdlock(&m->ns);
		r = ags_audit_list(s, &f, take_row, &cs);
		pthread_rwlock_unlock(&m->ns);
		/* The store cannot be read while the store's callback runs:
		 * act on the rows after the listing. A long backlog must not
		 * hold up the end. */
		for (i = 0; r == 0 && i < cs.n; i++) {
			if (stopping(m)) {
				r = -ECANCELED;
				break;
			}
			apply(m, s, &cs.v[i]);
		}
		if (r == 0 && cs.last_seq > m->seen_seq)
			m->seen_seq = cs.last_seq;
		else if (r == 0)
			/* No row past the last seen, yet @last was above it: a
			 * forced restore sent the log back since @last was
			 * read. The next poll finds it so; asking again here
			 * would spin, and the unmount would wait for it. */
			r = -EAGAIN;
		changes_release(&cs);
	} while (r == 0 && m->seen_seq < last);
}

/* The watcher has stopped sending notices: a signal that came meanwhile
 * may end the loop now. Called once, as the thread ends or fails to
 * start. The handler stores m->signalled before it reads m->watch_busy,
 * this stores m->watch_busy before it reads m->signalled, so at least one
 * of the two sees the other and the loop ends. */
static void watch_done(struct mount *m)
{
	atomic_store(&m->watch_busy, false);
	if (atomic_load(&m->signalled))
		mount_end_loop(m);
}

/* The writer leaves checkpoints to this thread: once a poll finds new
 * rows, the WAL is copied back into the database file as far as readers
 * allow, so it stays small without a commit ever waiting for that. */
static void checkpoint(struct mount *m, ags_store *s, int64_t last)
{
	if (m->read_only || last == m->ckpt_seq)
		return;
	if (ags_store_checkpoint(s) < 0)
		mount_log(m, LOG_WARNING, "%s", ags_errmsg(s));
	m->ckpt_seq = last;
}

/* One look at the store. A restore is told by the store's epoch: the
 * restored log may end below the last row seen, at it, or past it, so the
 * log alone cannot tell. (Making or dropping an index, or a VACUUM, moves
 * the epoch too: a needless drop, and a rare one.) Rows past the last seen
 * are acted on first, as ever: after an index was made they are other
 * processes' changes, and after a restore they drop only what they name.
 *
 * The epoch is read first. Were the log's end read first, a restore
 * between the two reads would start over from the old log's end, past
 * rows the restored log has yet to reach. This way such a restore is
 * seen at the next poll, and rows of its log listed meanwhile only drop
 * what they name. */
static void poll(struct mount *m, ags_store *s)
{
	int64_t epoch, last, seen = m->seen_seq;

	if (ags_store_epoch(s, &epoch) < 0 || ags_audit_last_seq(s, &last) < 0)
		return;
	if (last > seen)
		poll_once(m, s, last);
	/* The log went back if it ended below what was seen before this
	 * poll. The listing itself may have gone past @last: rows committed
	 * since it was read, by any writer, are no sign of a restore. */
	if (epoch != m->seen_epoch || last < seen)
		start_over(m, epoch, last, seen);
	checkpoint(m, s, last);
}

static void *watch_main(void *arg)
{
	struct mount *m = arg;
	struct timespec until;
	ags_store *s = mount_store(m);

	while (!stopping(m)) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (sem_timedwait(&m->watch_wake, &until) < 0 &&
		       errno == EINTR)
			;
		if (stopping(m))
			break;
		if (!s) {
			s = mount_store(m);
		} else {
			poll(m, s);
		}
	}
	watch_done(m);
	return NULL;
}

void watch_wake(struct mount *m)
{
	sem_post(&m->watch_wake);
}

int watch_start(struct mount *m)
{
	ags_store *s = mount_store(m);
	sigset_t all, old;
	int r;

	if (!s)
		return -EIO;
	r = ags_audit_last_seq(s, &m->seen_seq);
	if (r == 0)
		r = ags_store_epoch(s, &m->seen_epoch);
	if (r < 0)
		return r;
	atomic_store(&m->stop, false);
	/* From here a signal waits for the watcher to end (mount.c). */
	atomic_store(&m->watch_busy, true);
	/* The signal handler runs in a FUSE thread, never in the middle of
	 * a notice: the watcher blocks every signal (a new thread inherits
	 * the mask). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&m->watch_thread, NULL, watch_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	m->watching = r == 0;
	if (r < 0)
		watch_done(m);
	return r;
}

void watch_stop(struct mount *m)
{
	if (!m->watching)
		return;
	atomic_store(&m->stop, true);
	watch_wake(m);
	pthread_join(m->watch_thread, NULL);
	m->watching = false;
}
