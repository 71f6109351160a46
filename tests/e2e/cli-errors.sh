#!/bin/bash
# cli-errors.sh: every kind of bad input to the command: store URIs, missing
# stores, names, ids, invalid JSON, oversize bodies, bad usage and --help.
# Each refusal exits with the documented code, says why on one stderr line,
# and leaves the store and its audit exactly as they were.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
"$AGS" mkcol users
printf '{"name": "alice"}' | "$AGS" put users alice
printf '[1, 2]' | "$AGS" put users list

# ---- store URIs ----
supported='supported forms are sqlite:///ABSOLUTE/PATH, sqlite://RELATIVE/PATH'
fails 1 "cannot open store 'foo://x': unknown scheme 'foo'; $supported" \
	"an unknown URI scheme" "$AGS" --store foo://x ls
fails 1 "unknown scheme 'postgres'; $supported" "a postgres URI" \
	"$AGS" --store postgres://host/db init
fails 1 "the URI names no file; $supported" "sqlite:// without a file" \
	"$AGS" --store sqlite:// ls
fails 1 "the store URI is empty; $supported" "an empty --store" \
	"$AGS" --store '' ls
AGENTSTATE_STORE=bad://x fails 1 "unknown scheme 'bad'" \
	"a bad URI from AGENTSTATE_STORE" "$AGS" ls
mkdir -p adir
fails 1 "cannot open store adir: it is a directory; give the store's file \(adir/agentstate\.db, say\)" \
	"a directory given as the store" "$AGS" --store adir ls

# a path is a path, even one SQLite would read as a URI of its own
succeeds "init of a store named file:..." "$AGS" --store file:uri.db init
ok "makes the file of that name" test -f file:uri.db
succeeds "which later commands open" "$AGS" --store file:uri.db mkcol c

# ---- stores that do not exist are never created ----
for cmd in "ls" "ls users" "get users alice" "put users bob" "rm users alice" \
	"mkcol x" "rmcol users" "find users name alice" "query users {}" \
	"index users name" "log" "history users alice" "revert users alice 1"; do
	# shellcheck disable=SC2086
	fails 1 "cannot open store missing\.db: no such file; create it with 'agentstate init'" \
		"$cmd on a missing store" "$AGS" --store missing.db $cmd </dev/null
done
ok "no command created the missing store" test ! -e missing.db
ok "nor its WAL" test ! -e missing.db-wal
# A store this user may not write: SQLite writes its -wal and -shm files
# beside the store even to read it, and the message says so.
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null &&
	runuser -u nobody -- "$AGS" --version >/dev/null 2>&1; then
	mkdir -p shared
	"$AGS" --store shared/s.db init >/dev/null
	chmod 755 "$TMP" shared
	chmod 644 shared/s.db
	fails 1 "cannot open store $TMP/shared/s\.db: attempt to write a readonly database; SQLite writes its -wal and -shm files beside the store, even to read it: check that this user can write the store and its directory" \
		"a store in a directory this user cannot write" \
		runuser -u nobody -- "$AGS" --store "$TMP/shared/s.db" ls
	chmod 700 "$TMP"
else
	pass "# SKIP a store another user cannot write (needs root, and a binary user nobody may run)"
fi
# An empty file, given by mistake, is not made a store (SQLite would take
# it for an empty database); init makes one of it on purpose.
: >empty.db
for cmd in "ls" "mkcol x" "log"; do
	# shellcheck disable=SC2086
	fails 1 "cannot open store empty\.db: it is an empty file, not a store; nothing was written to it: give the store's file, or make this one a store with 'agentstate init'" \
		"$cmd on an empty file" "$AGS" --store empty.db $cmd
done
is "$(stat -c %s empty.db)" 0 "the empty file stays empty"
ok "and gets no WAL" test ! -e empty.db-wal
run "$AGS" --store empty.db init
is "$rc:$out" "0:initialized store empty.db" "init makes a store of an empty file"
fails 1 "cannot open store $TMP/nodir/x\.db: .*check that its directory exists" \
	"init in a missing directory" "$AGS" --store "$TMP/nodir/x.db" init
printf 'this is not a database, it is a text file that is long enough\n%.0s' \
	$(seq 1 100) >text.db
fails 1 'cannot open store text\.db: file is not a database; is it an agentstate store\?' \
	"a file that is not a database" "$AGS" --store text.db ls
fails 1 'is it an agentstate store\?' "writing to a file that is not a database" \
	"$AGS" --store text.db mkcol x
# Another program's SQLite database, given by mistake, is not made a store:
# no tables are added, its journal mode stays, not one byte changes.
sqlite3 foreign.db "CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES ('mine')"
cp foreign.db foreign.orig
for cmd in "ls" "put c x" "mkcol c"; do
	# shellcheck disable=SC2086
	fails 1 "cannot open store foreign\.db: it is an SQLite database without agentstate's tables; it was left unchanged; is it an agentstate store\?" \
		"$cmd on another program's database" "$AGS" --store foreign.db $cmd </dev/null
