/* renameat2.c: rename(2) with flags, for the mount tests: coreutils has no
 * way to ask for RENAME_NOREPLACE or RENAME_EXCHANGE.
 *
 *   renameat2 none|noreplace|exchange OLD NEW
 *
 * Prints "ok", or the errno name (EEXIST, ENOENT, ...) on failure, and exits
 * 0 or 1 accordingly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static const char *errno_name(int e)
{
	switch (e) {
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EPERM:
		return "EPERM";
	case EROFS:
		return "EROFS";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case EXDEV:
		return "EXDEV";
	default:
		return strerror(e);
	}
}

int main(int argc, char **argv)
{
	unsigned flags;

	if (argc != 4) {
		fprintf(stderr, "usage: renameat2 none|noreplace|exchange "
				"OLD NEW\n");
		return 2;
	}
	if (strcmp(argv[1], "none") == 0) {
		flags = 0;
	} else if (strcmp(argv[1], "noreplace") == 0) {
		flags = RENAME_NOREPLACE;
	} else if (strcmp(argv[1], "exchange") == 0) {
		flags = RENAME_EXCHANGE;
	} else {
		fprintf(stderr, "renameat2: unknown flag '%s'\n", argv[1]);
		return 2;
	}
	if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) != 0) {
		printf("%s\n", errno_name(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}
