#!/bin/sh
# Runs a command in a fresh network namespace of its own: loopback plus one link
# `eth1` (10.77.0.1/24, default route through its veth peer), so browsers gather a
# host candidate there and no test traffic can leave the namespace. The link gets no
# IPv6 link-local address (addrgenmode none) and the command starts once the link is
# up: an address finishing duplicate detection a second later is a network change to
# Chromium, which aborts a navigation in flight with ERR_NETWORK_CHANGED.
#   isolated.sh CMD ARGS...
set -e
if [ "$LUARTC_ISOLATED" = 1 ]; then exec "$@"; fi
exec unshare -n sh -c '
  set -e
  ip link set lo up
  ip link add eth1 type veth peer name eth2
  ip link set eth1 addrgenmode none
  ip link set eth2 addrgenmode none
  ip addr add 10.77.0.1/24 dev eth1
  ip link set eth1 up
  ip link set eth2 up
  ip route add default via 10.77.0.2 dev eth1
  i=0
  until ip -o link show eth1 | grep -q "state UP"; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.02
  done
  LUARTC_ISOLATED=1 exec "$@"' isolated "$@"
