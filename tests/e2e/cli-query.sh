#!/bin/bash
# cli-query.sh: find (type-exact equality, dotted and JSONPath fields, the
# JSON-or-string VALUE rule), query with every operator, paging, and the
# JSON Lines output with bodies made one line without changing a token.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
"$AGS" mkcol t
put() { printf '%s' "$2" | "$AGS" put t "$1"; }
put btrue '{"v": true}'
put one '{"v": 1}'
put onef '{"v": 1.0}'
put str12 '{"v": "12"}'
put n12 '{"v": 12}'
put n12f '{"v": 12.0}'
put nul '{"v": null}'
put missing '{"w": 1}'
put nested '{"a": {"b": [10, {"c": "deep"}]}, "v": "alice"}'
put pretty $'{\n  "v" : "x  y",\r\n\t"list" : [ 1 , 2e3 , -0.5 ],\n  "q": "a \\" b \\\\ ",\n  "e": "\\n"\n}\n'

# ids of the result lines, space-separated
ids() {
	sed -n 's/^{"id": "\([^"]*\)", "body": .*}$/\1/p' | tr '\n' ' ' | sed 's/ $//'
}
find_ids() { "$AGS" find "$@" | ids; }
query_ids() { "$AGS" query t "$1" | ids; }

# ---- find: equality by JSON type and value ----
is "$(find_ids t v true)" "btrue" "true matches true only, not 1"
is "$(find_ids t v 1)" "one onef" "1 matches 1 and 1.0, not true"
is "$(find_ids t v '"12"')" "str12" '"12" matches the string only'
is "$(find_ids t v 12)" "n12 n12f" "12 matches 12 and 12.0, not \"12\""
is "$(find_ids t v 12.0)" "n12 n12f" "12.0 matches 12"
is "$(find_ids t v 1.2e1)" "n12 n12f" "1.2e1 matches 12"
is "$(find_ids t v null)" "nul" "null matches null, not a missing field"
is "$(find_ids t v alice)" "nested" "a VALUE that is no JSON is a string"
is "$(find_ids t v '"alice"')" "nested" "the same as the quoted string"
is "$(find_ids t v ' 12 ')" "n12 n12f" "JSON with white space around is JSON"
is "$(find_ids t v '{"x": 1')" "" "an unclosed object is taken as a string"
is "$(find_ids t v nothing)" "" "no match prints nothing"
is "$(find_ids t list '[1, 2000, -5e-1]')" "pretty" \
	"an array matches by value, however its numbers are spelled"
is "$(find_ids t a '{"b": [1e1, {"c": "d\u0065ep"}]}')" "nested" \
	"so does an object, however its strings are spelled"
is "$(find_ids t a '{"b": [{"c": "deep"}, 10]}')" "" "members in order"
run "$AGS" find t v nothing
is "$rc" 0 "no match is no failure"

# ---- find: field paths ----
is "$(find_ids t a.b.0 10)" "nested" "a dotted path with an array index"
is "$(find_ids t a.b.1.c deep)" "nested" "a dotted path into an array element"
is "$(find_ids t '$.a.b[1].c' deep)" "nested" "a JSONPath"
is "$(find_ids t '$.v' 12)" "n12 n12f" "a JSONPath at the top"
is "$(find_ids t a.b.5 10)" "" "a missing array element matches nothing"

# ---- find: paging ----
is "$(find_ids --limit 1 t v 12)" "n12" "find --limit 1"
is "$(find_ids t v 12 --after n12)" "n12f" "find --after"
is "$(find_ids t v 1 --after one --limit 5)" "onef" "find --after --limit"

# ---- find with an index gives the same ----
"$AGS" index t v
"$AGS" index t a.b.0
is "$(find_ids t v 12)" "n12 n12f" "with an index, 12 still matches 12 and 12.0"
is "$(find_ids t v true)" "btrue" "with an index, true is still not 1"
is "$(find_ids t v '"12"')" "str12" 'with an index, "12" is still a string'
is "$(find_ids t v null)" "nul" "with an index, null still matches null"
is "$(find_ids t a.b.0 10)" "nested" "an indexed dotted path"

