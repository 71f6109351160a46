/* mount-ops.c: the FUSE callbacks that read the tree and move bytes: lookup,
 * attributes, directory listings, open/read/write/flush/fsync/release. The
 * callbacks that change names are in mount-names.c. Every callback answers
 * 0 or an errno; none keeps a lock while the store or the kernel works. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>

#include "mount.h"
#include "names-int.h"

/* Rows read from the store per query while listing a directory: about what
 * one 4 KiB reply from the kernel holds. */
#define LIST_PAGE 64

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void set_time(struct timespec *ts, int64_t ns)
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)rem;
}

static void fill_times(struct stat *st, int64_t mtime, int64_t ctime)
{
	set_time(&st->st_mtim, mtime);
	set_time(&st->st_atim, mtime);
	set_time(&st->st_ctim, ctime > mtime ? ctime : mtime);
}

static void fill_common(struct stat *st, uint64_t ino, mode_t mode,
			uint32_t uid, uint32_t gid)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = uid;
	st->st_gid = gid;
	st->st_blksize = 4096;
}

static void fill_size(struct stat *st, size_t size)
{
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

static void fill_collection(struct stat *st, const struct ags_collection *c)
{
	fill_common(st, (uint64_t)c->number, S_IFDIR | (c->attr.mode & 07777),
		    c->attr.uid, c->attr.gid);
	fill_times(st, c->attr.mtime_ns, c->ctime_ns);
}

/* An object's attributes, with the size and time of its open buffer while
 * that holds bytes not yet committed. Lock held. */
static void fill_object(struct stat *st, const struct node *n,
			const struct ags_object *o)
{
	const struct content *c = &n->content;

	fill_common(st, (uint64_t)o->number, S_IFREG | (o->attr.mode & 07777),
		    o->attr.uid, o->attr.gid);
	if (c->loaded && c->dirty) {
		fill_size(st, c->data.len);
		fill_times(st, c->mtime_ns, c->mtime_ns);
	} else {
		fill_size(st, o->body_len);
		fill_times(st, o->attr.mtime_ns, o->vtime_ns);
	}
}

/* A temporary file: everything is in memory. Lock held. */
static void fill_temp(struct stat *st, const struct node *n)
{
	fill_common(st, (uint64_t)n->number, S_IFREG | (n->attr.mode & 07777),
		    n->attr.uid, n->attr.gid);
	fill_size(st, n->content.data.len);
	fill_times(st, n->attr.mtime_ns, n->attr.ctime_ns);
}

/* What a node gone from the store (or renamed by another process and not
 * yet seen) answers: its last attributes, with its buffer's size. */
static int fill_last(struct mount *m, struct node *n, struct stat *st)
{
	int r = 0;

	pthread_mutex_lock(&m->lock);
	if (!n->last.st_ino) {
		r = -ENOENT;
	} else {
		*st = n->last;
		if (n->content.loaded)
			fill_size(st, n->content.data.len);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int node_stat(struct mount *m, struct node *n, struct stat *st)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct ags_collection col;
	struct ags_object obj;
	int64_t number;
	ags_store *s;
	bool gone;
	int r = 0;

	switch (n->kind) {
	case NODE_ROOT:
		fill_common(st, INO_ROOT, S_IFDIR | 0755, m->uid, m->gid);
		fill_times(st, m->start_ns, m->start_ns);
		return 0;
	case NODE_CTL:
		fill_common(st, INO_CTL, S_IFDIR | 0555, m->uid, m->gid);
		fill_times(st, m->start_ns, m->start_ns);
		return 0;
	case NODE_AUDIT:
		s = mount_store(m);
		if (!s)
			return -EIO;
		r = audit_view_refresh(&m->audit, s);
		if (r < 0)
			return r;
		fill_common(st, INO_AUDIT, S_IFREG | 0444, m->uid, m->gid);
		pthread_mutex_lock(&m->audit.lock);
		fill_size(st, m->audit.size);
		fill_times(st,
			   m->audit.mtime_ns ? m->audit.mtime_ns : m->start_ns,
			   m->start_ns);
		pthread_mutex_unlock(&m->audit.lock);
		return 0;
	case NODE_TEMP:
		pthread_mutex_lock(&m->lock);
		fill_temp(st, n);
		n->last = *st;
		pthread_mutex_unlock(&m->lock);
		return 0;
	case NODE_COLLECTION:
	case NODE_OBJECT:
		break;
	}

	pthread_mutex_lock(&m->lock);
	gone = n->gone;
	number = n->number;
	if (n->kind == NODE_OBJECT) {
		r = sbuf_adds(&coll, n->parent->name);
		if (r == 0)
			r = node_object_id(n, &id);
	} else {
		r = sbuf_adds(&coll, n->name);
	}
	pthread_mutex_unlock(&m->lock);
	s = r == 0 ? mount_reader(m) : NULL;
	if (r == 0 && !s)
		r = -EIO;
	if (r == 0 && gone)
		r = -ENOENT;
	if (r == 0 && n->kind == NODE_COLLECTION) {
		r = ags_collection_get(s, coll.buf, &col);
		if (r == 0 && col.number != number)
			r = -ENOENT;
		if (r == 0)
			fill_collection(st, &col);
	} else if (r == 0) {
		r = ags_object_get(s, coll.buf, id.buf, 0, false, &obj);
		if (r == 0 && obj.number != number)
			r = -ENOENT;
	}
	pthread_mutex_lock(&m->lock);
	if (r == 0 && n->kind == NODE_OBJECT)
		fill_object(st, n, &obj);
	if (r == 0)
		n->last = *st;
	pthread_mutex_unlock(&m->lock);
	mount_reader_put(m, s);
	sbuf_release(&coll);
	sbuf_release(&id);
	if (r == -ENOENT)
		return fill_last(m, n, st);
	return r;
}

double attr_timeout(const struct node *n)
{
	/* The audit log grows with every change anywhere: always ask. A
	 * temporary file becomes an object with the object's inode number
	 * when its content is committed: the kernel must not keep its old
	 * one (asking costs no store read). */
	return n->kind == NODE_AUDIT || n->kind == NODE_TEMP ? 0.0
							     : MOUNT_TIMEOUT;
}

void reply_entry(struct mount *m, fuse_req_t req, struct node *n,
		 const struct stat *st)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.attr = *st;
	e.attr_timeout = attr_timeout(n);
	e.entry_timeout = MOUNT_TIMEOUT;
	pthread_mutex_lock(&m->lock);
	n->nlookup++;
	pthread_mutex_unlock(&m->lock);
	if (fuse_reply_entry(req, &e) != 0) {
		/* Interrupted: the kernel did not take the reference. */
		pthread_mutex_lock(&m->lock);
		node_forget(m, n, 1);
		pthread_mutex_unlock(&m->lock);
	}
}

/* ---- lookup and attributes ------------------------------------------------ */

/* Find @name in @dir: a referenced node and its attributes. */
static int lookup_in(struct mount *m, struct node *dir, const char *name,
		     struct node **out, struct stat *st)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct ags_collection col;
	struct ags_object obj;
	struct node *n = NULL;
	struct entry *e;
	uint64_t gen;
	ags_store *s;
	int r = 0;

	switch (dir->kind) {
	case NODE_ROOT:
		if (strcmp(name, CTL_NAME) == 0) {
			n = node_get(m, INO_CTL);
			break;
		}
		if (name_check_collection(name) < 0)
			return -ENOENT;
		s = mount_reader(m);
		if (!s)
			return -EIO;
		r = ags_collection_get(s, name, &col);
		if (r == 0) {
			fill_collection(st, &col);
			pthread_mutex_lock(&m->lock);
			n = node_of_collection(m, col.name, col.number,
					       col.ctime_ns);
			if (n) {
				node_ref(n);
				n->last = *st;
			}
			pthread_mutex_unlock(&m->lock);
		}
		mount_reader_put(m, s);
		if (r < 0)
			return r;
		if (!n)
			return -ENOMEM;
		*out = n;
		return 0;
	case NODE_CTL:
		if (strcmp(name, AUDIT_NAME) != 0)
			return -ENOENT;
		n = node_get(m, INO_AUDIT);
		break;
	case NODE_COLLECTION:
		pthread_mutex_lock(&m->lock);
		e = entry_find(m, dir, name);
		if (e && e->temp) {
			n = node_ref(e->temp);
			fill_temp(st, n);
		} else if (e || dir->gone) {
			r = -ENOENT; /* hidden by a rename to a temporary name */
		} else {
			r = sbuf_adds(&coll, dir->name);
		}
		pthread_mutex_unlock(&m->lock);
		if (n) {
			*out = n;
			return 0;
		}
		if (r == 0 && name_decode_file(&id, name) < 0)
			r = -ENOENT;
		s = r == 0 ? mount_reader(m) : NULL;
		if (r == 0 && !s)
			r = -EIO;
		gen = recent_gen(&m->recent);
		/* The query reads the body anyway: keep it for the read
		 * that usually follows. */
		if (r == 0)
			r = ags_object_peek(s, coll.buf, id.buf,
					    RECENT_MAX_BODY, NULL, &obj);
		if (r == 0) {
			recent_keep(&m->recent, gen, &obj);
			pthread_mutex_lock(&m->lock);
			n = node_of_object(m, dir, name, obj.number,
					   obj.ctime_ns);
			if (n) {
				node_ref(n);
				fill_object(st, n, &obj);
				n->last = *st;
			}
			pthread_mutex_unlock(&m->lock);
			if (!n)
				r = -ENOMEM;
		}
		mount_reader_put(m, s);
		sbuf_release(&coll);
		sbuf_release(&id);
		if (r < 0)
			return r;
		*out = n;
		return 0;
	default:
		return -ENOTDIR;
	}
	if (!n)
		return -ENOENT;
	r = node_stat(m, n, st);
	if (r < 0) {
		node_put(m, n);
		return r;
	}
	*out = n;
	return 0;
}

