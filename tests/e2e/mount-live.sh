#!/usr/bin/env bash
# Changes made by other processes (the CLI, a second mount of the same
# store) show in the mount within one second, cached pages included; a
# change through the mount is visible to the CLI as soon as close()
# returns; tail -f on the audit log shows new rows as they come.
. "$(dirname "$0")/mount-lib.sh"

seed_store
mount_store
X=$MNT/c/x.json

# within1s DESCRIPTION CODE: the shell CODE succeeds within one second.
within1s() {
	if eventually 1000 "$2"; then
		pass "$1"
	else
		fail "$1 (not within 1 s)"
	fi
}

# Read the file so its pages and attributes are cached.
is "$(cat "$X")" '{"n": 1}' "the mount shows the object"
stat "$X" >/dev/null
# Same size, so only the watcher (not a size change) can drop the pages.
echo '{"n": 2}' | "$AGS" put c x >/dev/null
within1s "an update by the CLI shows within 1 s" \
	'[ "$(cat "$X")" = "{\"n\": 2}" ]'
echo '{"y": true}' | "$AGS" put c y >/dev/null
within1s "a new object shows within 1 s" '[ -f "$MNT/c/y.json" ]'
within1s "and lists" 'ls "$MNT/c" | grep -qx y.json'
"$AGS" rm c y >/dev/null
within1s "a removed object goes within 1 s" '[ ! -e "$MNT/c/y.json" ]'
"$AGS" mkcol other >/dev/null
within1s "a new collection shows within 1 s" '[ -d "$MNT/other" ]'
"$AGS" rmcol other >/dev/null
within1s "a dropped collection goes within 1 s" '[ ! -e "$MNT/other" ]'

# ---- the other way: the CLI sees a change once close() returns
echo '{"n": 3}' >"$X"
is "$("$AGS" get c x)" '{"n": 3}' "the CLI sees a write as soon as close returns"

# ---- a second mount of the same store
MNT2=$TMP/mnt2
mount_second "$MNT2"
is "$(cat "$MNT2/c/x.json")" '{"n": 3}' "a second mount shows the same object"
echo '{"n": 4}' >"$MNT2/c/x.json"
within1s "a write through one mount shows in the other within 1 s" \
	'[ "$(cat "$X")" = "{\"n\": 4}" ]'
mv "$MNT2/c/x.json" "$MNT2/c/z.json"
within1s "a rename in one mount shows in the other within 1 s" \
	'[ -f "$MNT/c/z.json" ] && [ ! -e "$MNT/c/x.json" ]'
is "$(cat "$MNT/c/z.json")" '{"n": 4}' "with its body"
mkdir "$MNT2/made"
within1s "a mkdir in one mount shows in the other within 1 s" \
	'[ -d "$MNT/made" ]'
mv "$MNT2/made" "$MNT2/renamed"
within1s "a collection rename shows in the other within 1 s" \
	'[ -d "$MNT/renamed" ] && [ ! -e "$MNT/made" ]'
fusermount3 -u "$MNT2"
wait "$pid2"
is "$?" 0 "the second daemon exits 0"

# ---- tail -f on the audit log
tail -n 0 -f "$MNT/.agentstate/audit.jsonl" >"$TMP/tail.out" 2>&1 &
tail_pid=$!
at_exit "kill $tail_pid"
sleep 0.5
echo '{"tail": 1}' | "$AGS" put c t1 >/dev/null
echo '{"tail": 2}' >"$MNT/c/t2.json"
eventually 5000 '[ "$(wc -l <"$TMP/tail.out")" -ge 2 ]'
is "$(jq -r .id "$TMP/tail.out" | tr '\n' ' ')" "t1 t2 " \
	"tail -f on audit.jsonl shows new rows as they come"
kill "$tail_pid"
wait "$tail_pid" 2>/dev/null
is "$(cat "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log)" \
	"the audit file matches the log"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
