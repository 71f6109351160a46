/* mount-buffer.c: the bytes of regular files in the mount. An open object
 * has one buffer all its handles share; it is committed when a handle that
 * may write is closed or fsynced, if it was written since its last commit.
 *
 * What the store refuses (invalid JSON, too large) fails that close() or
 * fsync() with EINVAL or EFBIG and is audited as a refusal and logged,
 * once per state of the bytes. The buffer itself stays as written while
 * any handle of the file is open: a close() is not the end of the writing
 * when another descriptor shares the open file (the child of a shell
 * redirection `{ echo '{"a":'; date +%s; echo '}'; } > x.json` closes its
 * inherited copy mid-way, and the shell goes on writing). Only when the
 * last handle is released does a buffer still refused go back to what the
 * store holds, so from then on the file shows the committed body again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "json-int.h"
#include "mount.h"
#include "names-int.h"
#include "object-int.h"

/* How often a commit is retried when another process changes the object
 * between our read of its version and our write. */
#define COMMIT_TRIES 5

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t mount_max_body(const struct mount *m)
{
	return m->opts.max_body ? m->opts.max_body : AGS_MAX_BODY_DEFAULT;
}

/* Fill @n's content with the object's bytes, unless a racing load did.
 * @current: no change was seen since the bytes were read (else they may be
 * older than the store, and are not kept after a close). Lock held. */
static int content_fill(struct mount *m, struct node *n, const char *body,
			size_t len, int64_t mtime_ns, bool current)
{
	int r;

	if (n->content.loaded)
		return 0;
	n->content.data.limit = mount_max_body(m);
	r = tmpfile_set(&n->content.data, body, len);
	if (r == 0) {
		n->content.loaded = true;
		n->content.dirty = false;
		n->content.written = false;
		n->content.overflow = 0;
		n->content.matches_store = current;
		if (!current) /* served, they may be in the kernel's pages */
			node_pages_stale(m, n);
		n->content.mtime_ns = mtime_ns;
		n->content.gen++;
	}
	return r;
}

/* content_load(), reading through @borrow ? mount_reader() : the thread's
 * own handle. A read (@borrow) takes the body the lookup that found the
 * object kept, if still current; a write reads the store, whose body is
 * the base it changes. */
static int load(struct mount *m, struct node *n, bool borrow)
{
	struct recent_body kept;
	struct ags_object obj;
	int64_t number;
	uint64_t gen;
	ags_store *s;
	int r = 0;

	/* Read before the query: the watcher bumps it before it drops what
	 * a change made stale, so a change it acts on while this load reads
	 * the store either shows here or finds the bytes loaded. */
	gen = recent_gen(&m->recent);
	pthread_mutex_lock(&m->lock);
	if (n->content.loaded || n->kind != NODE_OBJECT) {
		/* Kept bytes about to be used are no longer the kept
		 * list's to drop. */
		kept_forget(m, n);
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	number = n->number;
	pthread_mutex_unlock(&m->lock);

	if (borrow && recent_take(&m->recent, number, &kept)) {
		bool current;

		/* The watcher makes kept bodies stale before it drops what
		 * is loaded (under the lock): checked under the lock too, a
		 * body another process changed meanwhile is either refused
		 * here or dropped by the watcher right after. */
		pthread_mutex_lock(&m->lock);
		current = recent_gen(&m->recent) == kept.gen;
		if (current)
			r = content_fill(m, n, kept.body, kept.len,
					 kept.mtime_ns, true);
		pthread_mutex_unlock(&m->lock);
		free(kept.body);
		if (current)
			return r;
	}
	s = borrow ? mount_reader(m) : mount_store(m);
	if (!s)
		return -EIO;
	/* By number, not by name: an open file is its object wherever a
	 * rename, here or by another process, has taken it meanwhile. */
	r = ags_object_get_by_number(s, number, true, &obj);
	if (r == -ENOENT)
		r = -ESTALE; /* removed: this file's object is gone */
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		/* A writer loads without ns: a RENAME_EXCHANGE of ours may
		 * have given the node the other object meanwhile. */
		if (n->number != number)
			r = -EAGAIN;
		else if (!node_is_born(m, n, obj.ctime_ns))
			r = -ESTALE; /* a restore gave its number away */
		else
			r = content_fill(m, n, obj.body, obj.body_len,
					 obj.attr.mtime_ns,
					 recent_gen(&m->recent) == gen);
		pthread_mutex_unlock(&m->lock);
	}
	if (borrow) /* only now: obj pointed into the handle's buffers */
		mount_reader_put(m, s);
	return r;
}

