#!/usr/bin/env bash
# Temporary files and the editor rule. Names that are not object names are
# ordinary files in the daemon's memory: any content, never stored or
# audited, capped (ENOSPC), gone after unmount. An object renamed to such a
# name is hidden, not removed: writing its name again updates it (one
# version, same history), renaming it back changes nothing, renaming it on
# renames it, removing the temporary file removes it, and at unmount it
# shows again unchanged.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
C=$MNT/c

# ---- ordinary temporary files
rows=$(audit_rows)
printf 'not json at all\n' >"$C/notes.txt"
printf '\0\1\2' >"$C/.x.json.swp"
dd if=/dev/zero of="$C/sparse.bin" bs=1 count=1 seek=100000 2>/dev/null
is "$(cat "$C/notes.txt")" 'not json at all' "a temporary file holds any content"
is "$(stat -c %s "$C/sparse.bin")" 100001 "at any offset"
is "$(od -An -tx1 "$C/.x.json.swp" | tr -d ' ')" 000102 "byte for byte"
printf 'more\n' >>"$C/notes.txt"
is "$(cat "$C/notes.txt")" $'not json at all\nmore' "appends"
is "$(ls -a "$C" | tr '\n' ' ')" ". .. .x.json.swp notes.txt sparse.bin x.json " \
	"listed with the objects"
is "$(audit_rows)" "$rows" "never audited"
run "$AGS" ls c
is "$out" x "never stored"
run rmdir "$C"
like "$err" 'not empty' "a collection with temporary files is not empty"
run sh -c "head -c 70000000 /dev/zero >'$C/huge.tmp'"
like "$err" 'No space left' "temporary files are capped: ENOSPC"
rm -f "$C/huge.tmp" "$C/sparse.bin"
mv "$C/notes.txt" "$C/notes2.txt"
is "$(cat "$C/notes2.txt")" $'not json at all\nmore' "renamed like any file"

# ---- a temporary file renamed onto an object name is stored
echo '{"from": "temp"}' >"$C/new.tmp"
mv "$C/new.tmp" "$C/fresh.json"
is "$("$AGS" get c fresh)" '{"from": "temp"}' "mv temp -> new object name creates it"

# ---- an object renamed to a temporary name, then written again
mv "$C/x.json" "$C/x.json.bak"
ok "the object's name is free" [ ! -e "$C/x.json" ]
is "$(cat "$C/x.json.bak")" '{"n": 1}' "the temporary file shows its body"
is "$("$AGS" get c x)" '{"n": 1}' "the store still holds it"
is "$(audit_rows)" "$((rows + 1))" "nothing audited yet"
echo '{"n": 2}' >"$C/x.json"
is "$("$AGS" get c x)" '{"n": 2}' "writing the name again updates the object"
is "$(version_of c x)" 2 "one new version of the same history"
is "$(last_field op)" update "audited as an update"
is "$(cat "$C/x.json.bak")" '{"n": 1}' "the temporary file keeps the old body"
rm "$C/x.json.bak"
is "$("$AGS" get c x)" '{"n": 2}' "removing it then changes nothing"

# ---- renamed back unchanged: nothing happened
rows=$(audit_rows)
mv "$C/x.json" "$C/x.json~"
mv "$C/x.json~" "$C/x.json"
is "$(audit_rows)" "$rows" "renamed away and back: nothing audited"
is "$(version_of c x)/$(cat "$C/x.json")" '2/{"n": 2}' "nothing changed"

# ---- renamed back changed: an update
mv "$C/x.json" "$C/x.json~"
echo '{"n": 3}' >"$C/x.json~"
mv "$C/x.json~" "$C/x.json"
is "$("$AGS" get c x)/$(version_of c x)" '{"n": 3}/3' "renamed back changed: an update"

# ---- renamed on to another object name: a rename in the store
mv "$C/x.json" "$C/x.tmp"
mv "$C/x.tmp" "$C/y.json"
is "$("$AGS" get c y)/$(version_of c y)" '{"n": 3}/4' \
	"renamed on: the object is renamed, its history kept"
