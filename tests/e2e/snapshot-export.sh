#!/bin/bash
# snapshot-export.sh: agentstate export: the pretty form with the mount's
# file names, incremental runs that touch nothing unchanged, only object
# files removed, --raw, --collection, --at rebuilding earlier states, the
# export -> import -> export round trip, one consistent seq while a writer
# runs, and whole files only after a kill -9.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
"$AGS" mkcol users
"$AGS" mkcol notes
printf '{"name":"alice","age":30,"n":1e400,"tags":[]}' | "$AGS" put users alice
printf '[1,{"a":null}]' | "$AGS" put users bob
printf '"dot"' | "$AGS" put users .hidden
printf '{}' | "$AGS" put notes 'a/b'

run "$AGS" export snap
is "$rc" 0 "export succeeds"
is "$out" "exported 4 objects in 2 collections at seq 6 to snap: 4 written, 0 removed" \
	"it says what it did"
is "$(cat snap/users/alice.json)" '{
  "name": "alice",
  "age": 30,
  "n": 1e400,
  "tags": []
}' "files are in the canonical pretty form, spelling kept"
ok "names are the mount's" test -f snap/users/%2Ehidden.json -a -f snap/notes/a%2Fb.json
is "$(sed -n 's/^  "seq": \(.*\),$/\1/p' snap/.agentstate-export.json)" 6 \
	"the manifest names the seq"
ok "the manifest holds no time" sh -c '! grep -qi time snap/.agentstate-export.json'

# incremental: an unchanged store rewrites nothing
find snap -type f -exec touch -d 2001-01-01 {} +
run "$AGS" export snap
like "$out" ": 0 written, 0 removed$" "a second export writes nothing"
is "$(find snap -newermt 2001-01-02 -type f | wc -l)" 0 "every mtime is kept"

# a change rewrites that file only; a removal removes only object files
mkdir snap/.git snap/users/sub
echo readme >snap/README
echo junk >snap/users/alice.json~
echo '{}' >snap/users/not%41.json
printf '{"name":"alice","age":31,"n":1e400,"tags":[]}' | "$AGS" put users alice
"$AGS" rm users bob
run "$AGS" export snap
like "$out" ": 1 written, 1 removed$" "one file written, one removed"
is "$(find snap -newermt 2001-01-02 -name '*.json' | sort | tr '\n' ' ')" \
	"snap/.agentstate-export.json snap/users/alice.json snap/users/not%41.json " \
	"only the changed file and the manifest were touched (and ours)"
ok "other files stay" test -d snap/.git -a -f snap/README -a -f snap/users/alice.json~ -a -d snap/users/sub -a -f snap/users/not%41.json
ok "the removed object's file is gone" test ! -e snap/users/bob.json
is "$(diff <(printf '{\n  "name": "alice",\n  "age": 30,\n  "n": 1e400,\n  "tags": []\n}\n') snap/users/alice.json | grep -c '^[<>]')" \
	2 "a one-field change is one changed line"

# a dropped collection's directory goes
"$AGS" rmcol --force notes
run "$AGS" export snap
ok "a dropped collection's directory is removed" test ! -e snap/notes

# a file written has its object's version time; one edited and given that
# time again has a newer ctime, and is read and put right
stamp=$(stat -c %y snap/users/alice.json)
sed -i 's/alice/mallory/' snap/users/alice.json
touch -d "$stamp" snap/users/alice.json
run "$AGS" export snap
like "$out" ": 1 written, 0 removed$" "a file given its stamp again is read"
ok "the stored body is back" grep -q '"name": "alice"' snap/users/alice.json
run "$AGS" export --verify snap
like "$out" ": 0 written, 0 removed$" "--verify reads every file, finds all equal"
is "$(stat -c %y snap/users/alice.json)" "$stamp" "with the same stamp"

