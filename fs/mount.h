/* mount.h: what the files of the FUSE daemon share: the mount's state, the
 * nodes the kernel knows (collections, objects, temporary files), their
 * in-memory contents, and the helpers each concern exports to the others.
 *
 * The daemon uses libfuse's low-level API rather than the path-based one:
 * the store names objects by (collection, id) and numbers them, the mount
 * adds temporary files and hidden objects on top, and the low-level API lets
 * us keep exactly that state per node, answer with the store's stable numbers
 * as inode numbers, choose cache timeouts per reply, and invalidate precisely
 * the kernel's entries and pages another process changed. The high-level API
 * would keep a second path table of its own and can only invalidate inodes.
 *
 * Locking, outermost first:
 * - ns (rwlock): taken shared by lookups and other reads of the namespace,
 *   exclusively by every operation that changes the store or the names, so a
 *   change and the node updates it implies are one step for the other
 *   threads. SQLite admits one writer at a time anyway, so serialising the
 *   daemon's own writers costs nothing.
 * - writer_lent (mutex): taken (trylock) with ns held shared, by the one
 *   reader the writer's store handle is lent to (mount_reader()).
 * - lock (mutex): the node table, the overlay and every content buffer. It is
 *   never held across a store call, and none of the locks above is held
 *   while calling fuse_lowlevel_notify_*, which can wait for the kernel's
 *   inode locks while a worker needs ours to finish the request holding
 *   them.
 * - notify_lock (mutex): held by the watcher while it sends notices; only
 *   the end of the mount waits for it, and for 2 s at most (mount-watch.c).
 */
#ifndef AGS_MOUNT_H
#define AGS_MOUNT_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "agentstate.h"
#include "sbuf-int.h"
#include "mount-backup.h"
#include "tmpfile.h"

/* Node ids of the mount's own entries; the store's numbers start at 16. */
#define INO_ROOT FUSE_ROOT_ID
#define INO_CTL 2
#define INO_AUDIT 3
/* Temporary files, and nodes whose number is taken by another node, get ids
 * from here up: far above any number the store hands out. */
#define INO_TEMP_BASE (UINT64_C(1) << 62)

#define CTL_NAME ".agentstate"
#define AUDIT_NAME "audit.jsonl"

/* Seconds the kernel may trust names and attributes. The watcher invalidates
 * what other processes change within a quarter second; this bounds the
 * staleness should a notification ever be lost. */
#define MOUNT_TIMEOUT 1.0

/* Object nodes the kernel still refers to but nothing else uses (no open
 * file, no pending change) are kept up to this many, least recently used
 * first to go. The kernel keeps every inode it has looked up until memory
 * runs short, so without a bound `ls -lR` of a million objects would keep a
 * million nodes here. A dropped node's number is its node id: a later
 * request for it finds the object again by number (mount-reload.c). */
#define MOUNT_IDLE_NODES 16384 /* the default of -o node_cache=N */

/* The bytes of closed objects kept for their next open, in MiB, least
 * recently closed first to go (mount-kept.c). */
#define MOUNT_KEPT_MIB 8 /* the default of -o body_cache=MIB */

/* Memory all temporary files may hold together. */
#define MOUNT_TEMP_CAP (64u << 20)

/* The longest file name the mount takes or lists: NAME_MAX, what statfs
 * reports and what a struct dirent holds (the kernel passes FUSE names of
 * up to 1024 bytes). A longer temporary name is refused (ENAMETOOLONG); an
 * object whose encoded id is longer (an id of 200 bytes may encode to 605)
 * is left out of listings and cannot be looked up: the CLI reaches it. */
#define MOUNT_NAME_MAX 255

/* A link of a doubly linked list with a sentinel head. A link on no list
 * points to itself. */
struct link {
	struct link *prev, *next;
};

static inline void link_init(struct link *l)
{
	l->prev = l->next = l;
}

static inline bool link_listed(const struct link *l)
{
	return l->next != l;
}

