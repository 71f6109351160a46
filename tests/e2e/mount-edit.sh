#!/usr/bin/env bash
# Editing objects in place with the tools people use: sed -i, jq into a
# temporary file then mv, Python writing into the open file and Python's
# write-a-temporary-then-os.replace, vim with its defaults (swap file and a
# backup made by renaming) and with backupcopy=yes, rsync -a in and out.
# After each save the store holds the new body, the version rose by exactly
# one (an update of the same object, never a remove and re-create), and the
# audit names the tool that wrote the file.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
X=$MNT/c/x.json

# edited TOOL BODY VERSION: the checks after one save by TOOL.
edited() {
	is "$("$AGS" get c x)" "$2" "$1: the store holds the edited body"
	is "$(version_of c x)" "$3" "$1: one new version"
	is "$("$AGS" log --collection c --id x | jq -r 'select(.op != "setattr") | .op + " " + .comm' | tail -n 1)" \
		"update $1" "$1: audited as an update by $1"
	is "$("$AGS" history c x | jq -r .version | tr '\n' ' ')" \
		"$(seq -s ' ' 1 "$3") " "$1: history is continuous"
	is "$("$AGS" log --op remove | wc -l | tr -d ' ')" 0 \
		"$1: never removed and re-created"
	is "$(cat "$X")" "$2" "$1: the mount shows it"
}

run sed -i 's/1/2/' "$X"
is "$rc" 0 "sed -i succeeds"
edited sed '{"n": 2}' 2

(cd "$MNT/c" && jq -c '.n += 1' x.json >t && mv t x.json)
is "$?" 0 "jq into a temporary file, then mv over the object"
edited jq '{"n":3}' 3

"$PY" - "$X" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
d["n"] += 1
with open(sys.argv[1], "w") as f:
    json.dump(d, f)
PY
is "$?" 0 "python json.dump into the open file"
edited python3 '{"n": 4}' 4

"$PY" - "$X" <<'PY'
import json, os, sys, tempfile
with open(sys.argv[1]) as f:
    d = json.load(f)
d["n"] += 1
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(sys.argv[1]), suffix=".tmp")
with os.fdopen(fd, "w") as f:
    json.dump(d, f)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, sys.argv[1])
PY
is "$?" 0 "python writes a temporary file then os.replace"
edited python3 '{"n": 5}' 5
ok "python's temporary file is gone" [ -z "$(ls "$MNT/c" | grep -v '^x\.json$')" ]

# vim's defaults: a swap file, a backup made by renaming x.json to x.json~,
# a new x.json written and fsynced, the backup removed. vim makes no backup
# of files under /tmp ('backupskip'), where this test runs: clear it.
vim_edit() {
	(cd "$MNT/c" && vim -Nu NONE -i NONE -es -c 'set backupskip=' "$@" \
		-c wq x.json)
}
vim_edit -c '%s/5/6/'
is "$?" 0 "vim with its defaults saves"
edited vim '{"n": 6}' 6
is "$(ls -a "$MNT/c" | tr '\n' ' ')" ". .. x.json " \
	"vim's swap and backup files are gone"

vim_edit -c 'set backupcopy=yes' -c '%s/6/7/'
is "$?" 0 "vim with backupcopy=yes saves"
edited vim '{"n": 7}' 7

vim_edit -c 'set backup' -c '%s/7/8/'
is "$?" 0 "vim keeping its backup file saves"
edited vim '{"n": 8}' 8
is "$(cat "$MNT/c/x.json~")" '{"n": 7}' "the backup is a temporary file with the old body"
run "$AGS" ls c
is "$out" x "the backup is not an object"
rm "$MNT/c/x.json~"
is "$("$AGS" get c x)" '{"n": 8}' "removing the backup leaves the object"

ino=$(stat -c %i "$X")
is "$ino" "$(stat -c %i "$MNT/c/x.json")" "the inode number is stable"

# ---- a vim-style save by hand: the backup and the new file are two files
mv "$X" "$X~"
echo '{"n": 9}' >"$X"
isnt "$(stat -c %i "$X~")" "$(stat -c %i "$X")" \
	"mv x.json x.json~, then a new x.json: two inode numbers"
is "$(stat -c %i "$X")" "$ino" "the object keeps its own"
run diff "$X~" "$X"
is "$rc" 1 "diff compares them"
run cp "$X~" "$X"
is "$rc/$err" 0/ "cp x.json~ x.json copies the backup back"
is "$("$AGS" get c x)/$(version_of c x)" '{"n": 8}/10' "as an update"
rm "$X~"

# ---- rsync -a in and out; a second run copies nothing
mkdir -p "$TMP/src"
for i in 1 2 3; do echo "{\"r\": $i}" >"$TMP/src/r$i.json"; done
chmod 600 "$TMP/src/r2.json"
touch -d '2021-01-01 00:00:00' "$TMP/src/r3.json"
mkdir "$MNT/sync"
run rsync -a "$TMP/src/" "$MNT/sync/"
is "$rc" 0 "rsync -a into the mount"
is "$("$AGS" get sync r2)" '{"r": 2}' "rsync's files are objects"
is "$(stat -c %a "$MNT/sync/r2.json")" 600 "with their modes"
is "$(stat -c %Y "$MNT/sync/r3.json")" "$(stat -c %Y "$TMP/src/r3.json")" \
	"and times"
is "$("$AGS" log --collection sync --op create | jq -r .comm | sort -u)" rsync \
	"audited as created by rsync"
run rsync -a --itemize-changes "$TMP/src/" "$MNT/sync/"
is "$rc/$out" 0/ "a second rsync -a in copies nothing"
run rsync -a "$MNT/sync/" "$TMP/back/"
is "$rc" 0 "rsync -a out of the mount"
is "$(cat "$TMP/back/r1.json")" '{"r": 1}' "copies the bodies"
run rsync -a --itemize-changes "$MNT/sync/" "$TMP/back/"
is "$rc/$out" 0/ "a second rsync -a out copies nothing"
echo '{"r": 22}' >"$TMP/src/r2.json"
run rsync -a --itemize-changes "$TMP/src/" "$MNT/sync/"
like "$out" 'r2\.json' "a changed file is copied again"
is "$("$AGS" get sync r2)" '{"r": 22}' "as an update"
is "$(version_of sync r2)" 2 "version 2"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
