# shellcheck shell=bash
# mount-lib.sh: sourced by the mount scenarios (mount-*.sh) after lib.sh's
# conventions: a fresh store in $TMP with a mount at $MNT, started with
# `agentstate mount -f` in the background and always unmounted at exit,
# even when a check fails. Where /dev/fuse is missing the scenario is
# skipped, except in CI (CI=true), where a missing mount is a failure.
#
# Usage in a scenario:
#   . "$(dirname "$0")/mount-lib.sh"
#   mount_store            # or: mount_store -o ro
#   echo '{}' > "$MNT/c/x.json"
#   unmount_store
#   done_testing

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The mount needs the FUSE device and fusermount3; without them, skip.
_mount_unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - the mount tests need $1 (required in CI)"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP no $1"
	exit 0
}
[ -c /dev/fuse ] || _mount_unavailable /dev/fuse
command -v fusermount3 >/dev/null || _mount_unavailable fusermount3

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
RENAMEAT2=${RENAMEAT2_BIN:-}

MNT=$TMP/mnt
mkdir -p "$MNT"
MOUNT_PID=
MOUNT_LOG=$TMP/mount.log

# Stop the daemon of this scenario, whatever state it is in.
_mount_cleanup() {
	if mountpoint -q "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
	fi
	if [ -n "$MOUNT_PID" ]; then
		kill "$MOUNT_PID" 2>/dev/null
		wait "$MOUNT_PID" 2>/dev/null
	fi
	# A daemon killed with -9 leaves its mount behind.
	mountpoint -q "$MNT" && fusermount3 -uz "$MNT"
	return 0
}
at_exit _mount_cleanup

# mount_store [OPTIONS...]: mount $AGENTSTATE_STORE at $MNT in the
# foreground (as a background job), and wait until it serves.
mount_store() {
	"$AGS" mount "$MNT" -f "$@" >>"$MOUNT_LOG" 2>&1 &
	MOUNT_PID=$!
	if ! wait_for 10 mountpoint -q "$MNT"; then
		diag "the mount did not come up:" "$(cat "$MOUNT_LOG")"
		fail "mount $*"
		done_testing
	fi
}

# mount_second DIR: mount the same store again at DIR (a second daemon, in
# the foreground as a background job, its pid in $pid2), unmounted at exit,
# and wait until it serves.
mount_second() {
	mkdir -p "$1"
	"$AGS" mount "$1" -f >>"$TMP/mount2.log" 2>&1 &
	pid2=$!
	at_exit "fusermount3 -u '$1' 2>/dev/null; wait $pid2"
	wait_for 10 mountpoint -q "$1"
}

# unmount_store: unmount and wait for the daemon to finish its last
# commits and exit. Exit code of the daemon in $mount_rc.
unmount_store() {
	fusermount3 -u "$MNT"
	wait "$MOUNT_PID"
	mount_rc=$?
	MOUNT_PID=
	# Under ASan/UBSan the daemon reports into its log.
	if grep -q 'Sanitizer\|runtime error:' "$MOUNT_LOG"; then
		fail "the daemon ran without sanitizer reports"
		diag "$(grep -A 30 'Sanitizer\|runtime error:' "$MOUNT_LOG")"
	fi
}

# mount_conn: the FUSE connection number of the mount at $MNT (the minor of
# its device), for abort_mount.
mount_conn() {
	mountpoint -d "$MNT" | cut -d: -f2
}

# abort_mount CONN: sever FUSE connection CONN (the mount at $MNT), which
# frees every process waiting for the daemon: the way out when a daemon is
# stuck in the kernel, where neither SIGKILL nor fusermount reach it.
# Through fusectl, mounted here for the purpose when it is not (as root).
# The mount is detached too: an aborted mount is no mountpoint to
# `mountpoint`, and its daemon leaves it behind.
abort_mount() {
	local ctl=/sys/fs/fuse/connections mounted=
	if [ ! -e "$ctl/$1/abort" ] && [ "$(id -u)" = 0 ]; then
		ctl=$TMP/fusectl
		mkdir -p "$ctl" && mount -t fusectl none "$ctl" && mounted=1
	fi
	[ -e "$ctl/$1/abort" ] && echo 1 >"$ctl/$1/abort"
	[ -n "$mounted" ] && umount "$ctl"
	fusermount3 -uz "$MNT" 2>/dev/null
	return 0
}

# exited PID: has the process ended (a zombie whose threads are all gone,
# or no process at all)? `kill -0` succeeds on a zombie.
exited() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}

remount() {
	unmount_store
	mount_store "$@"
}

# eventually MS CODE: evaluate the shell CODE (again and again: pass it in
# single quotes) until it succeeds or MS milliseconds pass. Exit code 0 when
# it succeeded in time.
eventually() {
	local limit=$1 code=$2 start
	start=$(date +%s%N)
	until eval "$code"; do
		if [ $((($(date +%s%N) - start) / 1000000)) -gt "$limit" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# The current version of an object, from its history.
version_of() {
	"$AGS" history "$1" "$2" | tail -n 1 | jq -r .version
}

# The newest audit row, and one of its fields.
last_row() {
	"$AGS" log | tail -n 1
}
last_field() {
	last_row | jq -r ".$1"
}

# truncate_path PATH SIZE: truncate(2) with no open file, as "$out" the
# errno it failed with (empty on success).
truncate_path() {
	run "$PY" -c 'import os, sys
try:
    os.truncate(sys.argv[1], int(sys.argv[2]))
except OSError as e:
    print(e.errno)' "$1" "$2"
}

# The number of audit rows.
audit_rows() {
	"$AGS" log | wc -l | tr -d ' '
}

# Start a scenario's store: one collection "c" holding x = {"n": 1}.
seed_store() {
	"$AGS" init >/dev/null &&
		"$AGS" mkcol c >/dev/null &&
		echo '{"n": 1}' | "$AGS" put c x >/dev/null
}
