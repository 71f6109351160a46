/* memfs.c: the floor of the mount benchmark: a filesystem held in memory,
 * served by libfuse's low-level API with the agentstate daemon's settings,
 * so that what bench-mount times on it is what FUSE itself costs.
 *
 * usage: bench-mount-memfs MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]
 *
 * Copied from fs/mount.c and fs/mount-ops.c are the settings, not the code:
 * FUSE_USE_VERSION 35; the session, its signal handlers, and the
 * multi-threaded loop without clone_fd and with 10 idle threads kept; the
 * init answer (atomic O_TRUNC, no write-back cache, automatic invalidation
 * of data, 1 ns time granularity); entries and attributes trusted for
 * MOUNT_TIMEOUT (the daemon's timeouts for objects and collections; it
 * answers 0 for its temporary files, which have no counterpart here);
 * keep_cache on every open and create; readdirplus beside readdir; a
 * missing name answered with ENOENT (no negative entries); flush, fsync
 * and statfs answered. The work behind each request is the least a
 * filesystem can do: one mutex, a node table indexed by node id, one hash
 * of names, and file contents in malloc()ed buffers. */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* As fs/mount.h and fs/mount.c. */
#define MOUNT_TIMEOUT 1.0
#define MOUNT_IDLE_THREADS 10

struct inode {
	uint64_t ino;	      /* the FUSE node id, and st_ino */
	struct inode *parent; /* NULL once unlinked (the root: itself) */
	char *name;	      /* in the parent */
	mode_t mode;	      /* type and permission bits */
	uid_t uid;
	gid_t gid;
	struct timespec mtime; /* also the atime */
	struct timespec ctime;
	uint64_t nlookup; /* the kernel's references */
	unsigned opens;	  /* open files and directories */
	/* a regular file */
	char *data;
	size_t size, alloc;
	/* a directory: children in creation order; a removed child leaves
	 * a NULL slot until no listing is open, so offsets stay valid */
	struct inode **kids;
	size_t nkids, akids, ndead;
	size_t slot;	     /* index in parent->kids */
	struct inode *hnext; /* chain in the name hash */
};

struct memfs {
	pthread_mutex_t lock;
	struct inode **by_ino; /* indexed by node id; ids are not reused */
	size_t nino, aino;
	struct inode **names; /* hash of (parent, name) */
	size_t nbuckets, nnames;
	uid_t uid;
	gid_t gid;
};

static struct memfs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct timespec now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* ---- the tables (lock held) --------------------------------------------- */

static size_t name_hash(uint64_t parent, const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ parent;

	while (*name)
		h = (h ^ (unsigned char)*name++) * UINT64_C(0x100000001b3);
	return (size_t)(h ^ (h >> 29));
}

static void names_grow(struct memfs *fs)
{
	size_t nb = fs->nbuckets * 2, i, h;
	struct inode **t, *p, *next;

	t = calloc(nb, sizeof(*t));
	if (!t)
		return; /* longer chains, still correct */
	for (i = 0; i < fs->nbuckets; i++) {
		for (p = fs->names[i]; p; p = next) {
			next = p->hnext;
			h = name_hash(p->parent->ino, p->name) & (nb - 1);
			p->hnext = t[h];
			t[h] = p;
		}
	}
	free(fs->names);
	fs->names = t;
	fs->nbuckets = nb;
}

