/* mount-backup.c: periodic backups taken by the daemon. A thread of its own
 * with a store handle of its own calls ags_backup_rotate() every interval:
 * the backup reads one consistent state in steps, so the workers serving
 * the mount are never held up, and an unchanged store writes nothing. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "mount-backup.h"
#include "mount.h"

#define BACKUP_INTERVAL_DEFAULT 3600

static int parse_uint(const char *s, unsigned min, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > UINT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int mount_backup_option(struct mount_backup *b, const char *opt,
			const char **why)
{
	if (!strncmp(opt, "backup_dir=", 11)) {
		if (!opt[11]) {
			*why = "backup_dir needs a directory";
			return -EINVAL;
		}
		free(b->dir);
		b->dir = realpath(opt + 11, NULL);
		if (!b->dir) {
			*why = "backup_dir must be an existing directory";
			return -EINVAL;
		}
		return 1;
	}
	if (!strncmp(opt, "backup_interval=", 16)) {
		if (parse_uint(opt + 16, 1, &b->interval) < 0) {
			*why = "backup_interval needs a number of seconds >= 1";
			return -EINVAL;
		}
		return 1;
	}
	if (!strncmp(opt, "backup_keep=", 12)) {
		if (parse_uint(opt + 12, 0, &b->keep) < 0) {
			*why = "backup_keep needs a count (0 keeps all)";
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}

int mount_backup_check(const struct mount_backup *b, const char **why)
{
	if (!b->dir && (b->interval || b->keep)) {
		*why = "backup_interval and backup_keep need backup_dir=DIR";
		return -EINVAL;
	}
	return 0;
}

static void take_backup(struct mount *m, struct mount_backup *b, ags_store *s)
{
	char *path = NULL;
	int r = ags_backup_rotate(s, &path, b->dir, b->keep);

	if (r == 0)
		mount_log(m, LOG_INFO, "backup written: %s", path);
	else if (r < 0)
		mount_log(m, LOG_ERR, "periodic backup into %s failed: %s",
			  b->dir, ags_errmsg(s));
	free(path);
}

struct backup_args {
	struct mount *m;
	struct mount_backup *b;
};

static void *backup_thread(void *arg)
{
	struct backup_args *a = arg;
	struct mount *m = a->m;
	struct mount_backup *b = a->b;
	struct timespec until;
	ags_store *s = NULL;
	char *msg = NULL;

	free(a);
	if (ags_store_open(&s, m->uri, &m->opts, &msg) < 0) {
		mount_log(m, LOG_ERR, "periodic backups are off: %s", msg);
		free(msg);
		return NULL;
	}
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += b->interval;
		if (sem_timedwait(&b->wake, &until) == 0)
			break; /* stopped */
		if (errno == ETIMEDOUT)
			take_backup(m, b, s);
	}
	ags_store_close(s);
	return NULL;
}

int mount_backup_start(struct mount *m, struct mount_backup *b)
{
	struct backup_args *a;
	int r;

	if (!b->dir)
		return 0;
	if (!b->interval)
		b->interval = BACKUP_INTERVAL_DEFAULT;
	a = malloc(sizeof(*a));
	if (!a || sem_init(&b->wake, 0, 0) < 0) {
		free(a);
		return -ENOMEM;
	}
	a->m = m;
	a->b = b;
	r = pthread_create(&b->thread, NULL, backup_thread, a);
	if (r) {
		free(a);
		sem_destroy(&b->wake);
		return -r;
	}
	b->running = true;
	mount_log(m, LOG_INFO, "backups into %s every %u s, keeping %u", b->dir,
		  b->interval, b->keep);
	return 0;
}

void mount_backup_stop(struct mount_backup *b)
{
	if (!b->running)
		return;
	sem_post(&b->wake);
	pthread_join(b->thread, NULL);
	sem_destroy(&b->wake);
	b->running = false;
}

void mount_backup_release(struct mount_backup *b)
{
	mount_backup_stop(b);
	free(b->dir);
	b->dir = NULL;
}
