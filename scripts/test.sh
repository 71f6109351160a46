#!/usr/bin/env bash
# Build agentstate three times and run the test suite on each build: the
# whole suite on a normal build with warnings as errors and on an
# AddressSanitizer + UBSan build, and the unit and mount tests (the
# library's export thread, the daemon's threads) on a ThreadSanitizer
# build. Ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
# dir:meson options:the suites to run (all when empty)
configs=(
	"build:-Dwerror=true:"
	"build-asan:-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false:"
	"build-tsan:-Dwerror=true -Db_sanitize=thread -Db_lundef=false:unit mount"
)
passed=0 failed=0 skipped=0

count() { # count results of one build's testlog.json: passed failed skipped
	python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
}

for c in "${configs[@]}"; do
	dir=${c%%:*}
	rest=${c#*:}
	opts=${rest%%:*}
	suites=()
	for suite in ${rest#*:}; do
		suites+=(--suite "$suite")
	done
	echo "== $dir: $opts${suites[*]:+ (${rest#*:})}"
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$dir" $opts >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			failed=$((failed + 1))
			continue
		}
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.build.log"
		failed=$((failed + 1))
		continue
	fi
	# ASan's leak checker cannot follow fork()+exit in the daemon; UBSan
	# and TSan must stop at the first report so a test sees it.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		TSAN_OPTIONS=halt_on_error=1 \
		meson test -C "$dir" --num-processes "$jobs" --print-errorlogs \
		--no-rebuild "${suites[@]}"
	read -r p f s < <(count "$dir/meson-logs/testlog.json")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
