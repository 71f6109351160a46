/* cmd-mount.c: `agentstate mount` and `agentstate umount`: the command-line
 * side of the FUSE daemon (options, checks made before going to the
 * background, so errors reach the terminal), and unmounting. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "mount.h"

static const char mount_help[] =
	"Usage: agentstate mount MOUNTPOINT [-f] [-o OPTION[,OPTION...]]\n"
	"\n"
	"Serve the store as a filesystem at MOUNTPOINT, in the background\n"
	"(logging to syslog) unless -f keeps it in the foreground (logging to\n"
	"stderr). Unmount with 'agentstate umount MOUNTPOINT' or\n"
	"'fusermount3 -u MOUNTPOINT'; on unmount, SIGTERM or SIGINT every\n"
	"pending change is committed or refused first.\n"
	"\n"
	"  MOUNTPOINT/<collection>/<id>.json   an object: its stored bytes\n"
	"  MOUNTPOINT/.agentstate/audit.jsonl  the audit log, growing live\n"
	"\n"
	"Writing a file and closing it (or fsync) stores the new body as one\n"
	"version, audited with the writing process; invalid JSON makes close()\n"
	"fail with EINVAL, is audited as a refusal and the file shows the\n"
	"stored body again. Ids are percent-encoded in file names ('/' is\n"
	"%2F, '%' is %25, a leading '.' is %2E). Any other name in a\n"
	"collection is a temporary file (editor swap files, 'x.json~',\n"
	"'sedXXXXXX'): it lives in the daemon's memory only (64 MiB in all),\n"
	"is never stored or audited, and vanishes at unmount; renaming one\n"
	"onto an object name stores its content as that object. Renaming an\n"
	"object to a temporary name (vim's backup) hides it until it is\n"
	"written again (an update), or the temporary file is removed or\n"
	"renamed elsewhere (then it is removed or renamed in the store); at\n"
	"unmount it shows again, unchanged.\n"
	"\n"
	"Options:\n"
	"  -f, --foreground     stay in the foreground, log to stderr\n"
	"  -d, --debug          also print every FUSE request (implies -f)\n"
	"  -o ro                read-only: every write fails with EROFS\n"
	"  -o sync=full         make every commit durable against power loss\n"
	"  -o allow_other       let other users use the mount\n"
	"  -o default_permissions  let the kernel check file modes\n"
	"  -o backup_dir=DIR    take periodic backups of the store into DIR\n"
	"  -o backup_interval=SECONDS  between backups (default 3600); a\n"
	"                       backup is skipped when nothing changed\n"
	"  -o backup_keep=N     keep the newest N backups in DIR (0: all)\n"
	"  -o node_cache=N      objects the daemon remembers beyond those in\n"
	"                       use (default 16384; memory, ~0.5 KiB each)\n"
	"  -o body_cache=MIB    bytes of closed files kept for their next open\n"
	"                       (default 8; 0: read the store at every open)\n"
	"  -o OPTION            any other FUSE mount option, passed through\n"
	"  -h, --help           show this help\n";

static const char umount_help[] =
	"Usage: agentstate umount [-z] MOUNTPOINT\n"
	"\n"
	"Unmount a mounted store (as 'fusermount3 -u'). The daemon commits\n"
	"or refuses what is pending, then exits. Fails with 'busy' while a\n"
	"process uses the mount, unless -z detaches it lazily.\n"
	"\n"
	"Options:\n"
	"  -z, --lazy   detach now, finish when the last user is gone\n"
	"  -h, --help   show this help\n";

/* A decimal count of at most @max, without sign or suffix. @return 0, or
 * -EINVAL. */
static int parse_count(const char *text, unsigned long max, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(text, &end, 10);
	if (errno || end == text || *end || *text == '-' || *ret > max)
		return -EINVAL;
	return 0;
}

