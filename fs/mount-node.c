/* mount-node.c: the nodes the kernel holds references to, and the overlay of
 * names the mount decides itself (temporary files and hidden objects). The
 * table holds what open files and pending changes refer to, and of the
 * objects the kernel merely remembers only the MOUNT_IDLE_NODES used last,
 * so it never grows with the store. Every function here runs with the
 * mount's lock held, except node_get() and node_put(), which take it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"
#include "names-int.h"

#define BUCKETS_MIN 64

static size_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return (size_t)x;
}

static size_t name_hash(const struct node *dir, const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	while (*name)
		h = (h ^ (unsigned char)*name++) * UINT64_C(0x100000001b3);
	return mix(h ^ (uintptr_t)dir);
}

/* ---- growing the hash tables ------------------------------------------- */

/* Double a table of node chains when it is fuller than one per bucket. A
 * failed allocation keeps the old table: longer chains, still correct. */
static void grow_nodes(struct node ***tab, size_t *nb, size_t n, bool by_num)
{
	struct node **nt, *p, *next;
	size_t nnb = *nb * 2, i, h;

	if (n <= *nb)
		return;
	nt = calloc(nnb, sizeof(*nt));
	if (!nt)
		return;
	for (i = 0; i < *nb; i++) {
		for (p = (*tab)[i]; p; p = next) {
			next = by_num ? p->next_num : p->next_ino;
			h = mix(by_num ? (uint64_t)p->number : p->ino) &
			    (nnb - 1);
			if (by_num) {
				p->next_num = nt[h];
			} else {
				p->next_ino = nt[h];
			}
			nt[h] = p;
		}
	}
	free(*tab);
	*tab = nt;
	*nb = nnb;
}

static void grow_entries(struct node_table *t)
{
	struct entry **nt, *e, *next;
	size_t nnb = t->nb_name * 2, i, h;

	if (t->n_name <= t->nb_name)
		return;
	nt = calloc(nnb, sizeof(*nt));
	if (!nt)
		return;
	for (i = 0; i < t->nb_name; i++) {
		for (e = t->by_name[i]; e; e = next) {
			next = e->next;
			h = name_hash(e->dir, e->name) & (nnb - 1);
			e->next = nt[h];
			nt[h] = e;
		}
	}
	free(t->by_name);
	t->by_name = nt;
	t->nb_name = nnb;
}

/* ---- the by-id and by-number indexes ------------------------------------ */

static void ino_insert(struct node_table *t, struct node *n)
{
	size_t h = mix(n->ino) & (t->nb_ino - 1);

	n->next_ino = t->by_ino[h];
	t->by_ino[h] = n;
	t->n_ino++;
	grow_nodes(&t->by_ino, &t->nb_ino, t->n_ino, false);
}

static void ino_remove(struct node_table *t, struct node *n)
{
	struct node **p = &t->by_ino[mix(n->ino) & (t->nb_ino - 1)];

	for (; *p; p = &(*p)->next_ino) {
		if (*p == n) {
			*p = n->next_ino;
			t->n_ino--;
			return;
		}
	}
}

static bool indexed_by_number(const struct node *n)
{
	return (n->kind == NODE_OBJECT || n->kind == NODE_COLLECTION) &&
	       !n->gone;
}

static void num_insert(struct node_table *t, struct node *n)
{
	size_t h = mix((uint64_t)n->number) & (t->nb_num - 1);

	n->next_num = t->by_num[h];
	t->by_num[h] = n;
	t->n_num++;
	grow_nodes(&t->by_num, &t->nb_num, t->n_num, true);
}

static void num_remove(struct node_table *t, struct node *n)
{
	struct node **p =
		&t->by_num[mix((uint64_t)n->number) & (t->nb_num - 1)];

	for (; *p; p = &(*p)->next_num) {
		if (*p == n) {
			*p = n->next_num;
			t->n_num--;
			return;
		}
	}
}

struct node *node_find(struct mount *m, uint64_t ino)
{
	struct node_table *t = &m->nodes;
	struct node *n;

	if (ino == INO_ROOT)
		return &t->root;
	if (ino == INO_CTL)
		return &t->ctl;
	if (ino == INO_AUDIT)
		return &t->audit;
	for (n = t->by_ino[mix(ino) & (t->nb_ino - 1)]; n; n = n->next_ino)
		if (n->ino == ino)
			return n;
	return NULL;
}

struct node *node_get(struct mount *m, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&m->lock);
	n = node_find(m, ino);
	if (n)
		node_ref(n);
	pthread_mutex_unlock(&m->lock);
	return n;
}