int content_load(struct mount *m, struct node *n)
{
	int tries, r;

	for (tries = 0; tries < 3; tries++) {
		r = load(m, n, false);
		if (r != -EAGAIN)
			break;
	}
	return r == -EAGAIN ? -EIO : r;
}

int content_load_shared(struct mount *m, struct node *n)
{
	bool loaded;
	int r;

	pthread_mutex_lock(&m->lock);
	loaded = n->content.loaded || n->kind != NODE_OBJECT;
	pthread_mutex_unlock(&m->lock);
	if (loaded)
		return 0;
	pthread_rwlock_rdlock(&m->ns);
	r = load(m, n, true);
	pthread_rwlock_unlock(&m->ns);
	return r;
}

void content_drop(struct mount *m, struct node *n)
{
	kept_forget(m, n);
	if (n->kind != NODE_OBJECT || !n->content.loaded)
		return;
	tmpfile_release(&n->content.data);
	n->content.loaded = false;
	n->content.dirty = false;
	n->content.written = false;
	n->content.overflow = 0;
	n->content.matches_store = false;
	n->content.gen++;
}

static void changed(struct node *n)
{
	n->content.dirty = true;
	n->content.matches_store = false;
	n->content.gen++;
	n->content.mtime_ns = now_ns();
	if (n->kind == NODE_TEMP)
		n->attr.mtime_ns = n->attr.ctime_ns = n->content.mtime_ns;
	if (n->hold)
		n->hold->modified = true;
}

int content_write(struct mount *m, struct node *n, const struct actor *a,
		  const char *buf, size_t len, off_t off)
{
	int r;

	(void)m;
	if (!n->content.loaded)
		return -EAGAIN;
	r = tmpfile_write(&n->content.data, buf, len, off);
	/* The file is no longer what its writer wrote: unless it cuts it
	 * back, its close must fail too, not store the bytes that fit. */
	if (r == -EFBIG && n->content.overflow < (size_t)off + len)
		n->content.overflow = (size_t)off + len;
	if (r < 0 && r != -EFBIG)
		return r;
	changed(n);
	n->content.written = true;
	n->content.writer = *a;
	/* A write after utimens() sets the time again, as on any file. */
	n->attr.set &= ~(unsigned)AGS_ATTR_MTIME;
	return r;
}

/* Whether @d cannot be a whole object or array: it opens one and does not
 * end by closing it. The common case of a body written in pieces, told
 * without reading it all. */
static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool surely_partial(const struct tmpfile *d)
{
	size_t first = 0, last = d->len;

	while (first < last && json_space(d->data[first]))
		first++;
	while (last > first && json_space(d->data[last - 1]))
		last--;
	if (first == last)
		return true;
	return (d->data[first] == '{' && d->data[last - 1] != '}') ||
	       (d->data[first] == '[' && d->data[last - 1] != ']');
}

bool content_storable(struct mount *m, struct node *n)
{
	struct sbuf body = SBUF_INIT;
	bool ok;

	pthread_mutex_lock(&m->lock);
	ok = !n->content.overflow && n->content.data.len <= mount_max_body(m) &&
	     !surely_partial(&n->content.data) &&
	     sbuf_add(&body, n->content.data.data, n->content.data.len) == 0;
	pthread_mutex_unlock(&m->lock);
	ok = ok && json_check(body.buf, body.len, NULL) == 0;
	sbuf_release(&body);
	return ok;
}

int content_truncate(struct mount *m, struct node *n, off_t len)
{
	int r;

	(void)m;
	if (!n->content.loaded) {
		/* Cutting to nothing needs no body. */
		if (len != 0 || n->kind != NODE_OBJECT)
			return -EAGAIN;
		n->content.data.limit = mount_max_body(m);
		n->content.loaded = true;
	}
	r = tmpfile_truncate(&n->content.data, len);
	if (r < 0)
		return r;
	n->content.overflow = 0;
	changed(n);
	return 0;
}

int body_check(struct mount *m, const char *coll, const char *fname,
	       const char *body, size_t len, struct sbuf *why)
{
	struct json_error e;

	if (len > mount_max_body(m)) {
		sbuf_addf(why,
			  "cannot store %s/%s: the body is %zu bytes, more "
			  "than the store's limit of %zu",
			  coll, fname, len, mount_max_body(m));
		return -EFBIG;
	}
	if (json_check(body, len, &e) < 0) {
		sbuf_addf(why,
			  "cannot store %s/%s: invalid JSON at line %u, column "
			  "%u: %s",
			  coll, fname, e.line, e.column, e.reason);
		return -EINVAL;
	}
	return 0;
}

