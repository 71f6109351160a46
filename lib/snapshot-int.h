/* snapshot-int.h: the state of a store right after an earlier audit seq,
 * rebuilt from the audit log and history, for ags_snapshot_export(). */
#ifndef AGS_SNAPSHOT_INT_H
#define AGS_SNAPSHOT_INT_H

#include "store-int.h"

/* The name of the file an export writes beside the collections. */
#define SNAP_MANIFEST ".agentstate-export.json"
#define SNAP_FORMAT 1
/* What the manifest says when an export --collection wrote it: the tree
 * may lack collections the store has, or hold them from an older export.
 * No other member can read so (a collection's member has a count). */
#define SNAP_PARTIAL "\"partial\": true"
/* The most of a manifest read: it lists every collection of the tree. */
#define SNAP_MANIFEST_MAX (64u << 20)

/** Whether @name is in the NULL-terminated list @names (NULL: every name). */
bool snap_named(const char *const *names, const char *name);

struct snap_object {
	const char *collection; /* points into snap_state.collections */
	char *id;
	int64_t oid;
	int64_t version; /* the version it had at the seq */
};

struct snap_state {
	int64_t seq;
	char **collections; /* alive at seq, sorted */
	size_t ncollections;
	struct snap_object *objects; /* sorted by collection, then id */
	size_t nobjects;
};

/** The seq of the last audit row written at or before @time_ns (0: none). */
int snap_seq_at_time(ags_store *s, int64_t time_ns, int64_t *out);

/** Rebuild which collections and objects (name and version) existed right
 * after audit row @seq, inside the caller's read transaction: each
 * object's last audit row up to @seq names it (a removal ends it), and
 * collection renames after that row carry it along. @return 0 or -errno. */
int snap_state_load(ags_store *s, int64_t seq, struct snap_state *out);

/** Append the body @o had at that point (from the objects table or
 * history). @return 0, or -ENOENT when that version is no longer kept. */
int snap_body_at(ags_store *s, const struct snap_state *st,
		 const struct snap_object *o, struct sbuf *out);

void snap_state_release(struct snap_state *st);

#endif