static struct inode *name_find(struct memfs *fs, struct inode *dir,
			       const char *name)
{
	struct inode *p;

	p = fs->names[name_hash(dir->ino, name) & (fs->nbuckets - 1)];
	for (; p; p = p->hnext)
		if (p->parent == dir && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void name_del(struct memfs *fs, struct inode *n)
{
	struct inode **pp;

	pp = &fs->names[name_hash(n->parent->ino, n->name) &
			(fs->nbuckets - 1)];
	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	n->hnext = NULL;
	fs->nnames--;
}

/* Drop the NULL slots of @dir while no listing of it is open. */
static void kids_compact(struct inode *dir)
{
	size_t i, j = 0;

	if (dir->opens || dir->ndead < 64 || dir->ndead * 2 < dir->nkids)
		return;
	for (i = 0; i < dir->nkids; i++) {
		if (!dir->kids[i])
			continue;
		dir->kids[j] = dir->kids[i];
		dir->kids[j]->slot = j;
		j++;
	}
	dir->nkids = j;
	dir->ndead = 0;
}

/* Name @n @name in @dir. @return 0 or -ENOMEM (then nothing changed). */
static int link_in(struct memfs *fs, struct inode *dir, struct inode *n,
		   const char *name)
{
	char *copy = strdup(name);
	size_t h;

	if (!copy)
		return -ENOMEM;
	if (dir->nkids == dir->akids) {
		size_t a = dir->akids ? dir->akids * 2 : 16;
		struct inode **k = realloc(dir->kids, a * sizeof(*k));

		if (!k) {
			free(copy);
			return -ENOMEM;
		}
		dir->kids = k;
		dir->akids = a;
	}
	free(n->name);
	n->name = copy;
	n->parent = dir;
	n->slot = dir->nkids;
	dir->kids[dir->nkids++] = n;
	if (fs->nnames >= fs->nbuckets)
		names_grow(fs);
	h = name_hash(dir->ino, name) & (fs->nbuckets - 1);
	n->hnext = fs->names[h];
	fs->names[h] = n;
	fs->nnames++;
	dir->mtime = dir->ctime = now();
	return 0;
}

static void maybe_free(struct memfs *fs, struct inode *n)
{
	if (n->parent || n->nlookup || n->opens)
		return;
	fs->by_ino[n->ino] = NULL;
	free(n->name);
	free(n->data);
	free(n->kids);
	free(n);
}

/* Take @n out of its directory; it lives on while referenced. */
static void unlink_node(struct memfs *fs, struct inode *n)
{
	struct inode *dir = n->parent;

	name_del(fs, n);
	dir->kids[n->slot] = NULL;
	dir->ndead++;
	kids_compact(dir);
	dir->mtime = dir->ctime = now();
	n->parent = NULL;
	n->ctime = now();
	maybe_free(fs, n);
}

static struct inode *node_new(struct memfs *fs, mode_t mode, uid_t uid,
			      gid_t gid)
{
	struct inode *n;

	if (fs->nino == fs->aino) {
		size_t a = fs->aino ? fs->aino * 2 : 1024;
		struct inode **t = realloc(fs->by_ino, a * sizeof(*t));

		if (!t)
			return NULL;
		fs->by_ino = t;
		fs->aino = a;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->ino = fs->nino;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->mtime = n->ctime = now();
	fs->by_ino[fs->nino++] = n;
	return n;
}

static struct inode *node_find(struct memfs *fs, fuse_ino_t ino)
{
	return ino < fs->nino ? fs->by_ino[ino] : NULL;
}

static void fill_stat(const struct inode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)n->ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
	st->st_blksize = 4096;
	st->st_mtim = st->st_atim = n->mtime;
	st->st_ctim = n->ctime;
}

/* A new reference for the kernel, and the entry to answer with. */
static void take_entry(struct inode *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	n->nlookup++;
	e->ino = n->ino;
	fill_stat(n, &e->attr);
	e->attr_timeout = MOUNT_TIMEOUT;
	e->entry_timeout = MOUNT_TIMEOUT;
}

static int set_size(struct inode *n, size_t size)
{
	if (size > n->alloc) {
		size_t a = n->alloc ? n->alloc : 256;
		char *d;

		while (a < size)
			a *= 2;
		d = realloc(n->data, a);
		if (!d)
			return -ENOMEM;
		n->data = d;
		n->alloc = a;
	}
	if (size > n->size)
		memset(n->data + n->size, 0, size - n->size);
	n->size = size;
	n->mtime = n->ctime = now();
	return 0;
}

/* ---- requests ------------------------------------------------------------- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	conn->time_gran = 1;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct memfs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct inode *dir, *n = NULL;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	dir = node_find(fs, parent);
	if (!dir)
		r = -ESTALE;
	else if (!S_ISDIR(dir->mode))
		r = -ENOTDIR;
	else if (strcmp(name, ".") == 0)
		n = dir;
	else if (strcmp(name, "..") == 0)
		n = dir->parent ? dir->parent : dir;
	else
		n = name_find(fs, dir, name);
	if (r == 0 && !n)
		r = -ENOENT;
	if (r == 0)
		take_entry(n, &e);
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		fuse_reply_err(req, -r);
	} else if (fuse_reply_entry(req, &e) != 0) {
		pthread_mutex_lock(&fs->lock);
		n->nlookup--;
		maybe_free(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

static void forget_one(struct memfs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct inode *n = node_find(fs, ino);

	if (!n)
		return;
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free(fs, n);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct memfs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	forget_one(fs, ino, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct memfs *fs = fs_of(req);
	size_t i;

	pthread_mutex_lock(&fs->lock);
	for (i = 0; i < count; i++)
		forget_one(fs, forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	struct stat st;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (n)
		fill_stat(n, &st);
	pthread_mutex_unlock(&fs->lock);
	if (!n)
		fuse_reply_err(req, ESTALE);
	else
		fuse_reply_attr(req, &st, MOUNT_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	struct stat st;
	int r = 0;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (!n)
		r = -ESTALE;
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		r = S_ISDIR(n->mode) ? -EISDIR
				     : set_size(n, (size_t)attr->st_size);
	if (r == 0) {
		if (to_set & FUSE_SET_ATTR_MODE)
			n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
		if (to_set & FUSE_SET_ATTR_UID)
			n->uid = attr->st_uid;
		if (to_set & FUSE_SET_ATTR_GID)
			n->gid = attr->st_gid;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			n->mtime = now();
		else if (to_set & FUSE_SET_ATTR_MTIME)
			n->mtime = attr->st_mtim;
		n->ctime = now();
		fill_stat(n, &st);
	}
	pthread_mutex_unlock(&fs->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, MOUNT_TIMEOUT);
}

/* A new node @name in @parent; with @fi, opened too. */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct inode *dir, *n = NULL;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	dir = node_find(fs, parent);
	if (!dir || !dir->parent)
		r = -ENOENT;
	else if (!S_ISDIR(dir->mode))
		r = -ENOTDIR;
	else if ((n = name_find(fs, dir, name)))
		r = fi && !(fi->flags & O_EXCL) ? 0 : -EEXIST;
	if (r == 0 && !n) {
		n = node_new(fs, mode, ctx->uid, ctx->gid);
		if (!n)
			r = -ENOMEM;
		else if ((r = link_in(fs, dir, n, name)) < 0)
			maybe_free(fs, n);
	}
	if (r == 0 && fi && S_ISDIR(n->mode))
		r = -EISDIR;
	if (r == 0 && fi && (fi->flags & O_TRUNC) &&
	    (fi->flags & O_ACCMODE) != O_RDONLY)
		r = set_size(n, 0);
	if (r == 0) {
		take_entry(n, &e);
		if (fi)
			n->opens++;
	}
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fi) {
		fi->fh = n->ino;
		fi->keep_cache = 1;
		r = fuse_reply_create(req, &e, fi);
	} else {
		r = fuse_reply_entry(req, &e);
	}
	if (r != 0) {
		pthread_mutex_lock(&fs->lock);
		n->nlookup--;
		if (fi)
			n->opens--;
		maybe_free(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	make_node(req, parent, name, S_IFREG | (mode & 07777), fi);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)rdev;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	make_node(req, parent, name, mode, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | (mode & 07777), NULL);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			bool dir)
{
	struct memfs *fs = fs_of(req);
	struct inode *d, *n = NULL;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	d = node_find(fs, parent);
	if (d)
		n = name_find(fs, d, name);
	if (!n)
		r = -ENOENT;
	else if (dir && !S_ISDIR(n->mode))
		r = -ENOTDIR;
	else if (!dir && S_ISDIR(n->mode))
		r = -EISDIR;
	else if (dir && n->nkids > n->ndead)
		r = -ENOTEMPTY;
	if (r == 0)
		unlink_node(fs, n);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -r);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, true);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct memfs *fs = fs_of(req);
	struct inode *sd, *dd, *n = NULL, *old = NULL;
	int r = 0;

	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	sd = node_find(fs, parent);
	dd = node_find(fs, newparent);
	if (sd && dd) {
		n = name_find(fs, sd, name);
		old = name_find(fs, dd, newname);
	}
	if (!n)
		r = -ENOENT;
	else if (old == n)
		r = 0;
	else if (old && (flags & RENAME_NOREPLACE))
		r = -EEXIST;
	else if (old && S_ISDIR(old->mode) != S_ISDIR(n->mode))
		r = S_ISDIR(old->mode) ? -EISDIR : -ENOTDIR;
	else if (old && S_ISDIR(old->mode) && old->nkids > old->ndead)
		r = -ENOTEMPTY;
	if (r == 0 && old != n) {
		if (old)
			unlink_node(fs, old);
		name_del(fs, n);
		sd->kids[n->slot] = NULL;
		sd->ndead++;
		r = link_in(fs, dd, n, newname);
		if (r < 0) {
			/* out of memory: the node is lost, as if unlinked */
			n->parent = NULL;
			maybe_free(fs, n);
		} else {
			n->ctime = now();
		}
		kids_compact(sd);
		sd->mtime = sd->ctime = now();
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, -r);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (!n)
		r = -ESTALE;
	else if (S_ISDIR(n->mode))
		r = -EISDIR;
	else if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY)
		r = set_size(n, 0);
	if (r == 0)
		n->opens++;
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = ino;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_lock(&fs->lock);
		n->opens--;
		maybe_free(fs, n);
		pthread_mutex_unlock(&fs->lock);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	size_t got = 0;
	char *buf = malloc(size ? size : 1);

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (n && (size_t)off < n->size) {
		got = n->size - (size_t)off;
		if (got > size)
			got = size;
		memcpy(buf, n->data + off, got);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!n)
		fuse_reply_err(req, ESTALE);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	int r = 0;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (!n)
		r = -ESTALE;
	else if ((size_t)off + size > n->size)
		r = set_size(n, (size_t)off + size);
	if (r == 0) {
		memcpy(n->data + off, buf, size);
		n->mtime = n->ctime = now();
	}
	pthread_mutex_unlock(&fs->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (n) {
		n->opens--;
		if (S_ISDIR(n->mode))
			kids_compact(n);
		maybe_free(fs, n);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct memfs *fs = fs_of(req);
	struct inode *n;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	n = node_find(fs, ino);
	if (!n)
		r = -ESTALE;
	else if (!S_ISDIR(n->mode))
		r = -ENOTDIR;
	else
		n->opens++;
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = ino;
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_lock(&fs->lock);
		n->opens--;
		pthread_mutex_unlock(&fs->lock);
	}
}

