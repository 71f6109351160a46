#!/usr/bin/env bash
# A forced restore under the mount, followed by changes of other processes.
# The restored store may reuse numbers the mount knew: sequence numbers of
# the audit log (the restored log may end past the last row the mount had
# seen) and object numbers. After a restore the mount must go by the store
# as it is: never skip a change because of a number the old log had, never
# store a file's bytes into another object that took its number.
. "$(dirname "$0")/mount-lib.sh"

X=$MNT/c/x.json

seed_store
"$AGS" backup "$TMP/early.db" >/dev/null
for i in 1 2 3; do
	echo "{\"z\": $i}" | "$AGS" put c "z$i" >/dev/null
done
# late.db's log ends three rows past early.db's.
"$AGS" backup "$TMP/late.db" >/dev/null
mount_store

for round in 1 2 3; do
	# The log goes back to early.db's end, and the mount sees it.
	"$AGS" restore --force "$TMP/early.db" >/dev/null
	sleep 0.6
	cat "$X" >/dev/null
	# Commits of the mount's own past that end, then a restore whose log
	# ends among them: the watcher rarely polls in between (it polls every
	# quarter second), and when it does the round proves less, not wrong.
	for i in $(seq 1 12); do
		echo "{\"w\": $i}" >"$MNT/c/w.json"
	done
	"$AGS" restore --force "$TMP/late.db" >/dev/null
	sleep 0.6
	is "$(cat "$X")" '{"n": 1}' "round $round: the mount reads the restored x"
	# The first row after the restore has the number of a commit the mount
	# made before it.
	echo "{\"n\": $((100 + round))}" | "$AGS" put c x >/dev/null
	ok "round $round: the CLI's change after the restore shows within 1 s" \
		eventually 1000 "[ \"\$(cat \"\$X\")\" = '{\"n\": $((100 + round))}' ]"
	[ "$(cat "$X")" = "{\"n\": $((100 + round))}" ] ||
		diag "x shows $(cat "$X"), the store has $("$AGS" get c x)"
	# The kernel's names are dropped once the mount sees the restore,
	# well before their timeout.
	ok "round $round: the name the restore removed is gone" \
		eval '[ ! -e "$MNT/c/w.json" ]'
done

# ---- the kernel's pages of bodies read just after a restore
# Until the watcher sees a restore (within its poll) the daemon serves the
# bodies it had, and the kernel, finding an object's attributes changed,
# caches them under the restored attributes: nothing would tell it later
# that they are stale. The first open after the restore is seen drops them.
# Whether a read lands in that window is up to the watcher's poll: rounds
# go on until one did (about every other round does).
hits=0
for round in 1 2 3 4 5 6; do
	Y=$MNT/c/r$round.json
	echo '{"n": 1}' | "$AGS" put c "r$round" >/dev/null
	"$AGS" backup "$TMP/r$round.db" >/dev/null
	echo '{"n": 7}' >"$Y"
	cat "$Y" >/dev/null
	sleep 1.1 # the kernel's attributes expire: the next open asks
	"$AGS" restore --force "$TMP/r$round.db" >/dev/null
	exec 3<"$Y"
	early=$(cat <&3)
	sleep 0.6 # the watcher sees the restore while the file is open
	exec 3<&-
	ok "round $round: r$round shows its restored body within 2 s" \
		eventually 2000 "[ \"\$(cat \"\$Y\")\" = '{\"n\": 1}' ]"
	[ "$early" = '{"n": 7}' ] && hits=$((hits + 1)) && break
done
diag "a read landed between a restore and its sight in $hits of $round rounds"

# ---- files open across a restore
# Objects created after a backup lose their numbers when it is restored,
# and the next objects created take them again. A file open across the
# restore must not store its bytes into the object that took its number.
number_of() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT oid FROM objects WHERE id = ?", (sys.argv[2],)).fetchone()[0])' \
		"$AGENTSTATE_STORE" "$1"
}
# hold_written FILE FIFO: write into FILE and keep it open until a line
# comes on FIFO, then close it; prints "closed" or the close's errno name.
hold_written() {
	"$PY" -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"{\"written\": true}\n")
open(sys.argv[2]).read()
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2"
}
"$AGS" backup "$TMP/before-a.db" >/dev/null
for a in a1 a2; do
	echo '{"a": 1}' >"$MNT/c/$a.json"
	mkfifo "$TMP/$a.go"
	hold_written "$MNT/c/$a.json" "$TMP/$a.go" >"$TMP/$a.out" &
	eval "${a}_pid=\$!"
done
n1=$(number_of a1) n2=$(number_of a2)
sleep 0.3 # both have written
"$AGS" restore --force "$TMP/before-a.db" >/dev/null
sleep 0.6 # the mount sees the restore
echo '{"b": 1}' | "$AGS" put c b1 >/dev/null
echo '{"b": 2}' | "$AGS" put c b2 >/dev/null
is "$(number_of b1) $(number_of b2)" "$n1 $n2" \
	"b1 and b2 take the numbers a1 and a2 had before the restore"
