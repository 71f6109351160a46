#!/usr/bin/env bash
# Stress a mount, then check that it shows exactly what the store holds.
#
#   scripts/stress-mount.sh [SECONDS] [AGENTSTATE_BINARY]
#
# For SECONDS (default 20), on one collection of 40 objects of about 3 KiB,
# with a body cache of 1 MiB so kept bodies come and go:
# - two writers through the mount: overwrites, renames to a temporary name
#   and back (an editor's save), temporary files renamed over an object,
#   truncate(path);
# - three readers through the mount;
# - CLI puts;
# - a second mount of the same store renaming objects away and back;
# - a backup and a forced restore every second.
# Writers race each other on purpose, so refusals (half-written JSON) and
# closes that fail because another process replaced the object are logged;
# they are not errors, nor is an object left hidden because the rename back
# of a save was refused (its `~` file holds it: the editor rule). What
# must hold afterwards: every other file of both mounts reads as the
# store's body (or both say it does not exist), both daemons exit 0, and a
# ThreadSanitizer build reports nothing. The binary defaults
# to build/fs/agentstate; give build-tsan/fs/agentstate to look for races.
set -uo pipefail

secs=${1:-20}
# A binary given is taken from where the script was started.
ags=$(realpath "${2:-$(dirname "$0")/../build/fs/agentstate}")
[ -x "$ags" ] || {
	echo "stress-mount: no binary at $ags; build first (meson setup build && ninja -C build)" >&2
	exit 2
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentstate-stress.XXXXXX") || exit 1
mnt=$dir/mnt mnt2=$dir/mnt2
mkdir -p "$mnt" "$mnt2"
export AGENTSTATE_STORE=$dir/store.db
# Both daemons are unmounted whatever happens; a daemon still running at
# exit is waited for before its files go.
trap 'mountpoint -q "$mnt" && fusermount3 -u "$mnt"
mountpoint -q "$mnt2" && fusermount3 -u "$mnt2"
wait 2>/dev/null; rm -rf "$dir"' EXIT

"$ags" init >/dev/null && "$ags" mkcol c >/dev/null || exit 1
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0}
"$ags" mount "$mnt" -f -o body_cache=1 2>"$dir/mount1.log" &
pid1=$!
"$ags" mount "$mnt2" -f 2>"$dir/mount2.log" &
pid2=$!
for _ in $(seq 100); do
	mountpoint -q "$mnt" && mountpoint -q "$mnt2" && break
	sleep 0.1
done

python3 - "$ags" "$dir" "$secs" <<'PY'
import os, random, subprocess, sys, threading, time

ags, top, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
here, there = f"{top}/mnt/c", f"{top}/mnt2/c"
OBJECTS = 40
pad = "x" * 3000
stop = False
# What succeeded, by kind: a run where one kind never did proves nothing.
done = {"write": 0, "save": 0, "read": 0, "put": 0, "rename": 0, "restore": 0}


def body(tag):
    return '{"t": "%s", "pad": "%s"}\n' % (tag, pad)


def writer(k):
    i = 0
    while not stop:
        n = random.randrange(OBJECTS)
        path = f"{here}/o{n}.json"
        try:
            with open(path, "w") as f:
                f.write(body(f"w{k}-{i}"))
            if i % 7 == 0:
                os.rename(path, path + "~")
                os.rename(path + "~", path)
            if i % 11 == 0:
                with open(f"{here}/tmp{k}", "w") as f:
                    f.write(body(f"tmp{k}-{i}"))
                os.rename(f"{here}/tmp{k}", path)
            if i % 13 == 0:
                os.truncate(path, len(body(f"w{k}-{i}")))
            done["save" if i % 7 == 0 else "write"] += 1
        except OSError:
            pass
        i += 1


def reader():
    while not stop:
        try:
            with open(f"{here}/o{random.randrange(OBJECTS)}.json") as f:
                f.read()
            done["read"] += 1
        except OSError:
            pass