/* The -o options we act on ourselves; everything else goes to libfuse. */
static int take_option(struct mount *m, struct sbuf *fuse_opts, char *opt)
{
	const char *why = NULL;
	unsigned long v;
	int r = mount_backup_option(&m->backup, opt, &why);

	if (r < 0)
		return cli_usage_error("mount", "bad '-o %s': %s", opt, why);
	if (r > 0)
		return 0;
	if (strcmp(opt, "ro") == 0) {
		m->read_only = true;
		m->opts.read_only = true;
		return 0;
	} else if (strcmp(opt, "rw") == 0) {
		m->read_only = false;
		m->opts.read_only = false;
		return 0;
	} else if (strcmp(opt, "sync=full") == 0) {
		m->opts.sync = AGS_SYNC_FULL;
		return 0;
	} else if (strcmp(opt, "sync=normal") == 0) {
		m->opts.sync = AGS_SYNC_NORMAL;
		return 0;
	} else if (strncmp(opt, "node_cache=", 11) == 0) {
		if (parse_count(opt + 11, UINT32_MAX, &v) < 0)
			return cli_usage_error("mount",
					       "bad '-o %s': node_cache needs "
					       "a count",
					       opt);
		m->nodes.idle_max = (size_t)v;
		return 0;
	} else if (strncmp(opt, "body_cache=", 11) == 0) {
		if (parse_count(opt + 11, 1u << 20, &v) < 0)
			return cli_usage_error("mount",
					       "bad '-o %s': body_cache needs "
					       "a size in MiB",
					       opt);
		m->nodes.kept_max = (size_t)v << 20;
		return 0;
	} else if (strncmp(opt, "sync=", 5) == 0) {
		return cli_usage_error("mount",
				       "unknown '-o %s': sync is 'full' or "
				       "'normal'",
				       opt);
	}
	if (!*opt)
		return 0;
	sbuf_addch(fuse_opts, ',');
	sbuf_adds(fuse_opts, opt);
	return 0;
}

static int parse_options(struct mount *m, struct sbuf *fuse_opts,
			 const char *arg)
{
	char *copy = strdup(arg), *opt, *save = NULL;
	int r = 0;

	if (!copy)
		return EXIT_FAIL;
	for (opt = strtok_r(copy, ",", &save); opt && r == 0;
	     opt = strtok_r(NULL, ",", &save))
		r = take_option(m, fuse_opts, opt);
	free(copy);
	return r;
}

/* Is @path (stat @st) the root of a mounted filesystem? Mounting over one
 * stacks a second daemon on the first: both serve, and an unmount takes
 * off only the top one. The parent of a filesystem's root is on another
 * device, or, for "/", the same directory. */
static bool is_mount_point(const char *path, const struct stat *st)
{
	struct sbuf parent = SBUF_INIT;
	struct stat up;
	bool root;

	if (sbuf_addf(&parent, "%s/..", path) < 0)
		return false;
	root = stat(parent.buf, &up) == 0 &&
	       (up.st_dev != st->st_dev || up.st_ino == st->st_ino);
	sbuf_release(&parent);
	return root;
}

/* Open the store once here, so a wrong --store fails on the terminal
 * rather than in syslog, and turn its file name into an absolute path: the
 * daemon leaves the working directory. */
static int resolve_store(struct cli *cli, struct mount *m)
{
	char *msg = NULL, *abs;
	ags_store *s;
	int r;

	/* Neither here nor in the daemon's threads (should the file go
	 * away while mounted) is a missing store created. */
	m->opts.no_create = true;
	r = ags_store_open(&s, cli->store_uri, &m->opts, &msg);
	if (r == -EROFS && m->opts.read_only) {
		/* The library says what it could not write; the one cause
		 * of a mount's own is a schema to create or upgrade. */
		cli_error("cannot mount read-only: %s (a store whose schema "
			  "must be created or upgraded is mounted read-write "
			  "once first)",
			  msg ? msg : strerror(-r));
		free(msg);
		return EXIT_FAIL;
	}
	if (r < 0) {
		cli_error("%s", msg ? msg : strerror(-r));
		free(msg);
		return EXIT_FAIL;
	}
	if (!*ags_store_path(s) || strcmp(ags_store_path(s), ":memory:") == 0) {
		cli_error("cannot mount an in-memory store: the daemon's "
			  "threads each open the store, so it must be a file");
		ags_store_close(s);
		return EXIT_FAIL;
	}
	abs = realpath(ags_store_path(s), NULL);
	ags_store_close(s);
	if (!abs) {
		cli_error("cannot find the store's file %s: %s", cli->store_uri,
			  strerror(errno));
		return EXIT_FAIL;
	}
	m->uri = abs;
	return EXIT_OK;
}

/* Mark the store in use for as long as the daemon lives (the descriptor
 * passes to it when it goes to the background), so that `agentstate
 * restore` refuses to replace it under the mount. */
