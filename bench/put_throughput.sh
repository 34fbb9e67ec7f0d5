#!/usr/bin/env bash
# Large-file PUT and GET throughput through the gateway of a fresh local
# 3-node cluster. A PUT is acknowledged only once the file is in Kafka and
# applied on the node that took it; the GET is read back from another node.
#
#   bench/put_throughput.sh            # 200 MiB, 3 runs
#   SIZE_MIB=1024 RUNS=1 bench/put_throughput.sh
#
# Environment: KDFS_BUILD (build dir, default build), SIZE_MIB, RUNS, PORT.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${KDFS_BUILD:-build}
size_mib=${SIZE_MIB:-200}
runs=${RUNS:-3}
port=${PORT:-18700}
work=$(mktemp -d)
cleanup() {
  scripts/cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/cluster up --dir "$work/cluster" --port "$port" \
  --node-bin "$build/src/node/kdfs-node" >/dev/null
gateway="http://127.0.0.1:$port"
node2="http://127.0.0.1:$((port + 2))"

head -c "$((size_mib << 20))" /dev/urandom >"$work/file"
want=$(sha256sum "$work/file" | cut -d' ' -f1)

echo "file of $size_mib MiB, $runs runs, gateway $gateway"
for i in $(seq 1 "$runs"); do
  put=$(curl -sS -f -o "$work/put.json" -w '%{time_total}' -H 'Expect:' \
    -X PUT --data-binary @"$work/file" "$gateway/v1/files/bench/big-$i")
  version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$work/put.json")
  get=$(curl -sS -f -o "$work/got" -w '%{time_total}' \
    -H "X-Kdfs-Min-Version: $version" "$node2/v1/files/bench/big-$i")
  got=$(sha256sum "$work/got" | cut -d' ' -f1)
  [[ $got == "$want" ]] || { echo "run $i: GET returned other bytes" >&2; exit 1; }
  awk -v n="$size_mib" -v p="$put" -v g="$get" -v i="$i" \
    'BEGIN { printf "run %d: PUT %.1f MiB/s (%.2f s), GET from another node %.1f MiB/s (%.2f s)\n", i, n / p, p, n / g, g }'
done
