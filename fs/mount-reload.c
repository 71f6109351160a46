/* mount-reload.c: nodes the daemon let go while the kernel still knows
 * them. An idle object node is freed once MOUNT_IDLE_NODES others were used
 * since (mount-node.c), but the kernel keeps its inode and may ask about it
 * later: a stat after the attribute timeout, an open of a cached entry.
 * Such a node's id is the object's store number, and numbers are never
 * reused (short of a forced restore, where the object's creation time tells
 * it from another given the same number), so the object is found again
 * wherever it is now, or is gone. */
#include <errno.h>
#include <string.h>

#include "mount.h"
#include "names-int.h"

/* Could @ino be a store number? (A collection's finds no object: its node
 * is never let go while the kernel knows it.) */
static bool store_number(uint64_t ino)
{
	return ino > INO_AUDIT && ino < INO_TEMP_BASE;
}

/* Make the node of object @number again. ns held (shared). */
static struct node *reload(struct mount *m, ags_store *s, int64_t number)
{
	struct sbuf coll = SBUF_INIT, fname = SBUF_INIT;
	struct ags_collection col;
	struct ags_object obj;
	struct node *dir, *n = NULL;
	int r;

	r = ags_object_get_by_number(s, number, false, &obj);
	if (r == 0)
		r = sbuf_adds(&coll, obj.collection);
	if (r == 0)
		r = name_encode_file(&fname, obj.id, strlen(obj.id));
	if (r == 0 && fname.len > MOUNT_NAME_MAX)
		r = -ENOENT; /* never shown by the mount */
	if (r == 0)
		r = ags_collection_get(s, coll.buf, &col);
	if (r < 0)
		goto out;
	pthread_mutex_lock(&m->lock);
	/* Made meanwhile by a lookup in another thread? */
	n = node_find(m, (uint64_t)number);
	if (!n) {
		dir = node_of_collection(m, col.name, col.number, col.ctime_ns);
		/* Held: making the object's node may let a node go that was
		 * the last to hold the collection's. */
		if (dir)
			node_ref(dir);
		/* An object hidden behind a temporary file (vim's rename to
		 * x.json~) is that file's now: the kernel's old id is stale. */
		if (dir && !entry_find(m, dir, fname.buf))
			n = node_of_known_object(m, dir, fname.buf, number,
						 obj.ctime_ns);
		if (dir)
			node_unref(m, dir);
	}
	if (n)
		node_ref(n);
	pthread_mutex_unlock(&m->lock);
out:
	sbuf_release(&coll);
	sbuf_release(&fname);
	return n;
}

struct node *node_get_or_reload(struct mount *m, uint64_t ino)
{
	struct node *n = node_get(m, ino);
	ags_store *s;

	if (n || !store_number(ino))
		return n;
	s = mount_store(m);
	if (!s)
		return NULL;
	pthread_rwlock_rdlock(&m->ns);
	n = reload(m, s, (int64_t)ino);
	pthread_rwlock_unlock(&m->ns);
	return n;
}