# --raw and --collection
printf ' {"x" :1} ' | "$AGS" put users carol
run "$AGS" export --raw --collection users raw
is "$(cat raw/users/carol.json)" ' {"x" :1} ' "--raw writes the stored bytes"
fails 1 "collection 'nope': no such collection" "a missing collection" \
	"$AGS" export --collection nope raw
fails 2 "--at needs an audit seq" "a bad --at" "$AGS" export --at soon x
# An id that escapes to a file name longer than 255 bytes.
"$AGS" mkcol long >/dev/null
echo '{}' | "$AGS" put long "$(printf '/%.0s' $(seq 100))"
fails 1 "file name would be 305 bytes, more than the 255" \
	"an id whose file name is too long" "$AGS" export --collection long x
is "$(ls x/long 2>/dev/null | wc -l)" 0 "no file of that collection is written"
"$AGS" rmcol --force long >/dev/null
fails 2 "missing DIR" "no DIR" "$AGS" export
run "$AGS" export --help
like "$out" "^Usage: agentstate export" "--help"

# --at: every earlier state, rebuilt exactly
"$AGS" init >/dev/null
seqs=()
for i in 1 2 3 4 5; do
	case $i in
	2) "$AGS" rm users carol ;;
	3) "$AGS" mkcol tmp && printf '[%d]' "$i" | "$AGS" put tmp t ;;
	4) printf '{"v":%d}' "$i" | "$AGS" put users alice && "$AGS" rmcol --force tmp ;;
	5) printf '"x"' | "$AGS" put users z ;;
	esac
	"$AGS" export "live-$i" >/dev/null
	seqs+=("$(sed -n 's/^  "seq": \(.*\),$/\1/p' "live-$i/.agentstate-export.json")")
	sleep 0.01
done
same=0
for i in 1 2 3 4 5; do
	"$AGS" export --at "${seqs[$((i - 1))]}" "past-$i" >/dev/null &&
		diff -r "live-$i" "past-$i" >/dev/null && same=$((same + 1))
done
is "$same" 5 "--at SEQ reproduces each earlier state byte for byte"
t=$(date -u -d @"$(($(date +%s) + 3600))" +%Y-%m-%dT%H:%M:%SZ)
run "$AGS" export --at "$t" now-by-time
ok "--at TIME in the future is the current state" diff -r live-5 now-by-time
run "$AGS" export --at @1 epoch
like "$out" "at seq 0 " "--at @UNIX-SECONDS before the first change is empty"

# round trip: export -> import into an empty store -> export
AGENTSTATE_STORE=$TMP/copy.db "$AGS" init >/dev/null
run env AGENTSTATE_STORE="$TMP/copy.db" "$AGS" import live-5
is "$rc" 0 "import the export into an empty store"
AGENTSTATE_STORE=$TMP/copy.db "$AGS" export again >/dev/null
ok "export -> import -> export gives the same tree" \
	diff -r -x .agentstate-export.json live-5 again

# a body at the store's limit (16 MiB) would pass it in the pretty form,
# which import refuses: such a file holds the stored bytes
AGENTSTATE_STORE=$TMP/big.db "$AGS" init >/dev/null
AGENTSTATE_STORE=$TMP/big.db "$AGS" mkcol c
python3 -c 'import sys; sys.stdout.write("\"" + "a" * (16 * 1024 * 1024 - 2) + "\"")' >big.json
AGENTSTATE_STORE=$TMP/big.db "$AGS" put c big big.json
printf '{"a":1}' | AGENTSTATE_STORE=$TMP/big.db "$AGS" put c small
AGENTSTATE_STORE=$TMP/big.db "$AGS" export big-tree >/dev/null
ok "a body whose pretty form passes the limit is written as stored" \
	cmp -s big.json big-tree/c/big.json
is "$(cat big-tree/c/small.json)" $'{\n  "a": 1\n}' "the others in the pretty form"
AGENTSTATE_STORE=$TMP/big2.db "$AGS" init >/dev/null
run env AGENTSTATE_STORE="$TMP/big2.db" "$AGS" import big-tree
is "$rc" 0 "and the tree imports into an empty store"
ok "with the body byte for byte" \
	cmp -s big.json <(AGENTSTATE_STORE=$TMP/big2.db "$AGS" get c big)