# a1 closes before the mount has seen b1 created, a2 after.
echo >"$TMP/a1.go"
wait "$a1_pid"
sleep 0.6
ls "$MNT/c" >/dev/null
echo >"$TMP/a2.go"
wait "$a2_pid"
is "$(cat "$TMP/a1.out") $(cat "$TMP/a2.out")" "ESTALE ESTALE" \
	"the close of each file open across the restore fails: ESTALE"
is "$("$AGS" get c b1) $("$AGS" get c b2)" '{"b": 1} {"b": 2}' \
	"the objects that took their numbers keep their bodies"
is "$(cat "$MNT/c/b1.json") $(cat "$MNT/c/b2.json")" '{"b": 1} {"b": 2}' \
	"and the mount shows them"
eventually 2000 '[ "$(ls "$MNT/c" | grep -c "^a")" = 0 ]'
is "$(ls "$MNT/c" | grep -c '^a')" 0 "a1 and a2 are gone from the mount"
for a in a1 a2; do
	like "$(cat "$MOUNT_LOG")" \
		"cannot store c/$a\\.json: the store was restored without it" \
		"the daemon logs why $a was not stored"
done

# A collection made after a backup loses its number to the next collection
# made after the restore: a process whose working directory is the old one
# must not find itself in the new one.
cid_of() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT cid FROM collections WHERE name = ?", (sys.argv[2],)).fetchone()[0])' \
		"$AGENTSTATE_STORE" "$1"
}
"$AGS" backup "$TMP/before-d1.db" >/dev/null
mkdir "$MNT/d1"
k=$(cid_of d1)
mkfifo "$TMP/d1.go"
(
	cd "$MNT/d1" || exit
	read -r _ <"$TMP/d1.go"
	echo '{"q": 1}' >q.json && echo stored || echo refused
) >"$TMP/d1.out" 2>/dev/null &
d1_pid=$!
"$AGS" restore --force "$TMP/before-d1.db" >/dev/null
sleep 0.6 # the mount sees the restore
"$AGS" mkcol d2 >/dev/null
is "$(cid_of d2)" "$k" "d2 takes the number d1 had before the restore"
sleep 0.6 # the mount sees d2 made
echo >"$TMP/d1.go"
wait "$d1_pid"
is "$(cat "$TMP/d1.out")" refused \
	"a file made in d1, a working directory across the restore, is refused"
fails 1 'no such object' "and nothing lands in d2" "$AGS" get d2 q
ok "the mount shows d2 and no d1 within 2 s" \
	eventually 2000 '[ -d "$MNT/d2" ] && [ ! -e "$MNT/d1" ]'
echo '{"q": 2}' >"$MNT/d2/q.json"
is "$("$AGS" get d2 q)" '{"q": 2}' "d2 takes files"

# A lookup of the object that took a number, before the mount has seen the
# restore, finds the old file's node by that number: the creation time
# tells them apart.
hits=0
for round in 1 2 3; do
	"$AGS" backup "$TMP/w$round.db" >/dev/null
	echo '{"a": 1}' >"$MNT/c/wa$round.json"
	mkfifo "$TMP/wa$round.go"
	hold_written "$MNT/c/wa$round.json" "$TMP/wa$round.go" \
		>"$TMP/wa$round.out" &
	holder=$!
	sleep 0.3
	"$AGS" restore --force "$TMP/w$round.db" >/dev/null
	echo '{"b": 1}' | "$AGS" put c "wb$round" >/dev/null
	stat "$MNT/c/wb$round.json" >/dev/null 2>&1
	sleep 0.6
	echo >"$TMP/wa$round.go"
	wait "$holder"
	[ "$("$AGS" get c "wb$round")" = '{"b": 1}' ] || hits=$((hits + 1))
done
is "$hits" 0 "a lookup before the restore is seen: no bytes land in the new object"

# held_across_restore NAME: make c/NAME after a backup, hold it open with
# bytes written, restore the backup and let the mount see it; then
# close_held NAME closes it, and $TMP/NAME.out says what the close said.
# (Not in a command substitution: its subshell cannot wait for the
# holder.)
held_across_restore() {
	"$AGS" backup "$TMP/before-$1.db" >/dev/null
	echo '{"a": 1}' >"$MNT/c/$1.json"
	mkfifo "$TMP/$1.go"
	hold_written "$MNT/c/$1.json" "$TMP/$1.go" >"$TMP/$1.out" &
	holder=$!
	sleep 0.3
	"$AGS" restore --force "$TMP/before-$1.db" >/dev/null
	sleep 0.6
}
close_held() {
	echo >"$TMP/$1.go"
	wait "$holder"
}

# The object that takes the number is made through this mount.
held_across_restore na
echo '{"b": 1}' >"$MNT/c/nb.json"
close_held na
is "$(cat "$TMP/na.out")" ESTALE \
	"a file whose number an object made here took fails its close: ESTALE"