done
ok "its file is byte for byte as it was" cmp -s foreign.db foreign.orig
ok "and has no WAL beside it" test ! -e foreign.db-wal
# Nor one that keeps a schema version of its own.
sqlite3 versioned.db "CREATE TABLE meta(k, v); PRAGMA user_version = 5"
cp versioned.db versioned.orig
fails 1 "cannot open store versioned\.db: it is an SQLite database without agentstate's tables; it was left unchanged" \
	"a database with a version of its own" "$AGS" --store versioned.db mkcol c
ok "it too is byte for byte as it was" cmp -s versioned.db versioned.orig

# ---- AGENTSTATE_STORE and --store ----
AGENTSTATE_STORE="$TMP/other.db" "$AGS" init >/dev/null
AGENTSTATE_STORE="$TMP/other.db" "$AGS" mkcol othercol
is "$(AGENTSTATE_STORE="$TMP/other.db" "$AGS" ls)" "othercol	0" \
	"AGENTSTATE_STORE names the store"
is "$(AGENTSTATE_STORE="$TMP/other.db" "$AGS" --store "$TMP/store.db" ls)" \
	"users	2" "--store overrides AGENTSTATE_STORE"
(cd "$TMP" && unset AGENTSTATE_STORE && "$AGS" init >/dev/null &&
	"$AGS" mkcol here)
ok "the default store is ./agentstate.db" test -f "$TMP/agentstate.db"
is "$(cd "$TMP" && AGENTSTATE_STORE= "$AGS" ls)" "here	0" \
	"an empty AGENTSTATE_STORE means the default"

before=$(state)

# ---- collection names ----
rule="collection names are 1-128 bytes of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
long=$(printf 'c%.0s' $(seq 1 129))
for name in ".hidden" "-dash" "a/b" "a b" "ünï" "$long" "tab$(printf '\t')x"; do
	fails 1 "cannot create collection .*: $rule" "mkcol '$name'" \
		"$AGS" mkcol -- "$name"
done
fails 1 "$rule" "mkcol ''" "$AGS" mkcol ''
fails 1 "cannot store a/b/x: $rule" "put into a bad collection name" \
	"$AGS" put a/b x <<<'{}'
fails 1 "$rule" "get from a bad collection name" "$AGS" get .x y
fails 1 "$rule|no such collection" "ls of a bad collection name" "$AGS" ls .x
fails 1 "no such collection 'nope'; create it first \(agentstate mkcol nope\)" \
	"put into a missing collection" "$AGS" put nope x <<<'{}'
fails 1 "no such collection" "get from a missing collection" "$AGS" get nope x
fails 1 "no such collection" "ls of a missing collection" "$AGS" ls nope
fails 1 "exists" "mkcol of an existing collection" "$AGS" mkcol users
succeeds "a 128-byte name is fine" "$AGS" mkcol "${long:1}"
succeeds "and so are dots, dashes and underscores inside" "$AGS" mkcol a.b-c_D9
"$AGS" rmcol "${long:1}"
"$AGS" rmcol a.b-c_D9
before=$(state) # the two collections above are audited

# ---- ids ----
idrule='object ids are 1-200 bytes of valid UTF-8 without NUL bytes'
fails 1 "cannot store users/: $idrule" "an empty id" "$AGS" put users '' <<<'{}'
fails 1 "$idrule" "a 201-byte id" \
	"$AGS" put users "$(printf 'i%.0s' $(seq 1 201))" <<<'{}'
fails 1 "cannot store users/\\\\xff: $idrule" \
	"an id of invalid UTF-8 (shown escaped)" \
	"$AGS" put users $'\xff' <<<'{}'
fails 1 "$idrule" "an overlong UTF-8 id" "$AGS" put users $'\xc0\xaf' <<<'{}'
fails 1 "$idrule" "get with an empty id" "$AGS" get users ''

