/* tmpfile.c: in-memory file contents with a size limit and a shared memory
 * cap. Sizes are checked before anything changes, so a refused write leaves
 * the file exactly as it was. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpfile.h"

/* May the file grow from its size to @len? The pool counts sizes, not
 * allocations, so the cap the user sees is the sum of `ls -l` sizes. */
static int check_size(const struct tmpfile *f, size_t len)
{
	if (f->limit && len > f->limit)
		return -EFBIG;
	if (f->pool && len > f->len &&
	    len - f->len > f->pool->cap - f->pool->used)
		return -ENOSPC;
	return 0;
}

static int reserve(struct tmpfile *f, size_t len)
{
	size_t alloc;
	char *p;

	if (len <= f->alloc)
		return 0;
	alloc = f->alloc ? f->alloc : 4096;
	while (alloc < len)
		alloc = alloc > SIZE_MAX / 2 ? len : alloc * 2;
	p = realloc(f->data, alloc);
	if (!p)
		return -ENOMEM;
	f->data = p;
	f->alloc = alloc;
	return 0;
}

/* Set the size after check_size() and reserve() succeeded. */
static void resize(struct tmpfile *f, size_t len)
{
	if (len > f->len)
		memset(f->data + f->len, 0, len - f->len);
	if (f->pool)
		f->pool->used = f->pool->used - f->len + len;
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
		r = check_size(f, end);
		if (r == 0)
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
	r = check_size(f, (size_t)len);
	if (r == 0)
		r = reserve(f, (size_t)len);
	if (r < 0)
		return r;
	resize(f, (size_t)len);
	return 0;
}

int tmpfile_set(struct tmpfile *f, const void *data, size_t len)
{
	int r = check_size(f, len);

	if (r == 0)
		r = reserve(f, len);
	if (r < 0)
		return r;
	resize(f, len);
	if (len)
		memcpy(f->data, data, len);
	return 0;
}

int tmpfile_set_pool(struct tmpfile *f, struct tmpfile_pool *pool)
{
	if (pool == f->pool)
		return 0;
	if (pool && f->len > pool->cap - pool->used)
		return -ENOSPC;
	if (f->pool)
		f->pool->used -= f->len;
	if (pool)
		pool->used += f->len;
	f->pool = pool;
	return 0;
}

void tmpfile_release(struct tmpfile *f)
{
	if (f->pool)
		f->pool->used -= f->len;
	free(f->data);
	f->data = NULL;
	f->len = f->alloc = 0;
}