# ---- query: each operator ----
is "$(query_ids '{"v": 12}')" "n12 n12f" "a plain value is equality"
is "$(query_ids '{"v": {"$eq": 12}}')" "n12 n12f" '$eq'
is "$(query_ids '{"$.a.b[1].c": "deep"}')" "nested" "a JSONPath field, as find takes"
is "$(query_ids '{"$.v": 12}')" "n12 n12f" "a JSONPath at the top"
# An index on a JSON path bad past a member no body has is refused: made,
# it would fail every later write of a body that has the member.
run "$AGS" index t '$.zz['
is "$rc" 1 "an index on a JSON path bad past a missing member is refused"
printf '{"zz": [1]}' | "$AGS" put t zz
is "$?" 0 "and a body with that member is stored as ever"
"$AGS" rm t zz
is "$(query_ids '{"v": {"$ne": 12}}')" "btrue missing nested nul one onef pretty str12" \
	'$ne (a missing field is not equal)'
is "$(query_ids '{"v": {"$gt": 1}}')" "n12 n12f" '$gt'
is "$(query_ids '{"v": {"$gte": 1}}')" "n12 n12f one onef" '$gte'
is "$(query_ids '{"v": {"$lt": 12}}')" "one onef" '$lt'
is "$(query_ids '{"v": {"$lte": 1}}')" "one onef" '$lte'
is "$(query_ids '{"v": {"$gt": 1, "$lt": 12}}')" "" '$gt and $lt together'
is "$(query_ids '{"v": {"$in": [1, "12"]}}')" "one onef str12" '$in'
is "$(query_ids '{"v": {"$nin": [1, 12]}}')" "btrue missing nested nul pretty str12" '$nin'
is "$(query_ids '{"v": {"$exists": false}}')" "missing" '$exists false'
is "$(query_ids '{"w": {"$exists": true}}')" "missing" '$exists true'
is "$(query_ids '{"v": "alice", "a.b.0": {"$gte": 10}}')" "nested" \
	"fields are joined by AND"
is "$(query_ids '{"v": "alice", "a.b.0": {"$gt": 10}}')" "" \
	"AND with one side false matches nothing"
is "$(query_ids '{}')" "btrue missing n12 n12f nested nul one onef pretty str12" \
	"an empty filter matches every object, ordered by id"
is "$("$AGS" query t '{}' --limit 2 --after n12 | ids)" "n12f nested" \
	"query --after --limit"

# ---- the output: JSON Lines, one line per object, tokens unchanged ----
run "$AGS" find t v '"x  y"'
is "$out" '{"id": "pretty", "body": {"v":"x  y","list":[1,2e3,-0.5],"q":"a \" b \\ ","e":"\n"}}' \
	"a pretty-printed body is printed on one line, strings and numbers kept"
run "$AGS" query t '{}'
is "$(count_lines "$out")" 10 "query '{}' prints one line per object"
"$AGS" mkcol lines
n=0
bad=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" | "$AGS" put lines "l$n" 2>/dev/null || bad=$((bad + 1))
done <"$TMP/out"
is "$bad" 0 "every output line is strict JSON (put accepts it)"
ok "every line is an object with id and body" \
	test "$(grep -c '^{"id": "[^"]*", "body": .*}$' "$TMP/out")" = 10

# scalar bodies and exotic ids in results
"$AGS" mkcol s
printf '  42  ' | "$AGS" put s "num"
printf '"a\\tb"\n' | "$AGS" put s $'tab\tid'
printf '[ ]' | "$AGS" put s "empty"
run "$AGS" query s '{}'
is "$out" '{"id": "empty", "body": []}
{"id": "num", "body": 42}
{"id": "tab\tid", "body": "a\tb"}' "scalar bodies lose their outer white space; ids are escaped"

done_testing
