#!/usr/bin/env bash
# Reading through the mount: ls -la, stat, cat, find, grep -r, jq, wc -c, du
# and cp -a out see exactly the stored bytes; st_size is exact; inode numbers
# are the objects' stable numbers, the same after a remount; file names are
# the encoded ids; the audit log reads as JSON Lines of the exact size.
. "$(dirname "$0")/mount-lib.sh"

"$AGS" init >/dev/null
"$AGS" mkcol users >/dev/null
"$AGS" mkcol tasks >/dev/null
printf '{"name": "alice", "age": 30}' | "$AGS" put users alice >/dev/null
printf '{"name": "bob",\n "big": 12345678901234567890, "x": 1e400}\n' |
	"$AGS" put users bob >/dev/null
printf '[1, 2, 3]' | "$AGS" put users 'a/b%c' >/dev/null
printf '"dot"' | "$AGS" put users '.hidden' >/dev/null
printf '{"t": "write tests"}' | "$AGS" put tasks t1 >/dev/null

mount_store

# ---- listing
run ls -a "$MNT"
is "$out" $'.\n..\n.agentstate\ntasks\nusers' "ls -a of the root: collections and .agentstate"
run ls "$MNT/users"
is "$out" $'%2Ehidden.json\na%2Fb%25c.json\nalice.json\nbob.json' \
	"object files are encoded ids + .json"
run ls -la "$MNT/users"
is "$rc" 0 "ls -la works"
like "$out" '-rw-r--r-- 1 [^ ]+ [^ ]+ +28 .* alice\.json' "ls -la shows mode, size"
run ls -la "$MNT/.agentstate"
like "$out" '-r--r--r-- .* audit\.jsonl' "the audit log is read-only"

# ---- contents
for id in alice bob 'a/b%c' .hidden; do
	f=$("$AGS" get users "$id" | od -An -c)
	case $id in
	a/b%c) name='a%2Fb%25c' ;;
	.hidden) name='%2Ehidden' ;;
	*) name=$id ;;
	esac
	is "$(od -An -c <"$MNT/users/$name.json")" "$f" "cat $id: exact stored bytes"
	is "$(wc -c <"$MNT/users/$name.json" | tr -d ' ')" \
		"$("$AGS" get users "$id" | wc -c | tr -d ' ')" "wc -c $id is exact"
	is "$(stat -c %s "$MNT/users/$name.json")" \
		"$("$AGS" get users "$id" | wc -c | tr -d ' ')" "st_size $id is exact"
done
like "$(cat "$MNT/users/bob.json")" '12345678901234567890, "x": 1e400' \
	"number spellings survive"

# ---- the usual tools
run jq -r .name "$MNT/users/alice.json"
is "$out" alice "jq reads an object"
run grep -rl 'write tests' "$MNT"
is "$out" "$MNT/tasks/t1.json" "grep -r finds the object by its body"
run find "$MNT" -name '*.json' -type f
is "$(count_lines "$out")" 5 "find sees the five objects"
run find "$MNT" -mindepth 1 -maxdepth 1 -type d
is "$(count_lines "$out")" 3 "find sees two collections and .agentstate"
run du -sb "$MNT/users"
like "$out" '^[0-9]+' "du works"
run stat -c '%F %h' "$MNT/users" "$MNT/users/alice.json"
is "$out" $'directory 2\nregular file 1' "st_nlink: 2 for directories, 1 for files"
cp -a "$MNT/users" "$TMP/copy"
is "$(cat "$TMP/copy/alice.json")" '{"name": "alice", "age": 30}' "cp -a out copies the bytes"
is "$(stat -c %Y "$TMP/copy/alice.json")" "$(stat -c %Y "$MNT/users/alice.json")" \
	"cp -a keeps the time"

# ---- inode numbers are stable
ino_before=$(stat -c %i "$MNT/users/alice.json" "$MNT/users/bob.json" "$MNT/tasks")
ok "inode numbers differ" [ "$(printf '%s\n' $ino_before | sort -u | wc -l)" = 3 ]
remount
ino_after=$(stat -c %i "$MNT/users/alice.json" "$MNT/users/bob.json" "$MNT/tasks")
is "$ino_after" "$ino_before" "inode numbers are the same after a remount"
"$AGS" put users alice <<<'{"name": "alice", "age": 31}' >/dev/null
eventually 2000 'grep -q 31 "$MNT/users/alice.json"'
is "$(stat -c %i "$MNT/users/alice.json")" "$(echo "$ino_before" | head -n 1)" \
	"an update keeps the inode number"

