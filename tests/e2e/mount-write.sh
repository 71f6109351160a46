#!/usr/bin/env bash
# Writing through the mount with the plain tools: a redirection, cp into,
# over and out of it, mv within and across collections and onto an
# existing object, rm, mkdir/rmdir, rm -r, mv of a collection, tar x into
# it. Each change is in the store as soon as the tool returns, with one
# audit row naming the tool, and the version rises by one per change.
# What the model does not have (files at the top, directories in a
# collection, links, special files) fails with EPERM, and an export of
# another store into the mount is refused.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store

# ---- a redirection creates, a second one updates
echo '{"name": "alice"}' >"$MNT/c/alice.json"
is "$("$AGS" get c alice)" '{"name": "alice"}' "echo > creates the object"
is "$(version_of c alice)" 1 "as version 1"
is "$(last_field op)/$(last_field origin)" create/fs "audited as a create through the mount"
echo '{"name": "alice", "age": 30}' >"$MNT/c/alice.json"
is "$("$AGS" get c alice)" '{"name": "alice", "age": 30}' "echo > updates it"
is "$(version_of c alice)" 2 "version 2"
is "$(last_field op)" update "audited as an update"
is "$(last_field pid)" "$$" "the audit names the writing process"
is "$("$AGS" history c alice | wc -l | tr -d ' ')" 2 "history is continuous"
/bin/echo '{"appended": true}' >"$MNT/c/app.json"
is "$(last_field comm)" echo "a tool's write is audited with its name"

# ---- a shared mapping's pages come back from the kernel with no caller:
# the audit names the process that opened the file
echo '{"m": 11}' >"$MNT/c/mapped.json"
run "$PY" - "$MNT/c/mapped.json" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
with mmap.mmap(fd, 9) as m:
    m[0:9] = b'{"m": 22}'
    m.flush()
os.close(fd)
print(os.getpid())
PY
is "$("$AGS" get c mapped)" '{"m": 22}' "a write through mmap is stored"
is "$(last_field pid)/$(last_field comm)" "$out/python3" \
	"and audited as the writing process, not as pid 0"

# ---- a file opened O_SYNC gets an fsync after each write(): a body
# written in pieces commits once it is whole, and no piece fails
run "$PY" - "$MNT/c/synced.json" <<'PY'
import os, sys
body = b'{"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9]}'
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_SYNC)
for i in range(0, len(body), 4):
    os.write(fd, body[i:i + 4])
os.close(fd)
print("ok")
PY
is "$out$err" ok "O_SYNC writes of a body in pieces all succeed"
is "$("$AGS" get c synced)" '{"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9]}' \
	"and the whole body is stored"
is "$("$AGS" log --id synced | grep -c '"error"')" 0 "and no piece is refused"
run dd if=/dev/zero of="$MNT/c/synced.json" bs=4 count=1 oflag=sync conv=notrunc status=none
like "$err" "closing output file .*Invalid argument" "an O_SYNC writer's invalid body still fails its close"
is "$("$AGS" get c synced)" '{"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9]}' "and is not stored"

# ---- cp into, over, out of
printf '{"from": "disk"}' >"$TMP/in.json"
rows=$(audit_rows)
cp "$TMP/in.json" "$MNT/c/copied.json"
is "$("$AGS" get c copied)" '{"from": "disk"}' "cp into the mount creates"
is "$(audit_rows)" "$((rows + 1))" "one audit row for cp"
is "$(last_field comm)" cp "named cp"
printf '{"from": "disk", "v": 2}' >"$TMP/in.json"
cp "$TMP/in.json" "$MNT/c/copied.json"
is "$("$AGS" get c copied)" '{"from": "disk", "v": 2}' "cp over an object updates it"
is "$(version_of c copied)" 2 "version 2 after cp over"
cp "$MNT/c/copied.json" "$TMP/out.json"
is "$(cat "$TMP/out.json")" '{"from": "disk", "v": 2}' "cp out of the mount"