/* Offsets: 1 after ".", 2 after "..", 3 + i after the child in slot i. */
static void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus)
{
	struct memfs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct inode *dir, *n;
	size_t pos = 0, need;
	char *buf = malloc(size ? size : 1);
	const char *name;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	dir = node_find(fs, ino);
	for (; dir && off < (off_t)dir->nkids + 2; off++) {
		memset(&e, 0, sizeof(e));
		if (off < 2) {
			n = off == 0 || !dir->parent ? dir : dir->parent;
			name = off == 0 ? "." : "..";
			e.attr.st_ino = (ino_t)n->ino;
			e.attr.st_mode = n->mode;
			n = NULL; /* no reference for "." and ".." */
		} else {
			n = dir->kids[off - 2];
			if (!n)
				continue;
			name = n->name;
			fill_stat(n, &e.attr);
		}
		if (plus) {
			need = fuse_add_direntry_plus(req, NULL, 0, name, NULL,
						      0);
			if (pos + need > size)
				break;
			if (n) {
				take_entry(n, &e);
			}
			fuse_add_direntry_plus(req, buf + pos, size - pos, name,
					       &e, off + 1);
		} else {
			need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
			if (pos + need > size)
				break;
			fuse_add_direntry(req, buf + pos, size - pos, name,
					  &e.attr, off + 1);
		}
		pos += need;
	}
	pthread_mutex_unlock(&fs->lock);
	if (!dir)
		fuse_reply_err(req, ESTALE);
	else
		fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	list(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	list(req, ino, size, off, true);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops memfs_ops = {
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
	.rename = op_rename,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_release,
	.statfs = op_statfs,
	.create = op_create,
};

/* ---- main ------------------------------------------------------------------ */

static int fs_init(struct memfs *fs)
{
	struct inode *root;

	memset(fs, 0, sizeof(*fs));
	pthread_mutex_init(&fs->lock, NULL);
	fs->uid = getuid();
	fs->gid = getgid();
	fs->nbuckets = 1024;
	fs->names = calloc(fs->nbuckets, sizeof(*fs->names));
	/* node id 0 is no node; the root is FUSE_ROOT_ID (1) */
	if (!fs->names || !node_new(fs, 0, 0, 0))
		return -ENOMEM;
	free(fs->by_ino[0]);
	fs->by_ino[0] = NULL;
	root = node_new(fs, S_IFDIR | 0755, fs->uid, fs->gid);
	if (!root)
		return -ENOMEM;
	root->parent = root;
	return 0;
}

static void fs_release(struct memfs *fs)
{
	size_t i;

	for (i = 0; i < fs->nino; i++) {
		if (!fs->by_ino[i])
			continue;
		free(fs->by_ino[i]->name);
		free(fs->by_ino[i]->data);
		free(fs->by_ino[i]->kids);
		free(fs->by_ino[i]);
	}
	free(fs->by_ino);
	free(fs->names);
	pthread_mutex_destroy(&fs->lock);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-mount-memfs MOUNTPOINT [-f] [-d] [-o "
		   "OPTION[,OPTION...]]\n"
		   "Serve an empty in-memory filesystem at MOUNTPOINT with "
		   "the agentstate\ndaemon's FUSE settings (the floor of "
		   "bench-mount).\n");
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config cfg = { .clone_fd = 0,
					.max_idle_threads =
						MOUNT_IDLE_THREADS };
	const char *mountpoint = NULL;
	struct fuse_session *se;
	struct memfs fs;
	bool foreground = false;
	int i, r = 1;

	if (fuse_opt_add_arg(&args, argv[0]) != 0 ||
	    fuse_opt_add_arg(&args, "-o") != 0 ||
	    fuse_opt_add_arg(&args, "fsname=memfs,subtype=memfs") != 0)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0) {
			foreground = true;
		} else if (strcmp(argv[i], "-d") == 0) {
			foreground = true;
			fuse_opt_add_arg(&args, "-d");
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			fuse_opt_add_arg(&args, "-o");
			fuse_opt_add_arg(&args, argv[++i]);
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			fuse_opt_free_args(&args);
			return 0;
		} else if (!mountpoint && argv[i][0] != '-') {
			mountpoint = argv[i];
		} else {
			usage(stderr);
			fuse_opt_free_args(&args);
			return 2;
		}
	}
	if (!mountpoint) {
		usage(stderr);
		fuse_opt_free_args(&args);
		return 2;
	}
	if (fs_init(&fs) < 0) {
		fprintf(stderr, "bench-mount-memfs: out of memory\n");
		goto out_args;
	}
	se = fuse_session_new(&args, &memfs_ops, sizeof(memfs_ops), &fs);
	if (!se)
		goto out_fs;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(foreground);
	r = fuse_session_loop_mt(se, &cfg) < 0 ? 1 : 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	fs_release(&fs);
out_args:
	fuse_opt_free_args(&args);
	return r;
}