# ---- the audit log
run cat "$MNT/.agentstate/audit.jsonl"
is "$out" "$("$AGS" log)" "audit.jsonl holds the audit log as JSON Lines"
is "$(stat -c %s "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log | wc -c | tr -d ' ')" \
	"audit.jsonl st_size is exact"
is "$(jq -s length "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log | wc -l | tr -d ' ')" \
	"every line is one JSON object"
# reads at offsets
size=$(stat -c %s "$MNT/.agentstate/audit.jsonl")
is "$(tail -c 50 "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log | tail -c 50)" \
	"a read at an offset near the end"
is "$(dd if="$MNT/.agentstate/audit.jsonl" bs=7 skip=3 count=5 2>/dev/null)" \
	"$("$AGS" log | dd bs=7 skip=3 count=5 2>/dev/null)" "reads at odd offsets"
fails_read=$(cat "$MNT/.agentstate/nothing" 2>&1)
like "$fails_read" 'No such file' "nothing else lives in .agentstate"
ok "audit size grows with a change" [ "$size" -gt 0 ]

# ---- many objects list in pages
"$AGS" mkcol many >/dev/null
for i in $(seq -w 1 300); do
	printf '{"i": %d}' "$((10#$i))" >"$TMP/o.json"
	"$AGS" put many "o$i" "$TMP/o.json" >/dev/null
done
run ls "$MNT/many"
is "$(count_lines "$out")" 300 "a directory of 300 objects lists completely"
is "$(echo "$out" | head -n 1)" o001.json "in id order"
is "$(echo "$out" | sort -u | wc -l | tr -d ' ')" 300 "without duplicates"
run ls -la "$MNT/many"
is "$(echo "$out" | grep -c 'o[0-9]*\.json$')" 300 "ls -la (readdirplus) lists all 300"

# ---- an id whose file name would be longer than 255 bytes (100 '%' encode
# to 305) is left out of listings, with one log line per listing
long_id=$(printf '%%%.0s' $(seq 100))
printf '{}' | "$AGS" put users "$long_id"
run ls "$MNT/users"
is "$rc/$err" 0/ "ls of a collection with an id too long for a file name"
is "$out" $'%2Ehidden.json\na%2Fb%25c.json\nalice.json\nbob.json' \
	"lists the others only"
run ls -la "$MNT/users"
is "$(echo "$out" | grep -c '\.json$')" 4 "ls -la (readdirplus) too"
is "$(grep -c 'not listing users/%25%25' "$MOUNT_LOG")" 2 "logged once per listing"
is "$("$AGS" get users "$long_id")" '{}' "the object is in the store"

# ---- a long audit log: indexing 200 000 new rows at the next stat of
# audit.jsonl takes a while, and nothing else waits for it (it used to hold
# the namespace lock, which every change needs).
mkdir -p "$TMP/bulk/bulk"
"$PY" -c 'import sys
for i in range(20000):
    open("%s/o%d.json" % (sys.argv[1], i), "w").write("{}")' "$TMP/bulk/bulk"
for k in 1 2 3 4 5; do
	"$AGS" import "$TMP/bulk" >/dev/null
	"$AGS" rmcol --force bulk
done
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
(stat -c %s "$MNT/.agentstate/audit.jsonl" >/dev/null && now_ms >"$TMP/indexed") &
indexer=$!
sleep 0.05
echo '{"w": 1}' >"$MNT/tasks/w.json"
wrote=$(now_ms)
wait "$indexer"
indexed=$(cat "$TMP/indexed")
ok "a write is not held up while audit.jsonl is indexed (done $((indexed - wrote)) ms before)" \
	[ "$wrote" -lt "$((indexed - 100))" ]
is "$("$AGS" get tasks w)" '{"w": 1}' "the write is stored"
is "$(stat -c %s "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log | wc -c | tr -d ' ')" \
	"audit.jsonl st_size is exact after the long indexing"
is "$(tail -n 1 "$MNT/.agentstate/audit.jsonl")" "$("$AGS" log | tail -n 1)" \
	"and its last line is the last row"

unmount_store
is "$mount_rc" 0 "the daemon exits 0 after unmount"
done_testing