# ---- mv within, across, onto
mv "$MNT/c/copied.json" "$MNT/c/moved.json"
is "$("$AGS" get c moved)" '{"from": "disk", "v": 2}' "mv within a collection"
ok "the old name is gone" [ ! -e "$MNT/c/copied.json" ]
run "$AGS" get c copied
is "$rc" 1 "and gone from the store"
is "$(version_of c moved)" 3 "a rename is a new version of the same object"
is "$(last_field op)/$(last_field from_id)" rename/copied "audited as a rename"
mkdir "$MNT/d"
run "$AGS" ls d
is "$rc/$out" 0/ "mkdir creates a collection"
is "$(last_field op)" mkcol "audited as mkcol"
mv "$MNT/c/moved.json" "$MNT/d/"
is "$("$AGS" get d moved)" '{"from": "disk", "v": 2}' "mv across collections"
is "$(last_field from_collection)" c "audited with its source"
ino=$(stat -c %i "$MNT/d/moved.json")
mv "$MNT/d/moved.json" "$MNT/c/alice.json"
is "$("$AGS" get c alice)" '{"from": "disk", "v": 2}' "mv onto an existing object replaces it"
is "$(stat -c %i "$MNT/c/alice.json")" "$ino" "the moved object keeps its inode number"
run "$AGS" log --op remove
like "$out" '"id": "alice"' "the replaced object's removal is audited"

# ---- rm, rmdir, rm -r, mv of a collection
rm "$MNT/c/alice.json"
run "$AGS" get c alice
is "$rc" 1 "rm removes the object"
is "$(last_field op)/$(last_field comm)" remove/rm "audited as a remove by rm"
run rmdir "$MNT/c"
is "$rc" 1 "rmdir of a non-empty collection fails"
like "$err" 'not empty' "with ENOTEMPTY"
run rmdir "$MNT/d"
is "$rc" 0 "rmdir of an empty collection"
run "$AGS" ls d
is "$rc" 1 "the collection is dropped"
mkdir "$MNT/tree"
for i in 1 2 3; do echo "{\"i\": $i}" >"$MNT/tree/o$i.json"; done
mv "$MNT/tree" "$MNT/forest"
is "$("$AGS" ls forest)" $'o1\no2\no3' "mv of a collection renames it with its objects"
is "$(last_field op)" mvcol "audited as mvcol"
ok "the old name is gone" [ ! -e "$MNT/tree" ]
rm -r "$MNT/forest"
run "$AGS" ls forest
is "$rc" 1 "rm -r drops a collection and its objects"
is "$("$AGS" log --op remove | grep -c '"collection": "forest"')" 3 \
	"each object's removal audited"

# ---- tar x into the mount
mkdir -p "$TMP/src/arch"
echo '{"a": 1}' >"$TMP/src/arch/one.json"
echo '{"b": [2]}' >"$TMP/src/arch/two.json"
touch -d '2020-02-03 04:05:06' "$TMP/src/arch/one.json"
tar cf "$TMP/a.tar" -C "$TMP/src" arch
run tar xf "$TMP/a.tar" -C "$MNT"
is "$rc" 0 "tar x into the mount"
is "$("$AGS" get arch one)" '{"a": 1}' "tar's files are objects"
is "$("$AGS" get arch two)" '{"b": [2]}' "all of them"
is "$(stat -c %y "$MNT/arch/one.json")" "$(stat -c %y "$TMP/src/arch/one.json")" \
	"tar's times are kept"
is "$(version_of arch one)" 1 "one version per extracted file"

# ---- what the model does not have
run touch "$MNT/top.json"
like "$err" 'not permitted' "a file at the top level: EPERM"
run mkdir "$MNT/c/sub"
like "$err" 'not permitted' "a directory in a collection: EPERM"
run ln -s x.json "$MNT/c/link.json"
like "$err" 'not permitted' "symlink: EPERM"
run ln "$MNT/c/x.json" "$MNT/c/hard.json"
like "$err" 'not permitted' "hard link: EPERM"
run mkfifo "$MNT/c/fifo"
like "$err" 'not permitted' "mkfifo: EPERM"
run mknod "$MNT/c/null" c 1 3
like "$err" 'not permitted' "device node: EPERM"
run mkdir "$MNT/bad name"
is "$rc" 1 "a collection name outside the rule is refused"
like "$(cat "$MOUNT_LOG")" 'refused to create directory .c/sub.' \
	"refusals are logged"
run touch "$MNT/.agentstate/x"
is "$rc" 1 ".agentstate is read-only"
run rm "$MNT/.agentstate/audit.jsonl"
is "$rc" 1 "the audit log cannot be removed"
run sh -c "echo '{}' >>'$MNT/.agentstate/audit.jsonl'"
like "$err" 'Read-only file system' "writing into the audit log: EROFS"
truncate_path "$MNT/.agentstate/audit.jsonl" 0
is "$out" 30 "truncating it: EROFS"
run touch "$MNT/.agentstate/new.json"
like "$err" 'not permitted' "creating a file in .agentstate: EPERM"

