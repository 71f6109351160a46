# lib.sh: sourced by every end-to-end scenario. TAP output (ok, is, like,
# done_testing), a fresh temporary directory per script that is removed on
# exit, $AGS (the binary under test) and helpers to run it and to dump a
# store's whole state for "nothing changed" proofs.
#
# Usage in a scenario:
#   . "$(dirname "$0")/lib.sh"
#   run "$AGS" init
#   is "$rc" 0 "init succeeds"
#   done_testing

set -u

AGS=${AGENTSTATE_BIN:?set AGENTSTATE_BIN to the agentstate binary}
case $AGS in
/*) ;;
*) AGS=$PWD/$AGS ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentstate-e2e.XXXXXX")
cd "$TMP" || exit 1
export AGENTSTATE_STORE="$TMP/store.db"
export LC_ALL=C

_tap_count=0
_tap_failed=0
_cleanups=()

# Run a command at exit, before the temporary directory goes (last added,
# first run): scenarios register unmounts and background jobs here.
at_exit() {
	_cleanups=("$*" "${_cleanups[@]}")
}

_on_exit() {
	local c
	for c in "${_cleanups[@]}"; do
		eval "$c" >/dev/null 2>&1 || :
	done
	cd / && rm -rf "$TMP"
}
trap _on_exit EXIT
trap 'exit 130' INT TERM

_tap_result() { # PASSED DESCRIPTION
	_tap_count=$((_tap_count + 1))
	if [ "$1" = 1 ]; then
		echo "ok $_tap_count - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_count - $2"
	fi
}

# Print lines as TAP diagnostics.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# ok DESCRIPTION COMMAND...: passes when COMMAND exits 0.
ok() {
	local desc=$1
	shift
	if "$@"; then
		_tap_result 1 "$desc"
	else
		_tap_result 0 "$desc"
		diag "command failed: $*"
	fi
}

# is GOT EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3"
		diag "got:      '$1'" "expected: '$2'"
	fi
}

# isnt GOT UNEXPECTED DESCRIPTION
isnt() {
	if [ "$1" != "$2" ]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3"
		diag "got '$1', which it must not be"
	fi
}

# like GOT REGEX DESCRIPTION (bash extended regular expression)
like() {
	if [[ $1 =~ $2 ]]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3"
		diag "got:        '$1'" "should match: '$2'"
	fi
}

# unlike GOT REGEX DESCRIPTION
unlike() {
	if [[ $1 =~ $2 ]]; then
		_tap_result 0 "$3"
		diag "got:            '$1'" "should not match: '$2'"
	else
		_tap_result 1 "$3"
	fi
}

# pass DESCRIPTION / fail DESCRIPTION
pass() { _tap_result 1 "$1"; }
fail() { _tap_result 0 "$1"; }

# End the script: print the plan and exit non-zero if anything failed.
done_testing() {
	echo "1..$_tap_count"
	[ "$_tap_failed" = 0 ] || diag "$_tap_failed of $_tap_count checks failed"
	[ "$_tap_failed" = 0 ]
	exit
}

# run COMMAND...: run it with stdin from /dev/null unless redirected by the
# caller; its stdout lands in $TMP/out (and $out, trailing newlines cut),
# its stderr in $TMP/err (and $err), its exit code in $rc.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# The number of lines of a string (0 for the empty string).
count_lines() {
	if [ -z "$1" ]; then
		echo 0
	else
		printf '%s\n' "$1" | wc -l | tr -d ' '
	fi
}

# fails RC REGEX DESCRIPTION COMMAND...: COMMAND exits with RC, prints
# nothing on stdout and exactly one line on stderr matching REGEX.
# Four checks.
fails() {
	local want=$1 regex=$2 desc=$3
	shift 3
	run "$@"
	is "$rc" "$want" "$desc: exit code $want"
	like "$err" "$regex" "$desc: message says why"
	is "$(count_lines "$err")" 1 "$desc: one line on stderr"
	is "$(stat -c %s "$TMP/out")" 0 "$desc: nothing on stdout"
}

# succeeds DESCRIPTION COMMAND...: COMMAND exits 0 with nothing on stderr.
# One check.
succeeds() {
	local desc=$1
	shift
	run "$@"
	if [ "$rc" = 0 ] && [ -z "$err" ]; then
		_tap_result 1 "$desc"
	else
		_tap_result 0 "$desc"
		diag "exit code $rc, stderr: $err"
	fi
}

# Print everything a store holds, through the command itself: the
# collections with counts, every object's id, version history and exact
# bytes (for ids without a newline), and the whole audit log.
state() {
	local col id
	echo "== collections"
	"$AGS" ls --json
	"$AGS" ls | while IFS=$'\t' read -r col _; do
		echo "== collection $col"
		"$AGS" ls --json "$col"
		"$AGS" ls "$col" | while IFS= read -r id; do
			echo "== object $col/$id"
			"$AGS" get "$col" "$id" | od -An -c
			"$AGS" history "$col" "$id"
		done
	done
	echo "== audit"
	"$AGS" log
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds
# or SECONDS pass. Exit code 0 when it succeeded.
wait_for() {
	local tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
