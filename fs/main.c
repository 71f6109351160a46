/* main.c: the agentstate command: global options (--store), the table of
 * sub-commands, the overall help, and the exit code once stdout is flushed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"

#define DEFAULT_STORE "./agentstate.db"

static int cmd_help(struct cli *cli, int argc, char **argv);

struct command {
	const char *name;
	cli_command_fn run;
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, "create the store" },
	{ "put", cmd_put, "store an object from a file or stdin" },
	{ "get", cmd_get, "print an object's body" },
	{ "rm", cmd_rm, "remove an object" },
	{ "ls", cmd_ls, "list collections, or the ids in a collection" },
	{ "mkcol", cmd_mkcol, "create a collection" },
	{ "rmcol", cmd_rmcol, "drop a collection" },
	{ "find", cmd_find, "list the objects whose field equals a value" },
	{ "query", cmd_query, "list the objects matching a filter" },
	{ "index", cmd_index, "index a field for find and query" },
	{ "log", cmd_log, "print or follow the audit log" },
	{ "history", cmd_history, "list the versions of an object" },
	{ "revert", cmd_revert, "make a new version from an earlier one" },
	{ "export", cmd_export, "write the store as a tree of JSON files" },
	{ "import", cmd_import, "make the store match a tree of JSON files" },
	{ "backup", cmd_backup, "write a consistent copy of the whole store" },
	{ "restore", cmd_restore, "replace the store with a backup" },
	{ "check", cmd_check, "check the store's integrity and invariants" },
	{ "mount", cmd_mount, "mount the store as a filesystem" },
	{ "umount", cmd_umount, "unmount a mounted store" },
	{ "help", cmd_help, "show the help of a command" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_head[] =
	"Usage: agentstate [--store URI] COMMAND [ARGUMENTS...]\n"
	"\n"
	"Keep an agent's state, named collections of JSON objects, in a store\n"
	"where every change is recorded in an append-only audit log and\n"
	"earlier versions of each object are kept.\n"
	"\n"
	"Options (before COMMAND):\n"
	"  --store URI   the store to use: sqlite:///ABSOLUTE/PATH,\n"
	"                sqlite://RELATIVE/PATH, a plain file path, or\n"
	"                sqlite://:memory: (gone when the command ends);\n"
	"                default $AGENTSTATE_STORE, else " DEFAULT_STORE "\n"
	"  -h, --help    show this help\n"
	"  --version     print the version of agentstate and of SQLite\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"Run 'agentstate COMMAND --help' for the arguments of each command.\n"
	"Only 'init' creates a store: every other command fails on a store\n"
	"that does not exist, so a mistyped --store creates nothing.\n"
	"Options of a command may come anywhere after its name; '--' ends\n"
	"them (for an id that starts with '-').\n"
	"\n"
	"Results go to stdout, errors to stderr as one line.\n"
	"Exit status: 0 success, 1 failure (including not found), 2 bad "
	"usage.\n"
	"\n"
	"Example:\n"
	"  agentstate init\n"
	"  agentstate mkcol users\n"
	"  echo '{\"name\": \"alice\", \"age\": 30}' | agentstate put users "
	"alice\n"
	"  agentstate get users alice\n"
	"  agentstate find users name alice\n"
	"  agentstate log --follow\n";

static void print_usage(void)
{
	fputs(usage_head, stdout);
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs(usage_tail, stdout);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const char help_help[] =
	"Usage: agentstate help [COMMAND]\n"
	"\n"
	"Show the help of COMMAND, or of agentstate itself; the same as\n"
	"'agentstate COMMAND --help'.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate help put\n";

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COMMAND" };
	const struct command *cmd;
	char *args[3];
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return cli_help(help_help);
		return EXIT_USAGE;
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 0, 1, names);
	if (r)
		return r;
	if (optind == argc) {
		print_usage();
		return EXIT_OK;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return cli_usage_error(argv[0], "unknown command '%s'",
				       argv[optind]);
	args[0] = (char *)cmd->name;
	args[1] = (char *)"--help";
	args[2] = NULL;
	optind = 0;
	return cmd->run(cli, 2, args);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *env = getenv("AGENTSTATE_STORE");
	struct cli cli = { .store_uri = env && *env ? env : DEFAULT_STORE };
	const struct command *cmd;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.store_uri = optarg;
			break;
		case 'h':
			print_usage();
			return cli_flush() > 0 ? EXIT_FAIL : EXIT_OK;
		case 'V':
			printf("agentstate %s (SQLite %s)\n", AGS_VERSION,
			       sqlite3_libversion());
			return cli_flush() > 0 ? EXIT_FAIL : EXIT_OK;
		case ':':
			return cli_usage_error(NULL,
					       "option '%s' needs an argument",
					       argv[optind - 1]);
		default:
			if (optopt && strncmp(argv[optind - 1], "--", 2))
				return cli_usage_error(
					NULL, "unknown option '-%c'", optopt);
			return cli_usage_error(NULL, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind == argc)
		return cli_usage_error(NULL, "missing COMMAND");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'",
				       argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0; /* a fresh getopt scan for the command */
	r = cmd->run(&cli, argc, argv);
	c = cli_flush();
	if (r == EXIT_OK && c > 0)
		r = EXIT_FAIL;
	return r;
}