void refusal_record(struct mount *m, ags_store *s, const struct actor *a,
		    const char *op, const char *coll, const char *id,
		    size_t size, const char *why)
{
	int r = actor_apply(s, a);

	if (r == 0)
		r = ags_audit_refusal(s, op, coll, id, (int64_t)size, why);
	mount_log(m, LOG_WARNING, "%s (refused for %s, pid %d, uid %u)", why,
		  a->comm, (int)a->pid, (unsigned)a->uid);
	if (r < 0)
		mount_log(m, LOG_ERR, "cannot audit the refusal of %s/%s: %s",
			  coll, id, ags_errmsg(s));
}

int attrs_apply(ags_store *s, const char *coll, const char *id,
		const struct mattr *at, const struct ags_attr *cur)
{
	struct ags_attr want = *cur;
	unsigned mask = 0;

	if ((at->set & AGS_ATTR_MODE) && (at->mode & 07777) != cur->mode) {
		want.mode = at->mode & 07777;
		mask |= AGS_ATTR_MODE;
	}
	if ((at->set & AGS_ATTR_UID) && at->uid != cur->uid) {
		want.uid = at->uid;
		mask |= AGS_ATTR_UID;
	}
	if ((at->set & AGS_ATTR_GID) && at->gid != cur->gid) {
		want.gid = at->gid;
		mask |= AGS_ATTR_GID;
	}
	if ((at->set & AGS_ATTR_MTIME) && at->mtime_ns != cur->mtime_ns) {
		want.mtime_ns = at->mtime_ns;
		mask |= AGS_ATTR_MTIME;
	}
	if (!mask)
		return 0;
	return ags_object_set_attr(s, coll, id, &want, mask);
}

/* What a commit works from: a copy taken under the lock. */
struct snapshot {
	struct sbuf coll, fname, id, body;
	struct actor writer;
	struct mattr attr;
	uint64_t gen;
	size_t overflow;
	int64_t number;
	enum node_kind kind;
	bool hidden; /* a TEMP over an object hidden by a rename */
};

static void snapshot_release(struct snapshot *sn)
{
	sbuf_release(&sn->coll);
	sbuf_release(&sn->fname);
	sbuf_release(&sn->id);
	sbuf_release(&sn->body);
}

/* Does @n have written bytes a commit should store? Lock held. */
static bool wants_commit(struct node *n)
{
	const struct content *c = &n->content;

	if (!c->loaded || !c->dirty || !c->written)
		return false;
	if (n->kind == NODE_OBJECT)
		return !n->gone || n->lost;
	/* A new file under an object's name; other temporary files are
	 * never stored. */
	return n->kind == NODE_TEMP && n->linked &&
	       n->parent->kind == NODE_COLLECTION &&
	       name_is_object_file(n->name);
}

static int snapshot_take(struct mount *m, struct node *n, struct snapshot *sn)
{
	struct entry *e;
	int r;

	r = sbuf_adds(&sn->coll, n->parent->name);
	if (r == 0)
		r = sbuf_adds(&sn->fname, n->name);
	if (r == 0)
		r = node_object_id(n, &sn->id);
	if (r == 0)
		r = sbuf_add(&sn->body, n->content.data.data,
			     n->content.data.len);
	sn->writer = n->content.writer;
	sn->attr = n->attr;
	sn->gen = n->content.gen;
	sn->overflow = n->content.overflow;
	sn->number = n->number;
	sn->kind = n->kind;
	e = n->kind == NODE_TEMP ? entry_find(m, n->parent, n->name) : NULL;
	sn->hidden = e && e->holder;
	return r;
}

/* Put back what the store holds: the committed body of an object (read
 * again on next use), nothing for a file that never held valid JSON. Only
 * once no handle is open (see the top of the file). */
static void content_reset(struct mount *m, struct node *n, uint64_t gen)
{
	if (n->content.gen != gen)
		return; /* written again meanwhile: that is the next commit's */
	if (n->kind == NODE_OBJECT) {
		content_drop(m, n);
		return;
	}
	tmpfile_truncate(&n->content.data, 0);
	n->content.dirty = false;
	n->content.written = false;
	n->content.overflow = 0;
	n->content.gen++;
}

