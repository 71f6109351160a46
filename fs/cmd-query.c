/* cmd-query.c: the query commands: find (a field equal to a value), query
 * (a filter document) and index. Results are JSON Lines, so each body is
 * printed on one line with the white space between its tokens removed. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json-int.h"
#include "json-write-int.h"

/* Append a body that passed the strict JSON check without the white space
 * between tokens. Strings and numbers are copied byte for byte, so nothing
 * of their spelling changes and the line holds no raw newline (a string
 * cannot hold one unescaped). */
static int add_compact(struct sbuf *out, const char *body, size_t len)
{
	size_t start = 0, i = 0;
	int r = 0;

	while (r == 0 && i < len) {
		char c = body[i];

		if (c == '"') {
			for (i++; i < len && body[i] != '"'; i++)
				if (body[i] == '\\')
					i++;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			r = sbuf_add(out, body + start, i - start);
			while (i < len && (body[i] == ' ' || body[i] == '\t' ||
					   body[i] == '\n' || body[i] == '\r'))
				i++;
			start = i;
		} else {
			i++;
		}
	}
	if (r == 0 && start < len)
		r = sbuf_add(out, body + start, len - start);
	return r;
}

struct result_ctx {
	struct sbuf line;
};

/* One result as {"id": ID, "body": BODY} on its own line. */
static int print_result(void *ctx, const struct ags_object *obj)
{
	struct result_ctx *res = ctx;
	int r;

	sbuf_reset(&res->line);
	r = sbuf_addch(&res->line, '{');
	r = r ? r : json_add_member_string(&res->line, "id", obj->id);
	r = r ? r : sbuf_adds(&res->line, ", \"body\": ");
	r = r ? r : add_compact(&res->line, obj->body, obj->body_len);
	r = r ? r : sbuf_adds(&res->line, "}\n");
	if (r) {
		cli_error("cannot print %s/%s: out of memory", obj->collection,
			  obj->id);
		return EXIT_FAIL;
	}
	return cli_write(res->line.buf, res->line.len);
}

/* The options find and query share. */
struct page {
	const char *after;
	int64_t limit;
};

static const struct option page_options[] = {
	{ "after", required_argument, NULL, 'a' },
	{ "limit", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Parse the options of find or query. @return 0, EXIT_OK after --help, or
 * EXIT_USAGE; *done tells whether the command is over. */
static int parse_page(int argc, char **argv, const char *help,
		      struct page *page, bool *done)
{
	int c, r;

	*done = true;
	while ((c = cli_getopt(argc, argv, ":h", page_options)) != -1) {
		switch (c) {
		case 'a':
			page->after = optarg;
			break;
		case 'l':
			r = cli_parse_number(argv[0], "--limit", optarg, 1,
					     &page->limit);
			if (r)
				return r;
			break;
		case 'h':
			return cli_help(help);
		default:
			return EXIT_USAGE;
		}
	}
	*done = false;
	return 0;
}

/* Open the store, run a find or a query, print each result. */
static int run_query(struct cli *cli, const char *collection, const char *field,
		     const char *value, size_t len, const struct page *page)
{
	struct result_ctx ctx = { .line = SBUF_INIT };
	ags_store *s;
	int r;

	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	if (field)
		r = ags_query_find(s, collection, field, value, len,
				   page->after, (size_t)page->limit,
				   print_result, &ctx);
	else
		r = ags_query_filter(s, collection, value, len, page->after,
				     (size_t)page->limit, print_result, &ctx);
	if (r < 0)
		cli_store_error(s);
	sbuf_release(&ctx.line);
	ags_store_close(s);
	return r ? EXIT_FAIL : EXIT_OK;
}

static const char find_help[] =
	"Usage: agentstate find [--after ID] [--limit N] COLLECTION FIELD "
	"VALUE\n"
	"\n"
	"Print the objects of COLLECTION whose FIELD equals VALUE, ordered by\n"
	"id, as JSON Lines: {\"id\": ID, \"body\": BODY} per object, where "
	"BODY\n"
	"is the stored body with the white space between its tokens removed\n"
	"(strings and numbers are kept exactly).\n"
	"\n"
	"FIELD is a dotted path (address.city, tags.0) or a JSONPath\n"
	"($.address.city, $.tags[0]). VALUE is taken as JSON when it is valid\n"
	"JSON (30, true, null, \"12\", {\"a\": 1}), else as a string (alice).\n"
	"Equality compares type and value: true is not 1, \"12\" is not 12,\n"
	"12 equals 12.0, null matches null, a missing field matches nothing.\n"
	"\n"
	"Options:\n"
	"  --after ID   only objects whose id sorts after ID (paging)\n"
	"  --limit N    print at most N objects (N >= 1)\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate find users role admin\n"
	"  agentstate find users address.zip '\"01234\"'\n";

int cmd_find(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "COLLECTION", "FIELD", "VALUE" };
	struct sbuf value = SBUF_INIT;
	struct page page = { 0 };
	const char *text;
	char **args;
	bool done;
	int r;

	r = parse_page(argc, argv, find_help, &page, &done);
	if (done)
		return r;
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 3, 3, names);
	if (r)
		return r;
	text = args[2];
	if (json_check(text, strlen(text), NULL) == 0)
		r = sbuf_adds(&value, text);
	else
		r = json_add_string(&value, text, strlen(text));
	if (r) {
		cli_error("cannot search %s: out of memory", args[0]);
		return EXIT_FAIL;
	}
	r = run_query(cli, args[0], args[1], value.buf, value.len, &page);
	sbuf_release(&value);
	return r;
}

static const char query_help[] =
	"Usage: agentstate query [--after ID] [--limit N] COLLECTION FILTER\n"
	"\n"
	"Print the objects of COLLECTION matching the filter document FILTER,\n"
	"ordered by id, as JSON Lines like 'agentstate find'.\n"
	"\n"
	"FILTER is a JSON object mapping fields (dotted paths or JSONPath) to\n"
	"a value (equality) or to operators: $eq $ne $gt $gte $lt $lte, $in\n"
	"and $nin (with an array), $exists (true or false). All fields must\n"
	"match.\n"
	"\n"
	"Options:\n"
	"  --after ID   only objects whose id sorts after ID (paging)\n"
	"  --limit N    print at most N objects (N >= 1)\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate query users '{\"age\": {\"$gte\": 18}, \"role\": "
	"\"admin\"}'\n";

int cmd_query(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "COLLECTION", "FILTER" };
	struct page page = { 0 };
	char **args;
	bool done;
	int r;

	r = parse_page(argc, argv, query_help, &page, &done);
	if (done)
		return r;
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 2, names);
	if (r)
		return r;
	return run_query(cli, args[0], NULL, args[1], strlen(args[1]), &page);
}

static const char index_help[] =
	"Usage: agentstate index COLLECTION FIELD\n"
	"\n"
	"Add an index on FIELD (a dotted path or JSONPath) of COLLECTION, so\n"
	"that find and query compare that field without reading every\n"
	"object. Running it again changes nothing. Prints nothing.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate index users role\n";

int cmd_index(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "FIELD" };
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return cli_help(index_help);
		return EXIT_USAGE;
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 2, names);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = ags_index_create(s, args[0], args[1]);
	if (r < 0)
		cli_store_error(s);
	ags_store_close(s);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
