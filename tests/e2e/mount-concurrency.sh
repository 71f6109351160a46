#!/usr/bin/env bash
# Several processes writing at once: four writers on four objects, then two
# writers on one object (in place, and by renaming temporary files over it).
# No stored body is ever a mix of two writes, every committed change has
# exactly one audit row, and the versions have no gaps.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
N=40

# writer.py MODE PATH TAG COUNT: write COUNT bodies {"tag": TAG, "i": I,
# "pad": ...} to PATH, in place (MODE=inplace: open O_TRUNC, write, close)
# or through a temporary file renamed over it (MODE=rename). Prints how many
# saves returned success.
cat >"$TMP/writer.py" <<'PY'
import json, os, sys
mode, path, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ok = 0
for i in range(count):
    # Different lengths per writer, so a mix would show.
    body = json.dumps({"tag": tag, "i": i, "pad": tag * (50 + 300 * (ord(tag[0]) % 3))})
    try:
        if mode == "inplace":
            with open(path, "w") as f:
                f.write(body)
        else:
            tmp = "%s.%s.tmp" % (path, tag)
            with open(tmp, "w") as f:
                f.write(body)
            os.rename(tmp, path)
        ok += 1
    except OSError:
        pass
print(ok)
PY

# ---- four writers, four objects
for w in a b c d; do
	"$PY" "$TMP/writer.py" inplace "$MNT/c/$w.json" "$w" "$N" >"$TMP/ok.$w" &
done
wait_jobs() {
	local j
	for j in $(jobs -p); do
		[ "$j" = "$MOUNT_PID" ] || wait "$j"
	done
}
wait_jobs
for w in a b c d; do
	is "$(cat "$TMP/ok.$w")" "$N" "writer $w: every save succeeded"
	is "$(version_of c "$w")" "$N" "object $w: one version per save"
	is "$("$AGS" log --collection c --id "$w" | jq -s 'map(select(.error == null)) | length')" \
		"$N" "object $w: one audit row per save"
	is "$("$AGS" get c "$w" | jq -r '.tag + " " + (.i | tostring)')" \
		"$w $((N - 1))" "object $w: holds its last save"
done

# check_object ID TAGS: every kept version of ID is one whole body written
# by one of the writers, the versions run 1..V without gaps, and each has
# exactly one audit row.
check_object() {
	local id=$1 v bad=0 versions
	versions=$(version_of c "$id")
	for v in $(seq 1 "$versions"); do
		"$AGS" get c "$id" --version "$v" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
tag = d["tag"]
assert d["pad"] == tag * (50 + 300 * (ord(tag[0]) % 3)), "mixed"
' 2>/dev/null || bad=$((bad + 1))
	done
	is "$bad" 0 "$id: every version is one whole body"
	is "$("$AGS" history c "$id" | jq -r .version | tr '\n' ' ')" \
		"$(seq -s ' ' 1 "$versions") " "$id: versions without gaps"
	is "$("$AGS" log --collection c --id "$id" | jq -s 'map(select(.error == null and .new_version != null)) | map(.new_version) | unique | length')" \
		"$versions" "$id: one audit row per version"
	is "$("$AGS" log --collection c --id "$id" | jq -s 'map(select(.error == null and .new_version != null)) | length')" \
		"$versions" "$id: and no more"
}

# ---- two writers, one object, in place: saves may be refused (a close can
# find the other writer's bytes half-written in the shared buffer), never
# stored mixed.
"$PY" "$TMP/writer.py" inplace "$MNT/c/same.json" e "$N" >"$TMP/ok.e" &
"$PY" "$TMP/writer.py" inplace "$MNT/c/same.json" f "$N" >"$TMP/ok.f" &
wait_jobs
ok "in place: most saves succeed" [ "$(($(cat "$TMP/ok.e") + $(cat "$TMP/ok.f")))" -gt "$N" ]
check_object same

# ---- two writers, one object, by rename: every rename is one commit
"$PY" "$TMP/writer.py" rename "$MNT/c/ren.json" g "$N" >"$TMP/ok.g" &
"$PY" "$TMP/writer.py" rename "$MNT/c/ren.json" h "$N" >"$TMP/ok.h" &
wait_jobs
is "$(($(cat "$TMP/ok.g") + $(cat "$TMP/ok.h")))" "$((2 * N))" \
	"by rename: every save succeeded"
is "$(version_of c ren)" "$((2 * N))" "by rename: one version per save"
check_object ren
is "$(ls "$MNT/c" | grep -c tmp)" 0 "no temporary file left"

# ---- four writers creating objects, each in a collection of its own, for
# 3 s: the daemon commits many changes at once, and while it does the
# watcher lists the log past the end it read just before. Every object is
# stored, each with one audit row, and the watcher never takes the
# daemon's own commits for a restore (which would drop every cache).
cat >"$TMP/creator.py" <<'PY'
import os, sys, time
path, until = sys.argv[1], time.time() + float(sys.argv[2])
os.mkdir(path)
n = 0
while time.time() < until:
    with open("%s/o%d.json" % (path, n), "w") as f:
        f.write('{"n": %d}' % n)
    n += 1
print(n)
PY
for w in 0 1 2 3; do
	"$PY" "$TMP/creator.py" "$MNT/w$w" 3 >"$TMP/made.$w" &
done
wait_jobs
for w in 0 1 2 3; do
	made=$(cat "$TMP/made.$w")
	is "$("$AGS" ls "w$w" | wc -l)" "$made" "w$w: all $made objects stored"
	is "$("$AGS" log --collection "w$w" --op create | wc -l)" "$made" \
		"w$w: one audit row each"
done
unlike "$(cat "$MOUNT_LOG")" 'replaced under the mount' \
	"the daemon's own commits are never taken for a restore"

# ---- indexes made by another process while a writer commits through the
# mount: each is a schema change the watcher starts over from, never a
# store replaced under it (the watcher's listing goes past the end of the
# log it read, as above).
"$PY" "$TMP/creator.py" "$MNT/ix" 3 >/dev/null &
for i in 1 2 3 4 5 6 7 8; do
	sleep 0.3
	"$AGS" index ix "f$i" >/dev/null
done
wait_jobs
sleep 0.5
like "$(cat "$MOUNT_LOG")" 'schema version changed' \
	"the indexes are seen as schema changes"
unlike "$(cat "$MOUNT_LOG")" 'replaced under the mount' \
	"and never as a store replaced under the mount"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
run "$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
	"$AGENTSTATE_STORE"
is "$out" ok "PRAGMA integrity_check: ok"
done_testing