/* Does an operation on @n need the namespace lock? Not the mount's own
 * entries, which no change of the store renames or removes: the audit log
 * may take seconds to index, which must not hold up every writer (and,
 * behind a waiting writer, every reader). Told by the inode number, which
 * never changes: a node's kind may (a temporary file becoming an object,
 * under the locks this is asked without). */
static bool needs_ns(const struct node *n)
{
	return n->ino != INO_ROOT && n->ino != INO_CTL && n->ino != INO_AUDIT;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct node *dir, *n = NULL;
	struct stat st = { 0 }; /* set on success: gcc -O3 cannot tell */
	bool ns;
	int r;

	if (strlen(name) > MOUNT_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	/* The root's entries are collections: those need it. */
	ns = dir->kind != NODE_CTL;
	if (ns)
		pthread_rwlock_rdlock(&m->ns);
	r = lookup_in(m, dir, name, &n, &st);
	if (ns)
		pthread_rwlock_unlock(&m->ns);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(m, req, n, &st);
	if (n)
		node_put(m, n);
	node_put(m, dir);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct mount *m = mount_of(req);
	struct node *n;

	pthread_mutex_lock(&m->lock);
	n = node_find(m, ino);
	if (n)
		node_forget(m, n, nlookup);
	nodes_trim(m);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct mount *m = mount_of(req);
	struct node *n;
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < count; i++) {
		n = node_find(m, forgets[i].ino);
		if (n)
			node_forget(m, n, forgets[i].nlookup);
	}
	nodes_trim(m);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct node *n = node_get_or_reload(m, ino);
	struct stat st;
	bool ns;
	int r;

	(void)fi;
	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	ns = needs_ns(n);
	if (ns)
		pthread_rwlock_rdlock(&m->ns);
	r = node_stat(m, n, &st);
	if (ns)
		pthread_rwlock_unlock(&m->ns);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, attr_timeout(n));
	node_put(m, n);
}

