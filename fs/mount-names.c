/* mount-names.c: the callbacks that change names: create, mknod, mkdir,
 * unlink, rmdir and rename. Each runs with the namespace lock held
 * exclusively, makes its store change in one transaction (with its audit
 * rows), and only then updates the nodes, so a refused change leaves both
 * the store and the tree as they were.
 *
 * Temporary files and the editor rule. Any name in a collection that is
 * not an object's file name is a temporary file, kept in memory. Editors
 * save by renaming: vim moves x.json to x.json~, writes a new x.json, then
 * removes x.json~. Committing that literally would remove the object and
 * create a new one with a new history. Instead, renaming an object to a
 * temporary name touches nothing in the store: the object is hidden (its
 * name shows nothing) and the temporary file holds a copy of its body and
 * "holds" the object. Then:
 * - valid JSON committed under the hidden name (the new x.json) updates
 *   the object: one new version, same history; the temporary file becomes
 *   an ordinary one, and removing it changes nothing;
 * - renaming the holder back, unchanged, just shows the object again;
 *   changed, stores its content as an update;
 * - renaming the holder to another object name renames the object in the
 *   store (and stores the content if it changed);
 * - removing the holder, or replacing it by a rename, removes the object
 *   in the store (audited): the user did move it away and delete it;
 * - at unmount, or if the daemon dies, nothing was committed: the object
 *   shows again with its last committed body. Temporary files vanish at
 *   unmount, and losing a committed body to an interrupted save is the one
 *   thing this filesystem must never do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "mount.h"
#include "names-int.h"
#include "object-int.h"

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The store handle of this thread with @a as the actor of its changes. */
static ags_store *store_as(struct mount *m, const struct actor *a)
{
	ags_store *s = mount_writer(m);

	if (s && actor_apply(s, a) < 0)
		return NULL;
	return s;
}

/* Log a store failure that is not the user's everyday ENOENT/EEXIST. */
static int store_failed(struct mount *m, ags_store *s, int r)
{
	if (r != -ENOENT && r != -EEXIST && r != -ENOTEMPTY)
		mount_log(m, r == -EINVAL ? LOG_NOTICE : LOG_ERR, "%s",
			  ags_errmsg(s));
	return r;
}

static int refuse(struct mount *m, const char *fmt, const char *a,
		  const char *b)
{
	mount_log(m, LOG_NOTICE, fmt, a, b);
	return -EPERM;
}

static int copy_name(struct mount *m, struct node *n, struct sbuf *out)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = sbuf_adds(out, n->name);
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* Is @dir still the collection of that name in the store? */
static int check_collection(ags_store *s, struct node *dir, const char *coll)
{
	struct ags_collection c;
	int r = ags_collection_get(s, coll, &c);

	if (r == 0 && c.number != dir->number)
		r = -ENOENT;
	return r;
}

/* ---- create, mknod ----------------------------------------------------- */

/* Find or make the file @name in @dir for create/mknod: an existing one is
 * opened (unless O_EXCL), a new one is a temporary file until its first
 * valid JSON is committed. Returns a referenced node. */
static int create_file(struct mount *m, const struct actor *a, struct node *dir,
		       const char *name, mode_t mode, int flags,
		       struct node **out)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct node *n = NULL;
	struct ags_object obj;
	struct entry *e;
	bool hidden = false;
	int64_t cnum = 0;
	ags_store *s;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	e = entry_find(m, dir, name);
	if (e && e->temp) {
		if (flags & O_EXCL)
			r = -EEXIST;
		else
			n = node_ref(e->temp);
	}
	hidden = e && e->holder;
	if (dir->gone)
		r = -ENOENT;
	if (r == 0)
		r = sbuf_adds(&coll, dir->name);
	pthread_mutex_unlock(&m->lock);
	if (r < 0 || n)
		goto done;

	s = store_as(m, a);
	if (!s) {
		r = -EIO;
		goto done;
	}
	if (!hidden && name_decode_file(&id, name) == 0) {
		/* One query: is the collection still this one, and is
		 * there an object of that name (another process may have
		 * made one since the kernel looked)? */
		r = ags_object_peek(s, coll.buf, id.buf, 0, &cnum, &obj);
		if ((r == 0 || r == -ENOENT) && cnum != dir->number) {
			r = -ENOENT; /* the collection is gone or replaced */
		} else if (r == 0 && (flags & O_EXCL)) {
			r = -EEXIST;
		} else if (r == 0) {
			pthread_mutex_lock(&m->lock);
			n = node_of_object(m, dir, name, obj.number,
					   obj.ctime_ns);
			if (n)
				node_ref(n);
			pthread_mutex_unlock(&m->lock);
			if (!n)
				r = -ENOMEM;
			goto done;
		} else if (r == -ENOENT) {
			r = 0;
		}
	} else {
		r = check_collection(s, dir, coll.buf);
	}
	if (r < 0)
		goto done;
	pthread_mutex_lock(&m->lock);
	n = node_new_temp(m, dir, name);
	if (n) {
		node_ref(n);
		n->attr.mode = mode & 07777;
		n->attr.uid = a->uid;
		n->attr.gid = a->gid;
		n->attr.mtime_ns = n->attr.ctime_ns = now_ns();
		/* The creator's mode and owner carry over to the object, where
		 * they differ from the store's defaults. */
		n->attr.set = AGS_ATTR_MODE | AGS_ATTR_UID | AGS_ATTR_GID;
		n->content.writer = *a;
	}
	pthread_mutex_unlock(&m->lock);
	if (!n)
		r = -ENOMEM;
