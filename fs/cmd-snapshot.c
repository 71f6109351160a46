/* cmd-snapshot.c: the commands that move a whole store in or out: export
 * and import (a tree of JSON files, for git), backup and restore (one
 * SQLite file), and check. Long runs draw a progress bar on a terminal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sbuf-int.h"

/* ---- progress and output ----------------------------------------------- */

/* Redrawn at most this often: a terminal cannot show more, and writing
 * stderr for each of 100k objects would cost more than the work. */
#define PROGRESS_NS 100000000

struct progress {
	const char *label;
	bool on; /* stderr is a terminal */
	bool drawn;
	int64_t last_ns;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void progress_init(struct progress *p, const char *label)
{
	*p = (struct progress){ .label = label, .on = isatty(2) == 1 };
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	char bar[31];
	int64_t now;
	size_t fill;

	if (!p->on || !total)
		return;
	now = now_ns();
	if (done < total && p->drawn && now - p->last_ns < PROGRESS_NS)
		return;
	p->last_ns = now;
	p->drawn = true;
	fill = (size_t)(done * (sizeof(bar) - 1) / total);
	memset(bar, '#', fill);
	memset(bar + fill, '.', sizeof(bar) - 1 - fill);
	bar[sizeof(bar) - 1] = '\0';
	fprintf(stderr, "\r%s [%s] %3u%% %llu/%llu", p->label, bar,
		(unsigned)(done * 100 / total), (unsigned long long)done,
		(unsigned long long)total);
	fflush(stderr);
}

/* Clear the bar's line before anything else is printed. */
static void progress_end(struct progress *p)
{
	if (p && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = false;
	}
}

/* Append @s with control characters made visible (an id may hold a
 * newline), so that each report stays one line. */
static void add_printable(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			sbuf_adds(out, "\\n");
		else if (c == '\t')
			sbuf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sbuf_addf(out, "\\x%02x", c);
		else
			sbuf_addch(out, (char)c);
	}
}

struct report {
	struct progress *bar;
	const char *command;
	struct sbuf line;
};

static void report_line(struct report *rp, const char *text)
{
	progress_end(rp->bar);
	sbuf_reset(&rp->line);
	add_printable(&rp->line, text);
}

/* Progress of a call whose callbacks share one context, the report. */
static void report_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct report *rp = ctx;

	progress_cb(rp->bar, done, total);
}

/* A result line (a change, a problem found): stdout. */
static void report_out(void *ctx, const char *text)
{
	struct report *rp = ctx;

	report_line(rp, text);
	sbuf_addch(&rp->line, '\n');
	cli_write(rp->line.buf, rp->line.len);
}

/* An error line (an invalid file): stderr, "agentstate: COMMAND: ...". */
static void report_err(void *ctx, const char *text)
{
	struct report *rp = ctx;

	report_line(rp, text);
	cli_error("%s: %s", rp->command, rp->line.buf);
}

/* ---- parsing --at -------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "2026-11-22T10:00:00Z", with optional fractions of a second and a zone
 * "Z" or "+HH:MM"/"-HH:MM". @return 0 with *out in ns, or -EINVAL. */
static int parse_iso8601(const char *text, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = 100000000, offset = 0;
	int hh, mm, n;
	time_t t;

	if (!p)
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' && !p[1]) {
		offset = 0;
	} else if ((*p == '+' || *p == '-') &&
		   sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) == 2 && !p[1 + n]) {
		offset = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
	} else {
		return -EINVAL;
	}
	t = timegm(&tm);
	*out = ((int64_t)t - offset) * 1000000000 + frac;
	return 0;
}

/* --at SEQ, --at @UNIX-SECONDS or --at ISO-8601 time. */
static int parse_at(const char *command, const char *text,
		    struct ags_export_options *o)
{
	int64_t v;