static unsigned attr_mask(int to_set)
{
	unsigned mask = 0;

	if (to_set & FUSE_SET_ATTR_MODE)
		mask |= AGS_ATTR_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		mask |= AGS_ATTR_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		mask |= AGS_ATTR_GID;
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
		mask |= AGS_ATTR_MTIME;
	return mask;
}

static void attr_from(struct ags_attr *a, const struct stat *st, int to_set)
{
	struct timespec now;

	a->mode = st->st_mode & 07777;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		clock_gettime(CLOCK_REALTIME, &now);
		a->mtime_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	} else {
		a->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
			      st->st_mtim.tv_nsec;
	}
}

/* truncate() of an object: through a handle (ftruncate, O_TRUNC) it
 * changes only the shared buffer, committed with its writer's bytes; by
 * path it is a write of the cut body, validated and committed now, or at
 * the close of a writer that has the file open. ns held exclusively. */
static int truncate_object(struct mount *m, struct node *n, bool has_fh,
			   off_t size, const struct actor *a)
{
	bool writers, inval = false;
	int tries, r;

	/* truncate(path) is a change of its own, committed now, or by the
	 * close of a writer that has the file open (it shares the buffer);
	 * one through a handle (ftruncate, O_TRUNC) is part of its writing. */
	pthread_mutex_lock(&m->lock);
	writers = n->writers > 0;
	kept_drop_for_writer(m, n);
	pthread_mutex_unlock(&m->lock);
	for (tries = 0; tries < 3; tries++) {
		r = size ? content_load(m, n) : 0;
		if (r < 0)
			break;
		pthread_mutex_lock(&m->lock);
		r = content_truncate(m, n, size);
		if (r == 0 && !has_fh) {
			n->content.written = true;
			n->content.writer = *a;
		}
		pthread_mutex_unlock(&m->lock);
		if (r != -EAGAIN)
			break;
	}
	if (!has_fh && !writers) {
		if (r == 0)
			r = content_commit(m, n, &inval);
		pthread_mutex_lock(&m->lock);
		if (n->opens == 0 && !(n->content.dirty && n->content.written))
			content_drop(m, n);
		pthread_mutex_unlock(&m->lock);
	}
	return r == -EAGAIN ? -EIO : r;
}

/* Persist the attributes in @mask that differ from the stored ones: a
 * chmod to the same mode (vim does one after each save) records nothing. */
static int set_changed(ags_store *s, struct node *n, const char *coll,
		       const char *id, const struct ags_attr *at, unsigned mask)
{
	struct ags_collection c;
	struct ags_object o;
	const struct ags_attr *cur;
	int64_t number;
	int r;

	if (n->kind == NODE_OBJECT) {
		r = ags_object_get(s, coll, id, 0, false, &o);
		cur = &o.attr;
		number = o.number;
	} else {
		r = ags_collection_get(s, coll, &c);
		cur = &c.attr;
		number = c.number;
	}
	if (r == 0 && number != n->number)
		r = -ESTALE;
	if (r < 0)
		return r;
	if (at->mode == cur->mode)
		mask &= ~(unsigned)AGS_ATTR_MODE;
	if (at->uid == cur->uid)
		mask &= ~(unsigned)AGS_ATTR_UID;
	if (at->gid == cur->gid)
		mask &= ~(unsigned)AGS_ATTR_GID;
	if (at->mtime_ns == cur->mtime_ns)
		mask &= ~(unsigned)AGS_ATTR_MTIME;
	if (!mask)
		return 0;
	return n->kind == NODE_OBJECT
		       ? ags_object_set_attr(s, coll, id, at, mask)
		       : ags_collection_set_attr(s, coll, at, mask);
}

