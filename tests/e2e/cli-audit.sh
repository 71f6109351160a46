#!/bin/bash
# cli-audit.sh: the audit log through the command: one row per change with
# the "cli" actor, the filters of log, --follow across processes and its
# clean ends, and history of an object's versions.
. "$(dirname "$0")/lib.sh"

"$AGS" init >/dev/null
run "$AGS" log
is "$rc" 0 "log of a new store succeeds"
is "$(stat -c %s "$TMP/out")" 0 "and prints nothing"

"$AGS" mkcol users                               # seq 1
printf '{"v":1}' | "$AGS" put users alice        # 2
printf '{"v":22}' | "$AGS" put users alice       # 3
printf '{"b":1}' | "$AGS" put users bob          # 4
"$AGS" rm users bob                              # 5
"$AGS" revert users alice 1                      # 6
"$AGS" mkcol tmp                                 # 7
printf '[]' | "$AGS" put tmp x                   # 8
"$AGS" rmcol --force tmp                         # 9, 10

run "$AGS" log
is "$rc" 0 "log succeeds"
is "$(count_lines "$out")" 10 "one row per change"
is "$(sed 's/.*"op": "\([a-z]*\)".*/\1/' "$TMP/out" | tr '\n' ' ')" \
	"mkcol create update create remove revert mkcol create remove rmcol " \
	"the ops in commit order"
is "$(sed 's/^{"seq": \([0-9]*\),.*/\1/' "$TMP/out" | tr '\n' ' ')" \
	"1 2 3 4 5 6 7 8 9 10 " "seq increases by one"
like "$(sed -n 3p "$TMP/out")" \
	'^\{"seq": 3, "time": [0-9]{19}, "op": "update", "collection": "users", "id": "alice", "old_version": 1, "new_version": 2, "size": 8, "uid": '"$(id -u)"', "gid": '"$(id -g)"', "pid": [0-9]+, "comm": "agentstate", "origin": "cli"\}$' \
	"an update row has every field, the caller's ids and origin cli"
like "$(sed -n 5p "$TMP/out")" '"op": "remove", "collection": "users", "id": "bob", "old_version": 1, "new_version": null, "size": null' \
	"a remove row"
like "$(sed -n 6p "$TMP/out")" '"op": "revert", "collection": "users", "id": "alice", "old_version": 2, "new_version": 3, "size": 7' \
	"a revert row"
t1=$(sed -n 1p "$TMP/out" | sed 's/.*"time": \([0-9]*\),.*/\1/')
t10=$(sed -n 10p "$TMP/out" | sed 's/.*"time": \([0-9]*\),.*/\1/')
ok "time does not go backwards" test "$t1" -le "$t10"
pids=$(sed 's/.*"pid": \([0-9]*\),.*/\1/' "$TMP/out" | sort -u | wc -l)
is "$pids" 9 "each command's own pid is recorded (rmcol --force is one process)"

# ---- filters ----
ops() { "$AGS" log "$@" | sed 's/.*"seq": \([0-9]*\),.*"op": "\([a-z]*\)".*/\1:\2/' | tr '\n' ' '; }
is "$(ops --collection users)" "1:mkcol 2:create 3:update 4:create 5:remove 6:revert " "--collection"
is "$(ops --id alice)" "2:create 3:update 6:revert " "--id"
is "$(ops --op create)" "2:create 4:create 8:create " "--op"
is "$(ops --since 7)" "8:create 9:remove 10:rmcol " "--since SEQ gives rows after SEQ"
is "$(ops --since 10)" "" "--since the last seq gives nothing"
is "$(ops --limit 2)" "1:mkcol 2:create " "--limit"
is "$(ops --since 1 --limit 2)" "2:create 3:update " "--since with --limit"
is "$(ops --collection users --op create --id bob)" "4:create " "filters combine"
is "$(ops --collection tmp --op remove)" "9:remove " "a forced removal is audited"
fails 2 "log: unknown op 'crete'; the ops are create update remove rename exchange revert setattr mkcol rmcol mvcol" \
	"an unknown op" "$AGS" log --op crete
fails 2 "log: unknown op 'create update'" "two ops in one" \
	"$AGS" log --op "create update"

# ---- history ----
run "$AGS" history users alice
is "$rc" 0 "history succeeds"
is "$(count_lines "$out")" 3 "one line per version"
is "$(sed 's/^{"version": \([0-9]*\), "kept": \([a-z]*\), .*"op": "\([a-z]*\)".*/\1 \2 \3/' "$TMP/out" | tr '\n' ',')" \
	"1 true create,2 true update,3 true revert," "versions, kept and ops"
