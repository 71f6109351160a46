/* fixture.h: stores for the unit tests: a fresh store file in a temporary
 * directory, removed at exit, and small readers of its state. */
#ifndef AGS_FIXTURE_H
#define AGS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentstate.h"
#include "sbuf-int.h"

static char fixture_dir[] = "/tmp/ags-unit-XXXXXX";

static void fixture_cleanup(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fixture_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", fixture_dir);
}

/* The path of a new store file (same each call within one test). */
static inline const char *fixture_path(void)
{
	static char path[64];

	if (!path[0]) {
		if (!mkdtemp(fixture_dir))
			abort();
		atexit(fixture_cleanup);
		snprintf(path, sizeof(path), "%s/store.db", fixture_dir);
	}
	return path;
}

static inline ags_store *fixture_open(void)
{
	ags_store *s = NULL;
	char *msg = NULL;

	if (ags_store_open(&s, fixture_path(), NULL, &msg) < 0) {
		printf("Bail out! cannot open the test store: %s\n", msg);
		exit(1);
	}
	return s;
}

static int count_cb(void *ctx, const struct ags_audit_row *row)
{
	(void)row;
	++*(int *)ctx;
	return 0;
}

/* Number of audit rows. */
static inline int audit_rows(ags_store *s)
{
	int n = 0;

	ags_audit_list(s, NULL, count_cb, &n);
	return n;
}

/* The current body of an object, or "(absent)". Caller frees. */
static inline char *body_of(ags_store *s, const char *c, const char *id)
{
	struct ags_object o;

	if (ags_object_get(s, c, id, 0, true, &o) < 0)
		return strdup("(absent)");
	return strndup(o.body, o.body_len);
}

#endif
