#!/bin/bash
# snapshot-backup.sh: backup, restore and check through the command: a
# backup taken while a writer runs passes check and restores; restore checks
# the backup first and refuses while a mount holds the store; check lists
# each problem of a damaged store.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
"$AGS" mkcol c
for i in 1 2 3; do printf '{"i":%d}' "$i" | "$AGS" put c "o$i"; done

run "$AGS" check
is "$rc:$out" "0:ok" "check of a sound store says ok"
run "$AGS" backup b1.db
is "$rc" 0 "backup"
is "$out" "backed up $AGENTSTATE_STORE to b1.db" "it says where"
ok "no temporary file left" test ! -e b1.db.tmp
run env AGENTSTATE_STORE="$TMP/b1.db" "$AGS" check
is "$rc:$out" "0:ok" "the backup is a store that passes check"

# a backup while another process writes
(for i in $(seq 1 100000); do
	printf '{"i":%d}' "$i" | "$AGS" put c w || exit
done) &
writer=$!
at_exit "kill $writer"
sleep 0.5
before=$("$AGS" log | wc -l)
run "$AGS" backup busy.db
sleep 0.3
after=$("$AGS" log | wc -l)
kill "$writer"
wait "$writer" 2>/dev/null
is "$rc" 0 "backup while a writer runs"
ok "the writer went on ($before -> $after rows)" test "$after" -gt "$before"
run env AGENTSTATE_STORE="$TMP/busy.db" "$AGS" check
is "$rc:$out" "0:ok" "that backup passes check"

# restore
seq=$(env AGENTSTATE_STORE="$TMP/busy.db" "$AGS" log | tail -1 | sed 's/^{"seq": \([0-9]*\),.*/\1/')
run "$AGS" restore busy.db
is "$rc" 0 "restore it"
is "$("$AGS" log | tail -1 | sed 's/^{"seq": \([0-9]*\),.*/\1/')" "$seq" \
	"the store holds the backup's audit"
run "$AGS" check
is "$rc:$out" "0:ok" "and passes check"
printf '1' | "$AGS" put c after
is "$("$AGS" log | tail -1 | sed 's/^{"seq": \([0-9]*\),.*/\1/')" "$((seq + 1))" \
	"and takes changes again"

# restore refuses while a mount holds the store
# (what ags_store_hold() does: a shared flock on STORE.lock, kept open)
(exec 9>"$AGENTSTATE_STORE.lock" && flock -s 9 && exec sleep 30) &
holder=$!
at_exit "kill $holder"
wait_for 5 sh -c '! flock -n -x "$0.lock" true' "$AGENTSTATE_STORE"
state >before
fails 1 "it is mounted.*unmount it first" "restore while mounted" \
	"$AGS" restore b1.db
state >after
ok "the store is untouched" cmp -s before after
run "$AGS" restore --force b1.db
is "$rc" 0 "--force restores anyway"
kill "$holder"

# a damaged backup is refused with its problems listed
cp b1.db bad.db
sqlite3 bad.db "UPDATE objects SET version = 7 WHERE id = 'o2'; DELETE FROM audit WHERE seq = 2;"
run env AGENTSTATE_STORE="$TMP/bad.db" "$AGS" check
is "$rc" 1 "check of a damaged store fails"
is "$out" "c/o1: at version 1 but no audit row made it
c/o2: at version 7 but its last audit row says 1
audit: seq 2 is missing" "listing each problem"
is "$err" "agentstate: check: $TMP/bad.db has 3 problems" "then one line on stderr"
# rows lost at the end of the log leave no hole: SQLite's counter shows them
cp b1.db tail.db
last=$(sqlite3 tail.db "SELECT max(seq) FROM audit")
sqlite3 tail.db "DELETE FROM audit WHERE seq >= $((last - 1))"
run env AGENTSTATE_STORE="$TMP/tail.db" "$AGS" check
is "$rc" 1 "check of a store that lost its newest audit rows fails"
like "$out" "audit: seq $((last - 1)) to $last are missing \\(the newest rows\\)" \
	"saying which"
state >before
run "$AGS" restore bad.db
is "$rc" 1 "restore from a damaged backup is refused"
like "$err" "cannot restore from bad.db: the backup has 3 problems" "saying why"
state >after
ok "the store is untouched" cmp -s before after
echo hello >junk.db
fails 1 "cannot restore from junk.db: .*" "a file that is no store" \
	"$AGS" restore junk.db

# restore into a store that is gone
# a failed restore into a missing store leaves no store, nor its lock file
run env AGENTSTATE_STORE="$TMP/none.db" "$AGS" restore junk.db
is "$rc" 1 "restore of a file that is no store into a missing store fails"
is "$(ls "$TMP" | grep -c '^none\.db')" 0 "and leaves no file of that store behind"
run env AGENTSTATE_STORE="$TMP/new.db" "$AGS" restore b1.db
is "$rc" 0 "restore creates a missing store"
run env AGENTSTATE_STORE="$TMP/new.db" "$AGS" check
is "$rc:$out" "0:ok" "which passes check"

fails 2 "missing FILE" "backup without FILE" "$AGS" backup
# A backup is renamed over FILE: over the store itself, every process
# holding it open would go on with a file no longer under its name.
state() { "$AGS" ls c; "$AGS" get c o1; "$AGS" log | wc -l; }
before=$(state)
fails 1 "cannot back up to .*: it is .*, a file of the store itself; give another file" \
	"backup onto the store itself" "$AGS" backup "$AGENTSTATE_STORE"
ln "$AGENTSTATE_STORE" hard.db
fails 1 "it is .*, a file of the store itself" \
	"backup onto a hard link of the store" "$AGS" backup hard.db
is "$(state)" "$before" \
	"and nothing changed"
run "$AGS" check
is "$rc:$out" "0:ok" "the store still passes check"
fails 1 "cannot write the backup" "backup into a missing directory" \
	"$AGS" backup no/such/dir.db
for c in backup restore check; do
	run "$AGS" "$c" --help
	like "$out" "^Usage: agentstate $c" "$c --help"
done

# a file name SQLite would read as a URI of its own is a file name
run "$AGS" backup file:uri.db
is "$rc" 0 "a backup to file:uri.db"
ok "writes the file of that name, whole" test -s file:uri.db
run env AGENTSTATE_STORE="$TMP/from-uri.db" "$AGS" restore file:uri.db
is "$rc" 0 "which restore reads back"
is "$(AGENTSTATE_STORE="$TMP/from-uri.db" "$AGS" ls)" "$("$AGS" ls)" \
	"with the store's collections"

done_testing