rm -f big.json "$TMP/big.db" "$TMP/big2.db"

# one consistent state while a writer runs: the export equals the state
# rebuilt at the seq it names
(for i in $(seq 1 100000); do
	printf '{"i":%d}' "$i" | "$AGS" put users w1 || exit
	printf '{"i":%d}' "$i" | "$AGS" put users w2 || exit
done) &
writer=$!
at_exit "kill $writer"
sleep 0.5
"$AGS" export busy >/dev/null
kill "$writer"
wait "$writer" 2>/dev/null
seq=$(sed -n 's/^  "seq": \(.*\),$/\1/p' busy/.agentstate-export.json)
"$AGS" export --at "$seq" busy-then >/dev/null
ok "an export during writes is exactly the state at its seq ($seq)" diff -r busy busy-then

# kill -9 mid-export leaves only whole files; the next run completes it
python3 - <<'PY'
import os
for c in ("big1", "big2"):
    os.makedirs("tree/" + c, exist_ok=True)
    for i in range(6000):
        with open("tree/%s/o%05d.json" % (c, i), "w") as f:
            f.write('{"i": %d, "pad": "%s"}' % (i, "x" * 200))
PY
"$AGS" import tree >/dev/null
"$AGS" export full >/dev/null
"$AGS" export --no-sync partial >/dev/null &
pid=$!
wait_for 20 sh -c '[ "$(ls partial/big1 2>/dev/null | wc -l)" -gt 100 ]'
kill -9 "$pid" 2>/dev/null || diag "the export ended before the kill"
wait "$pid" 2>/dev/null
whole=1
for f in $(cd partial && find . -name '*.json' ! -name .agentstate-export.json); do
	cmp -s "partial/$f" "full/$f" || { whole=0; diag "partial file $f"; }
done
n=$(find partial -name '*.json' | wc -l)
ok "after kill -9 every object file is whole ($n files)" test "$whole" = 1
run "$AGS" export partial
ok "the next export completes it" diff -r -x .agentstate-export.json full partial
is "$(find partial -name '.agentstate-tmp.*' | wc -l)" 0 "no temporary file is left"

# A directory no export wrote: its files named like objects, in directories
# named like collections, are not the export's to remove or overwrite. A
# project directory given by mistake is refused, and nothing is written.
mkdir -p proj/users proj/logs
echo '{"mine": true}' >proj/users/app.json
echo 'read me' >proj/README
fails 1 "cannot export to proj: it holds users/app.json, a file an export would own and may remove, but no earlier export \(no \.agentstate-export\.json\); nothing was written: export into an empty or new directory, or move such files away" \
	"a first export into a directory holding files it would own" \
	"$AGS" export proj
is "$(cat proj/users/app.json)" '{"mine": true}' "that file is untouched"
ok "nothing was written" test ! -e proj/.agentstate-export.json -a ! -e proj/notes
ok "not even the empty directory was removed" test -d proj/logs
# Other files (a README, .git, files of other names) are no obstacle.
mkdir -p repo/.git repo/users
echo 'read me' >repo/README
echo 'notes' >repo/users/notes.txt
run "$AGS" export repo
is "$rc" 0 "a first export beside files it does not own"
is "$(cat repo/README; cat repo/users/notes.txt)" "read me
notes" "leaves them as they are"

# a progress bar on a terminal, nothing on a pipe
run "$AGS" export quiet
is "$err" "" "no progress output when stderr is not a terminal"
if command -v script >/dev/null; then
	script -qec "$AGS export tty-out" /dev/null >tty.log 2>&1
	like "$(tr '\r' '\n' <tty.log)" "export \[#+\] 100% [0-9]+/[0-9]+" \
		"a progress bar when it is a terminal"
else
	pass "# SKIP script(1) is not installed"
fi

done_testing
