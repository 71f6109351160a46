/* cmd-audit.c: the audit commands: log (print the audit log, or follow it
 * as other processes commit) and history (the versions of one object). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json-write-int.h"

#define FOLLOW_POLL_MS 200

/* Every op an audit row may have. */
#define LOG_OPS                                                                \
	"create update remove rename exchange revert setattr mkcol rmcol mvcol"

static bool known_op(const char *op)
{
	static const char ops[] = LOG_OPS;
	size_t n = strlen(op);

	/* A whole word of the list, not a part of one ("reat") nor a run
	 * of them ("create update"). */
	if (strchr(op, ' '))
		return false;
	for (const char *p = strstr(ops, op); n && p; p = strstr(p + 1, op))
		if ((p == ops || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static volatile sig_atomic_t stop_following;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_following = 1;
}

/* Catch SIGINT and SIGTERM without SA_RESTART, so the poll's sleep ends at
 * once; ignore SIGPIPE, so a reader going away ends the loop as EPIPE. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const char log_help[] =
	"Usage: agentstate log [--collection C] [--id ID] [--op OP] "
	"[--since SEQ]\n"
	"                      [--limit N] [--follow]\n"
	"\n"
	"Print the audit log as JSON Lines, oldest first, one row per change:\n"
	"{\"seq\", \"time\" (ns since the epoch), \"op\", \"collection\", "
	"\"id\",\n"
	"\"old_version\", \"new_version\", \"size\", \"uid\", \"gid\", "
	"\"pid\", \"comm\",\n"
	"\"origin\"} and, where they apply, \"error\", \"from_collection\" and\n"
	"\"from_id\".\n"
	"Ops: " LOG_OPS ".\n"
	"\n"
	"Options:\n"
	"  --collection C   only rows about collection C\n"
	"  --id ID          only rows about object id ID\n"
	"  --op OP          only rows of this op\n"
	"  --since SEQ      only rows with seq greater than SEQ\n"
	"  --limit N        print at most N rows (N >= 1)\n"
	"  -f, --follow     keep printing rows as any process commits them,\n"
	"                   until interrupted (SIGINT, SIGTERM) or the reader\n"
	"                   of the output goes away; across a restore from\n"
	"                   a backup it goes on with the rows of the\n"
	"                   restored log newer than the last it read\n"
	"  -h, --help       show this help\n"
	"\n"
	"Example:\n"
	"  agentstate log --collection users --op remove\n"
	"  agentstate log --since 1200 --follow | jq -c 'select(.origin == "
	"\"fs\")'\n";

struct log_ctx {
	struct ags_audit_filter filter;
	int64_t printed;
	int64_t limit; /* 0: no limit */
	bool done;     /* the limit is reached */
	int output;    /* cli_write()'s failure, once it failed */
};

static int print_row(void *ctx, const struct ags_audit_row *row)
{
	struct log_ctx *log = ctx;
	char *json = ags_audit_row_json(row);
	int r;

	if (!json) {
		cli_error("cannot print the audit log: out of memory");
		log->output = EXIT_FAIL;
		return 1;
	}
	r = cli_write(json, strlen(json));
	free(json);
	r = r ? r : cli_write("\n", 1);
	if (r) {
		log->output = r;
		return 1;
	}
	log->filter.after_seq = row->seq;
	log->printed++;
	log->done = log->limit && log->printed == log->limit;
	return log->done;
}

/* Print the rows after log->filter.after_seq, then flush. @return 0, or
 * EXIT_FAIL after the error, or -EPIPE when the reader is gone. */
static int print_rows(ags_store *s, struct log_ctx *log)
{
	int r;

	if (log->limit)
		log->filter.limit = (size_t)(log->limit - log->printed);
	r = ags_audit_list(s, &log->filter, print_row, log);
	if (r < 0)
		return cli_store_error(s);
	if (log->output)
		return log->output;
	return cli_flush();
}

struct row_time {
	int64_t seq;
	int64_t time_ns;
};

static int take_time(void *ctx, const struct ags_audit_row *row)
{
	struct row_time *t = ctx;

	t->seq = row->seq;
	t->time_ns = row->time_ns;
	return 1;
}

/* The time of row @seq of the log as it is now, 0 when there is none. */
static int time_of_row(ags_store *s, int64_t seq, int64_t *ret_ns)
{
	struct ags_audit_filter f = { .after_seq = seq - 1, .limit = 1 };
	struct row_time t = { 0, 0 };

	*ret_ns = 0;
	if (seq <= 0)
		return 0;
	if (ags_audit_list(s, &f, take_time, &t) < 0)
		return -1;
	if (t.seq == seq)
		*ret_ns = t.time_ns;
	return 0;
}

/* Where the follower is: the last row it went past, and that row's time,
 * by which it tells its log from a restored one. */
struct follow_mark {
	int64_t epoch;	 /* the store's schema version as last read */
	int64_t time_ns; /* of row log->filter.after_seq; 0: none */
};

/* A forced restore replaced the log with a backup's, whose row numbers
 * from some point on are given again to new rows: the follower's place in
 * the old log means nothing there. The epoch tells that the store was
 * replaced or its schema changed; the row the follower went past last,
 * no longer there with its time, tells the log was replaced. The rows
 * then printed are the restored log's rows newer than that one: those
 * committed since the restore, and any the backup holds that the follower
 * had not reached. @return 0, EXIT_FAIL, or -EPIPE as print_rows(). */
static int follow_restore(ags_store *s, struct log_ctx *log,
			  struct follow_mark *mark)
{
	int64_t epoch, now_ns, last;
	int r;

	if (ags_store_epoch(s, &epoch) < 0)
		return cli_store_error(s);
	if (epoch == mark->epoch)
		return 0;
	mark->epoch = epoch;
	if (time_of_row(s, log->filter.after_seq, &now_ns) < 0 ||
	    ags_audit_last_seq(s, &last) < 0)
		return cli_store_error(s);
	if (!mark->time_ns || now_ns == mark->time_ns)
		return 0; /* an index made or dropped: the same log */
	cli_error("the store was restored from a backup while its log was "
		  "followed: going on with the rows of the restored log "
		  "written after row %lld of the log before (the restored "
		  "log numbers its rows anew, from the backup's last)",
		  (long long)log->filter.after_seq);
	log->filter.after_seq = 0;
	log->filter.since_ns = mark->time_ns + 1;
	r = print_rows(s, log);
	log->filter.since_ns = 0;
	/* As in follow(): that listing saw every row up to last. */
	if (log->filter.after_seq < last)
		log->filter.after_seq = last;
	if (!r && time_of_row(s, log->filter.after_seq, &mark->time_ns) < 0)
		r = cli_store_error(s);
	return r;
}

/* Wait one poll interval. A reader gone while nothing is written would be
 * found only at the next row, maybe never: a pipe whose reader closed it
 * reports POLLERR at once (a terminal or a file never does). @return
 * -EPIPE when the output is gone, else 0. */
static int wait_for_rows(void)
{
	struct pollfd out = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&out, 1, FOLLOW_POLL_MS) > 0 &&
	    (out.revents & (POLLERR | POLLHUP | POLLNVAL)))
		return -EPIPE;
	return 0;
}