static int setattr_store(struct mount *m, struct node *n, const struct stat *st,
			 int to_set, const struct actor *a)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	unsigned mask = attr_mask(to_set);
	struct ags_attr at;
	ags_store *s;
	int r;

	if (!mask)
		return 0;
	attr_from(&at, st, to_set);
	pthread_mutex_lock(&m->lock);
	if (n->kind == NODE_OBJECT) {
		r = sbuf_adds(&coll, n->parent->name);
		if (r == 0)
			r = node_object_id(n, &id);
		/* A time set on a file with bytes still to commit must
		 * survive that commit (cp -a and tar set it before close). */
		if (r == 0 && (mask & AGS_ATTR_MTIME) && n->content.dirty) {
			n->attr.set |= AGS_ATTR_MTIME;
			n->attr.mtime_ns = at.mtime_ns;
		}
	} else {
		r = sbuf_adds(&coll, n->name);
	}
	pthread_mutex_unlock(&m->lock);
	s = mount_writer(m);
	if (r == 0 && !s)
		r = -EIO;
	if (r == 0)
		r = actor_apply(s, a);
	if (r == 0) {
		r = set_changed(s, n, coll.buf, id.buf, &at, mask);
		if (r < 0 && r != -ESTALE)
			mount_log(m, LOG_WARNING, "%s", ags_errmsg(s));
	}
	sbuf_release(&coll);
	sbuf_release(&id);
	return r;
}

static int setattr_temp(struct mount *m, struct node *n, const struct stat *st,
			int to_set)
{
	unsigned mask = attr_mask(to_set);
	struct ags_attr at;
	int r = 0;

	attr_from(&at, st, to_set);
	pthread_mutex_lock(&m->lock);
	if (to_set & FUSE_SET_ATTR_SIZE)
		r = content_truncate(m, n, st->st_size);
	if (r == 0) {
		if (mask & AGS_ATTR_MODE)
			n->attr.mode = at.mode;
		if (mask & AGS_ATTR_UID)
			n->attr.uid = at.uid;
		if (mask & AGS_ATTR_GID)
			n->attr.gid = at.gid;
		if (mask & AGS_ATTR_MTIME)
			n->attr.mtime_ns = at.mtime_ns;
		n->attr.set |= mask;
		if (mask) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			n->attr.ctime_ns =
				(int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct node *n = node_get_or_reload(m, ino);
	struct actor a;
	struct stat st;
	int r = 0;

	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	/* Exclusively: a commit must not turn a temporary file into an
	 * object between the test of its kind and the change. */
	pthread_rwlock_wrlock(&m->ns);
	if (m->read_only) {
		r = -EROFS;
	} else if (n->kind == NODE_TEMP) {
		r = setattr_temp(m, n, attr, to_set);
	} else if (n->kind == NODE_OBJECT) {
		if (to_set & FUSE_SET_ATTR_SIZE) {
			r = truncate_object(m, n, fi != NULL, attr->st_size,
					    &a);
			/* A truncate(path) commits on its own: note its rows
			 * before the attributes' commit (mount_write_unlock()
			 * notes only the last). */
			watch_own_commit(m);
		}
		if (r == 0)
			r = setattr_store(m, n, attr, to_set, &a);
	} else if (n->kind == NODE_COLLECTION) {
		r = (to_set & FUSE_SET_ATTR_SIZE)
			    ? -EISDIR
			    : setattr_store(m, n, attr, to_set, &a);
	} else if (n->kind == NODE_AUDIT && (to_set & FUSE_SET_ATTR_SIZE)) {
		r = -EROFS; /* a write, like open for writing */
	} else {
		r = -EPERM; /* the root and the control area are fixed */
	}
	if (r == 0)
		r = node_stat(m, n, &st);
	mount_write_unlock(m);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, attr_timeout(n));
	node_put(m, n);
}

/* ---- open files ---------------------------------------------------------- */

struct handle *handle_new(struct mount *m, struct node *n, int flags,
			  const struct actor *opener)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->writable = (flags & O_ACCMODE) != O_RDONLY;
	h->sync_writes = h->writable && (flags & (O_SYNC | O_DSYNC));
	h->opener = *opener;
	pthread_mutex_lock(&m->lock);
	h->node = node_ref(n);
	kept_forget(m, n); /* open: its bytes are in use */
	if (h->writable)
		kept_drop_for_writer(m, n);
	n->opens++;
	if (h->writable)
		n->writers++;
	/* O_TRUNC cuts the buffer only now that this writer counts: the last
	 * other writer closing meanwhile would put back the stored body, a
	 * truncation alone being no change, under this writer's feet. Cutting
	 * to nothing needs no body, so it cannot fail. */
	if (h->writable && (flags & O_TRUNC) &&
	    (n->kind == NODE_OBJECT || n->kind == NODE_TEMP))
		content_truncate(m, n, 0);
	link_add(&m->open_files, &h->link);
	pthread_mutex_unlock(&m->lock);
	return h;
}

