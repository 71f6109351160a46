#!/usr/bin/env bash
# Install every Debian package the build, the tests and the benchmarks need.
# Idempotent; run as root on Debian 12.
set -euo pipefail

packages=(
	# build
	gcc meson ninja-build pkg-config git
	libsqlite3-dev libcjson-dev libfuse3-dev
	# the mount at run time
	fuse3
	# tests: the tools people edit state with, and the checks
	sqlite3 jq vim rsync python3 tar coreutils findutils grep procps
	util-linux psmisc clang-format
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done

if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: missing packages: ${missing[*]}; run as root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup.sh: all ${#packages[@]} packages present"
