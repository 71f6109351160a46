/* cli.c: what every sub-command shares: opening the store with the "cli"
 * actor, option and argument parsing with uniform usage errors, one-line
 * error messages, and checked writes to stdout. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json-int.h"
#include "sbuf-int.h"

/* 0 while stdout works; -EPIPE once its reader went away (with SIGPIPE
 * ignored), which is no error of ours; EXIT_FAIL once a write failed and
 * that was reported. Either way nothing more is written. */
static int output_state;

/* The length of the valid UTF-8 sequence at @s, or 0 if there is none. */
static size_t utf8_sequence(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	if (strnlen(s, n) < n)
		return 0;
	return utf8_valid(s, n) ? n : 0;
}

/* Append @s with control characters and invalid UTF-8 made visible, so that
 * a message naming an id with a newline in it still takes one line. */
static void add_printable(struct sbuf *out, const char *s)
{
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n = c >= 0x80 ? utf8_sequence(s) : 1;

		if (c == '\n')
			sbuf_adds(out, "\\n");
		else if (c == '\t')
			sbuf_adds(out, "\\t");
		else if (c == '\r')
			sbuf_adds(out, "\\r");
		else if (c < 0x20 || c == 0x7f || n == 0)
			sbuf_addf(out, "\\x%02x", c);
		else
			sbuf_add(out, s, n);
		s += n ? n : 1;
	}
}

static void print_error(const char *command, const char *fmt, va_list ap,
			const char *hint)
{
	struct sbuf text = SBUF_INIT;
	struct sbuf line = SBUF_INIT;

	sbuf_vaddf(&text, fmt, ap);
	sbuf_adds(&line, "agentstate: ");
	if (command)
		sbuf_addf(&line, "%s: ", command);
	add_printable(&line, text.buf);
	if (hint)
		sbuf_adds(&line, hint);
	fflush(stdout);
	fprintf(stderr, "%s\n", line.buf);
	sbuf_release(&text);
	sbuf_release(&line);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(NULL, fmt, ap, NULL);
	va_end(ap);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	struct sbuf hint = SBUF_INIT;
	va_list ap;

	if (command)
		sbuf_addf(&hint, "; see 'agentstate %s --help'", command);
	else
		sbuf_adds(&hint, "; see 'agentstate --help'");
	va_start(ap, fmt);
	print_error(command, fmt, ap, hint.buf);
	va_end(ap);
	sbuf_release(&hint);
	return EXIT_USAGE;
}

int cli_store_error(ags_store *store)
{
	cli_error("%s", ags_errmsg(store));
	return EXIT_FAIL;
}

/* The process name as the kernel knows it, as the library's own default. */
static void add_comm(struct sbuf *out)
{
	char name[64];
	FILE *f = fopen("/proc/self/comm", "re");
	size_t n = 0;

	if (f) {
		n = fread(name, 1, sizeof(name), f);
		fclose(f);
	}
	while (n && (name[n - 1] == '\n' || name[n - 1] == '\0'))
		n--;
	if (n)
		sbuf_add(out, name, n);
	else
		sbuf_adds(out, program_invocation_short_name);
}

static int open_store(struct cli *cli, ags_store **out, bool read_only)
{
	struct ags_options opts = { .no_create = true, .read_only = read_only };
	char *msg = NULL;
	int r = ags_store_open(out, cli->store_uri, &opts, &msg);

	/* A read-only handle cannot create or upgrade the schema: a reading
	 * command then opens read-write, as the first write would. */
	if (r == -EROFS && read_only) {
		free(msg);
		msg = NULL;
		opts.read_only = false;
		r = ags_store_open(out, cli->store_uri, &opts, &msg);
	}
	if (r < 0) {
		cli_error("%s", msg ? msg : strerror(-r));
		free(msg);
	}
	return r;
}

int cli_open(struct cli *cli, ags_store **out, bool read_only)
{
	struct sbuf comm = SBUF_INIT;
	struct ags_actor actor;
	ags_store *s;
	int r;

	if (open_store(cli, &s, read_only) < 0)
		return EXIT_FAIL;
	add_comm(&comm);
	actor = (struct ags_actor){ .uid = getuid(),
				    .gid = getgid(),
				    .pid = getpid(),
				    .comm = comm.buf,
				    .origin = "cli" };
	r = ags_store_set_actor(s, &actor);
	sbuf_release(&comm);
	if (r < 0) {
		cli_store_error(s);
		ags_store_close(s);
		return EXIT_FAIL;
	}
	*out = s;
	return EXIT_OK;
}

int cli_getopt(int argc, char **argv, const char *optstring,
	       const struct option *longopts)
{
	char shortopt[3] = "-?";
	const char *arg;
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, optstring, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (strncmp(arg, "--", 2) != 0 && optopt) {
		shortopt[1] = (char)optopt;
		arg = shortopt;
	}
	if (strcmp(arg, "--store") == 0 || strncmp(arg, "--store=", 8) == 0)
		cli_usage_error(argv[0],
				"--store goes before the command, as in "
				"'agentstate --store URI %s ...'",
				argv[0]);
	else if (c == ':')
		cli_usage_error(argv[0], "option '%s' needs an argument", arg);
	else if (optopt && strchr(arg, '='))
		cli_usage_error(argv[0], "option '%.*s' takes no argument",
				(int)(strchr(arg, '=') - arg), arg);
	else
		cli_usage_error(argv[0], "unknown option '%s'", arg);
	return '?';
}

int cli_positionals(const char *command, int n, char **args, int min, int max,
		    const char *const names[])
{
	if (n < min)
		return cli_usage_error(command, "missing %s", names[n]);
	if (n > max)
		return cli_usage_error(command, "unexpected argument '%s'",
				       args[max]);
	return 0;
}

int cli_parse_number(const char *command, const char *option, const char *text,
		     int64_t min, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (*text < '0' || *text > '9' || *end || errno || v < min)
		return cli_usage_error(command,
				       "%s needs a whole number of at least "
				       "%lld, not '%s'",
				       option, (long long)min, text);
	*out = v;
	return 0;
}

int cli_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

static int output_error(int err)
{
	if (err == EPIPE) {
		output_state = -EPIPE;
	} else {
		cli_error("cannot write the output: %s", strerror(err));
		output_state = EXIT_FAIL;
	}
	return output_state;
}

int cli_write(const void *buf, size_t len)
{
	if (output_state)
		return output_state;
	errno = 0;
	if (len && fwrite(buf, 1, len, stdout) != len)
		return output_error(errno ? errno : EIO);
	return 0;
}

int cli_flush(void)
{
	if (output_state)
		return output_state;
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		return output_error(errno ? errno : EIO);
	return 0;
}
