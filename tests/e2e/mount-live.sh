#!/usr/bin/env bash
# Changes made by other processes (the CLI, a second mount of the same
# store) show in the mount within one second, cached pages included; a
# change through the mount is visible to the CLI as soon as close()
# returns; tail -f on the audit log shows new rows as they come.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
X=$MNT/c/x.json

# within1s DESCRIPTION CODE: the shell CODE succeeds within one second.
within1s() {
	if eventually 1000 "$2"; then
		pass "$1"
	else
		fail "$1 (not within 1 s)"
	fi
}

# Read the file so its pages and attributes are cached.
is "$(cat "$X")" '{"n": 1}' "the mount shows the object"
stat "$X" >/dev/null
# Same size, so only the watcher (not a size change) can drop the pages.
echo '{"n": 2}' | "$AGS" put c x >/dev/null
within1s "an update by the CLI shows within 1 s" \
	'[ "$(cat "$X")" = "{\"n\": 2}" ]'
echo '{"y": true}' | "$AGS" put c y >/dev/null
within1s "a new object shows within 1 s" '[ -f "$MNT/c/y.json" ]'
within1s "and lists" 'ls "$MNT/c" | grep -qx y.json'
"$AGS" rm c y >/dev/null
within1s "a removed object goes within 1 s" '[ ! -e "$MNT/c/y.json" ]'
"$AGS" mkcol other >/dev/null
within1s "a new collection shows within 1 s" '[ -d "$MNT/other" ]'
"$AGS" rmcol other >/dev/null
within1s "a dropped collection goes within 1 s" '[ ! -e "$MNT/other" ]'

# ---- the other way: the CLI sees a change once close() returns
echo '{"n": 3}' >"$X"
is "$("$AGS" get c x)" '{"n": 3}' "the CLI sees a write as soon as close returns"

# ---- a second mount of the same store
MNT2=$TMP/mnt2
mount_second "$MNT2"
is "$(cat "$MNT2/c/x.json")" '{"n": 3}' "a second mount shows the same object"
echo '{"n": 4}' >"$MNT2/c/x.json"
within1s "a write through one mount shows in the other within 1 s" \
	'[ "$(cat "$X")" = "{\"n\": 4}" ]'
mv "$MNT2/c/x.json" "$MNT2/c/z.json"
within1s "a rename in one mount shows in the other within 1 s" \
	'[ -f "$MNT/c/z.json" ] && [ ! -e "$MNT/c/x.json" ]'
is "$(cat "$MNT/c/z.json")" '{"n": 4}' "with its body"
mkdir "$MNT2/made"
within1s "a mkdir in one mount shows in the other within 1 s" \
	'[ -d "$MNT/made" ]'
mv "$MNT2/made" "$MNT2/renamed"
within1s "a collection rename shows in the other within 1 s" \
	'[ -d "$MNT/renamed" ] && [ ! -e "$MNT/made" ]'

# ---- an open file follows its object when another process renames it
# Python holds a file open in one mount while the other renames the object,
# then writes and closes before the watcher has followed the rename: the
# write lands in the renamed object, as it would on any filesystem.
echo '{"v": 1}' >"$MNT/c/open.json"
"$PY" - "$MNT/c" "$MNT2/c" <<'PY' >"$TMP/follow.out" 2>&1
import os, sys
here, there = sys.argv[1], sys.argv[2]
# Written before the rename: the close commits to the new name.
fd = os.open(f"{here}/open.json", os.O_RDWR)
os.pwrite(fd, b'{"v": 2}', 0)
os.rename(f"{there}/open.json", f"{there}/moved.json")
os.close(fd)
# Opened before the rename, first written after it: the bytes it builds
# on are the renamed object's.
fd = os.open(f"{here}/moved.json", os.O_RDWR)
os.rename(f"{there}/moved.json", f"{there}/again.json")
os.pwrite(fd, b'3', 6)
os.close(fd)
print("closed")
PY
is "$(cat "$TMP/follow.out")" closed \
	"writes and closes of a file renamed by another process succeed"
is "$("$AGS" get c again)" '{"v": 3}' "both writes landed in the renamed object"
fails 1 'no such object' "nothing is left under the old name" "$AGS" get c open
is "$("$AGS" history c again | wc -l)" 5 \
	"its history: create, update, rename, rename, update"
