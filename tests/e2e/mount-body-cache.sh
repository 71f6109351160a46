#!/usr/bin/env bash
# The daemon keeps the bytes of closed objects for their next open (-o
# body_cache=MIB): a read after a write, or after the kernel let its pages
# go, does not ask the store. A kept body is served only while the store
# says nothing changed: another process's change, a removal, a forced
# restore all drop it, and a write never builds on it.
. "$(dirname "$0")/mount-lib.sh"

X=$MNT/c/x.json
DB=$AGENTSTATE_STORE

fails 2 "body_cache needs a size in MiB" "a bad body_cache" \
	"$AGS" mount "$MNT" -o body_cache=lots
ok "a bad body_cache mounts nothing" eval '! mountpoint -q "$MNT"'

# behind_its_back BODY: change x in the database itself, as nothing of
# agentstate would: no audit row, so no watcher sees it. BODY and a newline,
# the size of what echo wrote before.
behind_its_back() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("UPDATE objects SET body = ? WHERE id = ?", (sys.argv[2] + "\n", "x"))' \
		"$DB" "$1"
}

seed_store
mount_store
# The kernel keeps no page of a file it wrote only part of (200 bytes of a
# 4 KiB page): the read after a write reaches the daemon.
echo '{"n": 2}' >"$X"
behind_its_back '{"n": 7}'
is "$(cat "$X")" '{"n": 2}' "the read after a write is served from memory"
is "$("$AGS" get c x)" '{"n": 7}' "(the store holds what was put behind it)"
echo '{"n": 3}' >"$X"

# Another process's change drops the kept body.
is "$(cat "$X")" '{"n": 3}' "a body written and read back"
echo '{"n": 4}' | "$AGS" put c x >/dev/null
ok "an update by the CLI shows within 1 s" \
	eventually 1000 '[ "$(cat "$X")" = "{\"n\": 4}" ]'

# A write builds on the store's bytes, not on a kept body another process
# replaced a moment before (before the watcher could see it): a byte
# written past the end of the new body follows the new body. Built on the
# old one (8 bytes), the file would hold a NUL and be refused.
is "$(cat "$X")" '{"n": 4}' "x is kept again"
echo '{"n": 44}' | "$AGS" put c x >/dev/null
run "$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"\n", 10)
os.close(fd)' "$X"
is "$rc" 0 "a write right after another process's change"
is "$("$AGS" get c x | od -An -c | tr -s ' ')" \
	"$(printf '{"n": 44}\n\n' | od -An -c | tr -s ' ')" \
	"builds on that change, not on the kept body"

# The same with the file open for reading meanwhile: the reader's bytes
# came from the kept body, the writer's base is the store's.
is "$(cat "$X")" '{"n": 44}' "x is kept again"
echo '{"n": 45}' | "$AGS" put c x >/dev/null
exec 3<"$X"
run "$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"\n", 10)
os.close(fd)' "$X"
exec 3<&-
is "$rc" 0 "a write while a reader has the file open"
is "$("$AGS" get c x | od -An -c | tr -s ' ')" \
	"$(printf '{"n": 45}\n\n' | od -An -c | tr -s ' ')" \
	"builds on the store's bytes, not the reader's"

# A change by another process the watcher has not seen yet, then a rename
# here: the watcher finds the object by its number under its new name.
echo '{"n": 46}' >"$X"
is "$(cat "$X")" '{"n": 46}' "x is kept again"
echo '{"n": 470}' | "$AGS" put c x >/dev/null
mv "$X" "$MNT/c/moved.json"
ok "a change made just before a rename here shows under the new name" \
	eventually 1000 '[ "$(cat "$MNT/c/moved.json")" = "{\"n\": 470}" ]'
mv "$MNT/c/moved.json" "$X"

# truncate() with no file open builds on the store's bytes too: cut to 3
# bytes, the new body is "[1]", the kept one would be '{"a' (refused).
echo '{"a": 1}' >"$X"
is "$(cat "$X")" '{"a": 1}' "x is kept again"
echo '[1]       ' | "$AGS" put c x >/dev/null
run "$PY" -c 'import os, sys; os.truncate(sys.argv[1], 3)' "$X"
is "$rc" 0 "truncate() right after another process's change"
is "$("$AGS" get c x)" '[1]' "cuts that change"

