/* tmpfile: the bytes of a file the mount keeps in memory: temporary files
 * (editor swap files, "x.json~", "sedAb12Cd"), new files before their first
 * valid JSON, and the shared write buffer of an open object. A pool caps the
 * memory all temporary files may take together, so a runaway writer gets
 * ENOSPC instead of exhausting the daemon. */
#ifndef AGS_TMPFILE_H
#define AGS_TMPFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The memory shared by the files counted against one cap. Callers serialise
 * access (the mount holds its state lock around every tmpfile call). */
struct tmpfile_pool {
	size_t used; /* bytes allocated for the counted files */
	size_t cap;  /* most bytes they may hold together */
};

struct tmpfile {
	char *data;   /* len bytes; NULL while len and alloc are 0 */
	size_t len;   /* the file's size */
	size_t alloc; /* bytes allocated at data */
	size_t limit; /* largest size allowed (-EFBIG past it),
			 0: none (a temporary file: its pool caps it) */
	struct tmpfile_pool *pool; /* counted here, or NULL */
};

#define TMPFILE_INIT                                                           \
	{                                                                      \
		NULL, 0, 0, 0, NULL                                            \
	}

/** Write @len bytes at @off, growing the file (with zeros in any gap).
 * @return 0, -EFBIG past the file's limit, -ENOSPC past the pool's cap,
 * -ENOMEM; the file is unchanged on failure. */
int tmpfile_write(struct tmpfile *f, const void *buf, size_t len, off_t off);

/** Copy up to @len bytes from @off into @buf. @return the bytes copied (0 at
 * or past the end). */
size_t tmpfile_read(const struct tmpfile *f, void *buf, size_t len, off_t off);

/** Set the size to @len: shorten (giving memory back), or extend with
 * zeros. @return 0, -EINVAL (negative), -EFBIG, -ENOSPC, -ENOMEM. */
int tmpfile_truncate(struct tmpfile *f, off_t len);

/** Replace the whole content with @len bytes. @return as tmpfile_write. */
int tmpfile_set(struct tmpfile *f, const void *data, size_t len);

/** Make the block hold exactly the file's bytes, for a file that stays as
 * it is for a while (a closed object's kept bytes): a 200-byte body then
 * takes 200 bytes, not the smallest block of a file being written. */
void tmpfile_fit(struct tmpfile *f);

/** Move the file's memory to another pool (or none). @return 0, or
 * -ENOSPC when the new pool cannot take it (the file stays where it
 * was). */
int tmpfile_set_pool(struct tmpfile *f, struct tmpfile_pool *pool);

/** Free the bytes and give them back to the pool; the file is then empty
 * and can be reused. Accepts a file that holds nothing. */
void tmpfile_release(struct tmpfile *f);

#endif
