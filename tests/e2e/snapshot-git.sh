#!/bin/bash
# snapshot-git.sh: scripts/git-snapshot.sh on a real git repository: a
# first commit, no commit when nothing changed, a one-field change as a
# one-line diff, and messages naming the audit seq range.
. "$(dirname "$0")/lib.sh"

snap=$(cd "$(dirname "$0")/../../scripts" && pwd)/git-snapshot.sh
command -v git >/dev/null || {
	echo "1..0 # SKIP git is not installed"
	exit 0
}
export AGENTSTATE_BIN=$AGS GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

"$AGS" init >/dev/null
"$AGS" mkcol users
printf '{"name":"alice","age":30,"city":"Paris"}' | "$AGS" put users alice
printf '{"name":"bob"}' | "$AGS" put users bob

run "$snap" repo
is "$rc" 0 "the first snapshot"
like "$out" "committed [0-9a-f]+: agentstate snapshot: audit seq 1..3 \(first snapshot\)" \
	"names the seq range"
ok "repo is a git repository" test -d repo/.git
run "$snap" repo
is "$rc" 0 "a second run"
is "$out" "git-snapshot: nothing changed since seq 3" "makes no commit"
is "$(git -C repo rev-list --count HEAD)" 1 "two runs in a row, one commit"

printf '{"name":"alice","age":31,"city":"Paris"}' | "$AGS" put users alice
"$AGS" rm users bob
run "$snap" --store "$AGENTSTATE_STORE" repo -m "alice had a birthday"
is "$rc" 0 "a snapshot after changes"
is "$(git -C repo log -1 --format=%s%n%b | sed '/^$/d')" "alice had a birthday
audit seq 4..5" "-m is the subject, the range follows"
is "$(git -C repo diff --numstat HEAD~1 HEAD -- users/alice.json)" \
	"1	1	users/alice.json" "a one-field change is a one-line diff"
is "$(git -C repo diff HEAD~1 HEAD -- users/alice.json | grep '^[-+] ')" \
	'-  "age": 30,
+  "age": 31,' "showing just that field"
ok "the removed object's file left the repository" \
	sh -c '! git -C repo ls-files --error-unmatch users/bob.json 2>/dev/null'

# files of its own in the repository are kept and not committed by us
echo "notes" >repo/README
git -C repo add README
git -C repo -c user.name=t -c user.email=t@t commit -qm readme
printf '{"name":"carol"}' | "$AGS" put users carol
run "$snap" repo
like "$out" "audit seq 6$" "a single seq"
ok "README stays" test -f repo/README

fails 2 "missing REPO_DIR" "no repository" "$snap"
run "$snap" --help
like "$out" "^Usage: scripts/git-snapshot.sh" "--help"

done_testing
