#!/bin/bash
# cli-concurrency.sh: several agentstate processes writing one store at the
# same time: no write is lost, each change has exactly one audit row, and
# compare-and-set lets concurrent read-modify-write loops count correctly.
. "$(dirname "$0")/lib.sh"

N=${AGS_E2E_PUTS:-1000}

# ---- six processes creating one new store at once: one creates it, the
# others find it made; none fails (SQLite answers the ones that meet the
# switch to WAL with an immediate BUSY, tried again within the timeout)
failed_inits=0
for round in $(seq 20); do
	rm -f "$TMP/new.db" "$TMP/new.db-wal" "$TMP/new.db-shm"
	for k in 1 2 3 4 5 6; do
		"$AGS" --store "$TMP/new.db" init >/dev/null 2>>"$TMP/init.err" &
	done
	for k in 1 2 3 4 5 6; do
		wait -n || failed_inits=$((failed_inits + 1))
	done
done
is "$failed_inits" 0 "120 inits, six at a time on a new store: none failed"
[ -s "$TMP/init.err" ] && diag "$(sort "$TMP/init.err" | uniq -c)"
succeeds "the store they made passes its check" "$AGS" --store "$TMP/new.db" check

"$AGS" init >/dev/null
"$AGS" mkcol c

# writer PREFIX: N puts of PREFIX-1 .. PREFIX-N; failures are counted.
writer() {
	local i failed=0
	for ((i = 1; i <= N; i++)); do
		printf '{"writer": "%s", "i": %d}' "$1" "$i" |
			"$AGS" put c "$1-$i" 2>>"$TMP/$1.err" || failed=$((failed + 1))
	done
	echo "$failed" >"$TMP/$1.failed"
}

start=$SECONDS
writer a &
pa=$!
writer b &
pb=$!
at_exit "kill $pa $pb"
wait "$pa" "$pb"
diag "$((2 * N)) puts by two concurrent writers took $((SECONDS - start)) s"

is "$(cat a.failed)" 0 "writer a: every put succeeded"
is "$(cat b.failed)" 0 "writer b: every put succeeded"
is "$(cat a.err b.err)" "" "no writer printed an error"
is "$("$AGS" ls)" "c	$((2 * N))" "the collection counts every object"
run "$AGS" ls c
is "$(count_lines "$out")" "$((2 * N))" "ls lists every object"
expected=$( (seq 1 "$N" | sed 's/^/a-/'; seq 1 "$N" | sed 's/^/b-/') | sort)
is "$(sort "$TMP/out")" "$expected" "every id is present"
is "$("$AGS" get c a-$N)" "{\"writer\": \"a\", \"i\": $N}" "the last body of a is intact"
is "$("$AGS" get c b-1)" '{"writer": "b", "i": 1}' "the first body of b is intact"

run "$AGS" log
is "$(count_lines "$out")" "$((2 * N + 1))" "the audit holds 2N creates and the mkcol"
run "$AGS" log --op create
is "$(count_lines "$out")" "$((2 * N))" "2N create rows"
is "$(sed 's/.*"id": "\([^"]*\)".*/\1/' "$TMP/out" | sort)" "$expected" \
	"exactly one create row per object"
run "$AGS" log
is "$(sed 's/^{"seq": \([0-9]*\),.*/\1/' "$TMP/out" | tr '\n' ' ')" \
	"$(seq 1 $((2 * N + 1)) | tr '\n' ' ')" "seq runs 1..2N+1 without a gap or a repeat"

# ---- compare-and-set counting ----
# Each incrementer reads the counter, adds one and writes it back with
# --if-version; on a stale version it reads again. The final count must be
# exactly the number of successful increments.
M=${AGS_E2E_INCREMENTS:-50}
printf '0' | "$AGS" put c counter
incrementer() {
	local done=0 stale=0 v n
	while [ "$done" -lt "$M" ]; do
		v=$("$AGS" history c counter | tail -n 1 | sed 's/^{"version": \([0-9]*\),.*/\1/')
		n=$("$AGS" get --version "$v" c counter)
		if printf '%d' $((n + 1)) | "$AGS" put --if-version "$v" c counter 2>>"$TMP/cas-$1.err"; then
			done=$((done + 1))
		else
			stale=$((stale + 1))
		fi
	done
	echo "$stale" >"$TMP/cas-$1.stale"
}
incrementer x &
px=$!
incrementer y &
py=$!
at_exit "kill $px $py"
wait "$px" "$py"
is "$("$AGS" get c counter)" "$((2 * M))" "compare-and-set loses no increment"
bad=$(grep -v 'expected version [0-9]* but it is at version' cas-x.err cas-y.err)
is "$bad" "" "the only failures were stale versions"
stale=$(($(cat cas-x.stale) + $(cat cas-y.stale)))
is "$(grep -c . cas-x.err cas-y.err | awk -F: '{ s += $2 } END { print s }')" \
	"$stale" "each stale attempt printed one error line"
diag "$stale stale attempts were retried"
run "$AGS" log --id counter --op update
is "$(count_lines "$out")" "$((2 * M))" "one update row per successful increment"

done_testing
