#!/usr/bin/env bash
# Durability: the daemon is killed with SIGKILL in the middle of a write
# loop. After fusermount3 -u and a remount, every write whose close()
# returned 0 is in the store, the store passes PRAGMA integrity_check, and
# the audit log has a row for each of those changes.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store

# Create a new object and update x in each round; after each close() that
# returned 0, record the round on the local disk.
cat >"$TMP/loop.py" <<'PY'
import os, sys
mnt, log = sys.argv[1], sys.argv[2]
with open(log, "a") as rec:
    i = 0
    while True:
        i += 1
        try:
            with open(os.path.join(mnt, "c", "o%d.json" % i), "w") as f:
                f.write('{"round": %d}' % i)
            rec.write("o%d\n" % i)
            rec.flush()
            with open(os.path.join(mnt, "c", "x.json"), "w") as f:
                f.write('{"round": %d}' % i)
            rec.write("x%d\n" % i)
            rec.flush()
        except OSError:
            break
PY
: >"$TMP/done"
"$PY" "$TMP/loop.py" "$MNT" "$TMP/done" 2>/dev/null &
loop=$!
eventually 10000 '[ "$(wc -l <"$TMP/done")" -ge 100 ]'
kill -9 "$MOUNT_PID"
wait "$MOUNT_PID" 2>/dev/null
MOUNT_PID=
wait "$loop"
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
ok "the write loop ran" [ "$(wc -l <"$TMP/done")" -ge 100 ]

run "$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
	"$AGENTSTATE_STORE"
is "$out" ok "PRAGMA integrity_check: ok"

mount_store
missing=0
for o in $(grep '^o' "$TMP/done"); do
	[ "$(cat "$MNT/c/$o.json" 2>/dev/null)" = "{\"round\": ${o#o}}" ] ||
		missing=$((missing + 1))
done
is "$missing" 0 "every object whose close() returned 0 is there"
last=$(grep '^x' "$TMP/done" | tail -n 1)
got=$("$AGS" get c x | jq .round)
ok "x holds at least its last acknowledged write (${last#x}, got $got)" \
	[ "$got" -ge "${last#x}" ]
acked=$(grep -c '^x' "$TMP/done")
ok "x has a version for each acknowledged write" \
	[ "$(version_of c x)" -ge $((acked + 1)) ]
is "$("$AGS" log --op create --collection c | wc -l | tr -d ' ')" \
	"$("$AGS" ls c | wc -l | tr -d ' ')" "one create row per object"
echo '{"after": "crash"}' >"$MNT/c/x.json"
is "$("$AGS" get c x)" '{"after": "crash"}' "the remounted store takes writes"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
