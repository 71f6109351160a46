/* mount-recent.c: the bodies the last lookups read, kept for the open and
 * read that nearly always follow (cat, jq, grep, an editor). A lookup's
 * query reads the object's whole row, body included, and an object's
 * content is loaded only at its first read, by a second query; keeping
 * the body the lookup saw makes that read a copy from memory.
 *
 * What is kept must never be older than what the store holds for a reader
 * who could know better. Every change the daemon commits, and every change
 * of another process the watcher applies, bumps a generation; a body is
 * kept with the generation read before its query, and taken only while
 * that generation is still current. So a body read before a commit (ours
 * or, once the watcher has seen it, anyone's) is never served after it.
 * Bodies are also taken at most once and only within a second, and only
 * small ones are kept: the memory held is a few slots of bounded size. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mount.h"

#define RECENT_MAX_AGE_NS 1000000000LL

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void recent_init(struct recent *r)
{
	memset(r->slot, 0, sizeof(r->slot));
	r->next = 0;
	atomic_init(&r->gen, 1);
	pthread_mutex_init(&r->lock, NULL);
}

static void slot_clear(struct recent_body *b)
{
	free(b->body);
	memset(b, 0, sizeof(*b));
}

void recent_release(struct recent *r)
{
	for (size_t i = 0; i < RECENT_SLOTS; i++)
		slot_clear(&r->slot[i]);
	pthread_mutex_destroy(&r->lock);
}

uint64_t recent_gen(struct recent *r)
{
	return atomic_load(&r->gen);
}

void recent_forget_all(struct recent *r)
{
	atomic_fetch_add(&r->gen, 1);
}

void recent_keep(struct recent *r, uint64_t gen, const struct ags_object *obj)
{
	struct recent_body *b;
	char *copy;

	if (!obj->body || obj->body_len > RECENT_MAX_BODY)
		return;
	copy = malloc(obj->body_len ? obj->body_len : 1);
	if (!copy)
		return; /* only a cache: the read queries the store */
	memcpy(copy, obj->body, obj->body_len);
	pthread_mutex_lock(&r->lock);
	b = &r->slot[r->next];
	r->next = (r->next + 1) % RECENT_SLOTS;
	slot_clear(b);
	b->number = obj->number;
	b->gen = gen;
	b->at_ns = mono_ns();
	b->mtime_ns = obj->attr.mtime_ns;
	b->body = copy;
	b->len = obj->body_len;
	pthread_mutex_unlock(&r->lock);
}

bool recent_take(struct recent *r, int64_t number, struct recent_body *out)
{
	uint64_t gen = atomic_load(&r->gen);
	int64_t now = mono_ns();
	bool found = false;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < RECENT_SLOTS; i++) {
		struct recent_body *b = &r->slot[i];

		if (!b->body || b->number != number)
			continue;
		if (!found && b->gen == gen &&
		    now - b->at_ns < RECENT_MAX_AGE_NS) {
			*out = *b; /* the caller frees out->body */
			memset(b, 0, sizeof(*b));
			found = true;
		} else {
			slot_clear(b); /* stale, or a second copy */
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}