/* Give @sn the names its object @n has in the store now, found by its
 * number: another process may have renamed it since this file's names were
 * taken, and the audit names objects as the store does. Left as they were
 * if it is gone, or if a restore gave its number to another object. */
static void name_as_stored(struct mount *m, ags_store *s, struct node *n,
			   struct snapshot *sn)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct ags_object cur;
	bool same;

	if (ags_object_get_by_number(s, sn->number, false, &cur) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	same = !n->born_ns || n->born_ns == cur.ctime_ns;
	pthread_mutex_unlock(&m->lock);
	if (!same)
		return;
	if (sbuf_adds(&coll, cur.collection) == 0 &&
	    sbuf_adds(&id, cur.id) == 0) {
		sbuf_release(&sn->coll);
		sbuf_release(&sn->id);
		sn->coll = coll;
		sn->id = id;
		return;
	}
	sbuf_release(&coll);
	sbuf_release(&id);
}

int64_t object_born_ns(ags_store *s, int64_t number)
{
	struct ags_object obj;

	return ags_object_get_by_number(s, number, false, &obj) == 0
		       ? obj.ctime_ns
		       : 0;
}

/* Store an existing object's new body, compare-and-set against the version
 * read just before, so that another process's change in between is never
 * overwritten unseen. The object is found by number: an open file is its
 * object wherever another process has renamed it, as on any filesystem; a
 * body never lands on another object that took the name meanwhile. */
static int commit_object(struct mount *m, ags_store *s, struct node *n,
			 const struct snapshot *sn)
{
	struct sbuf coll = SBUF_INIT, id = SBUF_INIT;
	struct put_result made;
	struct ags_object cur;
	bool lost;
	int tries, r = -EBUSY;

	for (tries = 0; tries < COMMIT_TRIES; tries++) {
		r = ags_object_get_by_number(s, sn->number, false, &cur);
		pthread_mutex_lock(&m->lock);
		if (r == 0 && !node_is_born(m, n, cur.ctime_ns))
			r = -ENOENT; /* a restore gave its number away */
		lost = n->lost;
		pthread_mutex_unlock(&m->lock);
		if (r == -ENOENT) {
			mount_log(m, LOG_WARNING,
				  "cannot store %s/%s: %s while it was open "
				  "here; what was written to this file is not "
				  "stored",
				  sn->coll.buf, sn->fname.buf,
				  lost ? "the store was restored without it"
				       : "another process removed it");
			pthread_mutex_lock(&m->lock);
			node_set_gone(m, n);
			pthread_mutex_unlock(&m->lock);
			r = -ESTALE;
			break;
		}
		/* cur's names are the handle's, which the put reuses. */
		sbuf_reset(&coll);
		sbuf_reset(&id);
		if (r == 0)
			r = sbuf_adds(&coll, cur.collection);
		if (r == 0)
			r = sbuf_adds(&id, cur.id);
		if (r == 0)
			r = ags_store_begin(s);
		if (r < 0)
			break;
		r = object_put_checked(s, &made, coll.buf, id.buf, sn->body.buf,
				       sn->body.len, cur.version);
		if (r == 0 && sn->attr.set)
			r = attrs_apply(s, coll.buf, id.buf, &sn->attr,
					&made.attr);
		if (r == 0) {
			r = ags_store_commit(s);
			break;
		}
		ags_store_rollback(s);
		if (r != -ESTALE)
			break;
		r = -EBUSY; /* lost every try to other writers */
	}
	sbuf_release(&coll);
	sbuf_release(&id);
	return r;
}

/* Store the first valid body of a new file (or of a file re-created over a
 * hidden object, which makes it an update of that object), then make the
 * node that object's. */