is "$("$AGS" get c nb)" '{"b": 1}' "and that object keeps its body"

# The same, with the new object made the way editors save: a temporary
# file renamed onto its name. Its later writes are its own.
held_across_restore ea
echo '{"b": 1}' >"$MNT/c/eb.tmp"
mv "$MNT/c/eb.tmp" "$MNT/c/eb.json"
close_held ea
is "$(cat "$TMP/ea.out")" ESTALE \
	"a file whose number a renamed temporary file took fails its close: ESTALE"
echo '{"b": 2}' >"$MNT/c/eb.json"
is "$("$AGS" get c eb)" '{"b": 2}' "and the new object takes writes"

# One reader holds x open across the restore with the old bytes; another
# opens it meanwhile, and is served those bytes. Once both are closed, the
# next open must not find them in the kernel's pages.
"$AGS" backup "$TMP/x.db" >/dev/null
before=$("$AGS" get c x)
echo '{"n": 7}' >"$X"
sleep 1.1
mkfifo "$TMP/x.go"
"$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.read(fd, 100)
open(sys.argv[2]).read()
os.close(fd)' "$X" "$TMP/x.go" &
holder=$!
sleep 0.3
"$AGS" restore --force "$TMP/x.db" >/dev/null
sleep 0.6
cat "$X" >/dev/null
echo >"$TMP/x.go"
wait "$holder"
sleep 1.2
is "$(cat "$X")" "$before" \
	"x shows the restored body once the files open across it are closed"

# ---- an index is no restore
# Making an index moves the store's epoch as a restore does, but nothing
# was replaced: a file open here still follows its object when another
# mount renames it, and a change made just before is not passed over.
mount_second "$TMP/mnt2"
echo '{"i": 1}' | "$AGS" put c i1 >/dev/null
sleep 0.6
mkfifo "$TMP/i1.go"
hold_written "$MNT/c/i1.json" "$TMP/i1.go" >"$TMP/i1.out" &
holder=$!
sleep 0.3
"$AGS" index c n >/dev/null
sleep 0.6
mv "$TMP/mnt2/c/i1.json" "$TMP/mnt2/c/i1-moved.json"
sleep 0.6
echo >"$TMP/i1.go"
wait "$holder"
is "$(cat "$TMP/i1.out")" closed \
	"after an index, the close of a file another mount renamed succeeds"
is "$("$AGS" get c i1-moved)" '{"written": true}' \
	"and its bytes land in the renamed object"
mkfifo "$TMP/i2.ready" "$TMP/i2.go"
"$PY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.pread(fd, 4096, 0)
open(sys.argv[2], "w").write("x\n")
open(sys.argv[3]).read()
time.sleep(1.5)
print(os.pread(fd, 4096, 0).decode().strip())' \
	"$X" "$TMP/i2.ready" "$TMP/i2.go" >"$TMP/i2.out" &
holder=$!
cat "$TMP/i2.ready" >/dev/null
echo '{"n": 99}' | "$AGS" put c x >/dev/null
"$AGS" index c v >/dev/null
echo >"$TMP/i2.go"
wait "$holder"
is "$(cat "$TMP/i2.out")" '{"n": 99}' \
	"a reader holding x open sees a change made just before an index"
fusermount3 -u "$TMP/mnt2"

# ---- the audit log after a restore
# .agentstate/audit.jsonl is built again from the restored log, whose
# later rows take sequence numbers the old log had given: what it reads is
# what `agentstate log` prints, to the byte, and its size says so.
AUDIT=$MNT/.agentstate/audit.jsonl
"$AGS" backup "$TMP/log.db" >/dev/null
for i in $(seq 20); do
	echo "{\"l\": $i}" | "$AGS" put c "l$i" >/dev/null
done
cat "$AUDIT" >/dev/null # indexed up to here
"$AGS" restore --force "$TMP/log.db" >/dev/null
sleep 0.6
for i in $(seq 5); do
	echo "{\"m\": $i}" | "$AGS" put c "m$i" >/dev/null
done
sleep 0.6
is "$(cat "$AUDIT")" "$("$AGS" log)" \
	"after a restore audit.jsonl reads as the restored log and its new rows"
is "$(stat -c %s "$AUDIT")" "$("$AGS" log | wc -c)" \
	"and its size is that log's"
is "$(tail -c 300 "$AUDIT")" "$("$AGS" log | tail -c 300)" \
	"a read at an offset near its end gets that log's bytes"

unmount_store
is "$mount_rc" 0 "the daemon exits 0"
# One line a restore: "replaced" when its log went back, "schema version
# changed" when it did not.
restores=$(grep -c 'store was replaced\|schema version changed' "$MOUNT_LOG")
ok "the daemon logs each restore ($restores lines)" \
	eval '[ "$restores" -ge $((8 + round)) ]'
done_testing
