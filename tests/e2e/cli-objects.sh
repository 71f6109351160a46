#!/bin/bash
# cli-objects.sh: init, put, get, rm, revert and history through the
# command: bodies kept byte for byte, versions, compare-and-set, exotic ids.
. "$(dirname "$0")/lib.sh"

# ---- init ----
run "$AGS" init
is "$rc" 0 "init succeeds"
is "$out" "initialized store $TMP/store.db" "init names the store it made"
ok "init made the database file" test -f "$TMP/store.db"
run "$AGS" init
is "$rc" 0 "init of an existing store succeeds"
is "$out" "store $TMP/store.db is already initialized" "and says so"
run "$AGS" --store "sqlite://rel.db" init
is "$rc" 0 "init through a relative sqlite:// URI"
ok "it made rel.db in the working directory" test -f "$TMP/rel.db"
run "$AGS" --store "sqlite://$TMP/abs.db" init
is "$out" "initialized store $TMP/abs.db" "init through sqlite:///abs"
run "$AGS" --store "$TMP/abs.db" ls
is "$rc" 0 "a plain path names the same store"

succeeds "mkcol users" "$AGS" mkcol users

# ---- put and get keep bytes exactly ----
printf '{ "n" :12345678901234567890,"big":1e400 ,\t"neg": -0.0e-0,\r\n "s":"tab\\t \\u00e9 \xc3\xa9 \\ud83d\\ude00 \xf0\x9f\x98\x80",\n\n  "a":[ ] , "o":{} }  \n\n' >odd.json
succeeds "put from a file" "$AGS" put users odd odd.json
"$AGS" get users odd >got.json
ok "get returns the exact bytes (odd spacing, big numbers, UTF-8)" cmp odd.json got.json
is "$(stat -c %s got.json)" "$(stat -c %s odd.json)" "same size, no newline added"

printf '"no newline at the end"' >str.json
"$AGS" put users str <str.json
"$AGS" get users str >got.json
ok "a top-level string without newline round-trips" cmp str.json got.json

printf '42' | "$AGS" put users num -
is "$("$AGS" get users num)" 42 "'-' reads stdin"
printf 'null' | "$AGS" put users nul
is "$("$AGS" get users nul)" null "a null body is a body"

# a 1 MiB body and one near the limit, exactly
{
	printf '['
	for i in $(seq 1 40000); do printf '"%024d",' "$i"; done
	printf '0]'
} >big.json
succeeds "put of a 1 MiB body" "$AGS" put users big big.json
"$AGS" get users big >got.json
ok "a 1 MiB body comes back exactly" cmp big.json got.json

# binary safety: a NUL byte is not silently cut off
printf '{"a":1}\0{"b":2}' >nul.json
fails 1 'cannot store users/nulbyte: invalid JSON at line 1, column 8' \
	"a NUL byte after the value" "$AGS" put users nulbyte nul.json
run "$AGS" get users nulbyte
is "$rc" 1 "the refused object does not exist"

# ---- versions and history ----
printf '{"v":1}' | "$AGS" put users alice
printf '{"v":2}' | "$AGS" put users alice
printf '{"v":3}' | "$AGS" put users alice
run "$AGS" history users alice
is "$(count_lines "$out")" 3 "three versions in history"
like "$(sed -n 1p "$TMP/out")" '^\{"version": 1, "kept": true, "seq": [0-9]+, "time": [0-9]+, "op": "create", "size": 7, "uid": [0-9]+, "gid": [0-9]+, "pid": [0-9]+, "comm": "agentstate", "origin": "cli"\}$' \
	"history line 1 is the create"
like "$(sed -n 3p "$TMP/out")" '^\{"version": 3, "kept": true, .*"op": "update"' \
	"history line 3 is an update"
is "$("$AGS" get --version 1 users alice)" '{"v":1}' "get --version 1"
is "$("$AGS" get users alice --version 2)" '{"v":2}' "options after the arguments"
is "$("$AGS" get users alice)" '{"v":3}' "get gives the current version"
fails 1 'cannot read users/alice version 9: it is at version 3' \
	"get of a version never made" \
	"$AGS" get --version 9 users alice