void node_put(struct mount *m, struct node *n)
{
	pthread_mutex_lock(&m->lock);
	node_unref(m, n);
	/* Here the caller holds no node it has not referenced (it did not
	 * hold the lock): the one safe place to let idle nodes go. */
	nodes_trim(m);
	pthread_mutex_unlock(&m->lock);
}

struct node *node_by_number(struct mount *m, int64_t number)
{
	struct node_table *t = &m->nodes;
	struct node *n;

	for (n = t->by_num[mix((uint64_t)number) & (t->nb_num - 1)]; n;
	     n = n->next_num)
		if (n->number == number)
			return n;
	return NULL;
}

/* ---- the overlay ------------------------------------------------------- */

struct entry *entry_find(struct mount *m, struct node *dir, const char *name)
{
	struct node_table *t = &m->nodes;
	struct entry *e;

	for (e = t->by_name[name_hash(dir, name) & (t->nb_name - 1)]; e;
	     e = e->next)
		if (e->dir == dir && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct entry *entry_get(struct mount *m, struct node *dir,
			       const char *name)
{
	struct node_table *t = &m->nodes;
	struct entry *e = entry_find(m, dir, name);
	size_t h;

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return NULL;
	}
	e->dir = dir;
	h = name_hash(dir, name) & (t->nb_name - 1);
	e->next = t->by_name[h];
	t->by_name[h] = e;
	t->n_name++;
	grow_entries(t);
	return e;
}

static void entry_maybe_free(struct mount *m, struct entry *e)
{
	struct node_table *t = &m->nodes;
	struct entry **p;

	if (e->temp || e->holder)
		return;
	p = &t->by_name[name_hash(e->dir, e->name) & (t->nb_name - 1)];
	for (; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			t->n_name--;
			break;
		}
	}
	free(e->name);
	free(e);
}

int entry_hide(struct mount *m, struct node *dir, const char *name,
	       struct node *holder)
{
	struct entry *e = entry_get(m, dir, name);

	if (!e)
		return -ENOMEM;
	e->holder = holder;
	return 0;
}

void entry_unhide(struct mount *m, struct node *dir, const char *name)
{
	struct entry *e = entry_find(m, dir, name);

	if (!e)
		return;
	e->holder = NULL;
	entry_maybe_free(m, e);
}

int entries_each(struct mount *m, struct node *dir,
		 int (*cb)(void *ctx, struct node *temp), void *ctx)
{
	struct node_table *t = &m->nodes;
	struct entry *e;
	size_t i;
	int r;

	for (i = 0; i < t->nb_name; i++)
		for (e = t->by_name[i]; e; e = e->next)
			if (e->dir == dir && e->temp &&
			    (r = cb(ctx, e->temp)) != 0)
				return r;
	return 0;
}

bool entries_any(struct mount *m, struct node *dir)
{
	struct node_table *t = &m->nodes;
	struct entry *e;
	size_t i;

	for (i = 0; i < t->nb_name; i++)
		for (e = t->by_name[i]; e; e = e->next)
			if (e->dir == dir && e->temp)
				return true;
	return false;
}

void nodes_each(struct mount *m, void (*cb)(void *ctx, struct node *n),
		void *ctx)
{
	struct node_table *t = &m->nodes;
	struct node *n, *next;
	size_t i;

	for (i = 0; i < t->nb_ino; i++) {
		for (n = t->by_ino[i]; n; n = next) {
			next = n->next_ino;
			cb(ctx, n);
		}
	}
}

/* ---- node lifetime ------------------------------------------------------ */

static bool is_static(const struct node *n)
{
	return n->kind == NODE_ROOT || n->kind == NODE_CTL ||
	       n->kind == NODE_AUDIT;
}

struct node *node_ref(struct node *n)
{
	n->refs++;
	return n;
}

static void hold_free(struct mount *m, struct node *n)
{
	struct hold *h = n->hold;
	struct entry *e;

	if (!h)
		return;
	n->hold = NULL;
	e = entry_find(m, h->dir, h->name);
	if (e && e->holder == n) {
		e->holder = NULL;
		entry_maybe_free(m, e);
	}
	node_unref(m, h->dir);
	free(h->name);
	free(h);
}

/* ---- idle object nodes ---------------------------------------------------- */

/* An object node only the kernel's memory of it keeps: nothing would be
 * lost by freeing it, since a later request for its id finds the object
 * by number again (its id is its number). */
static bool node_is_idle(const struct node *n)
{
	return n->kind == NODE_OBJECT && !n->gone &&
	       n->ino == (uint64_t)n->number && n->nlookup && !n->refs &&
	       !n->opens && !n->content.dirty && !n->attr.set && !n->hold;
}

