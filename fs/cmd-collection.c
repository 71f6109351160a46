/* cmd-collection.c: the commands about the store and its collections:
 * init, ls (collections, or the ids of one collection), mkcol and rmcol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json-write-int.h"

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* ---- init ------------------------------------------------------------- */

static const char init_help[] =
	"Usage: agentstate [--store URI] init\n"
	"\n"
	"Create the store named by --store (default $AGENTSTATE_STORE, else\n"
	"./agentstate.db) and print \"initialized store PATH\". Running it on\n"
	"an existing store changes nothing and says so. Every other command\n"
	"needs the store to exist.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate --store sqlite:///var/lib/agent/state.db init\n";

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct ags_options existing = { .no_create = true };
	char *msg = NULL;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", help_only)) != -1) {
		if (c == 'h')
			return cli_help(init_help);
		return EXIT_USAGE;
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 0, 0, NULL);
	if (r)
		return r;
	r = ags_store_open(&s, cli->store_uri, &existing, &msg);
	if (r == 0) {
		printf("store %s is already initialized\n", ags_store_path(s));
		ags_store_close(s);
		return EXIT_OK;
	}
	/* No file, or an empty one (which only init makes a store of). */
	if (r == -ENOENT || r == -ENODATA) {
		free(msg);
		msg = NULL;
		r = ags_store_open(&s, cli->store_uri, NULL, &msg);
	}
	if (r < 0) {
		cli_error("%s", msg ? msg : strerror(-r));
		free(msg);
		return EXIT_FAIL;
	}
	printf("initialized store %s\n", ags_store_path(s));
	ags_store_close(s);
	return EXIT_OK;
}

/* ---- ls --------------------------------------------------------------- */

static const char ls_help[] =
	"Usage: agentstate ls [--json] [--after NAME] [--limit N] [COLLECTION]\n"
	"\n"
	"Without COLLECTION, list the collections ordered by name, one per\n"
	"line as NAME<tab>COUNT (the number of objects in it).\n"
	"With COLLECTION, list the ids of its objects ordered by id (bytewise),\n"
	"one per line, printed raw: an id may itself hold a newline or a tab,\n"
	"so use --json where ids can be exotic.\n"
	"\n"
	"Options:\n"
	"  --json         print JSON Lines instead: {\"name\": ..., \"count\": "
	"...}\n"
	"                 per collection, {\"id\": ...} per object\n"
	"  --after NAME   start after this collection name or id (paging)\n"
	"  --limit N      print at most N lines (N >= 1)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  agentstate ls\n"
	"  agentstate ls users --limit 100 --after alice\n";

struct ls_ctx {
	bool json;
	struct sbuf line;
};

static int print_collection(void *ctx, const struct ags_collection *col)
{
	struct ls_ctx *ls = ctx;
	int r;

	sbuf_reset(&ls->line);
	if (ls->json) {
		r = sbuf_addch(&ls->line, '{');
		r = r ? r
		      : json_add_member_string(&ls->line, "name", col->name);
		r = r ? r : json_add_member_int(&ls->line, "count", col->count);
		r = r ? r : sbuf_adds(&ls->line, "}\n");
	} else {
		r = sbuf_addf(&ls->line, "%s\t%lld\n", col->name,
			      (long long)col->count);
	}
	if (r) {
		cli_error("cannot list the collections: out of memory");
		return EXIT_FAIL;
	}
	return cli_write(ls->line.buf, ls->line.len);
}

static int print_id(void *ctx, const struct ags_object *obj)
{
	struct ls_ctx *ls = ctx;
	int r;

	sbuf_reset(&ls->line);
	if (ls->json) {
		r = sbuf_addch(&ls->line, '{');
		r = r ? r : json_add_member_string(&ls->line, "id", obj->id);
		r = r ? r : sbuf_adds(&ls->line, "}\n");
	} else {
		r = sbuf_adds(&ls->line, obj->id);
		r = r ? r : sbuf_addch(&ls->line, '\n');
	}
	if (r) {
		cli_error("cannot list %s: out of memory", obj->collection);
		return EXIT_FAIL;
	}
	return cli_write(ls->line.buf, ls->line.len);
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION" };
	struct ls_ctx ctx = { .line = SBUF_INIT };
	const char *after = NULL;
	int64_t limit = 0;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'j':
			ctx.json = true;
			break;
		case 'a':
			after = optarg;
			break;
		case 'l':
			r = cli_parse_number(argv[0], "--limit", optarg, 1,
					     &limit);
			if (r)
				return r;
			break;
		case 'h':
			return cli_help(ls_help);
		default:
			return EXIT_USAGE;
		}
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 0, 1, names);
	if (r)
		return r;
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	if (optind == argc)
		r = ags_collection_list(s, after, (size_t)limit,
					print_collection, &ctx);
	else
		r = ags_object_list(s, argv[optind], after, (size_t)limit,
				    false, print_id, &ctx);
	if (r < 0)
		cli_store_error(s);
	sbuf_release(&ctx.line);
	ags_store_close(s);
	return r ? EXIT_FAIL : EXIT_OK;
}

/* ---- mkcol and rmcol -------------------------------------------------- */

static const char mkcol_help[] =
	"Usage: agentstate mkcol NAME\n"
	"\n"
	"Create an empty collection. A name is 1-128 bytes of A-Z a-z 0-9\n"
	"'_' '.' '-', not starting with '.' or '-'. Prints nothing; fails\n"
	"if the collection exists.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate mkcol users\n";

int cmd_mkcol(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "NAME" };
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", help_only)) != -1) {
		if (c == 'h')
			return cli_help(mkcol_help);
		return EXIT_USAGE;
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1, names);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = ags_collection_create(s, argv[optind]);
	if (r < 0)
		cli_store_error(s);
	ags_store_close(s);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static const char rmcol_help[] =
	"Usage: agentstate rmcol [--force] NAME\n"
	"\n"
	"Drop a collection. Without --force it must be empty. Prints nothing.\n"
	"The removal of each object and of the collection is audited.\n"
	"\n"
	"Options:\n"
	"  -f, --force   remove the objects in it first\n"
	"  -h, --help    show this help\n"
	"\n"
	"Example:\n"
	"  agentstate rmcol --force scratch\n";

int cmd_rmcol(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "NAME" };
	bool force = false;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":fh", options)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cli_help(rmcol_help);
		default:
			return EXIT_USAGE;
		}
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1, names);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = ags_collection_drop(s, argv[optind], force);
	if (r < 0)
		cli_store_error(s);
	ags_store_close(s);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