# ---- compare-and-set ----
succeeds "put --if-version at the current version" \
	"$AGS" put --if-version 3 users alice <<<'{"v":4}'
before=$(state)
fails 1 'expected version 3 but it is at version 4' "a stale --if-version" \
	"$AGS" put --if-version 3 users alice <<<'{"v":"lost"}'
is "$(state)" "$before" "the stale put changed nothing, audit included"
fails 1 'exists' "--if-version 0 on an existing object" \
	"$AGS" put --if-version 0 users alice <<<'{}'
succeeds "--if-version 0 creates a new object" \
	"$AGS" put users carol --if-version 0 <<<'{"c":1}'
fails 1 'cannot store users/dave: expected version 1 but there is no such object \(never created, or removed by another writer\)' \
	"--if-version 1 on a missing object" \
	"$AGS" put --if-version 1 users dave <<<'{}'
is "$("$AGS" history users carol | wc -l)" 1 "created at version 1"

# ---- rm ----
succeeds "rm an object" "$AGS" rm users carol
fails 1 'cannot read users/carol: no such object' "get after rm" \
	"$AGS" get users carol
fails 1 'no such object' "rm of a missing object" "$AGS" rm users carol
succeeds "rm -f of a missing object" "$AGS" rm -f users carol
succeeds "rm --force of a missing collection" "$AGS" rm --force nocol x
fails 1 'no such collection' "rm of a missing collection" \
	"$AGS" rm nocol x
fails 1 'expected version 1' "rm --if-version stale" \
	"$AGS" rm --if-version 1 users alice
succeeds "rm --if-version current" "$AGS" rm --if-version 1 users str
run "$AGS" log --op remove
is "$(count_lines "$out")" 2 "two remove rows in the audit"
printf '{"again":true}' | "$AGS" put users carol
run "$AGS" history users carol
like "$out" '^\{"version": 1, "kept": true, .*"op": "create"' \
	"a removed then re-created object starts at version 1"

# ---- revert ----
succeeds "revert to version 2" "$AGS" revert users alice 2
is "$("$AGS" get users alice)" '{"v":2}' "the old body is back"
run "$AGS" history users alice
is "$(count_lines "$out")" 5 "revert made version 5"
like "$(sed -n 5p "$TMP/out")" '^\{"version": 5, "kept": true, .*"op": "revert"' \
	"history shows the revert"
run "$AGS" log --op revert
like "$out" '"op": "revert", "collection": "users", "id": "alice", "old_version": 4, "new_version": 5' \
	"the audit has a revert row from 4 to 5"
is "$("$AGS" get --version 4 users alice)" '{"v":4}' "version 4 is still kept"
fails 1 'version 17' "revert to a version never made" \
	"$AGS" revert users alice 17
fails 1 'no such' "revert of a missing object" "$AGS" revert users zed 1

# ---- exotic ids ----
weird_ids=(
	"with space"
	"slash/in/id"
	".hidden"
	"%25percent"
	"ünïcödé-日本"
	$'new\nline'
	$'tab\there'
	"-dash"
	"$(printf 'x%.0s' $(seq 1 200))"
)
"$AGS" mkcol weird
i=0
for id in "${weird_ids[@]}"; do
	i=$((i + 1))
	printf '{"i":%d}' "$i" | "$AGS" put weird -- "$id"
	is "$("$AGS" get weird -- "$id")" "{\"i\":$i}" "id #$i round-trips"
done
run "$AGS" ls --json weird
is "$(count_lines "$out")" "${#weird_ids[@]}" "ls --json prints one line per id"
like "$out" '\{"id": "new\\nline"\}' "ls --json escapes a newline in an id"
like "$out" '\{"id": "tab\\there"\}' "ls --json escapes a tab in an id"
run "$AGS" ls weird
is "$(count_lines "$out")" "$((${#weird_ids[@]} + 1))" "ls prints ids raw (the newline id takes two lines)"
fails 1 'no such object' "get of a missing exotic id keeps the error on one line" \
	"$AGS" get weird $'two\nlines'

run "$AGS" --version
is "$rc" 0 "--version succeeds"
like "$out" '^agentstate [0-9]+\.[0-9]+\.[0-9]+ \(SQLite 3\.' "--version names agentstate's and SQLite's versions"

done_testing