static void idle_unlist(struct node_table *t, struct node *n)
{
	if (link_listed(&n->idle)) {
		link_del(&n->idle);
		t->n_idle--;
	}
}

/* Put an idle node at the back of the list, as the last used. */
static void idle_touch(struct node_table *t, struct node *n)
{
	idle_unlist(t, n);
	link_add_tail(&t->idle, &n->idle);
	t->n_idle++;
}

static void node_free(struct mount *m, struct node *n);

void nodes_trim(struct mount *m)
{
	struct node_table *t = &m->nodes;
	struct node *n;

	while (t->n_idle > t->idle_max) {
		n = (struct node *)((char *)t->idle.next -
				    offsetof(struct node, idle));
		idle_unlist(t, n);
		/* Listed when it went idle; it may have been used since. */
		if (node_is_idle(n))
			node_free(m, n);
	}
}

static void node_free(struct mount *m, struct node *n)
{
	struct node *parent = n->parent;

	idle_unlist(&m->nodes, n);
	kept_forget(m, n);
	ino_remove(&m->nodes, n);
	if (indexed_by_number(n))
		num_remove(&m->nodes, n);
	hold_free(m, n);
	tmpfile_release(&n->content.data);
	free(n->name);
	free(n);
	if (parent)
		node_unref(m, parent);
}

void node_maybe_free(struct mount *m, struct node *n)
{
	if (is_static(n))
		return;
	/* Only the kernel holds it: bytes it still has (those of a file
	 * renamed onto it, of a truncate() committed) are kept like any
	 * closed object's, within the same bound, or dropped. */
	if (n->nlookup && !n->refs && !n->opens)
		kept_add(m, n);
	if (node_is_idle(n)) {
		idle_touch(&m->nodes, n);
		return;
	}
	idle_unlist(&m->nodes, n);
	if (n->nlookup || n->refs || n->opens)
		return;
	if (n->kind == NODE_TEMP && n->linked)
		return;
	/* Written bytes whose commit failed for a passing reason (a busy
	 * store) stay until a later attempt or the unmount commits them. */
	if (n->kind == NODE_OBJECT && !n->gone && n->content.dirty &&
	    n->content.written)
		return;
	node_free(m, n);
}

void node_unref(struct mount *m, struct node *n)
{
	n->refs--;
	node_maybe_free(m, n);
}

void node_forget(struct mount *m, struct node *n, uint64_t nlookup)
{
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	node_maybe_free(m, n);
}

static struct node *node_alloc(struct mount *m, uint64_t ino, int64_t number,
			       int64_t born_ns, enum node_kind kind,
			       struct node *parent, const char *name)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->ino = ino;
	n->number = number;
	n->born_ns = born_ns;
	n->kind = kind;
	n->parent = parent ? node_ref(parent) : NULL;
	n->content.data = (struct tmpfile)TMPFILE_INIT;
	link_init(&n->idle);
	link_init(&n->kept);
	ino_insert(&m->nodes, n);
	if (indexed_by_number(n))
		num_insert(&m->nodes, n);
	return n;
}

/* A store number is the node id too, unless a node (one gone, kept for
 * its open files) already has that id. */
static uint64_t ino_for(struct mount *m, int64_t number)
{
	if (number > INO_AUDIT && (uint64_t)number < INO_TEMP_BASE &&
	    !node_find(m, (uint64_t)number))
		return (uint64_t)number;
	return m->nodes.next_ino++;
}

bool node_is_born(struct mount *m, struct node *n, int64_t born_ns)
{
	if (!n->born_ns || !born_ns || n->born_ns == born_ns) {
		if (!n->born_ns)
			n->born_ns = born_ns;
		return true;
	}
	n->lost = true;
	node_set_gone(m, n);
	return false;
}

/* The node found by @number, if it is still the @kind created at @born_ns:
 * else a restore gave the number away, and the old node is gone. */
static struct node *node_of_number(struct mount *m, int64_t number,
				   enum node_kind kind, int64_t born_ns)
{
	struct node *n = node_by_number(m, number);

	if (!n || n->kind != kind || !node_is_born(m, n, born_ns))
		return NULL;
	return n;
}

struct node *node_of_collection(struct mount *m, const char *name,
				int64_t number, int64_t born_ns)
{
	struct node *n = node_of_number(m, number, NODE_COLLECTION, born_ns);

	if (n) {
		if (strcmp(n->name, name) != 0 &&
		    node_rename(m, n, &m->nodes.root, name) < 0)
			return NULL;
		return n;
	}
	return node_alloc(m, ino_for(m, number), number, born_ns,
			  NODE_COLLECTION, &m->nodes.root, name);
}

