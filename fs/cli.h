/* cli.h: what the sub-commands of the agentstate command share: the parsed
 * global options, opening the store, and reporting errors the same way. */
#ifndef AGS_CLI_H
#define AGS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentstate.h"

/* Exit codes: success, failure (not found included), bad usage. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	const char *store_uri; /* --store, else $AGENTSTATE_STORE, else
				  ./agentstate.db */
};

/* A sub-command: argv[0] is the command's name; returns an exit code. */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

/** Open the store for a command; on failure print the error and return
 * EXIT_FAIL. The actor's origin is "cli". */
int cli_open(struct cli *cli, ags_store **out, bool read_only);

/** Print "agentstate: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Print a usage error for @command with a hint to run --help; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Parse the next option of a sub-command with getopt_long (GNU
 * permutation: options may come anywhere among the arguments, "--" ends
 * them). @optstring must start with ':'. A bad option or a missing argument
 * is reported as a usage error and returned as '?'. */
int cli_getopt(int argc, char **argv, const char *optstring,
	       const struct option *longopts);

/** Check that the @n positional arguments of @command number between @min
 * and @max; @names names them all, for "missing ID". @return 0, or
 * EXIT_USAGE after the usage error is printed. */
int cli_positionals(const char *command, int n, char **args, int min, int max,
		    const char *const names[]);

/** Parse @text, the argument of @option, as an integer of at least @min.
 * @return 0 with *out set, or EXIT_USAGE after the usage error. */
int cli_parse_number(const char *command, const char *option, const char *text,
		     int64_t min, int64_t *out);

/** Print a command's help text on stdout; returns EXIT_OK. */
int cli_help(const char *text);

/** Print the last error of @store; returns EXIT_FAIL. */
int cli_store_error(ags_store *store);

/** Write @len bytes on stdout. @return 0; EXIT_FAIL after the error is
 * printed; or -EPIPE, silently, once the reader is gone (only possible with
 * SIGPIPE ignored), so a follower can end quietly. After a failure nothing
 * more is written and the same value is returned. */
int cli_write(const void *buf, size_t len);

/** Flush stdout; returns as cli_write(). */
int cli_flush(void);

/* The store and its collections, in cmd-collection.c. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_mkcol(struct cli *cli, int argc, char **argv);
int cmd_rmcol(struct cli *cli, int argc, char **argv);

/* Objects, in cmd-object.c. */
int cmd_put(struct cli *cli, int argc, char **argv);
int cmd_get(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_revert(struct cli *cli, int argc, char **argv);

/* Queries, in cmd-query.c. */
int cmd_find(struct cli *cli, int argc, char **argv);
int cmd_query(struct cli *cli, int argc, char **argv);
int cmd_index(struct cli *cli, int argc, char **argv);

/* The audit log and object history, in cmd-audit.c. */
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);

/* Export, import, backup, restore and check, in cmd-snapshot.c. */
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);

/* The mount commands, in cmd-mount.c. */
int cmd_mount(struct cli *cli, int argc, char **argv);
int cmd_umount(struct cli *cli, int argc, char **argv);

#endif
