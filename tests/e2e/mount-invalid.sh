#!/usr/bin/env bash
# Invalid JSON written every way — a redirection, Python's close() and
# fsync(), vim, sed -i, mv of an invalid temporary file, truncate(1) — is
# refused: the tool sees EINVAL, the object keeps its last committed body
# (and the mount shows it again), the refusal is in the audit log with file,
# line and column, and in the daemon's log. Truncation alone is never
# committed, a new file never holding valid JSON never becomes an object,
# and a body over the limit gets EFBIG.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
X=$MNT/c/x.json
BODY='{"n": 1}'

# refused HOW: the checks after a refused save of x.
refused() {
	is "$("$AGS" get c x)" "$BODY" "$1: the object keeps its body"
	is "$(version_of c x)" 1 "$1: no new version"
	is "$(cat "$X")" "$BODY" "$1: the file shows the stored body again"
	is "$(last_field error | grep -c 'c/x.json: invalid JSON at line [0-9]*, column [0-9]*')" 1 \
		"$1: the refusal is audited with file, line and column"
	is "$(last_field collection)/$(last_field id)/$(last_field new_version)" \
		c/x/null "$1: for that object, changing nothing"
}

run sh -c "/bin/echo '{\"n\": 2' >'$X'"
is "$rc" 1 "a redirection of invalid JSON: the writer fails"
like "$err" 'Invalid argument' "with EINVAL at close"
refused redirect
is "$(last_field comm)" echo "audited with the writing tool"
is "$(last_field error)" \
	"cannot store c/x.json: invalid JSON at line 2, column 1: unexpected end of input" \
	"the message says what, where and why"
like "$(cat "$MOUNT_LOG")" 'cannot store c/x.json: invalid JSON at line 2, column 1' \
	"and the daemon logs it"

run "$PY" - "$X" <<'PY'
import sys
f = open(sys.argv[1], "w")
f.write('{"n": NaN}')
try:
    f.close()
except OSError as e:
    print(e.errno)
PY
is "$out" 22 "python: close() raises EINVAL"
refused python

run "$PY" - "$X" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'{"n": 1,}')
try:
    os.fsync(fd)
except OSError as e:
    print(e.errno)
os.close(fd)
PY
is "$out" 22 "python: fsync() raises EINVAL"
refused fsync

run sed -i 's/1/1 1/' "$X"
isnt "$rc" 0 "sed -i writing invalid JSON fails"
like "$err" 'Invalid argument' "with EINVAL"
refused sed
is "$(ls "$MNT/c")" x.json "sed's temporary file is gone"

run vim -Nu NONE -i NONE -es -c 'set backupskip=' -c 's/1/[/' -c wq "$X"
isnt "$rc" 0 "vim writing invalid JSON fails"
refused vim
is "$(last_field comm)" vim "audited with vim"

printf '{"n": 2}}' >"$TMP/bad.json"
cp "$TMP/bad.json" "$MNT/c/bad.tmp"
run mv "$MNT/c/bad.tmp" "$X"
is "$rc" 1 "mv of an invalid temporary file onto the object fails"
refused mv
is "$(cat "$MNT/c/bad.tmp")" '{"n": 2}}' "the temporary file is still there"
rm "$MNT/c/bad.tmp"

truncate_path "$X" 3
is "$out" 22 "truncate(2) of a closed file to invalid JSON: EINVAL"
refused truncate

# truncate(path) while only readers have the file open: stored at once
printf '{"n": 1}    ' >"$X"
exec 3<"$X"
truncate_path "$X" 8
is "$out" "" "truncate(2) while a reader has the file open succeeds"
is "$("$AGS" get c x)" "$BODY" "and is stored at once"
exec 3<&-
is "$(cat "$X")" "$BODY" "the file keeps the cut after the reader closes"
# refused, it shows the stored body at once, though a reader stays
exec 3<"$X"
truncate_path "$X" 3
is "$out" 22 "truncate(2) to invalid JSON while a reader has the file open: EINVAL"
is "$(cat "$X")" "$BODY" "the file shows the stored body again at once"
exec 3<&-
rows=$(audit_rows)
# a writer's refused bytes go once the last writer closes, readers or not
exec 3<"$X"
run "$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"{")
try:
    os.close(fd)
except OSError as e:
    print(e.errno)' "$X"
is "$out" 22 "a writer's invalid body fails its close while a reader stays"
is "$(cat "$X")" "$BODY" "and the reader and new opens see the stored body"
exec 3<&-
is "$(audit_rows)" $((rows + 1)) "one refusal audited"
# a truncation alone is never stored, readers or not
exec 3<"$X"
: >"$X"
is "$(cat "$X")" "$BODY" "': > x.json' with a reader open: the file shows the stored body"
is "$(stat -c %s "$X")" "${#BODY}" "at its size"
exec 3<&-
is "$(audit_rows)" $((rows + 1)) "and nothing is audited"

# ---- a close() by one holder of an open file while another goes on
# writing: the child of a shell redirection closes its inherited copy with
# half the body written. That close fails (and the refusal is audited), but
# the buffer stays as written for the shell, whose last close stores the
# whole body.
rows=$(audit_rows)
before=$(version_of c x)
run sh -c "{ echo '{\"date\":'; date +%s; echo ', \"note\": \"new\"}'; } >'$X'"
is "$rc" 0 "a shell group around a child that closes mid-way: the shell succeeds"
like "$err" 'date: .*Invalid argument' "the child's close() fails with EINVAL"
like "$("$AGS" get c x)" '^\{"date":.[0-9]+.*"note": "new"\}$' \
	"the whole new body is stored"
is "$(version_of c x)" $((before + 1)) "as one new version"
is "$(cat "$X")" "$("$AGS" get c x)" "the file shows it"
is "$("$AGS" log | tail -n +$((rows + 1)) | jq -r '.op + " " + (.error != null | tostring)' | tr '\n' ,)" \
	"update true,update false," "the half-written buffer's refusal is audited, then the update"
echo "$BODY" | "$AGS" put c x
is "$("$AGS" get c x)" "$BODY" "(the object's body again)"

run sh -c "{ echo '{\"date\":'; date +%s; echo '}'; } >'$MNT/c/fresh.json'"
is "$rc" 0 "the same into a new file: the shell succeeds"
run "$AGS" get c fresh
like "$out" '^\{"date":.[0-9]+.\}$' "and the object is created"
rm "$MNT/c/fresh.json"

# The same bytes refused by two closes are audited once; when the last
# handle goes and the buffer is still invalid, the file shows the stored
# body again.
rows=$(audit_rows)
run "$PY" - "$X" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'{"n": 1, ')
for f in (os.dup(fd), fd):
    try:
        os.close(f)
    except OSError as e:
        print(e.errno)