/* Insert @l right after @head (at the front). */
static inline void link_add(struct link *head, struct link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

/* Insert @l right before @head (at the back). */
static inline void link_add_tail(struct link *head, struct link *l)
{
	link_add(head->prev, l);
}

static inline void link_del(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

/* Who asked for an operation, as the kernel told us. */
struct actor {
	uint32_t uid;
	uint32_t gid;
	int32_t pid;
	char comm[16]; /* /proc/PID/comm: the kernel caps it at 15 bytes */
};

enum node_kind {
	NODE_ROOT,
	NODE_CTL,   /* .agentstate */
	NODE_AUDIT, /* .agentstate/audit.jsonl */
	NODE_COLLECTION,
	NODE_OBJECT, /* a stored object */
	NODE_TEMP,   /* a file only in memory (temporary, or a new object
			    file before its first valid JSON) */
};

/* The bytes of a regular file kept in memory: always for a temporary file,
 * for an object while it is open (the buffer its handles share), and for a
 * closed object while its bytes are kept (mount-kept.c). */
struct content {
	struct tmpfile data;
	bool loaded;	      /* data holds the file's bytes */
	bool dirty;	      /* data differs from what the store holds */
	bool written;	      /* written since the last commit or reset;
				truncation alone is never committed */
	bool matches_store;   /* data is what the store held when it was
				 read or committed here, and any later
				 change by another process reaches the
				 watcher while it is loaded: only such
				 bytes are kept after a close */
	uint64_t gen;	      /* bumped by every change, so a commit knows
				whether it covered the latest bytes */
	uint64_t refused_gen; /* the bytes of this gen were refused and
				 audited (0: none; written bytes have
				 gen >= 1) */
	size_t overflow;      /* a write past the store's limit was refused
				 and would have made the file this long
				 (0: none): the bytes held are not what
				 was written, and are never stored */
	int64_t mtime_ns;     /* last change of the bytes */
	struct actor writer;  /* who changed them last */
};

/* Attributes of a file that lives in memory, and those set explicitly on a
 * file since its content was last committed (chmod, chown, utimens): they
 * carry over to the object when the content is committed, as rsync, cp -a
 * and tar set them on the file before its last close or rename. */
struct mattr {
	uint32_t mode; /* permission bits */
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_ns;
	int64_t ctime_ns;
	unsigned set; /* AGS_ATTR_* given explicitly */
};

/* A temporary file that was an object renamed to a temporary name (vim's
 * x.json -> x.json~). See mount-names.c for the rule. */
struct hold {
	struct node *dir; /* the collection where the object's name is hidden
			     (referenced) */
	char *name;	  /* the object's file name, hidden there */
	int64_t number;	  /* the object's store number */
	bool modified;	  /* the temporary file changed since the rename */
};

struct node {
	uint64_t ino;	/* the FUSE node id */
	int64_t number; /* st_ino: the store's number, else ino */
	/* Changed under both locks (a temporary file becomes an object and
	 * back) but read without them in places where either answer is
	 * handled, or where the kind cannot change (the control area): an
	 * atomic, so such a read is not a data race. */
	_Atomic enum node_kind kind;
	struct node *parent; /* OBJECT/TEMP: the collection (referenced) */
	char *name;	     /* file name in the parent */
	uint64_t nlookup;    /* the kernel's references */
	unsigned refs;	     /* operations in flight, children, holds */
	unsigned opens;	     /* open file handles */
	unsigned writers;    /* of those, opened for writing */
	bool linked;	     /* TEMP: named in its directory */
	bool gone;	     /* OBJECT/COLLECTION: removed or replaced */
	/* OBJECT/COLLECTION: when the store created it (0: not known yet).
	 * With the number it tells which one this is: a forced restore gives
	 * numbers out again, never creation times (mount-node.c). */
	int64_t born_ns;
	/* OBJECT: gone because its number was found on another object: what
	 * its open files wrote fails (ESTALE) rather than vanish as an
	 * unlinked file's would. */
	bool lost;
	/* OBJECT: m->restores when the kernel's pages of it were last known
	 * to be the store's; any other value: they may be older, and the next
	 * open whose bytes are the store's has the kernel drop them. So each
	 * object's first open after a restore does (the kernel may hold pages
	 * of any object it read before, known to the daemon now or not), and
	 * so does the open after bytes that may be older were served (read
	 * while another process changed them). */
	unsigned pages_restores;
	struct content content;
	struct mattr attr; /* TEMP: all of it; OBJECT: the explicit ones */
	struct stat last;  /* last attributes answered, for a gone node */
	struct hold *hold; /* TEMP standing for a hidden object */
	struct node *next_ino, *next_num; /* hash chains */
	struct link idle;		  /* in node_table.idle, when idle */
	struct link kept;		  /* in node_table.kept, when kept */
	size_t kept_size;		  /* bytes counted for it there */
	struct node *next_pending;	  /* to commit at the end (mount.c) */
};

/* One name in a collection that the overlay decides: a temporary file, or
 * an object hidden while a temporary file holds it (or both, when the
 * object's name was created anew). */
struct entry {
	struct node *dir; /* the collection (not referenced: its nodes are) */
	char *name;
	struct node *temp;   /* the file of this name, or NULL */
	struct node *holder; /* the node holding the hidden object, or NULL */
	struct entry *next;
};

struct node_table {
	struct node **by_ino;	/* every node */
	struct node **by_num;	/* OBJECT/COLLECTION nodes not gone */
	struct entry **by_name; /* the overlay */
	size_t nb_ino, n_ino, nb_num, n_num, nb_name, n_name;
	uint64_t next_ino; /* next id from INO_TEMP_BASE */
	struct link idle;  /* idle object nodes, least recently used first */
	size_t n_idle;
	size_t idle_max;   /* -o node_cache=N */
	struct link kept;  /* closed objects with bytes kept, least recently
			      closed first */
	size_t kept_bytes; /* what those bytes take */
	size_t kept_max;   /* -o body_cache=MIB */
	struct node root, ctl, audit;
};

/* The .agentstate/audit.jsonl view: a sparse index from byte offsets to
 * audit rows, so reads at any offset and an exact st_size cost one short
 * scan, and memory grows by 16 bytes per AUDIT_STRIDE rows. */
struct audit_mark {
	int64_t after_seq; /* the rows from here on start ... */
	uint64_t off;	   /* ... at this byte offset */
};

struct audit_view {
	pthread_mutex_t lock;
	bool ready;	     /* indexed at least once */
	int64_t last_seq;    /* rows indexed up to this one */
	uint64_t size;	     /* bytes of the rows indexed */
	int64_t mtime_ns;    /* time of the last row */
	unsigned since_mark; /* rows since the last mark */
	struct audit_mark *marks;
	size_t nmarks, amarks;
};

/* The audit rows of the daemon's own changes not yet passed by the
 * watcher, as ranges of seqs, oldest first. The kernel already shows what
 * those changes did (it made them), so the watcher skips them rather than
 * drop caches just filled. A full queue forgets its oldest range: those
 * rows are then treated as another process's, which costs a re-read. */
#define OWN_RANGES 1024

struct own_rows {
	pthread_mutex_t lock;
	int64_t first[OWN_RANGES], last[OWN_RANGES];
	size_t head, n;
	uint64_t commits;	       /* noted so far */
	int64_t seen_first, seen_last; /* the writer's last commit, as last
					  read: an operation that committed
					  nothing leaves it as it was */
};

/* The bodies the last lookups read, for the first read that follows
 * (mount-recent.c). */
#define RECENT_SLOTS 8
/* Past this a body is not kept (nor read by the lookup): a large first
 * read is dominated by the copy itself, and the slots would hold
 * megabytes. */
#define RECENT_MAX_BODY (64 * 1024)

struct recent_body {
	int64_t number; /* the object's */
	uint64_t gen;	/* struct recent's generation before the query */
	int64_t at_ns;	/* when kept (CLOCK_MONOTONIC) */
	int64_t mtime_ns;
	char *body; /* NULL: a free slot */
	size_t len;
};

struct recent {
	pthread_mutex_t lock;
	struct recent_body slot[RECENT_SLOTS];
	unsigned next;		  /* the slot to reuse next */
	atomic_uint_fast64_t gen; /* bumped by every change the daemon sees */
};

/* The /proc/PID/comm files of the last callers, kept open: the caller is
 * read at every create, write, unlink and rename, and opening the file
 * costs more than reading it. A file whose process is gone answers ESRCH
 * (its pid may belong to another process by then) and is opened again. */
#define COMM_FILES 8

struct comm_files {
	pthread_mutex_t lock;
	int32_t pid[COMM_FILES];
	int fd[COMM_FILES]; /* -1: none */
	unsigned next;	    /* the slot to reuse next */
};

struct mount {
	struct fuse_session *se;
	char *uri; /* the store, absolute */
	char *mountpoint;
	struct ags_options opts; /* for each thread's handle */
	bool read_only;
	bool foreground;
	pthread_key_t store_key;     /* each worker's ags_store, for reads */
	ags_store *writer;	     /* every change's (ns held exclusively) */
	pthread_mutex_t writer_lent; /* the writer lent to a reader */
	pthread_rwlock_t ns;
	pthread_mutex_t lock;
	struct node_table nodes;
	struct tmpfile_pool pool; /* temporary files' memory */
	struct audit_view audit;
	pthread_t audit_thread; /* indexes the log as the mount starts */
	bool audit_indexing;	/* started, not yet joined */
	struct link open_files; /* every struct handle, and every */
	struct link open_dirs;	/* struct dirhandle: freed at the end if
				     the kernel never released them */
	int64_t start_ns;	/* times of the root and control area */
	uint32_t uid, gid;	/* their owner: the daemon's user */
	/* the end (mount.c) */
	pthread_t loop_thread; /* runs the FUSE loop; woken to end it */
	atomic_int signalled;  /* SIGTERM, SIGINT or SIGHUP received */
	atomic_bool ending;    /* the loop answers no more: send no notice */
	pthread_mutex_t notify_lock; /* held while the watcher sends notices */
	/* the watcher */
	pthread_t watch_thread;
	bool watching;		/* started, not yet joined */
	atomic_bool watch_busy; /* running: a signal waits for it to end */
	atomic_bool stop;
	sem_t watch_wake;   /* posted by watch_stop() and the signal handler */
	int64_t seen_seq;   /* audit rows acted on up to here */
	int64_t seen_epoch; /* ags_store_epoch() as last read */
	unsigned restores;  /* restores seen (under lock): see pages_restores */
	int64_t ckpt_seq;   /* the WAL was checkpointed with rows up to here */
	struct own_rows own;
	struct comm_files comm;	    /* actor_from_req() */
	struct recent recent;	    /* lookups' bodies (mount-recent.c) */
	struct mount_backup backup; /* -o backup_dir=... (mount-backup.c) */
};

/** The kernel may hold pages of @n older than the store: its next open
 * whose bytes are the store's has the kernel drop them (pages_restores).
 * Lock held. */
static inline void node_pages_stale(const struct mount *m, struct node *n)
{
	n->pages_restores = m->restores - 1;
}

/* ---- mount.c ------------------------------------------------------------ */

/** Serve @m until unmounted or signalled, then commit or refuse every
 * pending change. @return 0 or -errno (reported). */
int mount_run(struct mount *m, int argc, char **argv);

/** The calling thread's store handle, opened on first use. NULL (logged)
 * when the store cannot be opened. */
ags_store *mount_store(struct mount *m);

/** The one handle every change of the daemon goes through, opened on first
 * use. Only with ns held exclusively, which serialises its users (or lent
 * to one reader by mount_reader() while ns is held shared). Since no
 * other connection of the daemon writes, its page cache stays valid from
 * one change to the next; were each worker to write through its own, every
 * change would make the next writer's connection read its pages again.
 * NULL (logged) when the store cannot be opened. */
ags_store *mount_writer(struct mount *m);

/** A store handle for a read with ns held, outside any change: the
 * writer's when no other reader has borrowed it, else the thread's own.
 * Every commit of the daemon makes each other connection drop its page
 * cache and read the pages again from the WAL, so a lookup there just
 * after a change (the one before every create, the one before an unlink)
 * costs several times what it costs on the writer, whose cache already
 * holds those pages. Give it back with mount_reader_put() once done with
 * what it returned. NULL (logged) when the store cannot be opened. */
ags_store *mount_reader(struct mount *m);
void mount_reader_put(struct mount *m, ags_store *s);

/** Release ns held exclusively, first noting the audit rows the writer's
 * last commit wrote as the daemon's own (mount-watch.c). */
void mount_write_unlock(struct mount *m);

/** Log one line: stderr in the foreground, syslog in the background. */
void mount_log(struct mount *m, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** The caller of @req, with its process name read from /proc. */
void actor_from_req(struct actor *out, fuse_req_t req);
/** The caller of @req without its process name (comm ""): for when it is
 * needed only later, if at all (actor_read_comm). */
void actor_ids_from_req(struct actor *out, fuse_req_t req);
/** Fill in @a's process name from /proc, "?" when it has exited. */
void actor_read_comm(struct mount *m, struct actor *a);

/** Make @a the actor of the next changes on @s, with origin "fs". */
int actor_apply(ags_store *s, const struct actor *a);

/* ---- mount-node.c: the node table and the overlay (lock held) ---------- */

int nodes_init(struct mount *m);
void nodes_release(struct mount *m);

/** The node of a kernel node id, or NULL. */
struct node *node_find(struct mount *m, uint64_t ino);
/** node_find() and node_ref() under the lock (called without it). */
struct node *node_get(struct mount *m, uint64_t ino);
/** node_get(), or for the id of an object node let go while the kernel
 * still knows it, that node made again from the store (mount-reload.c).
 * NULL when the object is gone. Called without any lock. */
struct node *node_get_or_reload(struct mount *m, uint64_t ino);
/** node_unref() under the lock (called without it). */
void node_put(struct mount *m, struct node *n);
/** The live (not gone) OBJECT or COLLECTION node of a store number. */
struct node *node_by_number(struct mount *m, int64_t number);
/** Take a reference on @n so it outlives the lock being dropped. */
struct node *node_ref(struct node *n);
/** Drop a reference; frees the node when nothing holds it any more. */
void node_unref(struct mount *m, struct node *n);
/** The kernel forgot @n nlookup times. */
void node_forget(struct mount *m, struct node *n, uint64_t nlookup);
/** Free the node if nothing holds it (after its state changed); list it
 * as idle if only the kernel does. */
void node_maybe_free(struct mount *m, struct node *n);
/** Free the least recently used idle nodes beyond MOUNT_IDLE_NODES. Only
 * where the caller holds no unreferenced node (it just took the lock). */
void nodes_trim(struct mount *m);

/** The node of a stored collection or object, made if needed, named
 * @name in @parent (a moved object's node is renamed). @return NULL on
 * allocation failure. */
struct node *node_of_collection(struct mount *m, const char *name,
				int64_t number, int64_t born_ns);
struct node *node_of_object(struct mount *m, struct node *parent,
			    const char *name, int64_t number, int64_t born_ns);
/** node_of_object() for an object the kernel is known to hold (it asked
 * about its node id, or named it in a rename): a node made again counts
 * one kernel reference, so it is not freed before the kernel forgets it. */
struct node *node_of_known_object(struct mount *m, struct node *parent,
				  const char *name, int64_t number,
				  int64_t born_ns);
/** A new temporary file named @name in @dir. */
struct node *node_new_temp(struct mount *m, struct node *dir, const char *name);

/** Rename @n (a collection, object or linked temporary file). -ENOMEM
 * leaves it unchanged. */
int node_rename(struct mount *m, struct node *n, struct node *dir,
		const char *name);
/** An object's or collection's store entry no longer is this node's. */
void node_set_gone(struct mount *m, struct node *n);
/** A temporary file is no longer named (unlink, or replaced by rename). */
void node_unlink_temp(struct mount *m, struct node *n);
/** A temporary file became the object @number (created at @born_ns, 0 if
 * not known: then taken at its next check) named @name in @dir (its
 * content committed, or a held object renamed back). Releases its hold. */
int node_temp_to_object(struct mount *m, struct node *n, struct node *dir,
			const char *name, int64_t number, int64_t born_ns);
/** Let go of what a temporary file holds: the hidden object shows again
 * (or stays removed, when the removal was committed). */
void node_drop_hold(struct mount *m, struct node *n);
/** Swap the identities (store number and name) of two object nodes, after
 * RENAME_EXCHANGE swapped their bodies in the store and the kernel swapped
 * its entries. */
void node_swap_objects(struct mount *m, struct node *a, struct node *b);
/** Swap the names of two linked temporary files (RENAME_EXCHANGE). */
void node_swap_temps(struct mount *m, struct node *a, struct node *b);
/** An object node became a temporary file named @name in @dir. */
int node_object_to_temp(struct mount *m, struct node *n, struct node *dir,
			const char *name);

/** The overlay's entry for @name in @dir, or NULL. */
struct entry *entry_find(struct mount *m, struct node *dir, const char *name);
/** Hide the object named @name in @dir behind @holder. */
int entry_hide(struct mount *m, struct node *dir, const char *name,
	       struct node *holder);
/** Show the object named @name in @dir again. */
void entry_unhide(struct mount *m, struct node *dir, const char *name);
/** Call @cb for every temporary file in @dir (for readdir). */
int entries_each(struct mount *m, struct node *dir,
		 int (*cb)(void *ctx, struct node *temp), void *ctx);
/** Does @dir hold temporary files? */
bool entries_any(struct mount *m, struct node *dir);
/** Call @cb for every node (for the final commit at unmount). */
void nodes_each(struct mount *m, void (*cb)(void *ctx, struct node *n),
		void *ctx);

/** The collection name and object id of an OBJECT/TEMP node's name
 * (appended to the buffers). @return 0, or -EINVAL when the name is not
 * an object file name. */
int node_object_id(const struct node *n, struct sbuf *id);
/* Is @n, found by its number, the object or collection created at
 * @born_ns? If not, a restore gave its number to another: @n is gone
 * (lost) and may be freed. A node whose creation time is not known yet
 * takes @born_ns. Lock held. */
bool node_is_born(struct mount *m, struct node *n, int64_t born_ns);

/* ---- mount-buffer.c: contents of regular files ------------------------- */

/** The largest body the store takes: the size limit of an object's
 * buffer (EFBIG past it). A temporary file has none: the pool caps it. */
size_t mount_max_body(const struct mount *m);

/** Make sure an object's content is in memory (reading the store).
 * Called without the lock. @return 0 or -errno. */
int content_load(struct mount *m, struct node *n);
/** content_load() for a reader holding no lock: it takes ns shared and
 * reads through mount_reader(), whose cache the daemon's own commits keep
 * warm, where the thread's own handle would read every page again. Not
 * inside a change: there the writer sees the change half done. */
int content_load_shared(struct mount *m, struct node *n);
/** Drop a clean object content (nothing open any more, or another process
 * changed the object). Lock held. */
void content_drop(struct mount *m, struct node *n);
/** write() into a node's content. Lock held. */
int content_write(struct mount *m, struct node *n, const struct actor *a,
		  const char *buf, size_t len, off_t off);
/** Whether a node's written bytes are a body the store would take (valid
 * JSON within the limit). Takes the lock. */
bool content_storable(struct mount *m, struct node *n);
/** Truncate a node's content (O_TRUNC, ftruncate). Lock held. */
int content_truncate(struct mount *m, struct node *n, off_t len);

/** Commit @n's content if it was written since its last commit: validate,
 * store with its audit row, or refuse: audited and logged once per state
 * of the bytes, and the content reset to what the store holds only when no
 * handle is open any more (another holder of the open file may still be
 * writing; the last release resets it). ns held exclusively, lock not held.
 * @ret_inval is set when the kernel's cache of the file must be dropped
 * (after the locks are released). @return 0 or -errno (EINVAL, EFBIG for
 * refusals; store errors leave the content pending). */
int content_commit(struct mount *m, struct node *n, bool *ret_inval);
/** When the store created object @number, or 0 if it cannot tell. */
int64_t object_born_ns(ags_store *s, int64_t number);

/** Check @len bytes as the body of @coll/@fname; on failure set @why to
 * "cannot store C/F: invalid JSON at line L, column C: ..." and return
 * -EINVAL or -EFBIG. */
int body_check(struct mount *m, const char *coll, const char *fname,
	       const char *body, size_t len, struct sbuf *why);
/** Record a refused change: audit row (actor @a) and a log line. */
void refusal_record(struct mount *m, ags_store *s, const struct actor *a,
		    const char *op, const char *coll, const char *id,
		    size_t size, const char *why);
/** Apply the explicit attributes @at to the stored object, where they
 * differ from its attributes @cur. Inside the caller's transaction. */
int attrs_apply(ags_store *s, const char *coll, const char *id,
		const struct mattr *at, const struct ags_attr *cur);

/* ---- mount-names.c: changes of names ------------------------------------ */

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);

/** Open a new handle on @n (reference and open count taken). */
struct handle *handle_new(struct mount *m, struct node *n, int flags,
			  const struct actor *opener);
/** Undo handle_new() for a reply the kernel never received. */
void handle_drop(struct mount *m, struct handle *h);
/** Free the handles the kernel did not release before the end. */
void handles_release(struct mount *m);

/* ---- mount-ops.c: the rest of the callbacks ----------------------------- */

extern const struct fuse_lowlevel_ops mount_ops;

/** Fill the attributes of @n (store read without the lock). */
int node_stat(struct mount *m, struct node *n, struct stat *st);
/** How long the kernel may keep @n's attributes. */
double attr_timeout(const struct node *n);
/** Reply to a lookup-like request with @n (counts the kernel reference). */
void reply_entry(struct mount *m, fuse_req_t req, struct node *n,
		 const struct stat *st);

/* An open file. */
struct handle {
	struct link link;    /* in mount.open_files */
	struct node *node;   /* referenced */
	struct actor writer; /* the last process that wrote through it */
	struct actor opener; /* who opened it; comm "" until needed */
	bool writable;
	bool sync_writes; /* O_SYNC or O_DSYNC: each write() brings an fsync */
};

/* ---- mount-audit.c ------------------------------------------------------ */

int audit_view_init(struct audit_view *v);
void audit_view_release(struct audit_view *v);
/** Index rows written since the last call. Takes neither the namespace
 * lock nor the mount's lock. @return 0 or -errno. */
int audit_view_refresh(struct audit_view *v, ags_store *s);
/** Forget the index: the log was replaced (a forced restore). */
void audit_view_reset(struct audit_view *v);
/** Index the existing log in a thread of its own, as the mount starts. */
int audit_index_start(struct mount *m);
/** Join that thread; it stops early once m->ending is set. */
void audit_index_stop(struct mount *m);
/** Append to @out up to @size bytes of the JSON Lines from @off. */
int audit_view_read(struct audit_view *v, ags_store *s, struct sbuf *out,
		    uint64_t off, size_t size);

/* ---- mount-kept.c: bytes of closed objects kept for the next open ---- */

/** Keep the clean bytes of @n, which nothing holds any more (no handle, no
 * operation), for its next open; drop them instead when they cannot be
 * kept (gone, not known to be the store's, too large). Makes room by
 * dropping the bytes used longest ago. Lock held. */
void kept_add(struct mount *m, struct node *n);
/** Take @n off the kept list: its bytes are about to be used (an open, a
 * load) or released. Its bytes stay loaded. Lock held. */
void kept_forget(struct mount *m, struct node *n);
/** A writer is about to build on @n's bytes: clean bytes (kept since a
 * close, perhaps older than the store by up to the watcher's poll) go, so
 * its base is read from the store; readers of the open file read them
 * again. Lock held. */
void kept_drop_for_writer(struct mount *m, struct node *n);
/** Drop every kept body, and mark what open files hold as not to be kept:
 * the store was replaced. Sets @ret_inos to the node ids of the kept
 * bodies (to free), so the caller, once the lock is dropped, makes the
 * kernel drop the pages it may have read from them. Lock held. @return
 * how many. */
size_t kept_drop_all(struct mount *m, uint64_t **ret_inos);

/* ---- mount-recent.c: bodies kept from lookups for the next read ------ */

void recent_init(struct recent *r);
void recent_release(struct recent *r);
/** The generation to keep a body with: read it before the query. */
uint64_t recent_gen(struct recent *r);
/** Keep @obj's body (when it has one and is small), read by a query that
 * started at generation @gen. */
void recent_keep(struct recent *r, uint64_t gen, const struct ags_object *obj);
/** Hand over the kept body of object @number if it is still current; the
 * caller frees out->body. @return whether there was one. */
bool recent_take(struct recent *r, int64_t number, struct recent_body *out);
/** Make every kept body stale: the store changed (a commit of ours, or
 * another process's change the watcher applied). */
void recent_forget_all(struct recent *r);

/* ---- mount-watch.c ------------------------------------------------------ */

/** Note the rows of the writer's last commit as our own. ns held
 * exclusively. */
void watch_own_commit(struct mount *m);
void watch_quiesce(struct mount *m);
/** Start polling the audit log for changes made by other processes. */
int watch_start(struct mount *m);
/** Stop and join the watcher. Call it only once the loop answers no more
 * and /dev/fuse is closed (see mount.c). */
void watch_stop(struct mount *m);
/** Wake the watcher (async-signal-safe): it ends on m->stop, and on
 * m->signalled it ends and then ends the loop. */
void watch_wake(struct mount *m);
/** End the FUSE loop (async-signal-safe). */
void mount_end_loop(struct mount *m);

#endif