like "$(sed -n 1p "$TMP/out")" \
	'^\{"version": 1, "kept": true, "seq": 2, "time": [0-9]+, "op": "create", "size": 7, "uid": [0-9]+, "gid": [0-9]+, "pid": [0-9]+, "comm": "agentstate", "origin": "cli"\}$' \
	"a history line has time, op, size and the actor"
fails 1 "cannot read users/bob: no such object" "history of a removed object" \
	"$AGS" history users bob

# ---- follow ----
"$AGS" log --follow >follow.out 2>follow.err &
follower=$!
at_exit "kill $follower"
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
ok "the follower prints the existing rows" wait_for 5 has_lines follow.out 10
printf '{"new":1}' | "$AGS" put users carol
ok "a put by another process appears within 5 s" \
	wait_for 5 grep -q '"op": "create", "collection": "users", "id": "carol"' follow.out
"$AGS" rm users carol
ok "and so does the next change" \
	wait_for 5 grep -q '"op": "remove", "collection": "users", "id": "carol"' follow.out
is "$(wc -l <follow.out)" 12 "every row once, none twice"
kill -TERM "$follower"
wait "$follower"
is "$?" 0 "the follower exits 0 on SIGTERM"
is "$(cat follow.err)" "" "and prints no error"

"$AGS" log --follow --since 11 --collection users >follow2.out &
follower=$!
at_exit "kill $follower"
"$AGS" mkcol other
printf '1' | "$AGS" put other o
printf '2' | "$AGS" put users dave
ok "--follow with filters shows matching rows" \
	wait_for 5 grep -q '"id": "dave"' follow2.out
kill -INT "$follower"
wait "$follower"
is "$?" 0 "the follower exits 0 on SIGINT"
is "$(sed 's/^{"seq": \([0-9]*\),.*/\1/' follow2.out | tr '\n' ' ')" "12 15 " \
	"only rows after --since and of the collection, once each"

("$AGS" log --follow --since 15 --limit 2 >follow3.out; echo "$?" >follow3.rc) &
printf '3' | "$AGS" put users e1
printf '4' | "$AGS" put users e2
ok "--follow --limit N ends by itself after N rows" \
	wait_for 5 test -s follow3.rc
is "$(cat follow3.rc 2>/dev/null)" 0 "with exit code 0"
is "$(wc -l <follow3.out)" 2 "after exactly N rows"

# a reader going away ends the follower quietly (SIGPIPE is no crash),
# also while nothing is committed
("$AGS" log --follow 2>pipe.err; echo "$?" >pipe.rc) | head -n 1 >head.out &
ok "head got its line" wait_for 5 test -s head.out
ok "the follower of a quiet store ends once its reader is gone" \
	wait_for 5 test -s pipe.rc
is "$(cat pipe.rc 2>/dev/null)" 0 "and exits 0"
is "$(cat pipe.err)" "" "without an error message"
rm -f pipe.rc head.out
last=$("$AGS" log | tail -n 1 | sed 's/^{"seq": \([0-9]*\),.*/\1/')
("$AGS" log --follow --since "$last" 2>pipe.err; echo "$?" >pipe.rc) |
	head -n 1 >head.out &
printf '5' | "$AGS" put users e3
ok "head got its line" wait_for 5 test -s head.out
ok "the follower ends once its reader is gone" wait_for 5 test -s pipe.rc
is "$(cat pipe.rc 2>/dev/null)" 0 "and exits 0"
is "$(cat pipe.err)" "" "without an error message"

# ---- follow across a restore: the restored log gives the numbers of the
# rows made since the backup again, to new rows. The follower tells its
# log was replaced, says so, and goes on with the rows newer than the last
# it read: those are printed once each, none of the backup's again.
"$AGS" backup back.db >/dev/null
printf '6' | "$AGS" put users f1
printf '7' | "$AGS" put users f2
"$AGS" log --follow >follow4.out 2>follow4.err &
follower=$!
at_exit "kill $follower"
ok "the follower is at the end of the log" \
	wait_for 5 grep -q '"id": "f2"' follow4.out
lines=$(wc -l <follow4.out)
"$AGS" restore back.db >/dev/null
printf '8' | "$AGS" put users g1
printf '9' | "$AGS" put users g2
ok "rows made after a restore are printed, though their numbers were seen" \
	wait_for 5 grep -q '"id": "g2"' follow4.out
sleep 0.5
is "$(wc -l <follow4.out)" "$((lines + 2))" "each once, and nothing else"
like "$(cat follow4.err)" 'the store was restored from a backup while its log was followed' \
	"the follower says the log was replaced"
kill -TERM "$follower"
wait "$follower"

done_testing