static int hold_store(struct mount *m, int *ret_fd)
{
	ags_store *s;
	char *msg = NULL;
	int r = ags_store_open(&s, m->uri, &m->opts, &msg);

	if (r == 0) {
		r = ags_store_hold(s, ret_fd);
		if (r == -EBUSY)
			cli_error("cannot mount %s: a restore is replacing it; "
				  "try again when it is done",
				  m->uri);
		else if (r < 0)
			cli_error("%s", ags_errmsg(s));
		ags_store_close(s);
	} else {
		cli_error("%s", msg ? msg : strerror(-r));
		free(msg);
	}
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_mount(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "options", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MOUNTPOINT" };
	struct sbuf fuse_opts = SBUF_INIT;
	struct mount m;
	const char *why = NULL;
	int hold = -1;
	bool debug = false;
	char *fargv[5];
	int fargc = 0, c, r;
	struct stat st;

	memset(&m, 0, sizeof(m));
	m.nodes.idle_max = MOUNT_IDLE_NODES;
	m.nodes.kept_max = (size_t)MOUNT_KEPT_MIB << 20;
	sbuf_adds(&fuse_opts, "fsname=agentstate,subtype=agentstate");
	while ((c = cli_getopt(argc, argv, ":fdo:h", longopts)) != -1) {
		switch (c) {
		case 'f':
			m.foreground = true;
			break;
		case 'd':
			debug = m.foreground = true;
			break;
		case 'o':
			r = parse_options(&m, &fuse_opts, optarg);
			if (r) {
				mount_backup_release(&m.backup);
				sbuf_release(&fuse_opts);
				return r;
			}
			break;
		case 'h':
			mount_backup_release(&m.backup);
			sbuf_release(&fuse_opts);
			return cli_help(mount_help);
		default:
			mount_backup_release(&m.backup);
			sbuf_release(&fuse_opts);
			return EXIT_USAGE;
		}
	}
	r = cli_positionals("mount", argc - optind, argv + optind, 1, 1, names);
	if (r == 0 && mount_backup_check(&m.backup, &why) < 0)
		r = cli_usage_error("mount", "%s", why);
	if (r) {
		mount_backup_release(&m.backup);
		sbuf_release(&fuse_opts);
		return r;
	}
	m.mountpoint = realpath(argv[optind], NULL);
	if (!m.mountpoint || stat(m.mountpoint, &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		cli_error("cannot mount at %s: %s", argv[optind],
			  m.mountpoint ? "not a directory" : strerror(errno));
		mount_backup_release(&m.backup);
		free(m.mountpoint);
		sbuf_release(&fuse_opts);
		return EXIT_FAIL;
	}
	if (is_mount_point(m.mountpoint, &st)) {
		cli_error("cannot mount at %s: a filesystem is mounted there "
			  "already (a store's mount, say); unmount it first "
			  "(agentstate umount %s)",
			  argv[optind], argv[optind]);
		mount_backup_release(&m.backup);
		free(m.mountpoint);
		sbuf_release(&fuse_opts);
		return EXIT_FAIL;
	}
	if (m.read_only)
		sbuf_adds(&fuse_opts, ",ro");
	r = resolve_store(cli, &m);
	if (r == EXIT_OK)
		r = hold_store(&m, &hold);
	if (r == EXIT_OK) {
		fargv[fargc++] = "agentstate";
		fargv[fargc++] = "-o";
		fargv[fargc++] = fuse_opts.buf;
		if (debug)
			fargv[fargc++] = "-d";
		fargv[fargc] = NULL;
		r = mount_run(&m, fargc, fargv) < 0 ? EXIT_FAIL : EXIT_OK;
		if (r != EXIT_OK && m.foreground)
			cli_error("cannot mount %s at %s; see the messages "
				  "above",
				  m.uri, m.mountpoint);
	}
	if (hold >= 0)
		close(hold);
	mount_backup_release(&m.backup);
	free(m.uri);
	free(m.mountpoint);
	sbuf_release(&fuse_opts);
	return r;
}

/* Run fusermount3, which also works for the user who mounted without
 * root; as root without it, unmount directly. */
static int unmount(const char *mountpoint, bool lazy)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", "--",
		       mountpoint, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && geteuid() == 0) {
		if (umount2(mountpoint, lazy ? MNT_DETACH : 0) == 0)
			return 0;
		return -errno;
	}
	return 1; /* fusermount3 said why */
}

/* Append the mount point of a /proc/self/mountinfo line (its fifth field,
 * with spaces and the like as octal escapes) to @out. */
