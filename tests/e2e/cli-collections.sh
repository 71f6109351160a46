#!/bin/bash
# cli-collections.sh: mkcol, rmcol (empty and forced), ls of collections and
# of ids with --json, --after and --limit, and index.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null

run "$AGS" ls
is "$rc" 0 "ls of a new store succeeds"
is "$(stat -c %s "$TMP/out")" 0 "and prints nothing"

succeeds "mkcol zeta" "$AGS" mkcol zeta
is "$(stat -c %s "$TMP/out")" 0 "mkcol prints nothing"
succeeds "mkcol alpha" "$AGS" mkcol alpha
succeeds "mkcol Mid.dle-name_2" "$AGS" mkcol Mid.dle-name_2
fails 1 "cannot create collection 'alpha': .*exists" "mkcol twice" \
	"$AGS" mkcol alpha
for i in 3 1 2 10; do
	printf '{"i": %d}' "$i" | "$AGS" put alpha "id$i"
done

# ---- ls of collections ----
run "$AGS" ls
is "$out" "Mid.dle-name_2	0
alpha	4
zeta	0" "ls prints NAME<tab>COUNT ordered by name (bytewise)"
run "$AGS" ls --json
is "$out" '{"name": "Mid.dle-name_2", "count": 0}
{"name": "alpha", "count": 4}
{"name": "zeta", "count": 0}' "ls --json prints JSON Lines"
is "$("$AGS" ls --limit 2)" "Mid.dle-name_2	0
alpha	4" "ls --limit 2"
is "$("$AGS" ls --after alpha)" "zeta	0" "ls --after alpha"
is "$("$AGS" ls --after zeta)" "" "ls --after the last prints nothing"

# ---- ls of ids ----
is "$("$AGS" ls alpha)" "id1
id10
id2
id3" "ls COLLECTION prints ids ordered bytewise"
is "$("$AGS" ls --json alpha)" '{"id": "id1"}
{"id": "id10"}
{"id": "id2"}
{"id": "id3"}' "ls --json COLLECTION"
is "$("$AGS" ls alpha --limit 2)" "id1
id10" "ls COLLECTION --limit 2"
is "$("$AGS" ls alpha --after id10 --limit 1)" "id2" "ls --after id10 --limit 1"
is "$("$AGS" ls --after id3 alpha)" "" "ls --after the last id prints nothing"
# paging through a collection with --after and --limit visits every id once
after=""
pages=0
all=""
while :; do
	if [ -z "$after" ]; then
		page=$("$AGS" ls alpha --limit 3)
	else
		page=$("$AGS" ls alpha --limit 3 --after "$after")
	fi
	[ -n "$page" ] || break
	pages=$((pages + 1))
	all="$all$page
"
	after=$(printf '%s\n' "$page" | tail -n 1)
done
is "$pages" 2 "four ids in pages of three take two pages"
is "$all" "id1
id10
id2
id3
" "the pages hold every id once, in order"
is "$("$AGS" ls zeta)" "" "ls of an empty collection prints nothing"

# ---- rmcol ----
before=$(state)
fails 1 "cannot drop collection 'alpha': it holds 4 objects; remove them first, or drop it with them \(agentstate rmcol --force alpha\)" \
	"rmcol of a non-empty collection" "$AGS" rmcol alpha
is "$(state)" "$before" "the refused rmcol changed nothing"
succeeds "rmcol of an empty collection" "$AGS" rmcol zeta
is "$(stat -c %s "$TMP/out")" 0 "rmcol prints nothing"
run "$AGS" log --op rmcol
like "$out" '^\{"seq": [0-9]+, "time": [0-9]+, "op": "rmcol", "collection": "zeta", "id": null, "old_version": null, "new_version": null, "size": null, .*"origin": "cli"\}$' \
	"rmcol is audited"
succeeds "rmcol --force of a non-empty collection" "$AGS" rmcol --force alpha
is "$("$AGS" ls)" "Mid.dle-name_2	0" "alpha is gone"
run "$AGS" log --op remove --collection alpha
is "$(count_lines "$out")" 4 "each forced removal is audited"
fails 1 "no such collection" "get from the dropped collection" \
	"$AGS" get alpha id1
succeeds "mkcol alpha again" "$AGS" mkcol alpha
is "$("$AGS" ls alpha)" "" "a re-created collection starts empty"
succeeds "rmcol -f of an empty collection" "$AGS" rmcol -f alpha
fails 1 "cannot drop collection 'alpha': no such collection" \
	"rmcol of a missing collection" \
	"$AGS" rmcol alpha

# ---- index ----
"$AGS" mkcol people
for p in ann:admin bob:user cid:admin; do
	printf '{"name": "%s", "role": "%s"}' "${p%%:*}" "${p#*:}" |
		"$AGS" put people "${p%%:*}"
done
before_find=$("$AGS" find people role admin)
log_before=$("$AGS" log)
succeeds "index a field" "$AGS" index people role
is "$(stat -c %s "$TMP/out")" 0 "index prints nothing"
succeeds "index it again" "$AGS" index people role
succeeds "index a JSONPath field" "$AGS" index people '$.name'
is "$("$AGS" find people role admin)" "$before_find" "find gives the same with the index"
is "$("$AGS" log)" "$log_before" "an index is no change of the data: no audit row"

# ---- counts follow changes ----
"$AGS" rm people bob
is "$("$AGS" ls --after Mid.dle-name_2)" "people	2" \
	"the count follows a removal"

done_testing