struct node *node_of_object(struct mount *m, struct node *parent,
			    const char *name, int64_t number, int64_t born_ns)
{
	struct node *n = node_of_number(m, number, NODE_OBJECT, born_ns);

	if (n) {
		/* Moved by another process since we last saw it. */
		if ((n->parent != parent || strcmp(n->name, name) != 0) &&
		    node_rename(m, n, parent, name) < 0)
			return NULL;
		return n;
	}
	return node_alloc(m, ino_for(m, number), number, born_ns, NODE_OBJECT,
			  parent, name);
}

struct node *node_of_known_object(struct mount *m, struct node *parent,
				  const char *name, int64_t number,
				  int64_t born_ns)
{
	struct node *n = node_of_object(m, parent, name, number, born_ns);

	/* Made again after it was let go while idle: the kernel's count was
	 * lost with it, and one is enough to keep the node until the
	 * kernel's forget (counts beyond ours are clamped there). */
	if (n && !n->nlookup)
		n->nlookup = 1;
	return n;
}

struct node *node_new_temp(struct mount *m, struct node *dir, const char *name)
{
	uint64_t ino = m->nodes.next_ino++;
	struct entry *e = entry_get(m, dir, name);
	struct node *n;

	if (!e)
		return NULL;
	n = node_alloc(m, ino, (int64_t)ino, 0, NODE_TEMP, dir, name);
	if (!n) {
		entry_maybe_free(m, e);
		return NULL;
	}
	n->linked = true;
	n->content.loaded = true;
	n->content.data.pool = &m->pool;
	e->temp = n;
	return n;
}

/* ---- renames and changes of kind ----------------------------------------- */

static void unlink_entry(struct mount *m, struct node *n)
{
	struct entry *e = entry_find(m, n->parent, n->name);

	if (e && e->temp == n) {
		e->temp = NULL;
		entry_maybe_free(m, e);
	}
}

int node_rename(struct mount *m, struct node *n, struct node *dir,
		const char *name)
{
	struct node *old = n->parent;
	struct entry *e = NULL;
	char *copy;

	if (dir == old && strcmp(name, n->name) == 0)
		return 0;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	if (n->kind == NODE_TEMP && n->linked) {
		/* A different entry from the one left, so taking the node
		 * off the old one cannot free the new one. */
		e = entry_get(m, dir, name);
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
		unlink_entry(m, n);
		e->temp = n;
	}
	free(n->name);
	n->name = copy;
	if (dir != old) {
		n->parent = node_ref(dir);
		node_unref(m, old);
	}
	return 0;
}

void node_set_gone(struct mount *m, struct node *n)
{
	if (!indexed_by_number(n))
		return;
	num_remove(&m->nodes, n);
	n->gone = true;
	node_maybe_free(m, n);
}

void node_unlink_temp(struct mount *m, struct node *n)
{
	if (n->kind != NODE_TEMP || !n->linked)
		return;
	unlink_entry(m, n);
	n->linked = false;
	hold_free(m, n);
	node_maybe_free(m, n);
}

int node_temp_to_object(struct mount *m, struct node *n, struct node *dir,
			const char *name, int64_t number, int64_t born_ns)
{
	struct node *old = node_by_number(m, number);
	int r;

	/* Rename first: the only step that can fail. */
	r = node_rename(m, n, dir, name);
	if (r < 0)
		return r;
	if (old && old != n) {
		/* The object this file replaced; or one whose number a restore
		 * gave to this one, whose open files must not think it
		 * stored. */
		if (born_ns && old->born_ns && old->born_ns != born_ns)
			old->lost = true;
		node_set_gone(m, old);
	}
	unlink_entry(m, n);
	n->linked = false;
	hold_free(m, n);
	n->kind = NODE_OBJECT;
	n->number = number;
	n->born_ns = born_ns;
	n->gone = false;
	/* Leaving the pool always succeeds; from now on the store's limit
	 * bounds the buffer, as any object's. */
	tmpfile_set_pool(&n->content.data, NULL);
	n->content.data.limit = mount_max_body(m);
	num_insert(&m->nodes, n);
	return 0;
}

void node_drop_hold(struct mount *m, struct node *n)
{
	hold_free(m, n);
}

void node_swap_objects(struct mount *m, struct node *a, struct node *b)
{
	struct node *parent = a->parent;
	int64_t number = a->number, born_ns = a->born_ns;
	char *name = a->name;

	num_remove(&m->nodes, a);
	num_remove(&m->nodes, b);
	a->number = b->number;
	a->born_ns = b->born_ns;
	a->name = b->name;
	a->parent = b->parent;
	b->number = number;
	b->born_ns = born_ns;
	b->name = name;
	b->parent = parent;
	num_insert(&m->nodes, a);
	num_insert(&m->nodes, b);
}

