/* sbuf: the one growable string buffer of the project (git's strbuf model).
 * buf is never NULL and always NUL-terminated, so it can be printed at once. */
#ifndef AGS_SBUF_INT_H
#define AGS_SBUF_INT_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
	char *buf;    /* the bytes, NUL-terminated; never NULL */
	size_t len;   /* bytes in use, without the NUL */
	size_t alloc; /* bytes allocated; 0 while buf points at the shared "" */
};

extern char sbuf_empty[];
#define SBUF_INIT                                                              \
	{                                                                      \
		sbuf_empty, 0, 0                                               \
	}

/** Make room for @extra more bytes. @return 0 or -ENOMEM. */
int sbuf_grow(struct sbuf *sb, size_t extra);
/** Append @len bytes. @return 0 or -ENOMEM (sb unchanged). */
int sbuf_add(struct sbuf *sb, const void *data, size_t len);
/** Append a NUL-terminated string. @return 0 or -ENOMEM. */
int sbuf_adds(struct sbuf *sb, const char *s);
int sbuf_addch(struct sbuf *sb, char c);
/** Append printf-formatted text. @return 0 or -ENOMEM. */
int sbuf_addf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/** Shorten to @len bytes (len <= sb->len). */
void sbuf_setlen(struct sbuf *sb, size_t len);
static inline void sbuf_reset(struct sbuf *sb)
{
	sbuf_setlen(sb, 0);
}
/** Hand the heap string to the caller (caller frees); sb is reset empty.
 * @return the string, or NULL on allocation failure. */
char *sbuf_detach(struct sbuf *sb);
/** Free the buffer; sb is reset empty and can be reused. */
void sbuf_release(struct sbuf *sb);

#endif
