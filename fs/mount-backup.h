/* mount-backup.h: the daemon's periodic backups
 * (-o backup_dir=DIR,backup_interval=SECONDS,backup_keep=N). */
#ifndef AGS_MOUNT_BACKUP_H
#define AGS_MOUNT_BACKUP_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>

struct mount;

struct mount_backup {
	char *dir;	   /* NULL: no periodic backups */
	unsigned interval; /* seconds between backups */
	unsigned keep;	   /* backups kept in dir (0: all) */
	pthread_t thread;
	bool running;
	sem_t wake; /* posted to end the thread */
};

/** Take one backup option ("backup_dir=...", "backup_interval=...",
 * "backup_keep=..."). @return 1 taken, 0 not a backup option, -EINVAL bad
 * value (message in @why). */
int mount_backup_option(struct mount_backup *b, const char *opt,
			const char **why);
/** Check the options once all are read: an interval or keep without a
 * directory is an error. @return 0 or -EINVAL with @why. */
int mount_backup_check(const struct mount_backup *b, const char **why);

/** Start the backup thread (after the daemon went to the background:
 * threads do not survive fork). No-op without backup_dir. */
int mount_backup_start(struct mount *m, struct mount_backup *b);
/** Stop it and wait for a backup in progress to finish. Accepts a backup
 * that never started. */
void mount_backup_stop(struct mount_backup *b);
void mount_backup_release(struct mount_backup *b);

#endif
