#!/usr/bin/env bash
# The main job: build agentstate, make ./agentstate.db with a few example
# objects when it is new, and mount it at ./mnt so it can be explored with
# ordinary tools. `agentstate umount ./mnt` (or fusermount3 -u) ends it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
ags=build/fs/agentstate
store=./agentstate.db
export AGENTSTATE_STORE=$store

if [ ! -f "$store" ]; then
	"$ags" init
	"$ags" mkcol preferences
	"$ags" mkcol conversations
	"$ags" mkcol tasks
	echo '{"theme": "dark", "language": "en", "notifications": true}' |
		"$ags" put preferences alice
	echo '{"theme": "light", "language": "fr", "notifications": false}' |
		"$ags" put preferences bob
	echo '{"user": "alice", "turns": [{"role": "user", "text": "hi"}, {"role": "agent", "text": "hello"}]}' |
		"$ags" put conversations c-0001
	echo '{"title": "book flights", "status": "in_progress", "steps_done": 2, "steps_total": 5}' |
		"$ags" put tasks t-42
fi

echo "== collections in $store"
"$ags" ls
echo "== preferences/alice"
"$ags" get preferences alice
echo "== tasks whose status is in_progress"
"$ags" find tasks status in_progress

mkdir -p mnt
if mountpoint -q mnt; then
	echo "== ./mnt is already mounted"
else
	"$ags" mount mnt
	echo "== mounted $store at ./mnt"
fi
cat <<'TXT'
Try:
  ls -l mnt mnt/preferences
  cat mnt/preferences/alice.json
  jq '.theme = "solarized"' mnt/preferences/alice.json > /tmp/a.json && cp /tmp/a.json mnt/preferences/alice.json
  sed -i 's/"in_progress"/"done"/' mnt/tasks/t-42.json
  /bin/echo '{"broken": }' > mnt/tasks/t-43.json   # refused: EINVAL at close
  tail -n 3 mnt/.agentstate/audit.jsonl
  build/fs/agentstate history preferences alice
Unmount with:
  build/fs/agentstate umount mnt
TXT
