/* cmd-object.c: the commands about single objects: put (from a file or
 * stdin, byte for byte), get, rm and revert. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sbuf-int.h"

/* Read all of @fd into @out. @return 0 or -errno. */
static int read_all(int fd, struct sbuf *out)
{
	for (;;) {
		ssize_t n;

		if (sbuf_grow(out, 65536) < 0)
			return -ENOMEM;
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
}

/* The body of put: FILE, or stdin when FILE is absent or "-". */
static int read_body(const char *file, struct sbuf *out)
{
	bool is_stdin = !file || strcmp(file, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0) {
		cli_error("cannot read %s: %s; check the file name", file,
			  strerror(errno));
		return EXIT_FAIL;
	}
	r = read_all(fd, out);
	if (!is_stdin)
		close(fd);
	if (r < 0) {
		cli_error("cannot read %s: %s", is_stdin ? "stdin" : file,
			  strerror(-r));
		return EXIT_FAIL;
	}
	return 0;
}

static const char put_help[] =
	"Usage: agentstate put [--if-version N] COLLECTION ID [FILE]\n"
	"\n"
	"Store the JSON in FILE (or stdin, when FILE is absent or '-') as the\n"
	"object ID of COLLECTION, creating it at version 1 or replacing it\n"
	"with the next version. The bytes are stored exactly as given, after a\n"
	"strict check: exactly one JSON value, valid UTF-8, no duplicate\n"
	"member names, no NaN, comments or trailing commas, nesting at most\n"
	"512, at most 16 MiB. An invalid body is refused with its line and\n"
	"column, and nothing changes. The collection must exist (mkcol).\n"
	"Prints nothing on success; 'agentstate history' shows the versions.\n"
	"\n"
	"Options:\n"
	"  --if-version N   store only if the object is at version N now\n"
	"                   (compare-and-set); N = 0: only if it does not\n"
	"                   exist yet. Otherwise fail, changing nothing.\n"
	"  -h, --help       show this help\n"
	"\n"
	"Example:\n"
	"  agentstate put users alice alice.json\n"
	"  echo '{\"age\": 31}' | agentstate put --if-version 1 users alice\n";

int cmd_put(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "if-version", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "ID", "FILE" };
	struct sbuf body = SBUF_INIT;
	int64_t if_version = AGS_VERSION_ANY;
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'i':
			r = cli_parse_number(argv[0], "--if-version", optarg, 0,
					     &if_version);
			if (r)
				return r;
			if (if_version == 0)
				if_version = AGS_VERSION_ABSENT;
			break;
		case 'h':
			return cli_help(put_help);
		default:
			return EXIT_USAGE;
		}
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 3, names);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = read_body(argc - optind == 3 ? args[2] : NULL, &body);
	if (r == 0 && ags_object_put(s, NULL, args[0], args[1], body.buf,
				     body.len, if_version) < 0)
		r = cli_store_error(s);
	sbuf_release(&body);
	ags_store_close(s);
	return r;
}

static const char get_help[] =
	"Usage: agentstate get [--version N] COLLECTION ID\n"
	"\n"
	"Print the body of an object exactly as it was stored, byte for byte,\n"
	"with no newline added.\n"
	"\n"
	"Options:\n"
	"  --version N   print the earlier version N (see 'agentstate "
	"history')\n"
	"  -h, --help    show this help\n"
	"\n"
	"Example:\n"
	"  agentstate get users alice | jq .age\n";

int cmd_get(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "ID" };
	struct ags_object obj;
	int64_t version = 0;
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'v':
			r = cli_parse_number(argv[0], "--version", optarg, 1,
					     &version);
			if (r)
				return r;
			break;
		case 'h':
			return cli_help(get_help);
		default:
			return EXIT_USAGE;
		}
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 2, names);
	if (r)
		return r;
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	if (ags_object_get(s, args[0], args[1], version, true, &obj) < 0)
		r = cli_store_error(s);
	else
		r = cli_write(obj.body, obj.body_len) ? EXIT_FAIL : EXIT_OK;
	ags_store_close(s);
	return r;
}

static const char rm_help[] =
	"Usage: agentstate rm [-f] [--if-version N] COLLECTION ID\n"
	"\n"
	"Remove an object. Its removal is audited and its last body stays in\n"
	"history. Prints nothing.\n"
	"\n"
	"Options:\n"
	"  -f, --force      succeed when the object (or its collection) does\n"
	"                   not exist\n"
	"  --if-version N   remove only if the object is at version N now\n"
	"  -h, --help       show this help\n"
	"\n"
	"Example:\n"
	"  agentstate rm -f sessions old-session\n";

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "if-version", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "ID" };
	int64_t if_version = AGS_VERSION_ANY;
	bool force = false;
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":fh", options)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'i':
			r = cli_parse_number(argv[0], "--if-version", optarg, 1,
					     &if_version);
			if (r)
				return r;
			break;
		case 'h':
			return cli_help(rm_help);
		default:
			return EXIT_USAGE;
		}
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 2, names);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = ags_object_remove(s, args[0], args[1], if_version);
	if (r == -ENOENT && force)
		r = 0;
	if (r < 0)
		cli_store_error(s);
	ags_store_close(s);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static const char revert_help[] =
	"Usage: agentstate revert COLLECTION ID VERSION\n"
	"\n"
	"Make a new version of an object holding the body of its earlier\n"
	"VERSION (audited as \"revert\"); history is never rewritten. Prints\n"
	"nothing; 'agentstate history' shows the new version.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate history users alice\n"
	"  agentstate revert users alice 2\n";

int cmd_revert(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "ID", "VERSION" };
	int64_t version;
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return cli_help(revert_help);
		return EXIT_USAGE;
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 3, 3, names);
	if (r)
		return r;
	r = cli_parse_number(argv[0], "VERSION", args[2], 1, &version);
	if (r)
		return r;
	if (cli_open(cli, &s, false))
		return EXIT_FAIL;
	r = ags_object_revert(s, NULL, args[0], args[1], version);
	if (r < 0)
		cli_store_error(s);
	ags_store_close(s);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