PY
is "$out" $'22\n22' "both closes of a half-written file fail with EINVAL"
is "$(audit_rows)" "$((rows + 1))" "one refusal is audited"
ok "the file shows the stored body once the last handle is gone" \
	eventually 2000 '[ "$(cat "$X")" = "$BODY" ]'
is "$("$AGS" get c x)" "$BODY" "the object keeps its body"

# ---- truncation alone is never committed
rows=$(audit_rows)
: >"$X"
is "$("$AGS" get c x)" "$BODY" "O_TRUNC and close: nothing committed"
is "$(cat "$X")" "$BODY" "the file shows the body again"
is "$(audit_rows)" "$rows" "and nothing audited"
"$PY" - "$X" <<'PY'
import os, sys
with open(sys.argv[1], "r+") as f:
    f.truncate(0)
PY
is "$("$AGS" get c x)/$(audit_rows)" "$BODY/$rows" "ftruncate and close: nothing either"
truncate -s 3 "$X"
is "$("$AGS" get c x)/$(audit_rows)" "$BODY/$rows" "truncate(1), through a file descriptor: nothing either"
is "$(cat "$X")" "$BODY" "the file shows the body"

# ---- a new file without valid JSON never becomes an object
touch "$MNT/c/new.json"
ok "touch makes an empty file" [ -f "$MNT/c/new.json" ] && [ ! -s "$MNT/c/new.json" ]
run "$AGS" get c new
is "$rc" 1 "that is no object"
run sh -c "/bin/echo 'not json' >'$MNT/c/new.json'"
is "$rc" 1 "writing invalid JSON into it fails"
is "$(last_field op)/$(last_field id)" create/new "audited as a refused create"
is "$(stat -c %s "$MNT/c/new.json")" 0 "it is an empty file again"
echo '{"new": true}' >"$MNT/c/new.json"
is "$("$AGS" get c new)" '{"new": true}' "valid JSON makes it an object"
is "$(version_of c new)" 1 "version 1"
touch "$MNT/c/gone.json"
remount
ok "a file that never held JSON is gone after a remount" [ ! -e "$MNT/c/gone.json" ]

# ---- too large
run "$PY" - "$MNT/c/big.json" <<'PY'
import sys
body = b'{"a": "' + b"x" * (17 << 20) + b'"}'
try:
    with open(sys.argv[1], "wb") as f:
        f.write(body)
except OSError as e:
    print(e.errno)
PY
is "$out" 27 "a body over the limit: EFBIG"
run "$AGS" get c big
is "$rc" 1 "nothing stored"
run sh -c "head -c 20000000 /dev/zero >'$X'"
like "$err" 'too large' "an object's buffer stops at the limit too"
is "$("$AGS" get c x)" "$BODY" "the object is unchanged"
# what fitted before the write that failed is never stored, even when it
# is valid JSON on its own (the first 16 MiB of a longer number)
head -c $((17 << 20)) /dev/zero | tr '\0' 1 >"$TMP/long.json"
run cp "$TMP/long.json" "$X"
like "$err" "error writing .*File too large" "cp of 17 MiB onto an object: the write fails"
like "$err" "failed to close .*File too large" "and so does its close"
is "$("$AGS" get c x)" "$BODY" "the object is unchanged"
like "$("$AGS" log --id x | tail -n 1)" '"error": "cannot store c/x.json: a write would have made the body [0-9]+ bytes, more than the store.s limit of 16777216"' \
	"the refusal is audited with why"
rm -f "$TMP/long.json"

# ---- with another process holding the store's write lock past the busy
# timeout (5 s), invalid JSON is still EINVAL: the body is checked before
# the lock is asked for (were it checked after, close() would be EBUSY).
# Only the refusal's audit row waits for the lock, and is then given up
# with a line in the daemon's log.
rm -f "$TMP/locked"
"$PY" - "$AGENTSTATE_STORE" "$TMP/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(7)
PY
locker=$!
eventually 5000 '[ -e "$TMP/locked" ]'
run "$PY" - "$X" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'{"n": ')
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
is "$out" EINVAL \
	"invalid JSON while another process holds the lock: EINVAL, not EBUSY"
wait "$locker"
is "$("$AGS" get c x)" "$BODY" "the object is unchanged"
like "$(cat "$MOUNT_LOG")" 'cannot audit the refusal of c/x' \
	"the daemon logs the refusal it could not audit"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
