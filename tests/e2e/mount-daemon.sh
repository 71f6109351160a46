#!/usr/bin/env bash
# The daemon's life: `agentstate mount` goes to the background once the
# mount serves, `agentstate umount` ends it; errors are reported before it
# goes; SIGTERM and SIGINT commit or refuse what open files hold, nothing
# half-written, and the daemon exits 0.
. "$(dirname "$0")/mount-lib.sh"

seed_store

# ---- errors come to the terminal, before the background
fails 1 'no such file' "mount of a store that does not exist" \
	"$AGS" --store "$TMP/none.db" mount "$MNT"
fails 1 'cannot mount at' "mount on a missing directory" \
	"$AGS" mount "$TMP/nowhere"
fails 2 'unknown .-o sync=maybe.' "a bad sync option" \
	"$AGS" mount "$MNT" -o sync=maybe
fails 2 'missing MOUNTPOINT' "no mountpoint" "$AGS" mount
run "$AGS" mount --help
like "$out" 'temporary file' "mount --help documents temporary files"

# ---- the background daemon
run "$AGS" mount "$MNT"
is "$rc" 0 "mount goes to the background"
ok "the mount serves when the command returns" mountpoint -q "$MNT"
is "$(cat "$MNT/c/x.json")" '{"n": 1}' "and reads"
echo '{"n": 2}' >"$MNT/c/x.json"
is "$("$AGS" get c x)" '{"n": 2}' "and writes"
fails 1 "cannot mount at $MNT: a filesystem is mounted there already .*; unmount it first" \
	"a second mount on the same mountpoint" "$AGS" mount "$MNT"
is "$(grep -c " $MNT " /proc/mounts)" 1 "and one mount stays, the first"
run "$AGS" umount "$MNT"
is "$rc" 0 "umount"
ok "unmounts" eventually 5000 '! mountpoint -q "$MNT"'
fails 1 "cannot unmount $MNT: nothing is mounted there" \
	"umount of what is not mounted" "$AGS" umount "$MNT"

# ---- a mountpoint given through a symlink: mount and umount both follow it
ln -s "$MNT" "$TMP/link"
run "$AGS" mount "$TMP/link/"
is "$rc" 0 "mount through a symlink"
run "$AGS" umount "$TMP/link"
is "$rc/$err" "0/" "umount through the same symlink"
ok "unmounts" eventually 5000 '! mountpoint -q "$MNT"'
# a chain of links as long as the kernel follows, and one to "mnt/."
ln -s "$MNT/." "$TMP/chain0"
for i in $(seq 1 20); do ln -s "chain$((i - 1))" "$TMP/chain$i"; done
run "$AGS" mount "$TMP/chain20"
run "$AGS" umount "$TMP/chain20"
is "$rc/$err" "0/" "umount through a chain of 20 links, the last to mnt/."
ok "unmounts" eventually 5000 '! mountpoint -q "$MNT"'

# ---- umount -z of a mount whose daemon does not answer (stopped here) must
# not wait for it: it never looks at the mountpoint itself
mount_store
ls "$MNT" >/dev/null
kill -STOP "$MOUNT_PID"
sleep 2 # past the 1 s the kernel trusts the root's attributes
run timeout 10 "$AGS" umount -z "$MNT"
is "$rc" 0 "umount -z of a stopped daemon's mount returns at once"
ok "and the mount is gone" eventually 5000 '! mountpoint -q "$MNT"'
kill -CONT "$MOUNT_PID"
wait "$MOUNT_PID"
MOUNT_PID=

# ---- periodic backups
fails 2 'backup_interval and backup_keep need backup_dir' \
	"a backup interval without a directory" \
	"$AGS" mount "$MNT" -o backup_interval=5
fails 2 'backup_dir must be an existing directory' \
	"a backup directory that does not exist" \
	"$AGS" mount "$MNT" -o backup_dir="$TMP/no-such-dir"
