#!/bin/bash
# snapshot-import.sh: agentstate import: every file checked before anything
# changes (each bad one listed with line and column, the store untouched),
# new versions only where the JSON value differs, --dry-run, --prune, the
# "import" origin, and the files it ignores.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
mkdir -p tree/users tree/notes tree/.git tree/-bad tree/users/sub
printf '{"name": "alice"}' >tree/users/alice.json
printf '[1, 2]' >tree/users/bob.json
printf '"x"' >tree/users/%2Edot.json
printf 'not json' >tree/users/alice.json~
printf 'not json' >tree/users/.alice.json.swp
printf 'not json' >tree/users/sub/deep.json
printf 'not json' >tree/.git/HEAD.json
printf 'not json' >tree/-bad/x.json
printf 'not json' >tree/README
printf '{"format": 1}' >tree/.agentstate-export.json

run "$AGS" import tree
is "$rc" 0 "import a tree"
is "$out" "imported tree: 3 created, 0 updated, 0 unchanged, 0 removed" \
	"only object files in collection directories count"
is "$("$AGS" ls | tr '\t\n' ': ')" "notes:0 users:3 " "collections as directories"
is "$("$AGS" get users .dot)" '"x"' "file names decode to ids"
is "$("$AGS" get users alice)" '{"name": "alice"}' "the body is the file's bytes"
like "$("$AGS" log | tail -1)" '"origin": "import"' "audited with origin import"

# white space alone is no change
printf '{\n  "name" :  "alice"\n}\n' >tree/users/alice.json
printf '[1, 3]' >tree/users/bob.json
run "$AGS" import --verbose tree
is "$out" "update users/bob.json
imported tree: 0 created, 1 updated, 2 unchanged, 0 removed" \
	"only a different value makes a new version"
is "$(count_lines "$("$AGS" history users alice)")" 1 "alice still has one version"

# invalid files: all listed, nothing changes
printf '{"a": 1,}' >tree/users/bad1.json
printf '{\n  "b": tru\n}' >tree/notes/bad2.json
printf '{"a": 1, "a": 2}' >tree/notes/bad3.json
printf '[9]' >tree/users/bob.json
state >before
run "$AGS" import tree
is "$rc" 1 "invalid files refuse the import"
is "$err" "agentstate: import: notes/bad2.json: invalid JSON at line 2, column 11: invalid literal
agentstate: import: notes/bad3.json: invalid JSON at line 1, column 10: duplicate member name
agentstate: import: users/bad1.json: invalid JSON at line 1, column 9: trailing comma
agentstate: cannot import tree: 3 of 6 files are invalid; nothing was changed" \
	"every bad file with line and column, then one summary"
state >after
ok "the store is untouched" cmp -s before after
rm tree/users/bad1.json tree/notes/bad2.json tree/notes/bad3.json

# dry run and prune
"$AGS" mkcol gone
printf '1' | "$AGS" put gone g
printf '2' | "$AGS" put users extra
state >before
run "$AGS" import --dry-run --prune tree
is "$out" "update users/bob.json
remove gone/g.json
rmcol gone
remove users/extra.json
would import tree: 0 created, 1 updated, 2 unchanged, 2 removed" \
	"--dry-run says what would change"
state >after
ok "and changes nothing" cmp -s before after
run "$AGS" import --prune tree
is "$out" "imported tree: 0 created, 1 updated, 2 unchanged, 2 removed" "--prune"
is "$("$AGS" ls | tr '\t\n' ': ')" "notes:0 users:3 " "the store matches the tree"
run "$AGS" import tree
like "$out" ": 0 created, 0 updated, 3 unchanged, 0 removed$" "a second import changes nothing"

fails 1 "cannot import nowhere" "a missing directory" "$AGS" import nowhere
fails 2 "missing DIR" "no DIR" "$AGS" import
# --prune with a directory that holds no collection and that no export
# wrote (an empty one given by mistake) would remove everything
mkdir -p nothing
before=$("$AGS" ls; "$AGS" log | wc -l)
fails 1 "cannot import nothing with --prune: it holds no collection \(no directory named like one\) and no export wrote it \(no \.agentstate-export\.json\), so every collection would be removed; nothing was changed" \
	"--prune of an empty directory" "$AGS" import --prune nothing
is "$("$AGS" ls; "$AGS" log | wc -l)" "$before" "and nothing changed"
# the tree of an export of some collections: --prune is refused, as the
# others would go, unless --collection names what to make match
"$AGS" mkcol other
printf '1' | "$AGS" put other o
"$AGS" export --collection users part >/dev/null
like "$(cat part/.agentstate-export.json)" '"partial": true' \
	"export --collection marks its tree partial"
printf '{"name": "carol"}' >part/users/carol.json
rm part/users/bob.json
state >before
fails 1 "cannot import part with --prune: an export of only some collections wrote it .*nothing was changed: name the collections to make match with --collection" \
	"--prune of a partial tree" "$AGS" import --prune part
state >after
ok "and nothing changed" cmp -s before after
run "$AGS" import --prune --collection users part
is "$out" "imported part: 1 created, 0 updated, 2 unchanged, 1 removed" \
	"--collection limits --prune to its objects"
is "$("$AGS" ls | tr '\t\n' ': ')" "notes:0 other:1 users:3 " \
	"and keeps the other collections"
mkdir -p part/fresh
printf '1' >part/fresh/f.json
run "$AGS" import --collection fresh --prune --dry-run part
is "$out" $'mkcol fresh\ncreate fresh/f.json\nwould import part: 1 created, 0 updated, 0 unchanged, 0 removed' \
	"--collection --prune --dry-run of a collection still to be made"
rm -r part/fresh
# a manifest of many collections is read whole, however long
cp part/.agentstate-export.json manifest.keep
head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >>part/.agentstate-export.json
state >before
fails 1 "cannot import part with --prune: an export of only some collections wrote it" \
	"--prune of a partial tree with a manifest over 1 MiB" \
	"$AGS" import --prune part
state >after
ok "and nothing changed" cmp -s before after
mv manifest.keep part/.agentstate-export.json
fails 1 "cannot import collection 'nope': part holds no directory 'nope'; nothing was changed" \
	"--collection missing from the tree" \
	"$AGS" import --collection nope part
# a file named like JSON but no object's name is not imported, and said
printf '1' >part/users/a%2fb.json
run "$AGS" import --collection users part
is "$rc" 0 "a misspelt object name does not stop the import"
like "$err" "^agentstate: import: users/a%2fb\.json: ignored: not an object's file name" \
	"but is named on stderr"
"$AGS" export whole >/dev/null
run "$AGS" import --prune --dry-run whole
like "$out" ": 0 created, 0 updated, 4 unchanged, 0 removed$" \
	"a whole export's tree may be pruned"

run "$AGS" import --help
like "$out" "^Usage: agentstate import" "--help"

done_testing