static int mountinfo_point(struct sbuf *out, const char *line)
{
	const char *p = line;

	for (int field = 0; field < 4 && p; field++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return -EINVAL;
	for (; *p && *p != ' ' && *p != '\n'; p++) {
		char c = *p;

		if (c == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
		    p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 |
				   (p[3] - '0'));
			p += 3;
		}
		if (sbuf_addch(out, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether something is mounted at @path, from the kernel's list of mounts:
 * never from the path itself, whose daemon may be stopped or hung (the
 * case umount -z is for), so that a stat() would never return. Its parent
 * is resolved, not it. @return 1, 0, or -errno when it cannot tell. */
static int mounted_at(const char *path)
{
	struct sbuf name = SBUF_INIT, want = SBUF_INIT, have = SBUF_INIT;
	char *slash, *base, *real = NULL, *line = NULL;
	size_t cap = 0;
	FILE *f = NULL;
	int r = sbuf_adds(&name, path); /* no trailing '/': the caller's */

	slash = strrchr(name.buf, '/');
	base = slash ? slash + 1 : name.buf;
	if (r == 0 && (!*base || !strcmp(base, ".") || !strcmp(base, "..")))
		r = -EINVAL; /* "/", ".": left to fusermount3 */
	if (r == 0) {
		if (slash == name.buf)
			real = strdup("/");
		else if (slash)
			*slash = '\0';
		if (slash != name.buf)
			real = realpath(slash ? name.buf : ".", NULL);
		if (!real)
			r = -errno;
	}
	if (r == 0)
		r = sbuf_addf(&want, "%s/%s", strcmp(real, "/") ? real : "",
			      base);
	if (r == 0 && !(f = fopen("/proc/self/mountinfo", "re")))
		r = -errno;
	while (r == 0 && getline(&line, &cap, f) > 0) {
		sbuf_reset(&have);
		if (mountinfo_point(&have, line) == 0 &&
		    !strcmp(have.buf, want.buf))
			r = 1;
	}
	if (f)
		fclose(f);
	free(line);
	free(real);
	sbuf_release(&name);
	sbuf_release(&want);
	sbuf_release(&have);
	return r;
}

/* Where @path leads when its last component is a symlink (mount resolves
 * its mountpoint, so it may have been given as a link), into @out. Read
 * with readlink(), never by stat()ing what it points to: a mountpoint
 * whose daemon is hung would not answer. @return mounted_at() of it. */
static int follow_to_mount(const char *path, struct sbuf *out)
{
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int r = sbuf_adds(out, path);

	/* As many links as the kernel follows (MAXSYMLINKS 40), with a look
	 * at where the last one leads. */
	for (int hops = 0; r == 0 && hops <= 40; hops++) {
		/* "lnk/" would have lstat() follow the link; "mnt/." is "mnt" */
		for (;;) {
			if (out->len > 1 && out->buf[out->len - 1] == '/')
				sbuf_setlen(out, out->len - 1);
			else if (out->len > 2 &&
				 !strcmp(out->buf + out->len - 2, "/."))
				sbuf_setlen(out, out->len - 2);
			else
				break;
		}
		r = mounted_at(out->buf);
		if (r != 0 || lstat(out->buf, &st) != 0 || !S_ISLNK(st.st_mode))
			return r;
		n = readlink(out->buf, link, sizeof(link) - 1);
		if (n < 0)
			return 0;
		link[n] = '\0';
		if (link[0] != '/') { /* relative to the link's directory */
			char *slash = strrchr(out->buf, '/');

			sbuf_setlen(out,
				    slash ? (size_t)(slash - out->buf + 1) : 0);
		} else {
			sbuf_reset(out);
		}
		r = sbuf_adds(out, link);
	}
	return r;
}

int cmd_umount(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lazy", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MOUNTPOINT" };
	struct sbuf target = SBUF_INIT;
	bool lazy = false;
	int c, r;

	(void)cli;
	while ((c = cli_getopt(argc, argv, ":zh", longopts)) != -1) {
		switch (c) {
		case 'z':
			lazy = true;
			break;
		case 'h':
			return cli_help(umount_help);
		default:
			return EXIT_USAGE;
		}
	}
	r = cli_positionals("umount", argc - optind, argv + optind, 1, 1,
			    names);
	if (r)
		return r;
	/* When it cannot tell, fusermount3 says what it finds. */
	r = follow_to_mount(argv[optind], &target);
	if (r == 0) {
		cli_error("cannot unmount %s: nothing is mounted there",
			  argv[optind]);
		sbuf_release(&target);
		return EXIT_FAIL;
	}
	r = unmount(r > 0 ? target.buf : argv[optind], lazy);
	sbuf_release(&target);
	if (r < 0)
		cli_error("cannot unmount %s: %s", argv[optind], strerror(-r));
	return r ? EXIT_FAIL : EXIT_OK;
}