# ---- invalid JSON, each kind ----
# NAME, BODY (printf format), the expected position and reason
bad_json=(
	"empty input|||line 1, column 1: empty input"
	"white space only|  \n  ||line 2, column 3: empty input"
	"trailing bytes|{\"a\": 1}\n x||line 2, column 2: trailing bytes"
	"two values|{} {}||line 1, column 4: trailing bytes"
	"invalid UTF-8 in a string|{\n \"a\": \"\xff\"}||line 2, column 8: invalid UTF-8"
	"invalid UTF-8 in a name|{\n \"\xc3\": 1}||line 2, column 3: invalid UTF-8"
	"an unpaired high surrogate|{\n \"a\": \"\\\\ud800\"}||line 2, column 8: unpaired surrogate"
	"an unpaired low surrogate|[\n \"\\\\udc00x\"]||line 2, column 3: unpaired surrogate"
	"a duplicate member|{\"a\": 1,\n \"a\": 2}||line 2, column 2: duplicate member"
	"NaN|[\n NaN]||line 2, column 2: invalid literal"
	"Infinity|[\n Infinity]||line 2, column 2: invalid literal"
	"-Infinity|[\n -Infinity]||line 2, column 3: invalid literal"
	"a line comment|{\n // c\n}||line 2, column 2: comments are not JSON"
	"a block comment|[1 /* c */]||line 1, column 4: comments are not JSON"
	"single quotes|{\n 'a': 1}||line 2, column 2: single quotes are not JSON"
	"a trailing comma in an array|[\n 1,]||line 2, column 4: trailing comma"
	"a trailing comma in an object|{\"a\": 1,\n}||line 2, column 1: trailing comma"
	"a raw control character|\"a\tb\"||line 1, column 3: control character"
	"a leading zero|01||line 1, column 2: invalid number"
	"a byte order mark|\xef\xbb\xbf{}||line 1, column 1: byte order mark"
	"an unclosed object|{\"a\": 1||line 1, column 8: "
)
for entry in "${bad_json[@]}"; do
	IFS='|' read -r name body _ want <<<"$entry"
	# shellcheck disable=SC2059
	printf "$body" >bad.json
	fails 1 "^agentstate: cannot store users/alice: invalid JSON at $want" \
		"$name" "$AGS" put users alice bad.json
done
{
	printf '%.0s[' $(seq 1 513)
	printf '%.0s]' $(seq 1 513)
} >deep.json
fails 1 "invalid JSON at line 1, column 513: nesting deeper than 512" \
	"nesting 513 deep" "$AGS" put users alice deep.json
fails 1 "invalid JSON at line 1, column 1: empty input" \
	"an empty stdin" "$AGS" put users newbie </dev/null
is "$(state)" "$before" "no refused put changed the store or its audit"
is "$("$AGS" get users alice)" '{"name": "alice"}' "alice keeps her body"

{
	printf '%.0s[' $(seq 1 512)
	printf '%.0s]' $(seq 1 512)
} >deep.json
succeeds "nesting 512 deep is fine" "$AGS" put users deep deep.json
"$AGS" rm users deep
before=$(state)

# ---- oversize bodies ----
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >huge.json
printf '1' >>huge.json
fails 1 "cannot store users/alice: the body is 17825793 bytes, more than the store's limit of 16777216" \
	"a 17 MiB body" "$AGS" put users alice huge.json
fails 1 "more than the store's limit" "a 17 MiB body on stdin" \
	"$AGS" put users huge <huge.json
is "$(state)" "$before" "the oversize puts changed nothing"
rm -f huge.json

# ---- files ----
fails 1 "cannot read nofile\.json: No such file or directory" \
	"put from a missing file" "$AGS" put users alice nofile.json
fails 1 "cannot read $TMP: Is a directory" "put from a directory" \
	"$AGS" put users alice "$TMP"

# ---- bad filters and fields ----
fails 1 "cannot query users: bad filter: unknown operator '\\\$foo'" \
	"an unknown filter operator" "$AGS" query users '{"a": {"$foo": 1}}'
fails 1 "the filter must be a JSON object" "a filter that is no object" \
	"$AGS" query users '[1]'
fails 1 "the filter is not JSON \(line 1, column 2" "a filter that is no JSON" \
	"$AGS" query users '{'
fails 1 "invalid field 'a\.\.b'" "find with a bad field path" \
	"$AGS" find users a..b 1
fails 1 "invalid field ''" "index of an empty field" "$AGS" index users ''
# A JSON path bad past a member no body has yet: SQLite would accept it
# until a body reached that step, then fail every such write (checked in
# cli-query.sh).
rows=$("$AGS" log | wc -l)
fails 1 "cannot index users: invalid field '\\\$\\.zz\\['" \
	"index of a JSON path bad past a missing member" "$AGS" index users '$.zz['
is "$("$AGS" log | wc -l)" "$rows" "and no index was made"
fails 1 "invalid field '\\\$\\.zz\\[x\\]'" "find with such a path" \
	"$AGS" find users '$.zz[x]' 1
fails 1 "no such collection" "index of a missing collection" \
	"$AGS" index nope a
fails 1 "no such collection" "find in a missing collection" \
	"$AGS" find nope a 1
fails 1 "no such collection" "query of a missing collection" \
	"$AGS" query nope '{}'
fails 1 "no such collection" "rmcol of a missing collection" "$AGS" rmcol nope
fails 1 "no such object" "history of a missing object" \
	"$AGS" history users nobody