def cli():
    i = 0
    while not stop:
        n = random.randrange(OBJECTS)
        r = subprocess.run([ags, "put", "c", f"o{n}"],
                           input=body(f"cli{i}").encode(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done["put"] += r.returncode == 0
        i += 1
        time.sleep(0.01)


def renamer():
    while not stop:
        n = random.randrange(OBJECTS)
        try:
            os.rename(f"{there}/o{n}.json", f"{there}/p{n}.json")
            time.sleep(0.005)
            os.rename(f"{there}/p{n}.json", f"{there}/o{n}.json")
            done["rename"] += 1
        except OSError:
            pass


def restorer():
    j = 0
    while not stop:
        time.sleep(0.7)
        copy = f"{top}/backup{j % 2}.db"
        subprocess.run([ags, "backup", copy], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        r = subprocess.run([ags, "restore", "--force", copy],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done["restore"] += r.returncode == 0
        j += 1


for n in range(OBJECTS):
    with open(f"{here}/o{n}.json", "w") as f:
        f.write(body(f"init{n}"))
threads = ([threading.Thread(target=writer, args=(k,)) for k in range(2)]
           + [threading.Thread(target=reader) for _ in range(3)]
           + [threading.Thread(target=f) for f in (cli, renamer, restorer)])
for t in threads:
    t.start()
try:
    time.sleep(secs)
finally:  # a Ctrl-C too: the threads end and the mounts come down
    stop = True
    for t in threads:
        t.join()
time.sleep(1.5)  # past the watcher's poll: the last changes have shown

def show(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def cut(text):
    return text[:40] if text is not None else None


bad = hidden = 0
for n in range(OBJECTS):
    for name in (f"o{n}", f"p{n}"):
        r = subprocess.run([ags, "get", "c", name], capture_output=True, text=True)
        stored = r.stdout if r.returncode == 0 else None
        for side, d in (("mount", here), ("second mount", there)):
            shown = show(f"{d}/{name}.json")
            if (d == here and shown is None and stored is not None
                    and os.path.exists(f"{d}/{name}.json~")):
                # An editor's save refused: another writer's half-written
                # bytes were in the file when it was renamed away, so the
                # rename back was EINVAL and the object stays hidden.
                hidden += 1
                continue
            if shown != stored:
                bad += 1
                print(f"MISMATCH {name}: {side} {cut(shown)!r}, "
                      f"store {cut(stored)!r}")
print(f"mismatches: {bad}; hidden by a refused save: {hidden}")
print("succeeded: " + ", ".join(f"{v} {k}" for k, v in done.items()))
never = [k for k, v in done.items() if not v]
if never:
    print("never succeeded: " + ", ".join(never))
sys.exit(1 if bad or never else 0)
PY
rc=$?

status=0
[ "$rc" = 0 ] || status=1
# unmount DIR PID: unmount and give the daemon's exit code; one that has
# not exited 30 s after its unmount hangs: killed, and 124.
unmount() {
	fusermount3 -u "$1"
	for _ in $(seq 300); do
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$2" 2>/dev/null; then
		echo "stress-mount: the daemon of $1 hangs 30 s after its unmount" >&2
		kill -9 "$2"
		wait "$2"
		return 124
	fi
	wait "$2"
}
unmount "$mnt" "$pid1"
rc1=$?
unmount "$mnt2" "$pid2"
rc2=$?
echo "daemons exited $rc1 and $rc2"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || status=1
races=$(cat "$dir"/mount*.log | grep -c 'WARNING: ThreadSanitizer')
echo "ThreadSanitizer reports: $races"
[ "$races" = 0 ] || {
	grep -h -A 30 'WARNING: ThreadSanitizer' "$dir"/mount*.log | head -60
	status=1
}
if grep -h 'Sanitizer\|runtime error:' "$dir"/mount*.log | grep -qv ThreadSanitizer; then
	grep -h -A 30 'Sanitizer\|runtime error:' "$dir"/mount*.log | head -60
	status=1
fi
echo "stress-mount: $([ "$status" = 0 ] && echo passed || echo FAILED)"
exit "$status"
