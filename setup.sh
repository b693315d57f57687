#!/usr/bin/env bash
# luartc set-up: installs what is missing (Debian 12 packages and the npm test driver),
# builds with CMake, and runs the demo or the tests.
#   ./setup.sh demo       install, build, run the main demo
#   ./setup.sh test       install, build, run every test (ctest); with CI=true also a
#                         Release build, the sanitizer build and a short fuzz run
#   ./setup.sh deps|build|release|sanitize|fuzz   the single steps (release: a Release
#                         build, as users and packagers make it, build only)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

PKGS=(build-essential cmake pkg-config git liblua5.4-dev lua5.4 libuv1-dev libssl-dev openssl
      libsrtp2-dev libusrsctp-dev libopus-dev lua-busted lua-luv coturn ffmpeg chromium
      iproute2 iptables util-linux clang libclang-rt-14-dev python3 python3-websockets redis-server
      tshark)   # tshark: its debconf question (setuid dumpcap) takes its default answer, no

deps() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node may come from elsewhere than Debian; only install it when absent.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ ! -d spec/browser/node_modules/playwright-core ]; then
    (cd spec/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTC_WERROR=ON "$@" >/dev/null
  cmake --build "$BUILD" -j"$JOBS"
}

run_tests() {
  ctest --test-dir "$BUILD" --output-on-failure -j"${CTEST_JOBS:-2}" --timeout 900
}

sanitize() {
  BUILD=$ROOT/build-asan build -DRTC_SANITIZE=ON
  BUILD=$ROOT/build-asan run_tests
}

# What users and packagers type (Release, -O3), warnings as errors: build only.
release() {
  local rb=$ROOT/build-release
  cmake -S "$ROOT" -B "$rb" -DCMAKE_BUILD_TYPE=Release -DRTC_TESTS=OFF -DRTC_WERROR=ON >/dev/null
  cmake --build "$rb" -j"$JOBS"
  echo "release: Release build clean"
}

fuzz() {
  local fb=$ROOT/build-fuzz secs=${FUZZ_SECONDS:-20}
  CC=clang cmake -S "$ROOT" -B "$fb" -DRTC_FUZZ=ON -DRTC_TESTS=OFF -DRTC_WITH_RUNTIME=OFF -DRTC_WERROR=ON >/dev/null
  cmake --build "$fb" -j"$JOBS"
  local f n=0
  for f in "$fb"/fuzz_*; do
    [ -x "$f" ] || continue
    local name; name=$(basename "$f")
    local corpus=$ROOT/build-fuzz/corpus-$name; mkdir -p "$corpus"
    local seeds=$ROOT/fuzz/seeds/${name#fuzz_}; [ -d "$seeds" ] || seeds=
    echo "fuzz: $name for ${secs}s"
    "$f" -max_total_time="$secs" -print_final_stats=0 "$corpus" $seeds >"$fb/$name.log" 2>&1 ||
      { tail -40 "$fb/$name.log"; echo "fuzz: $name FAILED"; return 1; }
    n=$((n + 1))
  done
  echo "fuzz: $n targets ran clean"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  test)
    deps; build; run_tests
    if [ "${CI:-}" = true ] || [ "${RTC_FULL:-}" = 1 ]; then release; fuzz; sanitize; fi ;;
  sanitize) deps; sanitize ;;
  release) deps; release ;;
  fuzz) deps; fuzz ;;
  demo)
    deps; build
    exec "$BUILD/luartc" "$ROOT/examples/demo.lua" ;;
  *) echo "usage: $0 demo|test|deps|build|release|sanitize|fuzz" >&2; exit 2 ;;
esac
