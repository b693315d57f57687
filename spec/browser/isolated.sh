#!/bin/sh
# Runs a command in a fresh network namespace of its own: loopback plus one link
# `eth1` (10.77.0.1/24, default route through its veth peer), so browsers gather a
# host candidate there and no test traffic can leave the namespace.
#   isolated.sh CMD ARGS...
set -e
if [ "$LUARTC_ISOLATED" = 1 ]; then exec "$@"; fi
exec unshare -n sh -c '
  set -e
  ip link set lo up
  ip link add eth1 type veth peer name eth2
  ip addr add 10.77.0.1/24 dev eth1
  ip link set eth1 up
  ip link set eth2 up
  ip route add default via 10.77.0.2 dev eth1
  LUARTC_ISOLATED=1 exec "$@"' isolated "$@"
