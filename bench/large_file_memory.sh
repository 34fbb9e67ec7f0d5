#!/usr/bin/env bash
# Resident memory of every node while a large file (4 GiB by default) goes up
# and comes back down through the gateway of a fresh local 3-node cluster.
# Goal (issue 6): each node's peak RSS (VmHWM) stays under 256 MiB, whatever
# the file size: uploads and downloads stream through a bounded window.
#
#   bench/large_file_memory.sh                 # 4 GiB
#   SIZE_MIB=1024 bench/large_file_memory.sh
#
# The file is a deterministic pseudo-random stream (AES-CTR of zeros), never
# stored on the client: the upload is piped to curl (chunked), the download
# into sha256sum, and both are compared with a second run of the generator.
# RSS is sampled every 200 ms from /proc/<pid>/status; VmHWM is the kernel's
# own peak. Environment: KDFS_BUILD (default build), SIZE_MIB, PORT, GOAL_MIB,
# KDFS_BENCH_KAFKA (host:port of a broker to reuse instead of starting one).
set -euo pipefail

cd "$(dirname "$0")/.."
build=${KDFS_BUILD:-build}
size_mib=${SIZE_MIB:-4096}
port=${PORT:-18760}
goal_mib=${GOAL_MIB:-256}
kafka_args=()
[[ -n ${KDFS_BENCH_KAFKA:-} ]] && kafka_args=(--kafka "$KDFS_BENCH_KAFKA")
work=$(mktemp -d)
sampler=
cleanup() {
  if [[ -n $sampler ]]; then kill "$sampler" 2>/dev/null || true; fi
  scripts/cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The generator dies of SIGPIPE once head has enough: not a failure.
generate() {
  { openssl enc -aes-128-ctr -nosalt -pass pass:kdfs-bench -pbkdf2 -in /dev/zero 2>/dev/null || true; } |
    head -c "$((size_mib << 20))"
}

kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

scripts/cluster up --dir "$work/cluster" --port "$port" \
  --node-bin "$build/src/node/kdfs-node" "${kafka_args[@]}" >/dev/null
gateway="http://127.0.0.1:$port"
mapfile -t nodes < <(python3 -c '
import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    print(n["id"], n["pid"])' "$work/cluster/cluster.json")

# Sampler: per node and phase, the largest VmRSS seen (KiB), in $work/rss.
echo idle >"$work/phase"
(
  declare -A peak
  while :; do
    phase=$(cat "$work/phase")
    for entry in "${nodes[@]}"; do
      read -r id pid <<<"$entry"
      rss=$(kib "$pid" VmRSS)
      key="$phase $id"
      ((rss > ${peak[$key]:-0})) && peak[$key]=$rss
    done
    for key in "${!peak[@]}"; do echo "$key ${peak[$key]}"; done >"$work/rss.tmp"
    mv "$work/rss.tmp" "$work/rss"
    sleep 0.2
  done
) &
sampler=$!

echo "file of $size_mib MiB through $gateway; goal: peak RSS < $goal_mib MiB per node"
echo upload >"$work/phase"
put=$(generate | curl -sS -f -o "$work/put.json" -w '%{time_total}' -H 'Expect:' \
  -H 'Content-Type: application/octet-stream' -T - "$gateway/v1/files/bench/huge")
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$work/put.json")
echo download >"$work/phase"
get_start=$(date +%s.%N)
got=$(curl -sS -f -H "X-Kdfs-Consistency: strong" "$gateway/v1/files/bench/huge" | sha256sum | cut -d' ' -f1)
get=$(awk -v a="$get_start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
echo finished >"$work/phase"
sleep 0.5 # one more sample after the last byte
kill "$sampler" 2>/dev/null || true
sampler=
want=$(generate | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || { echo "download differs from the upload" >&2; exit 1; }

awk -v n="$size_mib" -v p="$put" -v g="$get" -v v="$version" 'BEGIN {
  printf "PUT %.1f MiB/s (%.1f s, version %s); GET %.1f MiB/s (%.1f s); hashes match\n", n / p, p, v, n / g, g }'
worst=0
for entry in "${nodes[@]}"; do
  read -r id pid <<<"$entry"
  hwm=$(kib "$pid" VmHWM)
  up=$(awk -v k="upload $id" '$1 " " $2 == k { print $3 }' "$work/rss")
  down=$(awk -v k="download $id" '$1 " " $2 == k { print $3 }' "$work/rss")
  awk -v id="$id" -v h="$hwm" -v u="${up:-0}" -v d="${down:-0}" 'BEGIN {
    printf "%s: peak RSS (VmHWM) %.1f MiB; largest sampled RSS: upload %.1f MiB, download %.1f MiB\n",
      id, h / 1024, u / 1024, d / 1024 }'
  ((hwm > worst)) && worst=$hwm
done
awk -v w="$worst" -v g="$goal_mib" 'BEGIN {
  printf "largest peak %.1f MiB: %s the %d MiB goal\n", w / 1024, (w / 1024 < g ? "under" : "OVER"), g
  exit !(w / 1024 < g) }'