	if (all_digits(text)) {
		if (cli_parse_number(command, "--at", text, 0, &v))
			return EXIT_USAGE;
		o->at = AGS_AT_SEQ;
		o->at_value = v;
		return 0;
	}
	if (text[0] == '@' && all_digits(text + 1)) {
		if (cli_parse_number(command, "--at", text + 1, 0, &v))
			return EXIT_USAGE;
		if (v > INT64_MAX / 1000000000)
			return cli_usage_error(command,
					       "--at %s is too far "
					       "in the future",
					       text);
		o->at = AGS_AT_TIME;
		o->at_value = v * 1000000000;
		return 0;
	}
	if (parse_iso8601(text, &v) == 0) {
		o->at = AGS_AT_TIME;
		o->at_value = v;
		return 0;
	}
	return cli_usage_error(command,
			       "--at needs an audit seq (1234), a time "
			       "(2026-11-22T10:00:00Z) or @UNIX-SECONDS, "
			       "not '%s'",
			       text);
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* ---- export -------------------------------------------------------------- */

static const char export_help[] =
	"Usage: agentstate export [--collection NAME]... [--raw] "
	"[--at SEQ|TIME]\n"
	"                         [--no-sync] [--verify] DIR\n"
	"\n"
	"Write the store into DIR as DIR/COLLECTION/ID.json, with the same\n"
	"file names as the mount, for git and other file tools. Each file is\n"
	"in the canonical pretty form (2-space indent, one member or element\n"
	"per line, numbers and strings spelled as stored), so a change of\n"
	"one field is a change of one line.\n"
	"\n"
	"The export reads one consistent state, even while others write, and\n"
	"records the audit seq it reflects in DIR/.agentstate-export.json. It\n"
	"is incremental: files whose content would not change are left alone\n"
	"(their mtime too), files of removed objects are deleted, and so are\n"
	"directories of dropped collections once nothing else is in them.\n"
	"Each file written gets its object's version time as mtime; a file\n"
	"that still has exactly that mtime and has not changed since the\n"
	"last export is taken as it is, unread, so re-exporting an unchanged\n"
	"store is one stat per file. Any other file is read and compared.\n"
	"Nothing else in DIR is touched (.git, a README, other files). Each\n"
	"file is replaced atomically, so an interrupted export leaves only\n"
	"whole files; running it again completes it.\n"
	"\n"
	"Prints one line: the seq and how many files were written and removed.\n"
	"\n"
	"Options:\n"
	"  --collection NAME  export only this collection (repeatable); other\n"
	"                     directories in DIR are then not touched\n"
	"  --raw              write the stored bytes instead of the pretty form\n"
	"  --at SEQ|TIME      the state right after audit row SEQ, or at TIME\n"
	"                     (2026-11-22T10:00:00Z, or @UNIX-SECONDS), rebuilt\n"
	"                     from history; fails if a version it needs was\n"
	"                     pruned by retention\n"
	"  --no-sync          do not flush the files to disk at the end\n"
	"                     (faster; a power loss soon after may leave\n"
	"                     files of this export empty: export again)\n"
	"  --verify           read and compare every file, also those taken\n"
	"                     as they are otherwise (after the clock was set\n"
	"                     back, say)\n"
	"  -h, --help         show this help\n"
	"\n"
	"Example:\n"
	"  agentstate export ./snapshot && git -C ./snapshot diff\n"
	"  agentstate export --at 1200 --collection users /tmp/users-then\n";

/* Append one --collection NAME to the NULL-terminated list @cols. */
static int add_collection(const char ***cols, size_t *ncols, const char *name)
{
	const char **n = realloc(*cols, (*ncols + 2) * sizeof(*n));

	if (!n) {
		cli_error("out of memory");
		return EXIT_FAIL;
	}
	n[(*ncols)++] = name;
	n[*ncols] = NULL;
	*cols = n;
	return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "raw", no_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'a' },
		{ "no-sync", no_argument, NULL, 'n' },
		{ "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "DIR" };
	struct ags_export_options o = { 0 };
	struct ags_export_result res;
	const char **cols = NULL;
	struct progress bar;
	size_t ncols = 0;
	ags_store *s;
	int c, r = 0;

	while (!r && (c = cli_getopt(argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'c':
			r = add_collection(&cols, &ncols, optarg);
			break;
		case 'r':
			o.raw = true;
			break;
		case 'a':
			r = parse_at(argv[0], optarg, &o);
			break;
		case 'n':
			o.no_sync = true;
			break;
		case 'v':
			o.verify = true;
			break;
		case 'h':
			free(cols);
			return cli_help(export_help);
		default:
			r = EXIT_USAGE;
		}
	}
	if (!r)
		r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1,
				    names);
	if (r || cli_open(cli, &s, true)) {
		free(cols);
		return r ? r : EXIT_FAIL;
	}
	progress_init(&bar, "export");
	o.collections = cols;
	o.progress = progress_cb;
	o.ctx = &bar;
	r = ags_snapshot_export(s, &res, argv[optind], &o);
	progress_end(&bar);
	if (r < 0) {
		r = cli_store_error(s);
	} else {
		printf("exported %llu object%s in %llu collection%s at seq "
		       "%lld to %s: %llu written, %llu removed\n",
		       (unsigned long long)res.objects,
		       res.objects == 1 ? "" : "s",
		       (unsigned long long)res.collections,
		       res.collections == 1 ? "" : "s", (long long)res.seq,
		       argv[optind], (unsigned long long)res.written,
		       (unsigned long long)(res.removed + res.dirs_removed));
		r = EXIT_OK;
	}
	ags_store_close(s);
	free(cols);
	return r;
}

/* ---- import -------------------------------------------------------------- */

static const char import_help[] =
	"Usage: agentstate import [--collection NAME]... [--prune] [--dry-run]\n"
	"                         [--verbose] DIR\n"
	"\n"
	"Make the store match DIR, a tree as 'agentstate export' writes it:\n"
	"each directory named like a collection is a collection, each file in\n"
	"it named like an object (ID.json, the mount's names) is an object\n"
	"whose body is the file's bytes. Everything else is ignored: .git, a\n"
	"README, .agentstate-export.json, editor backups, subdirectories; a\n"
	"file named *.json that is no object's name is named on stderr.\n"
	"\n"
	"Every file is checked first; if any is not valid JSON, each one is\n"
	"listed with its line and column and nothing changes. Then all\n"
	"changes commit as one transaction, audited with origin \"import\".\n"
	"An object gets a new version only where its JSON value differs;\n"
	"white space alone is no change.\n"
	"\n"
	"Prints one line with the counts of objects created, updated,\n"
	"unchanged and removed.\n"
	"\n"
	"Options:\n"
	"  --collection NAME  import only this collection (repeatable); with\n"
	"               --prune, remove only its objects that are not in DIR\n"
	"  --prune      also remove objects and collections that are not in "
	"DIR;\n"
	"               refused for the tree of 'export --collection' unless\n"
	"               --collection names what to make match\n"
	"  --dry-run    change nothing; print what would change, one line "
	"each:\n"
	"               mkcol C, create C/FILE, update C/FILE, remove C/FILE,\n"
	"               rmcol C\n"
	"  --verbose    print each change as it is made, in the same form\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate import --dry-run --prune ./snapshot\n"
	"  git -C ./snapshot checkout HEAD~3 && agentstate import --prune "
	"./snapshot\n";

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "prune", no_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "DIR" };
	struct ags_import_options o = { 0 };
	struct ags_import_result res;
	struct report rp = { .command = "import", .line = SBUF_INIT };
	struct progress bar;
	const char **cols = NULL;
	size_t ncols = 0;
	bool verbose = false;
	ags_store *s;
	int c, r = 0;

	while (!r && (c = cli_getopt(argc, argv, ":nvh", options)) != -1) {
		switch (c) {
		case 'c':
			r = add_collection(&cols, &ncols, optarg);
			break;
		case 'p':
			o.prune = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			free(cols);
			return cli_help(import_help);
		default:
			r = EXIT_USAGE;
		}
	}
	if (!r)
		r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1,
				    names);
	if (r || cli_open(cli, &s, o.dry_run)) {
		free(cols);
		return r ? r : EXIT_FAIL;
	}
	progress_init(&bar, "import");
	rp.bar = &bar;
	o.collections = cols;
	o.progress = report_progress;
	o.change = o.dry_run || verbose ? report_out : NULL;
	o.invalid = report_err;
	o.ignored = report_err;
	o.ctx = &rp;
	r = ags_snapshot_import(s, &res, argv[optind], &o);
	progress_end(&bar);
	if (r < 0) {
		r = cli_store_error(s);
	} else {
		printf("%s %s: %llu created, %llu updated, %llu unchanged, "
		       "%llu removed\n",
		       o.dry_run ? "would import" : "imported", argv[optind],
		       (unsigned long long)res.created,
		       (unsigned long long)res.updated,
		       (unsigned long long)res.unchanged,
		       (unsigned long long)res.removed);
		r = EXIT_OK;
	}
	sbuf_release(&rp.line);
	ags_store_close(s);
	free(cols);
	return r;
}

