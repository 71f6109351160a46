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

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