within1s "the first mount shows the object under its new name" \
	'[ "$(cat "$MNT/c/again.json")" = "{\"v\": 3}" ] && [ ! -e "$MNT/c/moved.json" ]'

# Refused (invalid JSON) after the other mount renamed it: the audit row
# names the object as the store does.
# write_during FILE BYTES rename|unlink PATH...: open FILE, write BYTES
# over it, rename or unlink PATH (in the other mount) and close; prints
# "closed" or the name of the errno the close failed with. In-process: a
# child process would close its copy of the file first.
write_during() {
	"$PY" - "$@" <<'PY' 2>&1
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, sys.argv[2].encode())
getattr(os, sys.argv[3])(*sys.argv[4:])
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
echo '{"v": 1}' >"$MNT/c/bad.json"
is "$(write_during "$MNT/c/bad.json" '{"v": ' \
	rename "$MNT2/c/bad.json" "$MNT2/c/renamed.json")" EINVAL \
	"invalid JSON in a file renamed by another process is refused: EINVAL"
is "$("$AGS" log | jq -c 'select(.error) | [.op, .collection, .id]' | tail -n 1)" \
	'["update","c","renamed"]' "the refusal is audited under the object's new name"
is "$("$AGS" get c renamed)" '{"v": 1}' "which keeps its body"

# Removed by the other mount while open here: the close says so (ESTALE),
# nothing is stored, the log says why.
echo '{"v": 1}' >"$MNT/c/gone.json"
is "$(write_during "$MNT/c/gone.json" '{"v": 2}' unlink "$MNT2/c/gone.json")" ESTALE \
	"the close of a file another process removed fails with ESTALE"
fails 1 'no such object' "nothing was stored" "$AGS" get c gone
like "$(cat "$MOUNT_LOG")" \
	'cannot store c/gone.json: another process removed it while it was open here' \
	"the daemon log says why"

fusermount3 -u "$MNT2"
wait "$pid2"
is "$?" 0 "the second daemon exits 0"

# ---- a file open while another process removes its object reads on, as
# on any filesystem, what it held
"$PY" -c 'import json; print(json.dumps({"pad": "r" * 300000}))' |
	"$AGS" put c held >/dev/null
sleep 0.6
run "$PY" - "$MNT/c/held.json" "$AGS" <<'PY'
import os, subprocess, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
head = os.read(fd, 65536)
subprocess.run([sys.argv[2], "rm", "c", "held"], check=True)
time.sleep(0.8)
rest = b""
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    rest += b
print(len(head + rest), (head + rest).count(b"r"))
PY
is "$rc:$out" "0:300012 300000" "a reader of a file removed by the CLI reads it to its end"
ok "and the name is gone" [ ! -e "$MNT/c/held.json" ]
# and one that writes after the removal still fails at its close
echo '{"v": 1}' | "$AGS" put c held2 >/dev/null
sleep 0.6
run "$PY" - "$MNT/c/held2.json" "$AGS" <<'PY'
import errno, os, subprocess, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
os.read(fd, 100)
subprocess.run([sys.argv[2], "rm", "c", "held2"], check=True)
time.sleep(0.8)
os.pwrite(fd, b'{"v": 2}', 0)
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
is "$out" ESTALE "a write to it after the removal fails at close with ESTALE"
fails 1 'no such object' "and is not stored" "$AGS" get c held2

# ---- tail -f on the audit log
tail -n 0 -f "$MNT/.agentstate/audit.jsonl" >"$TMP/tail.out" 2>&1 &
tail_pid=$!
at_exit "kill $tail_pid"
sleep 0.5
echo '{"tail": 1}' | "$AGS" put c t1 >/dev/null
echo '{"tail": 2}' >"$MNT/c/t2.json"
eventually 5000 '[ "$(wc -l <"$TMP/tail.out")" -ge 2 ]'
is "$(jq -r .id "$TMP/tail.out" | tr '\n' ' ')" "t1 t2 " \
	"tail -f on audit.jsonl shows new rows as they come"
kill "$tail_pid"
wait "$tail_pid" 2>/dev/null
is "$(cat "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log)" \
	"the audit file matches the log"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