is "$(last_field op)/$(last_field from_id)" rename/x "audited as a rename"

# ---- the temporary file removed: the object is removed
mv "$C/y.json" "$C/y.old"
rm "$C/y.old"
run "$AGS" get c y
is "$rc" 1 "removing the temporary file removes the object"
is "$(last_field op)/$(last_field id)" remove/y "audited as a remove"

# ---- unmount while hidden: the object shows again, unchanged
mv "$C/fresh.json" "$C/fresh.json~"
echo '{}' >"$C/scratch.tmp"
rows=$(audit_rows)
remount
is "$(cat "$C/fresh.json")" '{"from": "temp"}' "after unmount a hidden object shows again"
is "$(audit_rows)" "$rows" "and nothing was audited"
ok "temporary files are gone after unmount" \
	[ ! -e "$C/fresh.json~" ] && [ ! -e "$C/scratch.tmp" ] &&
	[ ! -e "$C/notes2.txt" ]

# ---- a new file under an object name exists only as an empty temporary
# file until valid JSON is committed; a rename of it stays one.
touch "$C/empty.json"
mv "$C/empty.json" "$C/moved.json"
ok "an empty new file moves" [ -f "$C/moved.json" ] && [ ! -s "$C/moved.json" ]
run "$AGS" get c moved
is "$rc" 1 "and is still no object"
rm "$C/moved.json"

# ---- an empty new file renamed over a hidden object's name is that name's
# new file, as one created there is: the backup still holds the object,
# so removing both names leaves nothing, not the object back.
echo '{"h": 1}' | "$AGS" put c h >/dev/null
mv "$C/h.json" "$C/h.bak"
touch "$C/h.new"
mv "$C/h.new" "$C/h.json"
rm "$C/h.bak"
run "$AGS" get c h
is "$rc" 1 "removing the backup removes the object"
rm "$C/h.json"
sleep 1.2
ok "after both names are removed it does not come back" [ ! -e "$C/h.json" ]
run "$AGS" get c h
is "$rc" 1 "nor is it in the store"

# ---- a backup renamed back unchanged shows what another process made of
# the object meanwhile (which reached no file while it was hidden), even
# while the backup is held open.
echo '{"k": 1}' | "$AGS" put c k >/dev/null
mv "$C/k.json" "$C/k.json~"
exec 3<"$C/k.json~"
echo '{"k": 2}' | "$AGS" put c k >/dev/null
sleep 1.2
mv "$C/k.json~" "$C/k.json"
sleep 1.2
is "$(cat "$C/k.json")" '{"k": 2}' \
	"a backup renamed back shows the change made while it was hidden"
exec 3<&-
sleep 0.3
is "$(cat "$C/k.json")" '{"k": 2}' "and so it does once closed"

# ---- a backup cannot swap names with another file: the object it holds
# would stay behind under its name.
echo '{"e": 1}' | "$AGS" put c e >/dev/null
mv "$C/e.json" "$C/e.json~"
touch "$C/f.json"
run "$RENAMEAT2" exchange "$C/e.json~" "$C/f.json"
like "$out$err" EINVAL "exchanging a backup with another file: EINVAL"
like "$(cat "$MOUNT_LOG")" "refused to exchange c/e\.json~ with c/f\.json: e\.json~ stands for an object hidden by a rename" \
	"the daemon log says why"
mv "$C/e.json~" "$C/e.json"
is "$("$AGS" get c e)/$(version_of c e)" '{"e": 1}/1' "the object is as it was"
rm "$C/f.json"

# ---- a shared buffer: a reader sees what a writer wrote before its close
echo '{"n": 4}' >"$C/x.json"
run "$PY" - "$C/x.json" <<'PY'
import sys
w = open(sys.argv[1], "r+")
w.write('{"n": "buffered"}')
w.flush()
print(open(sys.argv[1]).read())
w.close()
PY
is "$out" '{"n": "buffered"}' "a reader sees the shared buffer before the close"
is "$("$AGS" get c x)" '{"n": "buffered"}' "committed at close"