void handle_drop(struct mount *m, struct handle *h)
{
	pthread_mutex_lock(&m->lock);
	h->node->opens--;
	if (h->writable)
		h->node->writers--;
	link_del(&h->link);
	node_unref(m, h->node);
	pthread_mutex_unlock(&m->lock);
	free(h);
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* Close @h; with the last handle of a file its buffer is settled:
 * committed if written and not yet committed (written through mmap, or a
 * commit that failed for a passing reason), or, when the store refuses it
 * (a flush may have refused these bytes already, and kept them for the
 * other holders of the open file), put back to what the store holds;
 * an object's buffer that was only cut is put back too. */
static void handle_close(struct mount *m, struct handle *h)
{
	struct node *n = h->node;
	uint64_t ino = n->ino;
	bool commit, inval = false;

	pthread_mutex_lock(&m->lock);
	n->opens--;
	if (h->writable)
		n->writers--;
	/* The last writer gone, nobody can finish what was written: it is
	 * stored, or refused and put back, though readers stay. */
	commit = n->writers == 0 && n->content.dirty && n->content.written;
	pthread_mutex_unlock(&m->lock);
	if (commit) {
		pthread_rwlock_wrlock(&m->ns);
		content_commit(m, n, &inval);
		mount_write_unlock(m);
	}
	pthread_mutex_lock(&m->lock);
	/* Truncation alone is never committed: once no writer is left, the
	 * file is the stored body again, for the readers that stay too.
	 * (Clean bytes are kept or dropped once nothing holds the node any
	 * more: node_maybe_free.) */
	if (n->writers == 0 && n->kind == NODE_OBJECT && n->content.loaded &&
	    n->content.dirty && !n->content.written) {
		content_drop(m, n);
		inval = true;
	}
	link_del(&h->link);
	node_unref(m, n); /* may free it: use ino from here */
	pthread_mutex_unlock(&m->lock);
	if (inval)
		fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
	free(h);
}

/* Whether the kernel may keep its pages of object or temporary file @n
 * for an open (its handle made). Pages stay cached across opens: the
 * watcher drops them when another process changes the object. Not so
 * when the kernel may hold bytes older than the store: read before a
 * restore, or served from a buffer that may be older; whatever it keeps
 * of those goes at the first open whose bytes are the store's. */
static bool pages_keep(struct mount *m, struct node *n)
{
	bool keep, fresh;

	if (n->kind != NODE_OBJECT && n->kind != NODE_TEMP)
		return false;
	pthread_mutex_lock(&m->lock);
	keep = n->pages_restores == m->restores;
	/* A temporary file's bytes are only ever the daemon's. */
	fresh = n->kind == NODE_TEMP || !n->content.loaded ||
		n->content.matches_store || n->content.dirty;
	if (fresh)
		n->pages_restores = m->restores;
	pthread_mutex_unlock(&m->lock);
	return keep;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct node *n = node_get_or_reload(m, ino);
	bool writable = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct actor opener;
	struct handle *h;
	int r = 0;

	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	switch (n->kind) {
	case NODE_AUDIT:
		/* The control area is a read-only filesystem of its own. */
		if (writable)
			r = -EROFS;
		/* Read from the store at each read: it grows while open. */
		fi->direct_io = 1;
		break;
	case NODE_OBJECT:
	case NODE_TEMP:
		if (writable && m->read_only)
			r = -EROFS;
		break; /* O_TRUNC: handle_new() */
	default:
		r = -EISDIR;
	}
	actor_ids_from_req(&opener, req);
	h = r == 0 ? handle_new(m, n, fi->flags, &opener) : NULL;
	if (r == 0 && !h)
		r = -ENOMEM;
	if (r == 0)
		fi->keep_cache = pages_keep(m, n);
	if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		fi->fh = (uintptr_t)h;
		if (fuse_reply_open(req, fi) != 0)
			handle_close(m, h);
	}
	node_put(m, n);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct node *n = handle_of(fi)->node;
	struct sbuf out = SBUF_INIT;
	size_t got = 0;
	char *buf;
	int tries, r = 0;

	(void)ino;
	if (n->kind == NODE_AUDIT) {
		ags_store *s = mount_store(m);

		r = s ? audit_view_read(&m->audit, s, &out, (uint64_t)off, size)
		      : -EIO;
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			fuse_reply_buf(req, out.buf, out.len);
		sbuf_release(&out);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* The watcher may drop a clean buffer between load and read. */
	for (tries = 0; tries < 3; tries++) {
		r = content_load_shared(m, n);
		if (r < 0)
			break;
		pthread_mutex_lock(&m->lock);
		if (n->content.loaded)
			got = tmpfile_read(&n->content.data, buf, size, off);
		else
			r = -EAGAIN;
		pthread_mutex_unlock(&m->lock);
		if (r == 0)
			break;
	}
	if (r < 0)
		fuse_reply_err(req, r == -EAGAIN ? EIO : -r);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

/* The writer of a request. The opener of a shell redirection is the shell
 * before it runs the tool (same pid, comm "bash"), so the name is read at
 * the first write of each process through the handle, and kept for its
 * next writes. A page of a shared mapping written back by the kernel comes
 * with no caller (pid 0): the last writer through the handle, else its
 * opener, wrote it. */
static void writer_of(struct mount *m, struct handle *h, fuse_req_t req,
		      struct actor *out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	bool known;

	if (ctx->pid == 0) {
		pthread_mutex_lock(&m->lock);
		*out = h->writer.pid ? h->writer : h->opener;
		pthread_mutex_unlock(&m->lock);
		if (!out->comm[0])
			actor_read_comm(m, out);
		return;
	}
	pthread_mutex_lock(&m->lock);
	known = h->writer.pid == ctx->pid && h->writer.uid == ctx->uid &&
		h->writer.gid == ctx->gid;
	if (known)
		*out = h->writer;
	pthread_mutex_unlock(&m->lock);
	if (known)
		return;
	actor_from_req(out, req);
	pthread_mutex_lock(&m->lock);
	h->writer = *out;
	pthread_mutex_unlock(&m->lock);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct handle *h = handle_of(fi);
	struct node *n = h->node;
	struct actor a;
	int tries, r = -EBADF;

	(void)ino;
	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	writer_of(m, h, req, &a);
	for (tries = 0; tries < 3 && h->writable; tries++) {
		r = content_load(m, n);
		if (r < 0)
			break;
		pthread_mutex_lock(&m->lock);
		r = content_write(m, n, &a, buf, size, off);
		pthread_mutex_unlock(&m->lock);
		if (r != -EAGAIN)
			break;
	}
	if (r < 0)
		fuse_reply_err(req, r == -EAGAIN ? EIO : -r);
	else
		fuse_reply_write(req, size);
}

/* Commit what @h's file was written since its last commit; only a handle
 * that may write commits, so a reader's close never stores (or refuses) a
 * buffer a writer is still filling. A refusal fails this close() or fsync()
 * but keeps the buffer while the file is open (mount-buffer.c). */
static int commit_handle(struct mount *m, struct handle *h)
{
	struct node *n = h->node;
	bool want, inval = false;
	int r;

	if (!h->writable)
		return 0;
	pthread_mutex_lock(&m->lock);
	want = n->content.dirty && n->content.written;
	pthread_mutex_unlock(&m->lock);
	if (!want)
		return 0;
	pthread_rwlock_wrlock(&m->ns);
	r = content_commit(m, n, &inval);
	mount_write_unlock(m);
	/* Before answering: once the buffer is put back, a reader must not
	 * be served refused bytes from the kernel's cache. */
	if (inval)
		fuse_lowlevel_notify_inval_inode(m->se, n->ino, 0, 0);
	return r;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);

	(void)ino;
	fuse_reply_err(req, -commit_handle(m, handle_of(fi)));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct handle *h = handle_of(fi);
	ags_store *s;
	int r;

	(void)ino;
	(void)datasync;
	/* A file opened O_SYNC gets an fsync after each write(): a body
	 * written in several is not JSON until its last, and the earlier
	 * ones must not fail for it. Its close() commits or refuses it. */
	if (h->sync_writes && !content_storable(m, h->node)) {
		fuse_reply_err(req, 0);
		return;
	}
	r = commit_handle(m, h);
	if (r == 0) {
		s = mount_store(m);
		r = s ? ags_store_sync(s) : -EIO;
	}
	fuse_reply_err(req, -r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	handle_close(mount_of(req), handle_of(fi));
	fuse_reply_err(req, 0);
}

/* ---- directories ---------------------------------------------------------- */

enum dir_phase { PH_DOT, PH_DOTDOT, PH_CTL, PH_TEMPS, PH_STORE, PH_END };

struct dirhandle {
	struct link link;  /* in mount.open_dirs */
	struct node *node; /* referenced */
	enum dir_phase phase;
	off_t next;	   /* offset of the next entry */
	struct sbuf after; /* last collection name or object id listed */
	char **temps;	   /* temporary files' names, taken at the start */
	size_t ntemps, itemp;
	bool long_logged; /* a name too long to list was logged */
};

/* One reply being filled. */
struct fill {
	struct mount *m;
	fuse_req_t req;
	struct dirhandle *dh;
	bool plus;
	char *buf;
	size_t size, pos;
	off_t skip; /* entries to pass over before filling (seekdir) */
	bool full;
	const char *coll; /* the collection listed (a copy) */
	size_t rows;	  /* rows the last store query returned */
	struct sbuf name;
};

static void dirhandle_reset(struct dirhandle *dh)
{
	size_t i;

	for (i = 0; i < dh->ntemps; i++)
		free(dh->temps[i]);
	free(dh->temps);
	dh->temps = NULL;
	dh->ntemps = dh->itemp = 0;
	dh->phase = PH_DOT;
	dh->next = 0;
	dh->long_logged = false;
	sbuf_reset(&dh->after);
}

/* Add one entry. @n (lock held by the caller for store rows) is the node
 * a readdirplus entry hands the kernel a reference to. @return true while
 * the reply has room. */
static bool emit(struct fill *f, const char *name, const struct stat *st,
		 struct node *n)
{
	struct fuse_entry_param e;
	size_t need;

	if (f->skip > 0) {
		f->skip--;
		f->dh->next++;
		return true;
	}
	if (f->plus) {
		memset(&e, 0, sizeof(e));
		e.attr = *st;
		need = fuse_add_direntry_plus(f->req, NULL, 0, name, NULL, 0);
		if (f->pos + need > f->size) {
			f->full = true;
			/* A node made for this entry only goes again. */
			if (n)
				node_maybe_free(f->m, n);
			return false;
		}
		if (n) {
			e.ino = n->ino;
			e.attr_timeout = attr_timeout(n);
			e.entry_timeout = MOUNT_TIMEOUT;
			n->nlookup++;
			node_maybe_free(f->m, n); /* listed as idle */
		}
		fuse_add_direntry_plus(f->req, f->buf + f->pos,
				       f->size - f->pos, name, &e,
				       f->dh->next + 1);
	} else {
		need = fuse_add_direntry(f->req, NULL, 0, name, NULL, 0);
		if (f->pos + need > f->size) {
			f->full = true;
			return false;
		}
		fuse_add_direntry(f->req, f->buf + f->pos, f->size - f->pos,
				  name, st, f->dh->next + 1);
	}
	f->pos += need;
	f->dh->next++;
	return true;
}

static int emit_collection(void *ctx, const struct ags_collection *c)
{
	struct fill *f = ctx;
	struct node *n = NULL;
	struct stat st;
	bool added;

	f->rows++;
	fill_collection(&st, c);
	pthread_mutex_lock(&f->m->lock);
	if (f->plus && f->skip == 0)
		n = node_of_collection(f->m, c->name, c->number, c->ctime_ns);
	added = emit(f, c->name, &st, n);
	pthread_mutex_unlock(&f->m->lock);
	if (!added)
		return 1;
	sbuf_reset(&f->dh->after);
	sbuf_adds(&f->dh->after, c->name);
	return 0;
}

static int emit_object(void *ctx, const struct ags_object *o)
{
	struct fill *f = ctx;
	struct node *dir = f->dh->node, *n = NULL;
	struct stat st;
	bool added = true;

	f->rows++;
	sbuf_reset(&f->name);
	if (name_encode_file(&f->name, o->id, strlen(o->id)) < 0)
		return -ENOMEM;
	if (f->name.len > MOUNT_NAME_MAX) {
		/* Listed, it would break tools (and lookups refuse it): left
		 * out, and said once per listing. */
		if (!f->dh->long_logged)
			mount_log(
				f->m, LOG_NOTICE,
				"not listing %s/%.40s... (and any other such "
				"name): its file name is %zu bytes, more than "
				"%d; 'agentstate get' reads it",
				f->coll, f->name.buf, f->name.len,
				MOUNT_NAME_MAX);
		f->dh->long_logged = true;
		goto next;
	}
	pthread_mutex_lock(&f->m->lock);
	/* A temporary file of that name was listed already; a hidden
	 * object is not listed at all. */
	if (!entry_find(f->m, dir, f->name.buf)) {
		if (f->plus && f->skip == 0)
			n = node_of_object(f->m, dir, f->name.buf, o->number,
					   o->ctime_ns);
		if (n) {
			fill_object(&st, n, o);
		} else {
			memset(&st, 0, sizeof(st));
			st.st_ino = (ino_t)o->number;
			st.st_mode = S_IFREG;
		}
		added = emit(f, f->name.buf, &st, n);
	}
	pthread_mutex_unlock(&f->m->lock);
	if (!added)
		return 1;
next:
	sbuf_reset(&f->dh->after);
	sbuf_adds(&f->dh->after, o->id);
	return 0;
}

static int take_temp(void *ctx, struct node *temp)
{
	struct dirhandle *dh = ctx;
	char **grown;

	grown = realloc(dh->temps, (dh->ntemps + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	dh->temps = grown;
	dh->temps[dh->ntemps] = strdup(temp->name);
	if (!dh->temps[dh->ntemps])
		return -ENOMEM;
	dh->ntemps++;
	return 0;
}

static int list_temps(struct fill *f)
{
	struct dirhandle *dh = f->dh;
	struct entry *e;
	struct stat st;
	bool added;

	while (dh->itemp < dh->ntemps) {
		pthread_mutex_lock(&f->m->lock);
		e = entry_find(f->m, dh->node, dh->temps[dh->itemp]);
		added = true;
		if (e && e->temp) {
			fill_temp(&st, e->temp);
			added = emit(f, dh->temps[dh->itemp], &st,
				     f->plus && f->skip == 0 ? e->temp : NULL);
		}
		pthread_mutex_unlock(&f->m->lock);
		if (!added)
			return 0;
		dh->itemp++;
	}
	dh->phase = PH_STORE;
	return 0;
}

static int list_store(struct fill *f, ags_store *s, const char *coll)
{
	struct dirhandle *dh = f->dh;
	int r;

	f->coll = coll;
	while (!f->full && dh->phase == PH_STORE) {
		f->rows = 0;
		if (dh->node->kind == NODE_ROOT)
			r = ags_collection_list(
				s, dh->after.len ? dh->after.buf : NULL,
				LIST_PAGE, emit_collection, f);
		else
			r = ags_object_list(
				s, coll, dh->after.len ? dh->after.buf : NULL,
				LIST_PAGE, false, emit_object, f);
		if (r < 0)
			return r;
		if (!f->full && f->rows < LIST_PAGE)
			dh->phase = PH_END;
	}
	return 0;
}

static int fill_dir(struct fill *f)
{
	struct dirhandle *dh = f->dh;
	struct node *dir = dh->node;
	struct sbuf coll = SBUF_INIT;
	struct stat st;
	ags_store *s;
	int r = 0;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR;
	while (!f->full && dh->phase != PH_END && r == 0) {
		switch (dh->phase) {
		case PH_DOT:
			st.st_ino = (ino_t)dir->number;
			if (emit(f, ".", &st, NULL))
				dh->phase = PH_DOTDOT;
			break;
		case PH_DOTDOT:
			st.st_ino = INO_ROOT; /* every directory is in it */
			if (emit(f, "..", &st, NULL))
				dh->phase = dir->kind == NODE_COLLECTION
						    ? PH_TEMPS
						    : PH_CTL;
			break;
		case PH_CTL: {
			struct node *n = dir->kind == NODE_ROOT
						 ? &f->m->nodes.ctl
						 : &f->m->nodes.audit;
			struct stat cst;

			r = node_stat(f->m, n, &cst);
			if (r < 0)
				break;
			pthread_mutex_lock(&f->m->lock);
			if (emit(f, n->name, &cst,
				 f->plus && f->skip == 0 ? n : NULL))
				dh->phase = dir->kind == NODE_ROOT ? PH_STORE
								   : PH_END;
			pthread_mutex_unlock(&f->m->lock);
			break;
		}
		case PH_TEMPS:
			r = list_temps(f);
			break;
		case PH_STORE:
			s = mount_store(f->m);
			if (!s) {
				r = -EIO;
				break;
			}
			pthread_mutex_lock(&f->m->lock);
			sbuf_reset(&coll);
			r = sbuf_adds(&coll, dir->name);
			pthread_mutex_unlock(&f->m->lock);
			if (r == 0)
				r = list_store(f, s, coll.buf);
			if (r == -ENOENT && dir->kind == NODE_COLLECTION) {
				/* Dropped while listed: it is empty now. */
				dh->phase = PH_END;
				r = 0;
			}
			break;
		case PH_END:
			break;
		}
	}
	sbuf_release(&coll);
	return r;
}

static void readdir_common(fuse_req_t req, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct mount *m = mount_of(req);
	struct dirhandle *dh = (struct dirhandle *)(uintptr_t)fi->fh;
	struct fill f = { .m = m,
			  .req = req,
			  .dh = dh,
			  .plus = plus,
			  .size = size,
			  .name = SBUF_INIT };
	bool ns;
	int r = 0;

	f.buf = malloc(size ? size : 1);
	if (!f.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* .agentstate lists only the audit log (see needs_ns()). */
	ns = dh->node->kind != NODE_CTL;
	if (ns)
		pthread_rwlock_rdlock(&m->ns);
	/* Continue where the last reply ended; anything else (rewinddir,
	 * seekdir) starts again and passes over @off entries. */
	if (off == 0 || off != dh->next) {
		dirhandle_reset(dh);
		f.skip = off;
	}
	if (dh->next == 0 && dh->node->kind == NODE_COLLECTION) {
		pthread_mutex_lock(&m->lock);
		r = entries_each(m, dh->node, take_temp, dh);
		pthread_mutex_unlock(&m->lock);
	}
	if (r == 0)
		r = fill_dir(&f);
	if (ns)
		pthread_rwlock_unlock(&m->ns);
	/* Entries already added carry kernel references: send them. */
	if (r < 0 && f.pos == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, f.buf, f.pos);
	free(f.buf);
	sbuf_release(&f.name);
	/* A listing of a large collection makes a node per entry: let the
	 * least recently used go. */
	pthread_mutex_lock(&m->lock);
	nodes_trim(m);
	pthread_mutex_unlock(&m->lock);
}

static void dirhandle_free(struct mount *m, struct dirhandle *dh)
{
	pthread_mutex_lock(&m->lock);
	link_del(&dh->link);
	node_unref(m, dh->node);
	pthread_mutex_unlock(&m->lock);
	dirhandle_reset(dh);
	sbuf_release(&dh->after);
	free(dh);
}

void handles_release(struct mount *m)
{
	struct link *l;

	/* The session is over: nodes go next, all at once, so no
	 * references are dropped here. */
	while ((l = m->open_files.next) != &m->open_files) {
		link_del(l);
		free((char *)l - offsetof(struct handle, link));
	}
	while ((l = m->open_dirs.next) != &m->open_dirs) {
		struct dirhandle *dh =
			(void *)((char *)l - offsetof(struct dirhandle, link));

		link_del(l);
		dirhandle_reset(dh);
		sbuf_release(&dh->after);
		free(dh);
	}
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	/* An object's id, let go while idle, is still no directory. */
	struct node *n = node_get_or_reload(m, ino);
	struct dirhandle *dh;

	if (!n) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (n->kind != NODE_ROOT && n->kind != NODE_CTL &&
	    n->kind != NODE_COLLECTION) {
		node_put(m, n);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		node_put(m, n);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dh->node = n; /* keeps node_get's reference */
	dh->after = (struct sbuf)SBUF_INIT;
	fi->fh = (uintptr_t)dh;
	pthread_mutex_lock(&m->lock);
	link_add(&m->open_dirs, &dh->link);
	pthread_mutex_unlock(&m->lock);
	if (fuse_reply_open(req, fi) != 0)
		dirhandle_free(m, dh);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	readdir_common(req, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct dirhandle *dh = (struct dirhandle *)(uintptr_t)fi->fh;

	(void)ino;
	dirhandle_free(m, dh);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	ags_store *s = mount_store(m);

	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, s ? -ags_store_sync(s) : EIO);
}

/* ---- the rest ------------------------------------------------------------ */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct mount *m = mount_of(req);
	ags_store *s = mount_store(m);
	struct statvfs sv;

	(void)ino;
	/* The space left is the space of the disk holding the store. */
	if (!s || statvfs(ags_store_path(s), &sv) != 0) {
		memset(&sv, 0, sizeof(sv));
		sv.f_bsize = sv.f_frsize = 4096;
	}
	sv.f_namemax = MOUNT_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct mount *m = mount_of(req);

	(void)link;
	(void)parent;
	mount_log(m, LOG_NOTICE,
		  "refused symlink '%s': the store holds collections and "
		  "JSON objects, not symbolic links",
		  name);
	fuse_reply_err(req, m->read_only ? EROFS : EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct mount *m = mount_of(req);

	(void)ino;
	(void)newparent;
	mount_log(m, LOG_NOTICE,
		  "refused hard link '%s': an object has exactly one name",
		  newname);
	fuse_reply_err(req, m->read_only ? EROFS : EPERM);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* O_TRUNC arrives with open, so truncation stays a buffer change. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Writes must reach the shared buffer at once: no write-back cache. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Changed times or sizes drop stale pages by themselves. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	conn->time_gran = 1;
}

const struct fuse_lowlevel_ops mount_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.create = op_create,
};