/* Poll the newest seq and print what is new, until a stop signal. */
static int follow(ags_store *s, struct log_ctx *log, struct follow_mark *mark)
{
	int64_t last;
	int r = 0;

	while (!stop_following && !log->done) {
		r = wait_for_rows();
		if (r || stop_following)
			break;
		r = follow_restore(s, log, mark);
		if (r || log->done)
			break;
		if (ags_audit_last_seq(s, &last) < 0)
			return cli_store_error(s);
		if (last <= log->filter.after_seq)
			continue;
		r = print_rows(s, log);
		if (r)
			break;
		/* The list saw every row up to last: rows committed later get
		 * a larger seq, since writers take turns. */
		if (log->filter.after_seq < last)
			log->filter.after_seq = last;
		if (time_of_row(s, log->filter.after_seq, &mark->time_ns) < 0)
			return cli_store_error(s);
	}
	return r;
}

int cmd_log(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "collection", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "op", required_argument, NULL, 'o' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct log_ctx log = { 0 };
	struct follow_mark mark = { 0, 0 };
	bool following = false;
	int64_t last = 0;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":fh", options)) != -1) {
		switch (c) {
		case 'c':
			log.filter.collection = optarg;
			break;
		case 'i':
			log.filter.id = optarg;
			break;
		case 'o':
			if (!known_op(optarg))
				return cli_usage_error(argv[0],
						       "unknown op '%s'; the "
						       "ops are %s",
						       optarg, LOG_OPS);
			log.filter.op = optarg;
			break;
		case 's':
			r = cli_parse_number(argv[0], "--since", optarg, 0,
					     &log.filter.after_seq);
			if (r)
				return r;
			break;
		case 'l':
			r = cli_parse_number(argv[0], "--limit", optarg, 1,
					     &log.limit);
			if (r)
				return r;
			break;
		case 'f':
			following = true;
			break;
		case 'h':
			return cli_help(log_help);
		default:
			return EXIT_USAGE;
		}
	}
	r = cli_positionals(argv[0], argc - optind, argv + optind, 0, 0, NULL);
	if (r)
		return r;
	if (following)
		catch_stop_signals();
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	/* Learn the epoch and the newest seq before the first listing, so
	 * the follower starts from what that listing certainly saw. */
	if (following && (ags_store_epoch(s, &mark.epoch) < 0 ||
			  ags_audit_last_seq(s, &last) < 0))
		r = cli_store_error(s);
	if (!r)
		r = print_rows(s, &log);
	if (!r && following && !log.done) {
		if (log.filter.after_seq < last)
			log.filter.after_seq = last;
		if (time_of_row(s, log.filter.after_seq, &mark.time_ns) < 0)
			r = cli_store_error(s);
	}
	if (!r && following && !log.done)
		r = follow(s, &log, &mark);
	ags_store_close(s);
	return r == -EPIPE ? EXIT_OK : r;
}