fails 2 'backup_interval needs a number' "a backup interval of 0" \
	"$AGS" mount "$MNT" -o backup_dir="$TMP",backup_interval=0
ok "refused options mount nothing" eval '! mountpoint -q "$MNT"'
mkdir "$TMP/backups"
# finished backups only: one being written is FILE.db.tmp until renamed
backups() { ls "$TMP/backups" | grep '\.db$'; }
mount_store -o backup_dir="$TMP/backups",backup_interval=1,backup_keep=2
ok "a backup is written within the interval" \
	eventually 5000 '[ "$(backups | wc -l)" -ge 1 ]'
first=$(backups | tail -n 1)
like "$first" '-[0-9]{8}T[0-9]{6}Z-[0-9]+\.db$' \
	"named after the store, the time and the audit sequence"
sleep 2.5
is "$(backups | tail -n 1)" "$first" "an unchanged store writes no new backup"
"$AGS" backup "$TMP/early.db" >/dev/null # x is {"n": 2}
for n in 11 12 13; do
	echo "{\"n\": $n}" >"$MNT/c/x.json"
	eventually 5000 "backups | grep -q -- \"-\$(last_field seq).db\$\""
done
is "$(backups | wc -l)" 2 "backup_keep=2 keeps the newest two"
newest="$TMP/backups/$(backups | tail -n 1)"
run "$AGS" --store "$newest" check
is "$rc" 0 "the newest backup passes check"
is "$("$AGS" --store "$newest" get c x)" '{"n": 13}' "and holds the last write"

# ---- restore under the mount: refused, unless forced
is "$(cat "$MNT/c/x.json")" '{"n": 13}' "the mount has x cached"
fails 1 'it is mounted' "a restore while mounted" \
	"$AGS" restore "$TMP/early.db"
is "$("$AGS" get c x)" '{"n": 13}' "a refused restore changes nothing"
run "$AGS" restore --force "$TMP/early.db"
is "$rc" 0 "restore --force under the mount"
# Bounded by the watcher's poll, plus any wait for the locks the restore
# holds while it copies (up to the 5 s busy timeout, on a loaded machine).
ok "the mount shows the restored body within seconds" \
	eventually 8000 '[ "$(cat "$MNT/c/x.json")" = "{\"n\": 2}" ]'
[ "$(cat "$MNT/c/x.json")" = '{"n": 2}' ] ||
	diag "x shows $(cat "$MNT/c/x.json"), the store has $("$AGS" get c x)"
echo '{"n": 14}' >"$MNT/c/x.json"
is "$("$AGS" get c x)" '{"n": 14}' "and takes writes again"
ok "the daemon logs the restore" eventually 3000 \
	'grep -q "the store was replaced under the mount" "$MOUNT_LOG"'
unmount_store
is "$mount_rc" 0 "the daemon with backups exits 0"
like "$(cat "$MOUNT_LOG")" 'backup written' "backups are logged"
is "$(ls "$TMP/backups" | grep -c '\.tmp$')" 0 "no unfinished backup is left"

# ---- sync=full
run "$AGS" mount "$MNT" -o sync=full
echo '{"n": 3}' >"$MNT/c/x.json"
is "$("$AGS" get c x)" '{"n": 3}' "sync=full writes"
"$AGS" umount "$MNT"
eventually 5000 '! mountpoint -q "$MNT"'

# hold_open BODY: a process that writes BODY into x.json and keeps the file
# open until killed; its pid in $holder.
hold_open() {
	"$PY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, sys.argv[2].encode())
open(sys.argv[3], "w").close()
time.sleep(60)' "$MNT/c/x.json" "$1" "$TMP/ready" &
	holder=$!
	eventually 5000 '[ -e "$TMP/ready" ]'
	rm -f "$TMP/ready"
}

