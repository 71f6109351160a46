/* cmd-mount.c: a placeholder for the mount commands until the FUSE daemon
 * lands; it says so instead of failing to link. */
#include <stdio.h>

#include "cli.h"

int cmd_mount(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	cli_error("mount is not built in this version");
	return EXIT_FAIL;
}

int cmd_umount(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	cli_error("mount is not built in this version");
	return EXIT_FAIL;
}
