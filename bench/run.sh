#!/usr/bin/env bash
# Runs every benchmark and prints their tables (`make bench`). Benchmarks print figures;
# nothing here asserts on them. Traffic stays on 127.0.0.1.
#   bench/run.sh [BUILD_DIR]      (default: build)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
L="$B/luartc"
[ -x "$L" ] || { echo "bench: build first (make build)" >&2; exit 2; }
cmake --build "$B" --target benches >/dev/null
run() { echo; echo "=== $*"; "$@" || echo "bench: '$*' failed with status $?"; }
run "$L" bench/loop.lua
run "$L" bench/setup.lua
for b in ice srtp rtp datachannel turn media transform; do
  [ -x "$B/bench_$b" ] && run "$B/bench_$b"
done
run bash bench/datachannel.sh "$B"
run "$L" bench/signaling.lua
run env LUARTC="$L" RTC_SOURCE_DIR="$PWD" "$L" bench/browser_bwe.lua