# The same when another mount of the store renames the collection right
# after: the change's row names a collection that is gone.
MNT2=$TMP/mnt2
mount_second "$MNT2"
mkdir "$MNT/c2"
echo '{"n": 48}' >"$MNT/c2/y.json"
is "$(cat "$MNT/c2/y.json")" '{"n": 48}' "c2/y is kept"
echo '{"n": 490}' | "$AGS" put c2 y >/dev/null
mv "$MNT2/c2" "$MNT2/d2"
ok "a change, then a collection rename elsewhere, show" \
	eventually 1000 '[ "$(cat "$MNT/d2/y.json" 2>/dev/null)" = "{\"n\": 490}" ]'
fusermount3 -u "$MNT2"
wait "$pid2"

# A removal by another process, then a new object of the same name.
cat "$X" >/dev/null
"$AGS" rm c x >/dev/null
ok "a removal by the CLI shows within 1 s" eventually 1000 '[ ! -e "$X" ]'
echo '{"n": 5}' | "$AGS" put c x >/dev/null
ok "and the new object of that name" \
	eventually 1000 '[ "$(cat "$X")" = "{\"n\": 5}" ]'

# A forced restore may leave the audit log at the very sequence the mount
# saw last: the restored store is told by its epoch, not by the log.
"$AGS" backup "$TMP/five.db" >/dev/null
echo '{"n": 6}' >"$X"
is "$(cat "$X")" '{"n": 6}' "x is kept before the restore"
"$AGS" restore --force "$TMP/five.db" >/dev/null
# Within the watcher's poll, plus any wait for the locks the restore
# holds (up to the 5 s busy timeout, on a loaded machine).
ok "a restored body shows within seconds" \
	eventually 8000 '[ "$(cat "$X")" = "{\"n\": 5}" ]'

# A file open across the restore keeps what it read while it is open, as
# after a removal, but that is not kept once it closes.
"$AGS" backup "$TMP/ten.db" >/dev/null
echo '{"n": 10}' >"$X"
exec 3<"$X"
is "$(cat <&3)" '{"n": 10}' "x read through a descriptor kept open"
"$AGS" restore --force "$TMP/ten.db" >/dev/null
sleep 0.6 # two polls of the watcher: it sees the restore while x is open
exec 3<&-
ok "once closed, the restored body shows within seconds" \
	eventually 8000 '[ "$(cat "$X")" = "{\"n\": 5}" ]'

# A copy of an object hidden by a rename (vim's x.json -> x.json~) that
# comes back unchanged under its name is not kept: another process may
# have changed the object meanwhile.
mv "$X" "$MNT/c/x.json~"
echo '{"n": 1000}' | "$AGS" put c x >/dev/null
mv "$MNT/c/x.json~" "$X"
ok "an object changed while hidden shows its new body" \
	eventually 1000 '[ "$(cat "$X")" = "{\"n\": 1000}" ]'

# Many bodies through a small cache: every one reads right.
remount -o body_cache=1
mkdir "$MNT/many"
body() { printf '{"i": %d, "pad": "%*s"}' "$1" 20000 ''; }
for i in $(seq 120); do body "$i" >"$MNT/many/o$i.json"; done
bad=
for i in $(seq 120); do
	[ "$(cat "$MNT/many/o$i.json")" = "$(body "$i")" ] || bad+=" o$i"
done
is "$bad" "" "2.4 MB of bodies through a 1 MiB cache read right"
unmount_store
is "$mount_rc" 0 "the daemon exits 0"

# Without the cache every open reads the store.
mount_store -o body_cache=0
echo '{"n": 8}' >"$X"
behind_its_back '{"n": 9}'
is "$(cat "$X")" '{"n": 9}' "with body_cache=0 a read asks the store"
unmount_store
is "$mount_rc" 0 "the daemon exits 0"

done_testing
