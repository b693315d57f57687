#!/bin/sh
# Two interop peers, each behind a NAT of its own or on the public network, paired by
# pair.js; to be run inside isolated.sh's namespace, which plays the public network:
#
#   peer A 10.0.1.2 -- 10.0.1.1 router A 203.0.113.11 --+
#                                                        br0 203.0.113.1: STUN/TURN server
#   peer B 10.0.2.2 -- 10.0.2.1 router B 203.0.113.12 --+
#
# A side's mode: `cone`: its router masquerades the LAN and keeps a LAN socket's port
# for every destination (Linux's MASQUERADE: endpoint-independent mapping, filtering
# by the destinations sent to); `symmetric`: a new port per destination (--random);
# `public`: no router, the peer itself at 203.0.113.2k on the bridge.
# Two Linux NATs facing each other do not act as cones for ICE: the first check from
# the other side creates a conntrack entry in the router (to the router itself) that
# then clashes with the mapping of our own check to that address, so MASQUERADE picks
# another port for it. The server is `luartc examples/turn_server.lua` on
# 203.0.113.1:3478 (STUN, and TURN with user u:p). The peers' LAN links are named
# eth1 (Chromium skips interfaces named veth*) and have default routes, so Chromium
# gathers on them. Every namespace made here is deleted on exit.
#   nat.sh MODE_A MODE_B TIMEOUT -- CMD_A ARGS... -- CMD_B ARGS...
set -e
mode_a=$1 mode_b=$2 timeout=$3
shift 3
[ "$1" = "--" ] || { echo "usage: nat.sh MODE_A MODE_B TIMEOUT -- A... -- B..." >&2; exit 2; }
shift
for m in "$mode_a" "$mode_b"; do
  case $m in cone|symmetric|public) ;; *) echo "nat.sh: mode $m (cone, symmetric or public)" >&2; exit 2 ;; esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${RTC_SOURCE_DIR:-$HERE/../..}
LUARTC=${LUARTC:-$SRC/build/luartc}
tag=lrtc$$
ns_list="${tag}ra ${tag}rb ${tag}a ${tag}b"
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  for n in $ns_list; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip link add br0 type bridge
ip link set br0 addrgenmode none
ip addr add 203.0.113.1/24 dev br0
ip link set br0 up
for side in a b; do
  r=${tag}r$side n=${tag}$side
  [ $side = a ] && k=1 mode=$mode_a || k=2 mode=$mode_b
  ip netns add "$n"
  ip -n "$n" link set lo up
  if [ "$mode" = public ]; then
    ip link add "wan$side" type veth peer name eth1 netns "$n"
    ip link set "wan$side" addrgenmode none
    ip link set "wan$side" master br0 up
    ip -n "$n" link set eth1 addrgenmode none
    ip -n "$n" addr add "203.0.113.2$k/24" dev eth1
    ip -n "$n" link set eth1 up
    ip -n "$n" route add default via 203.0.113.1
    continue
  fi
  ip netns add "$r"
  ip -n "$r" link set lo up
  # the router's public side, a port of the bridge
  ip link add "wan$side" type veth peer name eth0 netns "$r"
  ip link set "wan$side" addrgenmode none
  ip link set "wan$side" master br0 up
  ip -n "$r" link set eth0 addrgenmode none
  ip -n "$r" addr add "203.0.113.1$k/24" dev eth0
  ip -n "$r" link set eth0 up
  ip -n "$r" route add default via 203.0.113.1
  # the LAN between router and peer
  ip -n "$r" link add eth1 type veth peer name eth1 netns "$n"
  ip -n "$r" link set eth1 addrgenmode none
  ip -n "$n" link set eth1 addrgenmode none
  ip -n "$r" addr add "10.0.$k.1/24" dev eth1
  ip -n "$n" addr add "10.0.$k.2/24" dev eth1
  ip -n "$r" link set eth1 up
  ip -n "$n" link set eth1 up
  ip -n "$n" route add default via "10.0.$k.1"
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  random=
  [ "$mode" = symmetric ] && random=--random
  ip netns exec "$r" iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE $random
done
# The links must be up before the browsers start (a link coming up later is a network
# change to Chromium).
for n in ${tag}a ${tag}b; do
  i=0
  until ip -n "$n" -o link show eth1 | grep -q "state UP"; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.02
  done
done

slog=$(mktemp)
"$LUARTC" "$SRC/examples/turn_server.lua" --listen 203.0.113.1:3478 --realm R --user u:p \
  --relay-ip 203.0.113.1 --allow-private >"$slog" 2>&1 &
server=$!
i=0
until grep -q "^READY" "$slog"; do
  i=$((i + 1))
  if [ $i -gt 500 ] || ! kill -0 $server 2>/dev/null; then
    echo "nat.sh: the TURN server did not start:" >&2; cat "$slog" >&2; rm -f "$slog"; exit 1
  fi
  sleep 0.02
done
rm -f "$slog"

a= b= cur=a
for x in "$@"; do
  if [ "$x" = "--" ] && [ $cur = a ]; then cur=b; continue; fi
  q=$(printf "'%s'" "$(printf %s "$x" | sed "s/'/'\\\\''/g")")
  if [ $cur = a ]; then a="$a $q"; else b="$b $q"; fi
done
eval "set -- --timeout \"\$timeout\" -- ip netns exec ${tag}a $a -- ip netns exec ${tag}b $b"
env -u LD_PRELOAD node "$HERE/pair.js" "$@"
