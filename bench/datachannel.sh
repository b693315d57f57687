#!/usr/bin/env bash
# Data channel throughput between two processes on 127.0.0.1: two luartc peers
# (bench/datachannel.lua), then two node-datachannel (libdatachannel) peers
# (bench/node/dc_peer.js) running the same tests, paired by spec/browser/pair.js.
#   bash bench/datachannel.sh [BUILD_DIR]      (or LUARTC=/path/to/luartc)
# Env: MB (megabytes per bulk run, default 200), COUNT (100-byte messages, default
# 300000), REPS (runs per cell, the median is shown, default 3), STACKS ("luartc node";
# add "mixed" for a luartc sender paired with a node-datachannel receiver).
# CPU is user + system time of both peer processes during the test phase, as each
# reports it (getrusage-based os.clock() / process.cpuUsage()).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-$ROOT/build}}
LUARTC=${LUARTC:-$BUILD/luartc}
MB=${MB:-200}
COUNT=${COUNT:-300000}
REPS=${REPS:-3}
STACKS=${STACKS:-"luartc node"}
PAIR="$ROOT/spec/browser/pair.js"
LOG=${LOG:-/tmp/bench-datachannel.log}
: > "$LOG"

[ -x "$LUARTC" ] || { echo "no luartc at $LUARTC (pass the build directory)" >&2; exit 2; }
if [[ " $STACKS " == *" node "* || " $STACKS " == *" mixed "* ]] && [ ! -d "$ROOT/bench/node/node_modules/node-datachannel" ]; then
  (cd "$ROOT/bench/node" && npm install --no-audit --no-fund >>"$LOG" 2>&1) ||
    { echo "npm install in bench/node failed; running luartc only" >&2; STACKS=luartc; }
fi

peer_cmd() {  # stack role args...
  local stack=$1 role=$2; shift 2
  if [ "$stack" = mixed ]; then [ "$role" = offer ] && stack=luartc || stack=node; fi
  if [ "$stack" = luartc ]; then echo "$LUARTC $ROOT/bench/datachannel.lua --role $role $*"
  else echo "node $ROOT/bench/node/dc_peer.js --role $role $*"; fi
}

# One paired run; prints "MB/s msgs/s cpu_s_total bytes messages" or "fail".
run_once() {
  local stack=$1; shift
  local out
  out=$(node "$PAIR" --timeout 180 -- $(peer_cmd "$stack" offer "$@") -- $(peer_cmd "$stack" answer "$@") 2>>"$LOG")
  node -e '
    const r = JSON.parse(process.argv[1]);
    if (!r.a || !r.b || !r.a.ok || !r.b.ok) { console.log("fail"); process.exit(0); }
    const s = r.a.seconds;
    console.log((r.a.bytes / 1e6 / s).toFixed(3), (r.a.messages / s).toFixed(0),
                (r.a.cpu_s + r.b.cpu_s).toFixed(4), r.a.bytes, r.a.messages);
  ' "${out:-{\}}"
}

# Median over REPS runs (by MB/s); a failed run is retried once.
run_cell() {
  local stack=$1; shift
  local lines=() i line
  for ((i = 0; i < REPS; i++)); do
    line=$(run_once "$stack" "$@")
    [ "$line" = fail ] && line=$(run_once "$stack" "$@")
    [ "$line" = fail ] && { echo fail; return; }
    lines+=("$line")
  done
  printf '%s\n' "${lines[@]}" | sort -n -k1 | sed -n "$(((REPS + 1) / 2))p"
}

declare -A RES
TESTS=("bulk16:--test bulk --size 16384 --bytes $((MB * 1000000))"
       "bulk64:--test bulk --size 65536 --bytes $((MB * 1000000))"
       "small:--test small --size 100 --count $COUNT")
for stack in $STACKS; do
  for t in "${TESTS[@]}"; do
    name=${t%%:*}
    echo "running $stack $name ..." >&2
    RES[$stack.$name]=$(run_cell "$stack" ${t#*:})
  done
done

fmt() {  # result -> "MB/s | CPU-s/100MB" or "msg/s | CPU-us/msg"
  local kind=$1 r=$2
  [ -z "$r" ] && { printf '%s' "not run"; return; }
  [ "$r" = fail ] && { printf '%s' "failed (see the log)"; return; }
  set -- $r
  if [ "$kind" = small ]; then
    awk -v m="$2" -v c="$3" -v n="$5" 'BEGIN { printf "%8.0f msg/s, %6.2f CPU-us/msg", m, c * 1e6 / n }'
  else
    awk -v mb="$1" -v c="$3" -v b="$4" 'BEGIN { printf "%7.1f MB/s, %5.2f CPU-s/100 MB", mb, c * 100e6 / b }'
  fi
}
ratio() {  # luartc vs node: throughput ratio, CPU ratio
  local a=${RES[luartc.$1]:-fail} b=${RES[node.$1]:-fail}
  [ "$a" = fail ] || [ "$b" = fail ] && { printf 'n/a'; return; }
  set -- $a $b
  awk -v r1="$2" -v c1="$3" -v n1="$5" -v r2="$7" -v c2="$8" -v n2="${10}" \
    'BEGIN { printf "%.2fx rate, %.2fx CPU", r1 / r2, (c1 / n1) / (c2 / n2) }'
}

echo
echo "Data channel, two processes on 127.0.0.1, reliable ordered, median of $REPS"
echo "(bulk: $MB MB per run; small: $COUNT messages of 100 bytes; CPU = both peers)"
echo
printf '| %-8s | %-40s | %-40s | %-26s |\n' test luartc node-datachannel "luartc / node"
printf '| %-8s | %-40s | %-40s | %-26s |\n' --- --- --- ---
for t in "${TESTS[@]}"; do
  name=${t%%:*}
  kind=bulk; [ "$name" = small ] && kind=small
  printf '| %-8s | %-40s | %-40s | %-26s |\n' "$name" "$(fmt $kind "${RES[luartc.$name]:-}")" \
    "$(fmt $kind "${RES[node.$name]:-}")" "$(ratio $name)"
done
if [[ " $STACKS " == *" mixed "* ]]; then
  echo
  printf 'luartc sending to node-datachannel:'
  for t in "${TESTS[@]}"; do
    name=${t%%:*}; kind=bulk; [ "$name" = small ] && kind=small
    printf ' %s %s;' "$name" "$(fmt $kind "${RES[mixed.$name]:-}")"
  done
  echo
fi
echo
echo "luartc settings:"
if [ -x "$BUILD/bench_datachannel" ] || make -C "$BUILD" bench_datachannel >>"$LOG" 2>&1; then
  "$BUILD/bench_datachannel" --settings | sed 's/^/  /'
fi
echo "  dtls: one SCTP packet per DTLS 1.2 record, AES-128-GCM preferred (ECDHE-ECDSA-AES128-GCM-SHA256)"
echo "  peer connection: SCTP packets of 4000 bytes on a loopback pair (1200 otherwise); UDP socket buffers 4 MiB"
[[ " $STACKS " == *" node "* ]] &&
  echo "node-datachannel $(node -e 'console.log(require(process.argv[1]).version)' "$ROOT/bench/node/node_modules/node-datachannel/package.json") (libdatachannel defaults)"
echo "logs: $LOG"