# ---- renameat2
if [ -n "$RENAMEAT2" ]; then
	echo '{"k": "a"}' >"$MNT/c/a.json"
	echo '{"k": "b"}' >"$MNT/c/b.json"
	run "$RENAMEAT2" noreplace "$MNT/c/a.json" "$MNT/c/b.json"
	is "$out" EEXIST "RENAME_NOREPLACE onto an object: EEXIST"
	is "$("$AGS" get c a)/$("$AGS" get c b)" '{"k": "a"}/{"k": "b"}' \
		"and nothing changed"
	ino_a=$(stat -c %i "$MNT/c/a.json")
	run "$RENAMEAT2" exchange "$MNT/c/a.json" "$MNT/c/b.json"
	is "$out" ok "RENAME_EXCHANGE"
	is "$("$AGS" get c a)/$("$AGS" get c b)" '{"k": "b"}/{"k": "a"}' \
		"swaps the bodies"
	is "$(cat "$MNT/c/a.json")/$(cat "$MNT/c/b.json")" '{"k": "b"}/{"k": "a"}' \
		"as the mount shows at once"
	is "$("$AGS" log | tail -n 2 | jq -r .op | sort -u)" exchange \
		"two exchange rows"
	# The kernel swapped its entries; the store swapped bodies: the
	# watcher sets the kernel's inode numbers right within a second.
	eventually 2000 '[ "$(stat -c %i "$MNT/c/a.json")" = "$ino_a" ]'
	is "$(stat -c %i "$MNT/c/a.json")" "$ino_a" "each name keeps its object"
	run "$RENAMEAT2" noreplace "$MNT/c/a.json" "$MNT/c/fresh.json"
	is "$out" ok "RENAME_NOREPLACE onto a free name"
	is "$("$AGS" get c fresh)" '{"k": "b"}' "renames"
	run "$RENAMEAT2" exchange "$MNT/c/fresh.json" "$MNT/c/none.json"
	is "$out" ENOENT "RENAME_EXCHANGE with nothing: ENOENT"
else
	fail "RENAMEAT2_BIN is set by meson"
fi

# An export of another store into the mount's top would take the mounted
# store's collections for its own and remove their objects: refused.
AGENTSTATE_STORE=$TMP/other.db "$AGS" init >/dev/null
listing=$(cd "$MNT" && find . | sort)
audit=$("$AGS" log | wc -l)
fails 1 "cannot export to .*: it is the mount of a store, or one of its collections, whose directories are that store's; export into a directory outside it" \
	"export into a mount" env AGENTSTATE_STORE="$TMP/other.db" "$AGS" export "$MNT"
fails 1 "cannot export to .*/c: it is the mount of a store, or one of its collections" \
	"export into a collection of a mount" "$AGS" export "$MNT/c"
is "$(cd "$MNT" && find . | sort)" "$listing" "the mount's tree is as it was"
is "$("$AGS" log | wc -l)" "$audit" "and nothing was audited"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"

# ---- under valgrind's memcheck: renaming a collection to a free name, and
# onto an empty one, reads nothing uninitialised. Not for a sanitized build,
# which valgrind cannot run.
if ! command -v valgrind >/dev/null; then
	pass "# SKIP valgrind is not installed"
elif ldd "$AGS" | grep -q 'libasan\|libubsan\|libtsan'; then
	pass "# SKIP a sanitized build"
else
	valgrind -q --log-file="$TMP/valgrind.log" "$AGS" mount "$MNT" -f \
		>>"$MOUNT_LOG" 2>&1 &
	MOUNT_PID=$!
	wait_for 30 mountpoint -q "$MNT"
	mkdir "$MNT/vg1"
	echo '{}' >"$MNT/vg1/o.json"
	mv "$MNT/vg1" "$MNT/vg2"
	mkdir "$MNT/vg3"
	mv "$MNT/vg3" "$MNT/vg4"
	rmdir "$MNT/vg4"
	mkdir "$MNT/vg4"
	mv -T "$MNT/vg2" "$MNT/vg4"
	is "$("$AGS" ls | cut -f 1 | grep '^vg' | tr '\n' ' ')/$("$AGS" ls vg4)" "vg4 /o" \
		"collections renamed to free names and onto an empty one"
	unmount_store
	is "$(cat "$TMP/valgrind.log")" "" "valgrind reports nothing"
fi
done_testing