/* ---- backup -------------------------------------------------------------- */

static const char backup_help[] =
	"Usage: agentstate backup FILE\n"
	"\n"
	"Write a consistent copy of the whole store (objects, history and the\n"
	"audit log) to FILE, a single SQLite file. It can be taken while the\n"
	"store is mounted and written: it copies one snapshot and never holds\n"
	"writers up. The copy goes to FILE.tmp first and is renamed to FILE\n"
	"once complete and synced, so FILE is always a whole backup.\n"
	"Prints one line naming FILE.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate backup /backups/state-$(date +%F).db\n";

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = { "FILE" };
	struct progress bar;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", help_only)) != -1) {
		if (c == 'h')
			return cli_help(backup_help);
		return EXIT_USAGE;
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1, names);
	if (r)
		return r;
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	progress_init(&bar, "backup");
	r = ags_backup_write(s, argv[optind], progress_cb, &bar);
	progress_end(&bar);
	if (r < 0) {
		r = cli_store_error(s);
	} else {
		printf("backed up %s to %s\n", ags_store_path(s), argv[optind]);
		r = EXIT_OK;
	}
	ags_store_close(s);
	return r;
}

/* ---- restore ------------------------------------------------------------- */

static const char restore_help[] =
	"Usage: agentstate restore [--force] FILE\n"
	"\n"
	"Replace the store with the backup FILE (made by 'agentstate backup').\n"
	"The backup is checked first ('agentstate check'); a damaged one is\n"
	"refused with its problems listed, and the store is left as it was.\n"
	"The store's new content is written as one transaction, so any other\n"
	"process using it sees the old store or the new one, never a mix.\n"
	"The store is created when it does not exist (recovery after loss).\n"
	"\n"
	"While a mount serves the store, restore refuses: unmount first. With\n"
	"--force it goes ahead; the mount then serves the restored store.\n"
	"\n"
	"Options:\n"
	"  --force      restore even while the store is mounted\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate umount ./mnt && agentstate restore /backups/state.db\n";

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "FILE" };
	struct ags_restore_options o = { 0 };
	struct report rp = { .command = "restore", .line = SBUF_INIT };
	struct progress bar;
	char *msg = NULL;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":fh", options)) != -1) {
		switch (c) {
		case 'f':
			o.force = true;
			break;
		case 'h':
			return cli_help(restore_help);
		default:
			return EXIT_USAGE;
		}
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 1, 1, names);
	if (r)
		return r;
	progress_init(&bar, "restore");
	rp.bar = &bar;
	o.progress = report_progress;
	o.problem = report_err;
	o.ctx = &rp;
	r = ags_backup_restore(cli->store_uri, argv[optind], &o, &msg);
	progress_end(&bar);
	sbuf_release(&rp.line);
	if (r < 0) {
		cli_error("%s", msg ? msg : strerror(-r));
		free(msg);
		return EXIT_FAIL;
	}
	printf("restored %s from %s\n", cli->store_uri, argv[optind]);
	return EXIT_OK;
}