static const char history_help[] =
	"Usage: agentstate history COLLECTION ID\n"
	"\n"
	"Print the versions of an object as JSON Lines, oldest first:\n"
	"{\"version\": N, \"kept\": true|false, \"seq\", \"time\", \"op\", "
	"\"size\",\n"
	"\"uid\", \"gid\", \"pid\", \"comm\", \"origin\"}, where kept says "
	"whether\n"
	"the body of that version can still be read with 'agentstate get\n"
	"--version N' or restored with 'agentstate revert'.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n"
	"\n"
	"Example:\n"
	"  agentstate history users alice\n";

static int print_version(void *ctx, const struct ags_version_info *v)
{
	const struct ags_audit_row *row = v->row;
	struct sbuf *line = ctx;
	int r;

	sbuf_reset(line);
	r = sbuf_addch(line, '{');
	r = r ? r : json_add_member_int(line, "version", v->version);
	r = r ? r
	      : sbuf_adds(line,
			  v->kept ? ", \"kept\": true" : ", \"kept\": false");
	r = r ? r : json_add_member_int(line, "seq", row->seq);
	r = r ? r : json_add_member_int(line, "time", row->time_ns);
	r = r ? r : json_add_member_string(line, "op", row->op);
	if (!r)
		r = row->size < 0
			    ? json_add_member_null(line, "size")
			    : json_add_member_int(line, "size", row->size);
	r = r ? r : json_add_member_int(line, "uid", row->uid);
	r = r ? r : json_add_member_int(line, "gid", row->gid);
	r = r ? r : json_add_member_int(line, "pid", row->pid);
	r = r ? r : json_add_member_string(line, "comm", row->comm);
	r = r ? r : json_add_member_string(line, "origin", row->origin);
	r = r ? r : sbuf_adds(line, "}\n");
	if (r) {
		cli_error("cannot print the history: out of memory");
		return EXIT_FAIL;
	}
	return cli_write(line->buf, line->len);
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const names[] = { "COLLECTION", "ID" };
	struct sbuf line = SBUF_INIT;
	char **args;
	ags_store *s;
	int c, r;

	while ((c = cli_getopt(argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return cli_help(history_help);
		return EXIT_USAGE;
	}
	args = argv + optind;
	r = cli_positionals(argv[0], argc - optind, args, 2, 2, names);
	if (r)
		return r;
	if (cli_open(cli, &s, true))
		return EXIT_FAIL;
	r = ags_history_list(s, args[0], args[1], print_version, &line);
	if (r < 0)
		cli_store_error(s);
	sbuf_release(&line);
	ags_store_close(s);
	return r ? EXIT_FAIL : EXIT_OK;
}