# ---- names longer than NAME_MAX (255 bytes): ENAMETOOLONG, as on any
# Linux filesystem (the kernel passes FUSE up to 1024)
long=$(printf 'a%.0s' $(seq 300))
run touch "$C/$long"
like "$err" 'File name too long' "creating a 300-byte name: ENAMETOOLONG"
run mv "$C/x.json" "$C/$long"
like "$err" 'File name too long' "renaming to one: ENAMETOOLONG"
run stat "$C/$long"
like "$err" 'File name too long' "looking one up: ENAMETOOLONG"
run "$PY" -c 'import os, stat, sys
try:
    os.mknod(sys.argv[1], stat.S_IFREG | 0o644)
except OSError as e:
    print(e.errno)' "$C/$long"
is "$out" 36 "mknod of one: ENAMETOOLONG"
ok "nothing was made, x.json stays" [ -f "$C/x.json" ] &&
	[ -z "$(ls "$C" | grep aaaa)" ]
name255=$(printf 'b%.0s' $(seq 251)).tmp
echo hi >"$C/$name255"
is "$(cat "$C/$name255")" hi "a name of 255 bytes is fine"
rm "$C/$name255"

# ---- a temporary file that becomes an object takes the store's limit:
# writes and truncations past it fail with EFBIG, through the handles that
# were open across the change as through new ones.
run "$PY" - "$C" <<'PY'
import errno, os, sys
d = sys.argv[1]
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def past_limit(fd):
    return " ".join([attempt(lambda: os.pwrite(fd, b"x", 200 << 20)),
                     attempt(lambda: os.ftruncate(fd, 32 << 20)),
                     attempt(lambda: os.close(fd))])
# renamed onto an object name while open
fd = os.open(d + "/big.tmp", os.O_RDWR | os.O_CREAT)
os.write(fd, b"{}")
os.rename(d + "/big.tmp", d + "/big.json")
print(past_limit(fd))
# a new file committed by fsync while open
fd = os.open(d + "/big2.json", os.O_RDWR | os.O_CREAT)
os.write(fd, b"{}")
os.fsync(fd)
print(past_limit(fd))
# and once reopened
print(past_limit(os.open(d + "/big.json", os.O_RDWR)))
PY
is "$out" $'EFBIG EFBIG EFBIG\nEFBIG EFBIG EFBIG\nEFBIG EFBIG EFBIG' \
	"a temporary file turned object: pwrite at 200 MiB, ftruncate to 32 MiB and then close give EFBIG"
is "$("$AGS" get c big)/$("$AGS" get c big2)" '{}/{}' "the objects are unchanged"
is "$(stat -c %s "$C/big.json")" 2 "and so are their files"
rm "$C/big.json" "$C/big2.json"

# ---- a temporary file that shrinks gives its memory back: five files of
# 30 MB, each cut to nothing, leave the daemon no bigger (the cap counts
# what the daemon holds, so cutting a file cannot get round it). ASan's
# quarantine would keep freed blocks: not for this daemon.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 remount
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$MOUNT_PID/status"
}
before=$(rss_kb)
for i in 1 2 3 4 5; do
	head -c 30000000 /dev/zero >"$C/cut$i.tmp"
	truncate -s 0 "$C/cut$i.tmp"
done
grown=$((($(rss_kb) - before) / 1024))
ok "five 30 MB temporary files cut to nothing: the daemon grew by $grown MiB (< 40)" \
	[ "$grown" -lt 40 ]
run sh -c "head -c 60000000 /dev/zero >'$C/after.tmp'"
is "$rc/$(stat -c %s "$C/after.tmp")" 0/60000000 "and the whole cap is free again"
rm -f "$C"/cut*.tmp "$C/after.tmp"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
