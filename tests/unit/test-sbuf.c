/* test-sbuf.c: the growable string buffer. */
#include <stdlib.h>

#include "sbuf-int.h"
#include "tap.h"

int main(void)
{
	struct sbuf sb = SBUF_INIT;
	char *s;

	is_str(sb.buf, "", "a new buffer reads as the empty string");
	is_int(sb.len, 0, "and is empty");
	sbuf_adds(&sb, "abc");
	sbuf_addch(&sb, '-');
	sbuf_addf(&sb, "%d/%s", 42, "x");
	is_str(sb.buf, "abc-42/x", "add, addch and addf append");
	for (int i = 0; i < 1000; i++)
		sbuf_add(&sb, "0123456789", 10);
	is_int(sb.len, 8 + 10000, "grows past many reallocations");
	ok(sb.buf[sb.len] == '\0', "stays NUL-terminated");
	sbuf_setlen(&sb, 3);
	is_str(sb.buf, "abc", "setlen shortens");
	sbuf_add(&sb, "\0z", 2);
	is_int(sb.len, 5, "binary bytes are kept");
	s = sbuf_detach(&sb);
	ok(s && s[3] == '\0' && s[4] == 'z', "detach hands over the bytes");
	is_str(sb.buf, "", "and leaves the buffer empty");
	free(s);
	s = sbuf_detach(&sb);
	is_str(s, "", "detaching an empty buffer gives a heap empty string");
	free(s);
	sbuf_reset(&sb);
	sbuf_release(&sb);
	sbuf_release(&sb);
	ok(sb.buf != NULL, "release twice is harmless and buf is never NULL");
	return done_testing();
}
