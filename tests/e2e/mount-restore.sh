#!/usr/bin/env bash
# A forced restore under the mount, followed by changes of other processes.
# The restored audit log may end past the last row the mount had seen, and
# its new rows then reuse sequence numbers the mount has seen or noted as
# its own commits: after a restore the mount must go by the store as it is,
# never skip a change because of a number the old log had.
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
	# A name the kernel holds lasts its timeout (1 s) after the restore.
	ok "round $round: the name the restore removed goes within 2 s" \
		eventually 2000 '[ ! -e "$MNT/c/w.json" ]'
done
unmount_store
is "$mount_rc" 0 "the daemon exits 0"
# One line a restore: "replaced" when its log went back, "schema version
# changed" when it did not.
restores=$(grep -c 'store was replaced\|schema version changed' "$MOUNT_LOG")
ok "the daemon logs each of the 6 restores ($restores lines)" \
	eval '[ "$restores" -ge 6 ]'
done_testing
