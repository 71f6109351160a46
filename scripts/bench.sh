#!/usr/bin/env bash
# Build a release build in build-bench/ and run the benchmarks of tests/bench,
# each printing a table of µs/op beside a baseline measured in the same run.
#
#   scripts/bench.sh [store|mount|snapshot|all] [ARGS...]
#
# store     bench-store: put, batched put, get and find through the library
#           beside raw SQLite; ARGS are its sizes and --quick (default sizes
#           10000 1000000).
# mount     bench-mount: file operations on a mount beside an in-memory FUSE
#           filesystem with the daemon's settings and tmpfs, then the daemon's
#           memory on a store of 1,000,000 objects; ARGS: --quick, --files N,
#           --rss N, --only ops,readdir,rss.
# snapshot  bench-snapshot (when tests/bench has them).
# all       (the default) every benchmark this build has.
#
# BENCH_DIR is where store files go (default build-bench/tmp: on disk, not a
# tmpfs, so commits pay for the disk); BENCH_KEEP=1 keeps them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: scripts/bench.sh [store|mount|snapshot|all] [ARGS...]" >&2
	exit 2
}

target=${1:-all}
[ $# -gt 0 ] && shift
case $target in
store | mount | snapshot | all) ;;
-h | --help)
	echo "usage: scripts/bench.sh [store|mount|snapshot|all] [ARGS...]"
	exit 0
	;;
*) usage ;;
esac

# The store benchmark needs no FUSE; the others drive a mount.
fuse=disabled
case $target in
mount | snapshot | all) fuse=auto ;;
esac

dir=build-bench
log=$(mktemp)
trap 'rm -f "$log"' EXIT
option() { # the value of a build option of $dir
	meson introspect "$dir" --buildoptions |
		python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" --buildtype=release -Dfuse="$fuse" >"$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
elif [ "$(option buildtype)" != release ] || [ "$(option fuse)" != "$fuse" ]; then
	meson configure "$dir" --buildtype=release -Dfuse="$fuse" >"$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
	# meson configure only records the options: regenerate build.ninja
	# now, or the target list below is still the old configuration's.
	ninja -C "$dir" build.ninja >"$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
fi

# Only what the chosen benchmarks need is built, so work in progress elsewhere
# in the tree does not stop them.
benches=()
case $target in
all) benches=(store mount snapshot) ;;
*) benches=("$target") ;;
esac

export BENCH_DIR=${BENCH_DIR:-$PWD/$dir/tmp}
mkdir -p "$BENCH_DIR"

echo "# $(uname -sr), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# BENCH_DIR=$BENCH_DIR ($(stat -f -c %T "$BENCH_DIR"))"
ran=0
for b in "${benches[@]}"; do
	exe=tests/bench/bench-$b
	# grep reads the whole list: with pipefail, an early exit of grep -q
	# would kill ninja with SIGPIPE and fail the test.
	if ! ninja -C "$dir" -t targets all 2>/dev/null | grep "^$exe:" >/dev/null; then
		if [ "$target" = all ]; then
			echo "# bench-$b: not in this build, skipped"
			continue
		fi
		echo "bench.sh: no bench-$b in this build (tests/bench/meson.build)" >&2
		exit 1
	fi
	ninja -C "$dir" "$exe" >"$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
	echo "# $dir/$exe $*"
	"$dir/$exe" "$@"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ]
