/* tmpfile.c: in-memory file contents with a size limit and a shared memory
 * cap. Sizes are checked before anything changes, so a refused write leaves
 * the file exactly as it was. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpfile.h"

/* The smallest block a file that holds anything gets. */
#define TMPFILE_MIN_ALLOC 4096
/* Blocks double up to this size, then grow by an eighth: appends still
 * cost amortised O(1), and a large file holds little more than its size,
 * so the cap counts what the files hold rather than their spare room. */
#define TMPFILE_DOUBLE_MAX (1u << 20)

/* The capacity for @len bytes: grown from the current one as above, or
 * what is left in the pool when that is less. The pool counts allocations,
 * not sizes: what the daemon really holds, so a file that shrinks gives
 * its memory back (see shrink()) and no memory escapes the cap. @return 0
 * with *ret_alloc set, -EFBIG past the file's limit, -ENOSPC past the
 * pool's cap. */
static int plan_alloc(const struct tmpfile *f, size_t len, size_t *ret_alloc)
{
	size_t alloc, room;

	if (f->limit && len > f->limit)
		return -EFBIG;
	if (len <= f->alloc) {
		*ret_alloc = f->alloc;
		return 0;
	}
	alloc = f->alloc ? f->alloc : TMPFILE_MIN_ALLOC;
	while (alloc < len) {
		if (alloc > SIZE_MAX / 2)
			alloc = len;
		else if (alloc < TMPFILE_DOUBLE_MAX)
			alloc *= 2;
		else
			alloc += alloc / 8;
	}
	if (f->limit && alloc > f->limit)
		alloc = f->limit;
	if (f->pool) {
		room = f->pool->used < f->pool->cap
			       ? f->pool->cap - f->pool->used
			       : 0;
		if (len - f->alloc > room)
			return -ENOSPC;
		if (alloc - f->alloc > room)
			alloc = f->alloc + room;
	}
	*ret_alloc = alloc;
	return 0;
}

/* Make the block @alloc bytes (0: free it), counting the change in the
 * pool. Growing may fail (-ENOMEM, nothing changed); shrinking keeps the
 * larger block when realloc fails, which is still correct. */
static int set_alloc(struct tmpfile *f, size_t alloc)
{
	char *p = NULL;

	if (alloc == f->alloc)
		return 0;
	if (alloc) {
		p = realloc(f->data, alloc);
		if (!p)
			return alloc > f->alloc ? -ENOMEM : 0;
	} else {
		free(f->data);
	}
	if (f->pool)
		f->pool->used = f->pool->used - f->alloc + alloc;
	f->data = p;
	f->alloc = alloc;
	return 0;
}

/* Grow the block for @len bytes, within the limit and the cap. */
static int reserve(struct tmpfile *f, size_t len)
{
	size_t alloc;
	int r = plan_alloc(f, len, &alloc);

	return r < 0 ? r : set_alloc(f, alloc);
}

/* Give back memory a file no longer needs: all of it at length 0, the
 * excess once it uses less than a quarter of its block (not at every
 * small cut, so truncate-and-rewrite does not reallocate each time). */
static void shrink(struct tmpfile *f)
{
	size_t alloc;

	if (f->len == 0) {
		set_alloc(f, 0);
		return;
	}
	if (f->alloc <= TMPFILE_MIN_ALLOC || f->len >= f->alloc / 4)
		return;
	alloc = f->len < TMPFILE_MIN_ALLOC ? TMPFILE_MIN_ALLOC : f->len;
	set_alloc(f, alloc);
}

void tmpfile_fit(struct tmpfile *f)
{
	set_alloc(f, f->len);
}

/* Set the size after reserve() succeeded. */
static void resize(struct tmpfile *f, size_t len)
{
	if (len > f->len)
		memset(f->data + f->len, 0, len - f->len);
	f->len = len;
}

int tmpfile_write(struct tmpfile *f, const void *buf, size_t len, off_t off)
{
	size_t end;
	int r;

	if (off < 0 || (uint64_t)off > SIZE_MAX - len)
		return -EFBIG;
	if (!len)
		return 0;
	end = (size_t)off + len;
	if (end > f->len) {
		r = reserve(f, end);
		if (r < 0)
			return r;
		resize(f, end);
	}
	memcpy(f->data + off, buf, len);
	return 0;
}

size_t tmpfile_read(const struct tmpfile *f, void *buf, size_t len, off_t off)
{
	if (off < 0 || (uint64_t)off >= f->len)
		return 0;
	if (len > f->len - (size_t)off)
		len = f->len - (size_t)off;
	memcpy(buf, f->data + off, len);
	return len;
}

int tmpfile_truncate(struct tmpfile *f, off_t len)
{
	int r;

	if (len < 0)
		return -EINVAL;
	if ((uint64_t)len > SIZE_MAX)
		return -EFBIG;
	r = reserve(f, (size_t)len);
	if (r < 0)
		return r;
	resize(f, (size_t)len);
	shrink(f);
	return 0;
}

int tmpfile_set(struct tmpfile *f, const void *data, size_t len)
{
	int r = reserve(f, len);

	if (r < 0)
		return r;
	resize(f, len);
	if (len)
		memcpy(f->data, data, len);
	shrink(f);
	return 0;
}

int tmpfile_set_pool(struct tmpfile *f, struct tmpfile_pool *pool)
{
	if (pool == f->pool)
		return 0;
	if (pool && f->alloc > pool->cap - pool->used)
		return -ENOSPC;
	if (f->pool)
		f->pool->used -= f->alloc;
	if (pool)
		pool->used += f->alloc;
	f->pool = pool;
	return 0;
}

void tmpfile_release(struct tmpfile *f)
{
	set_alloc(f, 0);
	f->len = 0;
}
