/* backup-int.h: what backup.c and restore.c share: copying a database page
 * by page with SQLite's online backup API. */
#ifndef AGS_BACKUP_INT_H
#define AGS_BACKUP_INT_H

#include "store-int.h"

/** Whether a store's file name is an in-memory database. */
bool backup_is_memory(const char *path);

/** Remove a database file and its journal, WAL and shared-memory files
 * (a backup's temporary copy, a store a refused restore created). */
void backup_remove_db(const char *path);

/** Copy every page of @src into @dst in steps, calling @progress with
 * pages done and total; a busy destination is retried for a while. Errors
 * are set on @s with the message of @err_db. @return 0 or -errno. */
int backup_copy_pages(ags_store *s, sqlite3 *dst, sqlite3 *src, sqlite3 *err_db,
		      const char *what, ags_progress_cb progress, void *ctx);

#endif