# stop_daemon SIGNAL: signal the foreground daemon, wait for its end.
stop_daemon() {
	kill -"$1" "$MOUNT_PID"
	wait "$MOUNT_PID"
	mount_rc=$?
	MOUNT_PID=
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

# ---- SIGTERM commits what an open file holds
mount_store
hold_open '{"n": 4}'
is "$("$AGS" get c x)" '{"n": 3}' "a write not yet closed is not committed"
stop_daemon TERM
is "$mount_rc" 0 "SIGTERM: the daemon exits 0"
is "$("$AGS" get c x)" '{"n": 4}' "SIGTERM: the open file's valid JSON is committed"
ok "SIGTERM: the mount is gone" eventually 5000 '! mountpoint -q "$MNT"'

# ---- SIGINT refuses what is not valid. A shell starts background jobs
# with SIGINT ignored, which the daemon respects; undo that for this one.
"$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$AGS" mount "$MNT" -f >>"$MOUNT_LOG" 2>&1 &
MOUNT_PID=$!
wait_for 10 mountpoint -q "$MNT"
hold_open '{"n": 5'
stop_daemon INT
is "$mount_rc" 0 "SIGINT: the daemon exits 0"
is "$("$AGS" get c x)" '{"n": 4}' "SIGINT: half-written JSON is not committed"
like "$(last_field error)" 'invalid JSON' "SIGINT: it is refused, audited"
like "$(cat "$MOUNT_LOG")" 'cannot store c/x.json' "and logged"
ok "SIGINT: the mount is gone" eventually 5000 '! mountpoint -q "$MNT"'

# ---- SIGTERM while another process changes the store and files are being
# created: the watcher is sending notices the kernel answers only under the
# directory's lock, held by a creator waiting for the daemon. The daemon
# must neither hang (the loop stopped answering while a notice waited for
# that lock) nor lose the open file's buffer.
mkdir -p "$TMP/tree/c"
for i in $(seq 20000); do echo "{\"i\": $i}" >"$TMP/tree/c/o$i.json"; done
mount_store
conn=$(mount_conn)
hold_open '{"n": 6}'
busy=()
(while [ ! -e "$TMP/stop" ]; do
	echo "{\"t\": $RANDOM}" | "$AGS" put c ext
done) >/dev/null 2>&1 &
busy+=($!)
for k in 1 2 3; do
	(i=0; while [ ! -e "$TMP/stop" ]; do
		i=$((i + 1))
		: >"$MNT/c/t$k-$i"
	done) 2>/dev/null &
	busy+=($!)
done
# If the daemon hangs, nothing but aborting its connection frees it and the
# creators waiting for it.
stop_busy() {
	touch "$TMP/stop"
	[ -n "$MOUNT_PID" ] && ! exited "$MOUNT_PID" && abort_mount "$conn"
	kill "${busy[@]}" "$holder" 2>/dev/null
	wait "${busy[@]}" "$holder" 2>/dev/null
}
at_exit stop_busy
# A backlog: 20 000 rows for the watcher to act on, all in collection c.
"$AGS" import "$TMP/tree" >/dev/null
sleep 0.4
kill -TERM "$MOUNT_PID"
if wait_for 10 exited "$MOUNT_PID"; then
	pass "SIGTERM amid notices: the daemon exits within seconds"
	wait "$MOUNT_PID"
	is "$?" 0 "SIGTERM amid notices: it exits 0"
else
	fail "SIGTERM amid notices: the daemon exits within seconds"
	diag "stuck in: $(for t in /proc/"$MOUNT_PID"/task/*; do
		echo "$(cat "$t/wchan" 2>/dev/null)"
	done | tr '\n' ' ')"
	abort_mount "$conn"
	wait "$MOUNT_PID"
fi
MOUNT_PID=
stop_busy
is "$("$AGS" get c x)" '{"n": 6}' "SIGTERM amid notices: the open file is committed"
is "$("$AGS" ls c | grep -c '^o')" 20000 "and the backlog was stored"
ok "SIGTERM amid notices: the mount is gone" eventually 5000 '! mountpoint -q "$MNT"'

done_testing
