/* mount-kept.c: the bytes of closed objects, kept for their next open.
 *
 * A file is often opened again soon after it was closed: `cat` after the
 * editor that saved it, a tool reading back what it wrote, a second `grep`.
 * When nothing holds an object's node any more (its last handle closed,
 * the last operation on it done), its clean buffer stays loaded, so the
 * next open reads it without asking the store. Together the kept bodies
 * take at most -o body_cache=MIB; the one used longest ago goes first.
 *
 * Only bytes known to be the store's are kept (content.matches_store):
 * read while no change was seen, or just committed here. They stay right
 * because the daemon's node follows its object: the daemon's own changes
 * act on the node's buffer, the watcher drops the buffer of an object
 * another process changed, found by its number whatever its name is now
 * (within its poll, as it drops the kernel's pages of it), and a store
 * replaced under the mount drops them all. A writer never builds on clean
 * bytes: they go when it opens (kept_drop_for_writer), and its base is
 * read from the store, so a write never undoes another process's change
 * made a moment before.
 *
 * A node on the list is one whose buffer nobody uses: whoever is about to
 * use it (an open, a load) takes it off first, and bytes are listed only
 * when nothing holds the node, so making room never drops bytes in use.
 * The mount's lock is held throughout. */
#include <stddef.h>
#include <stdlib.h>

#include "mount.h"

/* What a kept body costs: its bytes and the allocator's header. */
static size_t cost(const struct node *n)
{
	return n->content.data.alloc + 2 * sizeof(size_t);
}

/* Whether @n's buffer may be dropped: a clean object's that nothing holds
 * (an operation holding the node may be about to use its bytes). */
static bool droppable(const struct node *n)
{
	return n->kind == NODE_OBJECT && !n->opens && !n->refs &&
	       n->content.loaded && !n->content.dirty;
}

static struct node *oldest(struct node_table *t)
{
	return (struct node *)((char *)t->kept.next -
			       offsetof(struct node, kept));
}

void kept_forget(struct mount *m, struct node *n)
{
	struct node_table *t = &m->nodes;

	if (!link_listed(&n->kept))
		return;
	link_del(&n->kept);
	t->kept_bytes -= n->kept_size;
	n->kept_size = 0;
}

/* Take the oldest kept body off the list and drop it; one whose node is
 * held now is left to its holder, not to be kept after. Returns its
 * node. */
static struct node *let_oldest_go(struct mount *m)
{
	struct node *n = oldest(&m->nodes);

	kept_forget(m, n);
	if (droppable(n))
		content_drop(m, n);
	else
		n->content.matches_store = false;
	return n;
}

/* Drop the oldest kept bodies until @room more bytes fit. */
static void make_room(struct mount *m, size_t room)
{
	struct node_table *t = &m->nodes;

	while (link_listed(&t->kept) && t->kept_bytes + room > t->kept_max)
		let_oldest_go(m);
}

void kept_drop_for_writer(struct mount *m, struct node *n)
{
	/* Clean bytes are the store's or older: kept since a close, or
	 * loaded from a kept body by a reader that has the file open. */
	if (!n->content.dirty)
		content_drop(m, n);
}

void kept_add(struct mount *m, struct node *n)
{
	struct node_table *t = &m->nodes;

	kept_forget(m, n);
	if (!droppable(n))
		return;
	/* A removed object is not opened again; bytes that may be older
	 * than the store are not served from memory. */
	if (n->gone || !n->content.matches_store) {
		content_drop(m, n);
		return;
	}
	tmpfile_fit(&n->content.data);
	if (cost(n) > t->kept_max) {
		content_drop(m, n);
		return;
	}
	make_room(m, cost(n));
	n->kept_size = cost(n);
	t->kept_bytes += n->kept_size;
	link_add_tail(&t->kept, &n->kept);
}

size_t kept_drop_all(struct mount *m, uint64_t **ret_inos)
{
	struct node_table *t = &m->nodes;
	uint64_t *inos = NULL;
	size_t n_inos = 0, cap = 0;
	struct node *n;
	struct link *l;

	while (link_listed(&t->kept)) {
		n = let_oldest_go(m);
		if (n_inos == cap) {
			size_t more = cap ? 2 * cap : 64;
			uint64_t *grown = realloc(inos, more * sizeof(*inos));

			if (!grown) /* the kernel's timeouts will do */
				continue;
			inos = grown;
			cap = more;
		}
		inos[n_inos++] = n->ino;
	}
	/* What open files loaded before may be older than the store too:
	 * it serves them while they stay open, as a removed object's, but
	 * is not kept after. */
	for (l = m->open_files.next; l != &m->open_files; l = l->next) {
		struct handle *h =
			(void *)((char *)l - offsetof(struct handle, link));

		h->node->content.matches_store = false;
	}
	*ret_inos = inos;
	return n_inos;
}