int node_object_to_temp(struct mount *m, struct node *n, struct node *dir,
			const char *name)
{
	struct entry *e = entry_get(m, dir, name);
	char *copy = strdup(name);
	int r;

	if (!e || !copy) {
		free(copy);
		if (e)
			entry_maybe_free(m, e);
		return -ENOMEM;
	}
	r = tmpfile_set_pool(&n->content.data, &m->pool);
	if (r < 0) {
		free(copy);
		entry_maybe_free(m, e);
		return r;
	}
	if (indexed_by_number(n))
		num_remove(&m->nodes, n);
	n->kind = NODE_TEMP;
	/* A number of its own: the object's (kept in its hold) shows again
	 * under the object's name, on the file that updates it, and a
	 * backup sharing it would be "the same file" to diff and cp. */
	n->number = (int64_t)m->nodes.next_ino++;
	n->gone = false;
	n->linked = true;
	n->content.data.limit = 0; /* a temporary file: the pool caps it */
	free(n->name);
	n->name = copy;
	if (dir != n->parent) {
		struct node *old = n->parent;

		n->parent = node_ref(dir);
		node_unref(m, old);
	}
	e->temp = n;
	return 0;
}

void node_swap_temps(struct mount *m, struct node *a, struct node *b)
{
	struct entry *ea = entry_find(m, a->parent, a->name);
	struct entry *eb = entry_find(m, b->parent, b->name);
	struct node *parent = a->parent;
	char *name = a->name;

	/* Both entries stay (each gets the other's file), so nothing is
	 * allocated or freed. */
	if (ea)
		ea->temp = b;
	if (eb)
		eb->temp = a;
	a->parent = b->parent;
	a->name = b->name;
	b->parent = parent;
	b->name = name;
}

int node_object_id(const struct node *n, struct sbuf *id)
{
	return name_decode_file(id, n->name);
}

/* ---- setup --------------------------------------------------------------- */

static void static_node(struct node *n, uint64_t ino, enum node_kind kind,
			const char *name)
{
	memset(n, 0, sizeof(*n));
	n->ino = ino;
	n->number = (int64_t)ino;
	n->kind = kind;
	n->name = (char *)name; /* never freed: static nodes are not */
	n->content.data = (struct tmpfile)TMPFILE_INIT;
	link_init(&n->idle);
	link_init(&n->kept);
}

int nodes_init(struct mount *m)
{
	struct node_table *t = &m->nodes;

	t->nb_ino = t->nb_num = t->nb_name = BUCKETS_MIN;
	t->by_ino = calloc(t->nb_ino, sizeof(*t->by_ino));
	t->by_num = calloc(t->nb_num, sizeof(*t->by_num));
	t->by_name = calloc(t->nb_name, sizeof(*t->by_name));
	if (!t->by_ino || !t->by_num || !t->by_name) {
		nodes_release(m);
		return -ENOMEM;
	}
	t->next_ino = INO_TEMP_BASE;
	link_init(&t->idle);
	link_init(&t->kept);
	static_node(&t->root, INO_ROOT, NODE_ROOT, "");
	static_node(&t->ctl, INO_CTL, NODE_CTL, CTL_NAME);
	static_node(&t->audit, INO_AUDIT, NODE_AUDIT, AUDIT_NAME);
	t->ctl.parent = &t->root;
	t->audit.parent = &t->ctl;
	return 0;
}

void nodes_release(struct mount *m)
{
	struct node_table *t = &m->nodes;
	struct entry *e, *enext;
	struct node *n, *next;
	size_t i;

	/* Everything goes at once: no reference counting, since parents may
	 * be freed before their children here. */
	for (i = 0; t->by_ino && i < t->nb_ino; i++) {
		for (n = t->by_ino[i]; n; n = next) {
			next = n->next_ino;
			if (n->hold) {
				free(n->hold->name);
				free(n->hold);
			}
			tmpfile_release(&n->content.data);
			free(n->name);
			free(n);
		}
	}
	if (t->by_name) {
		for (i = 0; i < t->nb_name; i++) {
			for (e = t->by_name[i]; e; e = enext) {
				enext = e->next;
				free(e->name);
				free(e);
			}
		}
	}
	free(t->by_ino);
	free(t->by_num);
	free(t->by_name);
	t->by_ino = t->by_num = NULL;
	t->by_name = NULL;
	link_init(&t->kept);
	t->kept_bytes = 0;
}