done: /* O_TRUNC: handle_new() */
	if (r < 0 && n) {
		node_put(m, n);
		n = NULL;
	}
	if (r == 0)
		*out = n;
	sbuf_release(&coll);
	sbuf_release(&id);
	return r;
}

/* Where a new file may go: only in a collection. */
static int file_dir_ok(struct mount *m, struct node *dir, const char *name)
{
	switch (dir->kind) {
	case NODE_COLLECTION:
		return 0;
	case NODE_ROOT:
		return refuse(m,
			      "refused to create file '%s'%s at the top level: "
			      "only collections (directories) live there",
			      name, "");
	case NODE_CTL:
		return refuse(m,
			      "refused to create '%s'%s: .agentstate is "
			      "read-only",
			      name, "");
	default:
		return -ENOTDIR;
	}
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct node *dir, *n = NULL;
	struct fuse_entry_param e;
	struct handle *h = NULL;
	struct actor a;
	int r;

	if (strlen(name) > MOUNT_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	memset(&e, 0, sizeof(e));
	r = file_dir_ok(m, dir, name);
	if (r == 0) {
		pthread_rwlock_wrlock(&m->ns);
		r = create_file(m, &a, dir, name, mode, fi->flags, &n);
		if (r == 0)
			r = node_stat(m, n, &e.attr);
		mount_write_unlock(m);
	}
	if (r == 0) {
		h = handle_new(m, n, fi->flags, &a);
		if (!h)
			r = -ENOMEM;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		e.ino = n->ino;
		e.attr_timeout = attr_timeout(n);
		e.entry_timeout = MOUNT_TIMEOUT;
		fi->fh = (uintptr_t)h;
		fi->keep_cache = 1;
		pthread_mutex_lock(&m->lock);
		n->nlookup++;
		pthread_mutex_unlock(&m->lock);
		if (fuse_reply_create(req, &e, fi) != 0) {
			pthread_mutex_lock(&m->lock);
			node_forget(m, n, 1);
			pthread_mutex_unlock(&m->lock);
			/* The kernel never saw the handle. */
			handle_drop(m, h);
		}
	}
	if (n)
		node_put(m, n);
	node_put(m, dir);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev)
{
	struct mount *m = mount_of(req);
	struct node *dir, *n = NULL;
	struct actor a;
	struct stat st;
	int r;

	(void)rdev;
	if (strlen(name) > MOUNT_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!S_ISREG(mode)) {
		mount_log(m, LOG_NOTICE,
			  "refused to make special file '%s': the store holds "
			  "JSON objects, not devices, FIFOs or sockets",
			  name);
		fuse_reply_err(req, EPERM);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	r = file_dir_ok(m, dir, name);
	if (r == 0) {
		pthread_rwlock_wrlock(&m->ns);
		r = create_file(m, &a, dir, name, mode, O_EXCL, &n);
		if (r == 0)
			r = node_stat(m, n, &st);
		mount_write_unlock(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(m, req, n, &st);
	if (n)
		node_put(m, n);
	node_put(m, dir);
}

/* ---- mkdir, rmdir ------------------------------------------------------- */

static int make_collection(struct mount *m, const struct actor *a,
			   const char *name, mode_t mode, struct node **out,
			   struct stat *st)
{
	struct ags_collection c;
	struct ags_attr at;
	struct node *n;
	ags_store *s = store_as(m, a);
	int r;

	if (!s)
		return -EIO;
	if (strcmp(name, CTL_NAME) == 0)
		return -EEXIST;
	/* One transaction: nobody sees the collection with the default mode
	 * of a mkdir -m, and a failure leaves no collection behind. */
	r = ags_store_begin(s);
	if (r < 0)
		return store_failed(m, s, r);
	r = ags_collection_create(s, name);
	if (r == 0)
		r = ags_collection_get(s, name, &c);
	/* mkdir -m: a mode other than the default is kept too. */
	if (r == 0 && (mode & 07777) != c.attr.mode) {
		at = c.attr;
		at.mode = mode & 07777;
		r = ags_collection_set_attr(s, name, &at, AGS_ATTR_MODE);
		if (r == 0)
			r = ags_collection_get(s, name, &c);
	}
	if (r < 0) {
		store_failed(m, s, r); /* before the rollback's message */
		ags_store_rollback(s);
		return r;
	}
	r = ags_store_commit(s);
	if (r < 0)
		return store_failed(m, s, r);
	pthread_mutex_lock(&m->lock);
	n = node_of_collection(m, c.name, c.number, c.ctime_ns);
	if (n)
		node_ref(n);
	pthread_mutex_unlock(&m->lock);
	if (!n)
		return -ENOMEM;
	*out = n;
	return node_stat(m, n, st);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct mount *m = mount_of(req);
	struct node *dir, *n = NULL;
	struct actor a;
	struct stat st;
	int r;

	if (strlen(name) > MOUNT_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	switch (dir->kind) {
	case NODE_ROOT:
		pthread_rwlock_wrlock(&m->ns);
		r = make_collection(m, &a, name, mode, &n, &st);
		mount_write_unlock(m);
		break;
	case NODE_COLLECTION: {
		struct sbuf coll = SBUF_INIT;

		copy_name(m, dir, &coll);
		r = refuse(m,
			   "refused to create directory '%s/%s': a collection "
			   "holds objects and temporary files, not directories",
			   coll.buf, name);
		sbuf_release(&coll);
		break;
	}
	case NODE_CTL:
		r = refuse(m,
			   "refused to create '%s%s': .agentstate is "
			   "read-only",
			   name, "");
		break;
	default:
		r = -ENOTDIR;
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(m, req, n, &st);
	if (n)
		node_put(m, n);
	node_put(m, dir);
}

static int drop_collection(struct mount *m, const struct actor *a,
			   const char *name)
{
	struct ags_collection c;
	struct node *n;
	bool busy = false;
	ags_store *s = store_as(m, a);
	int r;

	if (!s)
		return -EIO;
	r = ags_collection_get(s, name, &c);
	if (r < 0)
		return r;
	pthread_mutex_lock(&m->lock);
	n = node_by_number(m, c.number);
	if (n && n->kind == NODE_COLLECTION)
		busy = entries_any(m, n);
	pthread_mutex_unlock(&m->lock);
	/* Temporary files are entries like any other. */
	if (busy)
		return -ENOTEMPTY;
	r = ags_collection_drop(s, name, false);
	if (r < 0)
		return store_failed(m, s, r);
	pthread_mutex_lock(&m->lock);
	n = node_by_number(m, c.number);
	if (n && n->kind == NODE_COLLECTION)
		node_set_gone(m, n);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct node *dir;
	struct actor a;
	int r;

	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	if (dir->kind == NODE_ROOT && strcmp(name, CTL_NAME) != 0) {
		pthread_rwlock_wrlock(&m->ns);
		r = drop_collection(m, &a, name);
		mount_write_unlock(m);
	} else if (dir->kind == NODE_COLLECTION) {
		r = -ENOTDIR; /* only files live in a collection */
	} else {
		r = -EPERM; /* .agentstate and what is in it stay */
	}
	fuse_reply_err(req, -r);
	node_put(m, dir);
}

/* ---- unlink ---------------------------------------------------------------- */

/* Remove from the store the object a temporary file holds, as the holder
 * is removed or replaced: if it is still that object. */
static int remove_held(struct mount *m, ags_store *s, struct node *t)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct ags_object obj;
	int64_t number;
	int r;

	pthread_mutex_lock(&m->lock);
	number = t->hold->number;
	r = sbuf_adds(&coll, t->hold->dir->name);
	if (r == 0)
		r = name_decode_file(&id, t->hold->name);
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		r = ags_object_get(s, coll.buf, id.buf, 0, false, &obj);
	if (r == 0 && obj.number == number)
		r = ags_object_remove(s, coll.buf, id.buf, AGS_VERSION_ANY);
	if (r < 0 && r != -ENOENT)
		store_failed(m, s, r);
	sbuf_release(&coll);
	sbuf_release(&id);
	return r == -ENOENT || (r == 0 && obj.number != number) ? 0 : r;
}

/* Remove @coll/@id inside the open batch of @s; set @ret_number to its
 * number. */
static int remove_object(struct mount *m, ags_store *s, const char *coll,
			 const char *id, int64_t *ret_number)
{
	struct node *n;
	int64_t number;
	int r;

	r = ags_object_remove_number(s, &number, coll, id, AGS_VERSION_ANY);
	if (r < 0)
		return r;
	/* Open files keep reading what they had: read on this thread's own
	 * handle, which sees the store as last committed, the object still
	 * in it, until the batch is. */
	pthread_mutex_lock(&m->lock);
	n = node_by_number(m, number);
	if (n && n->kind == NODE_OBJECT && n->opens)
		node_ref(n);
	else
		n = NULL;
	pthread_mutex_unlock(&m->lock);
	if (n) {
		content_load(m, n);
		node_put(m, n);
	}
	*ret_number = number;
	return 0;
}

static int unlink_file(struct mount *m, const struct actor *a, struct node *dir,
		       const char *name)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct node *t = NULL, *n;
	int64_t number = 0;
	struct entry *e;
	ags_store *s = store_as(m, a);
	int r = 0;

	if (!s)
		return -EIO;
	pthread_mutex_lock(&m->lock);
	e = entry_find(m, dir, name);
	if (e && e->temp)
		t = node_ref(e->temp);
	else if (e)
		r = -ENOENT; /* hidden */
	else
		r = sbuf_adds(&coll, dir->name);
	pthread_mutex_unlock(&m->lock);

	if (t) {
		if (t->hold)
			r = remove_held(m, s, t);
		pthread_mutex_lock(&m->lock);
		if (r == 0)
			node_unlink_temp(m, t);
		node_unref(m, t);
		pthread_mutex_unlock(&m->lock);
		return r;
	}
	if (r == 0 && name_decode_file(&id, name) < 0)
		r = -ENOENT;
	/* In a batch, so that open files can still read the object once its
	 * removal tells its number. */
	if (r == 0) {
		r = ags_store_begin(s);
		if (r == 0) {
			r = remove_object(m, s, coll.buf, id.buf, &number);
			if (r == 0)
				r = ags_store_commit(s); /* ends the batch */
			else
				ags_store_rollback(s);
		}
	}
	if (r < 0)
		store_failed(m, s, r);
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		n = node_by_number(m, number);
		if (n && n->kind == NODE_OBJECT)
			node_set_gone(m, n);
		pthread_mutex_unlock(&m->lock);
	}
	sbuf_release(&coll);
	sbuf_release(&id);
	return r;
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct node *dir;
	struct actor a;
	int r;

	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	dir = node_get(m, parent);
	if (!dir) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	actor_from_req(&a, req);
	switch (dir->kind) {
	case NODE_COLLECTION:
		pthread_rwlock_wrlock(&m->ns);
		r = unlink_file(m, &a, dir, name);
		mount_write_unlock(m);
		break;
	case NODE_ROOT:
		r = strcmp(name, CTL_NAME) == 0 ? -EPERM : -EISDIR;
		break;
	default:
		r = -EPERM;
	}
	fuse_reply_err(req, -r);
	node_put(m, dir);
}

/* ---- rename ------------------------------------------------------------------ */

/* One end of a rename inside collections. */
struct side {
	struct node *dir; /* the collection */
	const char *name;
	struct sbuf coll; /* its name */
	struct sbuf id;	  /* the id, when name is an object name */
	bool object_name;
	struct node *temp;    /* the temporary file of that name (referenced) */
	struct node *holder;  /* holds a hidden object of that name */
	bool stored;	      /* a visible stored object has that name */
	int64_t number;	      /* its number */
	int64_t born_ns;      /* creation time */
	struct ags_attr attr; /* and attributes */
};

static int side_resolve(struct mount *m, ags_store *s, struct side *sd)
{
	struct ags_object obj;
	struct entry *e;
	int r;

	pthread_mutex_lock(&m->lock);
	e = entry_find(m, sd->dir, sd->name);
	if (e && e->temp)
		sd->temp = node_ref(e->temp);
	if (e)
		sd->holder = e->holder;
	r = sbuf_adds(&sd->coll, sd->dir->name);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		return r;
	sd->object_name = name_decode_file(&sd->id, sd->name) == 0;
	if (sd->temp || sd->holder || !sd->object_name)
		return 0;
	r = ags_object_get(s, sd->coll.buf, sd->id.buf, 0, false, &obj);
	if (r == 0) {
		sd->stored = true;
		sd->number = obj.number;
		sd->born_ns = obj.ctime_ns;
		sd->attr = obj.attr;
	}
	return r == -ENOENT ? 0 : r;
}

static void side_release(struct mount *m, struct side *sd)
{
	if (sd->temp)
		node_put(m, sd->temp);
	sbuf_release(&sd->coll);
	sbuf_release(&sd->id);
}

/* Drop the file a rename replaces at @dst; the store change is done. */
static void replace_dst(struct mount *m, struct side *dst, struct node *keep)
{
	struct node *old;

	if (dst->temp && dst->temp != keep)
		node_unlink_temp(m, dst->temp);
	if (dst->holder && dst->holder != keep)
		node_drop_hold(m, dst->holder);
	if (dst->stored) {
		old = node_by_number(m, dst->number);
		if (old && old != keep && old->kind == NODE_OBJECT)
			node_set_gone(m, old);
	}
}

/* An object moves to another object name: one rename in the store. */
static int move_object(struct mount *m, ags_store *s, struct side *src,
		       struct side *dst)
{
	struct node *n;
	int r;

	/* A hidden object under the target name is replaced as well: the
	 * user sees no file there, so RENAME_NOREPLACE was checked above. */
	r = ags_object_rename(s, src->coll.buf, src->id.buf, dst->coll.buf,
			      dst->id.buf, 0);
	if (r < 0)
		return store_failed(m, s, r);
	pthread_mutex_lock(&m->lock);
	replace_dst(m, dst, NULL);
	n = node_by_number(m, src->number);
	if (n && n->kind == NODE_OBJECT &&
	    node_rename(m, n, dst->dir, dst->name) < 0)
		node_set_gone(m, n); /* looked up again by name */
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* An object moves to a temporary name: the editor rule (top of file). Its
 * node becomes the temporary file, with a number of its own: @ret_ino is
 * set to the node, whose attributes the kernel must drop. */
static int hide_object(struct mount *m, ags_store *s, struct side *src,
		       struct side *dst, uint64_t *ret_ino)
{
	struct hold *h = NULL;
	struct node *n;
	int r;

	if (dst->temp && dst->temp->hold) {
		r = remove_held(m, s, dst->temp);
		if (r < 0)
			return r;
	}
	pthread_mutex_lock(&m->lock);
	n = node_of_known_object(m, src->dir, src->name, src->number,
				 src->born_ns);
	if (n) {
		node_ref(n);
		/* The copy is the object as the store holds it. */
		kept_drop_for_writer(m, n);
	}
	pthread_mutex_unlock(&m->lock);
	if (!n)
		return -ENOMEM;
	r = content_load(m, n);
	if (r == 0) {
		h = calloc(1, sizeof(*h));
		if (h)
			h->name = strdup(src->name);
		if (!h || !h->name)
			r = -ENOMEM;
	}
	pthread_mutex_lock(&m->lock);
	if (r == 0)
		r = entry_hide(m, src->dir, src->name, n);
	if (r == 0) {
		if (dst->temp)
			node_unlink_temp(m, dst->temp);
		r = node_object_to_temp(m, n, dst->dir, dst->name);
		if (r < 0)
			entry_unhide(m, src->dir, src->name);
	}
	if (r == 0) {
		h->dir = node_ref(src->dir);
		h->number = src->number;
		/* Bytes written and not yet committed are a change. */
		h->modified = n->content.dirty;
		n->hold = h;
		h = NULL;
		n->attr = (struct mattr){ .mode = src->attr.mode,
					  .uid = src->attr.uid,
					  .gid = src->attr.gid,
					  .mtime_ns = src->attr.mtime_ns,
					  .ctime_ns = now_ns() };
		*ret_ino = n->ino;
	}
	node_unref(m, n);
	pthread_mutex_unlock(&m->lock);
	if (h)
		free(h->name);
	free(h);
	return r;
}

/* What a temporary file holds, copied for a commit. */
struct temp_state {
	struct sbuf body;
	struct actor writer;
	struct mattr attr;
	uint64_t gen;
	bool written; /* ever written or cut */
	bool held;
	bool modified;
	struct node *hdir; /* the holder's hidden object */
	struct sbuf hcoll, hname, hid;
	int64_t hnumber;
};

static int temp_state_take(struct mount *m, struct node *t,
			   const struct actor *caller, struct temp_state *ts)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = sbuf_add(&ts->body, t->content.data.data, t->content.data.len);
	ts->writer = t->content.writer.pid ? t->content.writer : *caller;
	ts->attr = t->attr;
	ts->gen = t->content.gen;
	ts->written = t->content.dirty || t->content.data.len;
	ts->held = t->hold != NULL;
	if (ts->held) {
		ts->modified = t->hold->modified;
		ts->hdir = t->hold->dir;
		ts->hnumber = t->hold->number;
		if (r == 0)
			r = sbuf_adds(&ts->hcoll, t->hold->dir->name);
		if (r == 0)
			r = sbuf_adds(&ts->hname, t->hold->name);
		if (r == 0)
			r = name_decode_file(&ts->hid, t->hold->name);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static void temp_state_release(struct temp_state *ts)
{
	sbuf_release(&ts->body);
	sbuf_release(&ts->hcoll);
	sbuf_release(&ts->hname);
	sbuf_release(&ts->hid);
}

/* Is the object a temporary file holds still in the store, as it was? */
static bool held_exists(ags_store *s, const struct temp_state *ts)
{
	struct ags_object obj;

	return ags_object_get(s, ts->hcoll.buf, ts->hid.buf, 0, false, &obj) ==
		       0 &&
	       obj.number == ts->hnumber;
}

/* The temporary file @t is now the object @number under @dst's name, its
 * content what the store holds: bytes just @stored, or the copy of a
 * hidden object, which another process may have changed since. */
static int temp_becomes(struct mount *m, ags_store *s, struct node *t,
			struct side *dst, int64_t number, uint64_t gen,
			bool stored)
{
	int64_t born_ns = object_born_ns(s, number);
	int r;

	pthread_mutex_lock(&m->lock);
	replace_dst(m, dst, t);
	r = node_temp_to_object(m, t, dst->dir, dst->name, number, born_ns);
	if (r == 0 && t->content.gen == gen) {
		t->content.dirty = false;
		t->content.written = false;
		t->content.matches_store = stored;
		/* The copy taken when the object was hidden: while hidden,
		 * its changes by other processes reached no node. Read it
		 * again, as the watcher would have, and have the kernel drop
		 * its pages at the next open. */
		if (!stored) {
			content_drop(m, t);
			node_pages_stale(m, t);
		}
	}
	t->attr.set = 0;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* A temporary file moves onto an object name: its content is stored as
 * that object (an update when one exists), validated first. */
static int commit_temp(struct mount *m, ags_store *s, const struct actor *a,
		       struct side *src, struct side *dst)
{
	struct temp_state ts = { .body = SBUF_INIT,
				 .hcoll = SBUF_INIT,
				 .hname = SBUF_INIT,
				 .hid = SBUF_INIT };
	struct sbuf why = SBUF_INIT;
	struct node *t = src->temp;
	/* Only a restore moves it while this holds ns (mount-watch.c). */
	uint64_t gen = recent_gen(&m->recent);
	struct put_result made;
	bool same;
	int r;

	r = temp_state_take(m, t, a, &ts);
	if (r < 0)
		goto done;
	same = ts.held && ts.hdir == dst->dir &&
	       strcmp(ts.hname.buf, dst->name) == 0;
	if (ts.held && !ts.modified && held_exists(s, &ts)) {
		/* Unchanged: back to its own name is no change at all,
		 * onto another name a rename in the store. */
		if (!same) {
			r = ags_object_rename(s, ts.hcoll.buf, ts.hid.buf,
					      dst->coll.buf, dst->id.buf, 0);
			if (r < 0) {
				store_failed(m, s, r);
				goto done;
			}
		}
		r = temp_becomes(m, s, t, dst, ts.hnumber, ts.gen, false);
		goto done;
	}
	if (!ts.held && !ts.written && !dst->stored) {
		/* A new file that never held anything stays one. Over the
		 * name of an object hidden by a rename it is that name's new
		 * file, as one created there is: the object stays hidden
		 * and held, and its holder's removal still removes it. */
		pthread_mutex_lock(&m->lock);
		if (dst->temp && dst->temp != t)
			node_unlink_temp(m, dst->temp);
		r = node_rename(m, t, dst->dir, dst->name);
		pthread_mutex_unlock(&m->lock);
		goto done;
	}
	r = body_check(m, dst->coll.buf, dst->name, ts.body.buf, ts.body.len,
		       &why);
	if (r < 0) {
		/* Refused to the process whose rename failed. */
		refusal_record(m, s, a,
			       dst->stored || dst->holder ? "update" : "create",
			       dst->coll.buf, dst->id.buf, ts.body.len,
			       why.buf);
		goto done;
	}
	/* The content's writer made this version, as a close would. */
	r = actor_apply(s, &ts.writer);
	if (r == 0)
		r = ags_store_begin(s);
	if (r < 0)
		goto done;
	if (ts.held && !same && held_exists(s, &ts))
		r = ags_object_rename(s, ts.hcoll.buf, ts.hid.buf,
				      dst->coll.buf, dst->id.buf, 0);
	if (r == 0)
		r = object_put_checked(s, &made, dst->coll.buf, dst->id.buf,
				       ts.body.buf, ts.body.len,
				       AGS_VERSION_ANY);
	if (r == 0)
		r = attrs_apply(s, dst->coll.buf, dst->id.buf, &ts.attr,
				&made.attr);
	if (r == 0) {
		r = ags_store_commit(s); /* ends the batch, even failing */
		if (r < 0)
			sbuf_adds(&why, ags_errmsg(s));
	} else {
		sbuf_adds(&why, ags_errmsg(s));
		ags_store_rollback(s);
	}
	if (r < 0) {
		/* A refusal is recorded once the batch is rolled back: in it,
		 * its audit row would be rolled back too. */
		if (r == -EINVAL || r == -EFBIG)
			refusal_record(m, s, a,
				       dst->stored || dst->holder ? "update"
								  : "create",
				       dst->coll.buf, dst->id.buf, ts.body.len,
				       why.buf);
		else if (r != -ENOENT && r != -EEXIST)
			mount_log(m, LOG_ERR, "%s", why.buf);
		goto done;
	}
	r = temp_becomes(m, s, t, dst, made.number, ts.gen,
			 recent_gen(&m->recent) == gen);
done:
	temp_state_release(&ts);
	sbuf_release(&why);
	return r;
}

/* A temporary file moves to another temporary name: memory only. */
static int move_temp(struct mount *m, ags_store *s, struct side *src,
		     struct side *dst)
{
	int r = 0;

	if (dst->temp && dst->temp->hold)
		r = remove_held(m, s, dst->temp);
	if (r < 0)
		return r;
	pthread_mutex_lock(&m->lock);
	if (dst->temp)
		node_unlink_temp(m, dst->temp);
	r = node_rename(m, src->temp, dst->dir, dst->name);
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* RENAME_EXCHANGE: two objects swap bodies in one transaction (each keeps
 * its name and history); two temporary files swap names. */
static int exchange(struct mount *m, ags_store *s, struct side *src,
		    struct side *dst)
{
	const char *holder;
	struct node *a, *b;
	int r;

	if (src->stored && dst->stored) {
		r = ags_object_rename(s, src->coll.buf, src->id.buf,
				      dst->coll.buf, dst->id.buf,
				      AGS_RENAME_EXCHANGE);
		if (r < 0)
			return store_failed(m, s, r);
		/* The kernel swapped its entries: each node now stands for
		 * the other name, whose object holds the body it showed. */
		pthread_mutex_lock(&m->lock);
		/* Both, even one let go while idle: the kernel holds both
		 * ids and now shows each under the other name. */
		a = node_of_known_object(m, src->dir, src->name, src->number,
					 src->born_ns);
		b = node_of_known_object(m, dst->dir, dst->name, dst->number,
					 dst->born_ns);
		if (a && b) {
			node_swap_objects(m, a, b);
			/* The store swapped what it held: were either's bytes
			 * behind a change the watcher has yet to see, they
			 * are now the other object's; not kept. */
			a->content.matches_store = false;
			b->content.matches_store = false;
		} else if (a)
			node_set_gone(m, a);
		else if (b)
			node_set_gone(m, b);
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	if (src->temp && dst->temp) {
		pthread_mutex_lock(&m->lock);
		holder = src->temp->hold   ? src->name
			 : dst->temp->hold ? dst->name
					   : NULL;
		if (!holder)
			node_swap_temps(m, src->temp, dst->temp);
		pthread_mutex_unlock(&m->lock);
		if (!holder)
			return 0;
		/* The name it holds an object under would stay behind. */
		mount_log(m, LOG_NOTICE,
			  "refused to exchange %s/%s with %s/%s: %s stands "
			  "for an object hidden by a rename (an editor's "
			  "backup); rename it back, or rename or remove it "
			  "alone",
			  src->coll.buf, src->name, dst->coll.buf, dst->name,
			  holder);
		return -EINVAL;
	}
	if (!dst->temp && !dst->stored)
		return -ENOENT;
	mount_log(m, LOG_NOTICE,
		  "refused to exchange %s/%s with %s/%s: an object and a "
		  "temporary file cannot swap",
		  src->coll.buf, src->name, dst->coll.buf, dst->name);
	return -EINVAL;
}

/* @ret_ino: set to a node whose attributes the kernel must drop once no
 * lock is held, or left 0. */
static int rename_files(struct mount *m, const struct actor *a,
			struct node *sdir, const char *sname, struct node *ddir,
			const char *dname, unsigned flags, uint64_t *ret_ino)
{
	struct side src = {
		.dir = sdir, .name = sname, .coll = SBUF_INIT, .id = SBUF_INIT
	};
	struct side dst = {
		.dir = ddir, .name = dname, .coll = SBUF_INIT, .id = SBUF_INIT
	};
	ags_store *s = store_as(m, a);
	int r;

	if (!s)
		return -EIO;
	r = side_resolve(m, s, &src);
	if (r == 0)
		r = side_resolve(m, s, &dst);
	if (r < 0)
		goto done;
	if (!src.temp && !src.stored)
		r = -ENOENT;
	else if (sdir == ddir && strcmp(sname, dname) == 0)
		r = 0;
	else if ((flags & RENAME_NOREPLACE) && (dst.temp || dst.stored))
		r = -EEXIST;
	else if (flags & RENAME_EXCHANGE)
		r = exchange(m, s, &src, &dst);
	else if (src.stored)
		r = dst.object_name ? move_object(m, s, &src, &dst)
				    : hide_object(m, s, &src, &dst, ret_ino);
	else
		r = dst.object_name ? commit_temp(m, s, a, &src, &dst)
				    : move_temp(m, s, &src, &dst);
done:
	side_release(m, &src);
	side_release(m, &dst);
	return r;
}

/* A collection renamed with all its objects; onto an empty collection it
 * replaces it, as rename(2) does for an empty directory. */
static int rename_collection(struct mount *m, const struct actor *a,
			     const char *from, const char *to, unsigned flags)
{
	struct ags_collection src, dst = { 0 };
	struct node *n;
	bool busy = false, replaced = false;
	ags_store *s = store_as(m, a);
	int r;

	if (!s)
		return -EIO;
	if (strcmp(from, CTL_NAME) == 0 || strcmp(to, CTL_NAME) == 0)
		return refuse(m,
			      "refused to rename '%s' to '%s': .agentstate "
			      "is fixed",
			      from, to);
	if (flags & RENAME_EXCHANGE) {
		mount_log(m, LOG_NOTICE,
			  "refused to exchange collections '%s' and '%s': "
			  "rename one at a time",
			  from, to);
		return -EINVAL;
	}
	r = ags_collection_get(s, from, &src);
	if (r < 0)
		return r;
	if (strcmp(from, to) == 0)
		return 0;
	r = ags_collection_get(s, to, &dst);
	if (r == 0) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		pthread_mutex_lock(&m->lock);
		n = node_by_number(m, dst.number);
		busy = n && entries_any(m, n);
		pthread_mutex_unlock(&m->lock);
		if (busy || dst.count > 0)
			return -ENOTEMPTY;
		r = ags_store_begin(s);
		if (r == 0)
			r = ags_collection_drop(s, to, false);
		if (r == 0)
			r = ags_collection_rename(s, from, to);
		if (r == 0)
			r = ags_store_commit(s);
		else
			ags_store_rollback(s);
		replaced = r == 0;
	} else if (r == -ENOENT) {
		r = ags_collection_rename(s, from, to);
	}
	if (r < 0)
		return store_failed(m, s, r);
	pthread_mutex_lock(&m->lock);
	/* The empty collection replaced, if there was one. */
	n = replaced ? node_by_number(m, dst.number) : NULL;
	if (n && n->kind == NODE_COLLECTION && dst.number != src.number)
		node_set_gone(m, n);
	n = node_by_number(m, src.number);
	if (n && n->kind == NODE_COLLECTION &&
	    node_rename(m, n, &m->nodes.root, to) < 0)
		node_set_gone(m, n);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct mount *m = mount_of(req);
	struct sbuf from = SBUF_INIT;
	struct node *sdir, *ddir;
	uint64_t inval = 0;
	struct actor a;
	int r;

	if (m->read_only) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (strlen(name) > MOUNT_NAME_MAX || strlen(newname) > MOUNT_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	sdir = node_get(m, parent);
	ddir = node_get(m, newparent);
	actor_from_req(&a, req);
	if (!sdir || !ddir) {
		r = -ESTALE;
	} else if (sdir->kind == NODE_COLLECTION &&
		   ddir->kind == NODE_COLLECTION) {
		pthread_rwlock_wrlock(&m->ns);
		r = rename_files(m, &a, sdir, name, ddir, newname, flags,
				 &inval);
		mount_write_unlock(m);
		/* Before the answer: a stat right after the rename must see
		 * the temporary file's number, not the object's the kernel
		 * keeps for a second. Dropping attributes takes no lock the
		 * rename holds. */
		if (inval)
			fuse_lowlevel_notify_inval_inode(m->se, inval, -1, 0);
	} else if (sdir->kind == NODE_ROOT && ddir->kind == NODE_ROOT) {
		pthread_rwlock_wrlock(&m->ns);
		r = rename_collection(m, &a, name, newname, flags);
		mount_write_unlock(m);
	} else if (sdir->kind == NODE_COLLECTION && ddir->kind == NODE_ROOT) {
		r = copy_name(m, sdir, &from);
		r = refuse(m,
			   "refused to move '%s/%s' to the top level: only "
			   "collections (directories) live there",
			   r == 0 ? from.buf : "?", name);
	} else if (sdir->kind == NODE_ROOT && ddir->kind == NODE_COLLECTION) {
		r = copy_name(m, ddir, &from);
		r = refuse(m,
			   "refused to move '%s' into collection '%s': a "
			   "collection holds no directories",
			   name, r == 0 ? from.buf : "?");
	} else {
		r = refuse(m,
			   "refused to rename '%s' to '%s': .agentstate is "
			   "read-only",
			   name, newname);
	}
	fuse_reply_err(req, -r);
	sbuf_release(&from);
	if (sdir)
		node_put(m, sdir);
	if (ddir)
		node_put(m, ddir);
}