is "$(state)" "$before" "no failed command changed anything"

# ---- bad usage: exit 2 ----
usage=(
	"no command|missing COMMAND; see 'agentstate --help'|"
	"an unknown command|unknown command 'frobnicate'|frobnicate"
	"an unknown global option|unknown option '--bogus'|--bogus ls"
	"--store without a value|option '--store' needs an argument|--store"
	"put without an id|put: missing ID; see 'agentstate put --help'|put users"
	"put without anything|put: missing COLLECTION|put"
	"put with an extra argument|put: unexpected argument 'extra'|put users a f extra"
	"get without arguments|get: missing COLLECTION|get"
	"get with an extra argument|get: unexpected argument 'c'|get a b c"
	"get --version not a number|get: --version needs a whole number of at least 1, not 'x'|get --version x users alice"
	"get --version 0|--version needs a whole number of at least 1, not '0'|get --version 0 users alice"
	"get --version negative|--version needs a whole number of at least 1, not '-1'|get --version -1 users alice"
	"get --version with junk|not '2x'|get --version 2x users alice"
	"get --version huge|not '99999999999999999999'|get --version 99999999999999999999 users alice"
	"put --if-version not a number|--if-version needs a whole number of at least 0, not 'one'|put --if-version one users alice"
	"rm without an id|rm: missing ID|rm users"
	"rm with an unknown option|rm: unknown option '-x'|rm -x users alice"
	"rm --if-version not a number|rm: --if-version needs|rm --if-version z users alice"
	"ls with two collections|ls: unexpected argument 'b'|ls a b"
	"ls --limit 0|ls: --limit needs a whole number of at least 1, not '0'|ls --limit 0"
	"ls --limit not a number|--limit needs a whole number|ls users --limit ten"
	"ls --after without a value|ls: option '--after' needs an argument|ls --after"
	"mkcol without a name|mkcol: missing NAME|mkcol"
	"mkcol with two names|mkcol: unexpected argument 'b'|mkcol a b"
	"rmcol without a name|rmcol: missing NAME|rmcol"
	"rmcol --force=yes|rmcol: option '--force' takes no argument|rmcol --force=yes users"
	"find without a value|find: missing VALUE|find users name"
	"find --limit not a number|find: --limit needs|find --limit x users a 1"
	"query without a filter|query: missing FILTER|query users"
	"query --after without a value|query: option '--after' needs|query users {} --after"
	"index without a field|index: missing FIELD|index users"
	"log with an argument|log: unexpected argument 'users'|log users"
	"log --since not a number|log: --since needs a whole number of at least 0, not 'yesterday'|log --since yesterday"
	"log --limit negative|log: --limit needs|log --limit -3"
	"log with an unknown option|log: unknown option '--tail'|log --tail"
	"history without an id|history: missing ID|history users"
	"revert without a version|revert: missing VERSION|revert users alice"
	"revert with a non-numeric version|revert: VERSION needs a whole number of at least 1, not 'latest'|revert users alice latest"
	"init with an argument|init: unexpected argument 'now'|init now"
	"help of an unknown command|help: unknown command 'nope'|help nope"
	"--store after the command|ls: --store goes before the command, as in 'agentstate --store URI ls \.\.\.'|ls --store x.db"
	"--store= after the command|get: --store goes before the command|get --store=x.db users alice"
)
for entry in "${usage[@]}"; do
	IFS='|' read -r name want args <<<"$entry"
	# shellcheck disable=SC2086
	fails 2 "^agentstate: .*$want" "$name" "$AGS" $args </dev/null
done
is "$(state)" "$before" "no bad usage changed anything"

# ---- help ----
run "$AGS" --help
is "$rc" 0 "--help exits 0"
like "$out" '^Usage: agentstate \[--store URI\] COMMAND' "--help starts with the usage line"
is "$err" "" "--help prints nothing on stderr"
global_help=$out
for cmd in init put get rm ls mkcol rmcol find query index log history revert; do
	like "$global_help" "
  $cmd " "--help lists $cmd"
	run "$AGS" "$cmd" --help
	is "$rc" 0 "$cmd --help exits 0"
	like "$out" "^Usage: agentstate .*$cmd" "$cmd --help has a usage line"
	like "$out" "Options:.*-h, --help" "$cmd --help lists its options"
	like "$out" "Example:
  agentstate" "$cmd --help has an example"
	is "$err" "" "$cmd --help prints nothing on stderr"
	help_text=$out
	run "$AGS" help "$cmd"
	is "$out" "$help_text" "help $cmd is $cmd --help"
done
run "$AGS" --store nowhere.db get --help
is "$rc" 0 "--help works without a store"
ok "and creates none" test ! -e nowhere.db
run "$AGS" help
like "$out" '^Usage: agentstate' "help alone is --help"

done_testing