static int commit_new(struct mount *m, ags_store *s, struct node *n,
		      const struct snapshot *sn)
{
	struct put_result made;
	struct entry *e;
	int64_t born_ns;
	int r;

	r = ags_store_begin(s);
	if (r < 0)
		return r;
	r = object_put_checked(s, &made, sn->coll.buf, sn->id.buf, sn->body.buf,
			       sn->body.len, AGS_VERSION_ANY);
	if (r == 0)
		r = attrs_apply(s, sn->coll.buf, sn->id.buf, &sn->attr,
				&made.attr);
	if (r == 0)
		r = ags_store_commit(s);
	else
		ags_store_rollback(s);
	if (r < 0)
		return r;
	/* A new object was created at the put's time; an update (of an
	 * object hidden by a rename) keeps the object's. */
	born_ns = made.version == 1 ? made.attr.mtime_ns
				    : object_born_ns(s, made.number);

	pthread_mutex_lock(&m->lock);
	/* The object the rename hid is updated now: its holder becomes a
	 * plain temporary file (vim's backup, about to be removed). */
	e = entry_find(m, n->parent, n->name);
	if (e && e->holder)
		node_drop_hold(m, e->holder);
	if (n->kind == NODE_TEMP && n->linked)
		r = node_temp_to_object(m, n, n->parent, sn->fname.buf,
					made.number, born_ns);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static bool passing(int r)
{
	return r == -EBUSY || r == -ENOSPC || r == -EIO || r == -ENOMEM;
}

int content_commit(struct mount *m, struct node *n, bool *ret_inval)
{
	struct snapshot sn = { .coll = SBUF_INIT,
			       .fname = SBUF_INIT,
			       .id = SBUF_INIT,
			       .body = SBUF_INIT };
	struct sbuf why = SBUF_INIT;
	/* Only a restore moves it while this holds ns (mount-watch.c). */
	uint64_t gen = recent_gen(&m->recent);
	bool first;
	ags_store *s;
	int r;

	pthread_mutex_lock(&m->lock);
	if (!wants_commit(n)) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	r = snapshot_take(m, n, &sn);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		goto done;
	s = mount_writer(m);
	if (!s) {
		r = -EIO;
		goto done;
	}

	/* Checked here, before the store's lock is asked for: a refusal is
	 * EINVAL even while another process holds the store (only its audit
	 * row waits for the lock), and its message names the file. The
	 * library then stores the body without reading it again
	 * (object-int.h). */
	if (sn.overflow) {
		r = -EFBIG;
		sbuf_addf(&why,
			  "cannot store %s/%s: a write would have made the "
			  "body %zu bytes, more than the store's limit of %zu",
			  sn.coll.buf, sn.fname.buf, sn.overflow,
			  mount_max_body(m));
	} else {
		r = body_check(m, sn.coll.buf, sn.fname.buf, sn.body.buf,
			       sn.body.len, &why);
	}
	if (r == 0) {
		r = actor_apply(s, &sn.writer);
		if (r == 0)
			r = sn.kind == NODE_OBJECT ? commit_object(m, s, n, &sn)
						   : commit_new(m, s, n, &sn);
		/* The library's own checks, should they ever be stricter. */
		if (r == -EINVAL || r == -EFBIG)
			sbuf_adds(&why, ags_errmsg(s));
	}
	if (r == -EINVAL || r == -EFBIG) {
		/* The same bytes refused again (another close of the same
		 * open file, or its last release) are not audited again. */
		pthread_mutex_lock(&m->lock);
		first = n->content.refused_gen != sn.gen;
		n->content.refused_gen = sn.gen;
		pthread_mutex_unlock(&m->lock);
		if (first && sn.kind == NODE_OBJECT)
			name_as_stored(m, s, n, &sn);
		if (first)
			refusal_record(m, s, &sn.writer,
				       sn.kind == NODE_OBJECT || sn.hidden
					       ? "update"
					       : "create",
				       sn.coll.buf, sn.id.buf,
				       sn.overflow ? sn.overflow : sn.body.len,
				       why.buf);
		/* Kept while a writer has the file open: it may not be done.
		 * Readers alone see the stored body again. */
		pthread_mutex_lock(&m->lock);
		if (n->writers == 0) {
			content_reset(m, n, sn.gen);
			*ret_inval = true;
		}
		pthread_mutex_unlock(&m->lock);
		goto done;
	}
	if (r < 0) {
		if (r != -ESTALE)
			mount_log(m, LOG_ERR, "cannot store %s/%s: %s%s",
				  sn.coll.buf, sn.fname.buf, ags_errmsg(s),
				  passing(r) ? "; kept in memory to retry"
					     : "");
		if (!passing(r)) {
			pthread_mutex_lock(&m->lock);
			content_reset(m, n, sn.gen);
			pthread_mutex_unlock(&m->lock);
			*ret_inval = true;
		}
		goto done;
	}
	pthread_mutex_lock(&m->lock);
	if (n->content.gen == sn.gen) {
		n->content.dirty = false;
		n->content.written = false;
		/* What was just stored, unless a restore replaced it. */
		n->content.matches_store = recent_gen(&m->recent) == gen;
	}
	n->attr.set = 0;
	pthread_mutex_unlock(&m->lock);
done:
	snapshot_release(&sn);
	sbuf_release(&why);
	return r;
}
