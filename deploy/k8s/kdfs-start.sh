#!/bin/sh
# Starts kdfs-node inside a pod of the `kdfs` StatefulSet.
#
# The node id (the pod name, KDFS_NODE_ID) and the advertised URL come from the
# pod spec through the downward API; this script adds the peer list: every other
# pod of the set, addressed through the headless Service. Pods 0..N-1 exist by
# construction (N = the larger of PEERS_REPLICAS and this pod's ordinal + 1);
# higher ordinals are found by asking DNS, where the headless Service publishes
# every pod, ready or not. So a pod added by scaling up lists all its elders and
# bootstraps from them, and any pod (re)started later also finds the newcomers.
#
# Env: KDFS_NODE_ID (required; "<set>-<ordinal>"), PEERS_DOMAIN (required; the
# headless Service's DNS name), PEERS_PORT (8081), PEERS_REPLICAS (3),
# PEERS_MAX (64, upper bound of the DNS probe), KDFS_DATA_DIR (created if missing),
# NODE_BIN (the program to exec, /usr/local/bin/kdfs-node; tests replace it).
set -eu

log() { echo "kdfs-start: $*" >&2; }

: "${KDFS_NODE_ID:?must be set to the pod name (downward API metadata.name)}"
: "${PEERS_DOMAIN:?must be set to the headless Service domain, e.g. kdfs-peers.NS.svc}"
port="${PEERS_PORT:-8081}"
replicas="${PEERS_REPLICAS:-3}"
max="${PEERS_MAX:-64}"

set_name="${KDFS_NODE_ID%-*}"
ordinal="${KDFS_NODE_ID##*-}"
case "$ordinal" in
  '' | *[!0-9]*)
    log "pod name '$KDFS_NODE_ID' does not end in a StatefulSet ordinal"
    exit 1
    ;;
esac

known="$replicas"
if [ $((ordinal + 1)) -gt "$known" ]; then known=$((ordinal + 1)); fi

peers=""
i=0
while [ "$i" -lt "$max" ]; do
  host="$set_name-$i.$PEERS_DOMAIN"
  if [ "$i" -ge "$known" ] && ! getent hosts "$host" > /dev/null 2>&1; then
    break
  fi
  if [ "$i" -ne "$ordinal" ]; then
    peers="${peers:+$peers,}$set_name-$i=http://$host:$port"
  fi
  i=$((i + 1))
done

if [ -z "${KDFS_PEERS:-}" ]; then
  KDFS_PEERS="$peers"
  export KDFS_PEERS
fi
if [ -n "${KDFS_DATA_DIR:-}" ]; then mkdir -p "$KDFS_DATA_DIR"; fi

log "node $KDFS_NODE_ID, peers: ${KDFS_PEERS:-none}"
exec "${NODE_BIN:-/usr/local/bin/kdfs-node}" "$@"