/* ---- check --------------------------------------------------------------- */

static const char check_help[] =
	"Usage: agentstate check\n"
	"\n"
	"Check the store: SQLite's integrity check, then the store's own\n"
	"invariants: each object's version is the one its last audit row\n"
	"made, every body is valid JSON under the strict rules and its size\n"
	"is exact, names are valid, audit seq runs from 1 without gaps, kept\n"
	"versions are valid JSON, and collection counts are right.\n"
	"\n"
	"Prints each problem on its own line and exits 1 if there is any;\n"
	"prints \"ok\" and exits 0 for a sound store.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate check || agentstate restore /backups/state.db\n";

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct report rp = { .command = "check", .line = SBUF_INIT };
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", help_only)) != -1) {
		if (c == 'h')
			return cli_help(check_help);
		return EXIT_USAGE;
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 0, 0, NULL);
	if (r)
		return r;
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	r = ags_store_check(s, report_out, &rp);
	if (r < 0) {
		r = cli_store_error(s);
	} else if (r > 0) {
		cli_flush();
		cli_error("check: %s has %d problem%s", ags_store_path(s), r,
			  r == 1 ? "" : "s");
		r = EXIT_FAIL;
	} else {
		printf("ok\n");
		r = EXIT_OK;
	}
	sbuf_release(&rp.line);
	ags_store_close(s);
	return r;
}
