#!/usr/bin/env bash
# git-snapshot.sh: export the store into a git work tree and commit, only
# when something changed, with a message naming the audit seq range since
# the previous snapshot. Run it from cron or after a batch of agent work;
# two runs in a row make one commit.
#
#   scripts/git-snapshot.sh [--store URI] REPO_DIR [-m MESSAGE]
#
# REPO_DIR is created and `git init`ed when needed; when it lies inside an
# existing work tree, that repository is used and only REPO_DIR is staged.
# The agentstate binary is $AGENTSTATE_BIN, else `agentstate` on PATH, else
# build/fs/agentstate of this checkout.
set -euo pipefail

usage() {
	cat <<'TXT'
Usage: scripts/git-snapshot.sh [--store URI] REPO_DIR [-m MESSAGE]

Export the store (agentstate export) into REPO_DIR, a git work tree, and
commit if anything changed. The commit message names the audit seq range
since the previous snapshot ("agentstate snapshot: audit seq 41..57"); with
-m MESSAGE that is the subject and the range follows in the body. Prints
the commit, or that nothing changed.

Options:
  --store URI    the store (default $AGENTSTATE_STORE, else ./agentstate.db)
  -m MESSAGE     the commit's subject
  -h, --help     show this help
TXT
}

die() { # MESSAGE [EXIT]
	echo "git-snapshot: $1" >&2
	exit "${2:-1}"
}

store=() repo='' message=''
while [ $# -gt 0 ]; do
	case $1 in
	--store) [ $# -ge 2 ] || die "--store needs a URI; see --help" 2
		store=(--store "$2")
		shift 2 ;;
	--store=*) store=(--store "${1#--store=}")
		shift ;;
	-m) [ $# -ge 2 ] || die "-m needs a message; see --help" 2
		message=$2
		shift 2 ;;
	-h | --help) usage
		exit 0 ;;
	-*) die "unknown option '$1'; see --help" 2 ;;
	*) [ -z "$repo" ] || die "unexpected argument '$1'; see --help" 2
		repo=$1
		shift ;;
	esac
done
[ -n "$repo" ] || die "missing REPO_DIR; see --help" 2

ags=${AGENTSTATE_BIN:-}
if [ -z "$ags" ]; then
	if command -v agentstate >/dev/null 2>&1; then
		ags=agentstate
	else
		ags=$(cd "$(dirname "$0")/.." && pwd)/build/fs/agentstate
		[ -x "$ags" ] || die "no agentstate binary: build it, put it on PATH or set AGENTSTATE_BIN"
	fi
fi
command -v git >/dev/null 2>&1 || die "git is not installed"

mkdir -p "$repo"
if ! git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$repo" init -q || die "cannot git init $repo"
fi

manifest=$repo/.agentstate-export.json
seq_of() { # the "seq" of the export manifest, or nothing
	[ -f "$manifest" ] && sed -n 's/^  "seq": \([0-9]*\),$/\1/p' "$manifest"
}
prev=$(seq_of || true)

"$ags" "${store[@]}" export "$repo" >/dev/null
now=$(seq_of) || die "the export wrote no $manifest"

git -C "$repo" add -A -- . || die "cannot stage the export in $repo"
if git -C "$repo" diff --cached --quiet -- .; then
	echo "git-snapshot: nothing changed since seq ${prev:-$now}"
	exit 0
fi

if [ -n "$prev" ] && [ "$now" = $((prev + 1)) ]; then
	range="audit seq $now"
elif [ -n "$prev" ] && [ "$now" -lt "$prev" ]; then
	range="audit seq $now (back from $prev: another store, or a restore)"
elif [ -n "$prev" ] && [ "$prev" != "$now" ]; then
	range="audit seq $((prev + 1))..$now"
elif [ -n "$prev" ]; then
	range="audit seq $now (files changed outside the store)"
else
	range="audit seq 1..$now (first snapshot)"
fi
subject=${message:-agentstate snapshot: $range}
body=
[ -n "$message" ] && body=$range

# A commit needs an identity; a machine without one still gets snapshots.
ident=()
git -C "$repo" config user.name >/dev/null 2>&1 ||
	ident+=(-c user.name=agentstate)
git -C "$repo" config user.email >/dev/null 2>&1 ||
	ident+=(-c user.email=agentstate@localhost)

if [ -n "$body" ]; then
	git -C "$repo" "${ident[@]}" commit -q -m "$subject" -m "$body" -- . ||
		die "git commit failed in $repo"
else
	git -C "$repo" "${ident[@]}" commit -q -m "$subject" -- . ||
		die "git commit failed in $repo"
fi
echo "git-snapshot: committed $(git -C "$repo" rev-parse --short HEAD): $subject"
