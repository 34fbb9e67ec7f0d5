#!/usr/bin/env bash
# Bootstrap rate: a fresh local 3-node cluster is filled with SIZE_MIB of files
# of mixed sizes (16 KiB to 32 MiB, random bytes, so no chunk is shared), then
# node 3 is stopped, its data dir and Redis wiped, and started again. It loads
# a metadata snapshot from a peer and fetches every chunk from peers. Prints
# the bootstrap's own duration (from the node's recovery progress) and the time
# until /readyz, as MB/s and files/s.
#
#   bench/bootstrap_rate.sh                    # 2 GiB
#   SIZE_MIB=256 bench/bootstrap_rate.sh
#   SIZE_MIB=64 SIZES_KIB=4,16 bench/bootstrap_rate.sh   # many small files
#
# Environment: KDFS_BUILD (build dir, default build), SIZE_MIB, SIZES_KIB (file
# sizes cycled through, comma-separated KiB), PORT,
# KDFS_BENCH_KAFKA (host:port of a broker to reuse; default: the cluster starts its own),
# PARALLEL (--bootstrap-parallel of the wiped node, default 8), KEEP (keep the
# cluster's dir and logs).
set -euo pipefail

cd "$(dirname "$0")/.."
build=${KDFS_BUILD:-build}
size_mib=${SIZE_MIB:-2048}
port=${PORT:-18800}
parallel=${PARALLEL:-8}
work=$(mktemp -d)
cleanup() {
  scripts/cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  if [[ -n "${KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

applied() {
  curl -sf "$1/internal/status" | python3 -c 'import json, sys; print(json.load(sys.stdin)["applied_offset"])'
}

kafka_args=()
if [[ -n "${KDFS_BENCH_KAFKA:-}" ]]; then kafka_args=(--kafka "$KDFS_BENCH_KAFKA"); fi
scripts/cluster up --dir "$work/cluster" --port "$port" --node-bin "$build/src/node/kdfs-node" \
  "${kafka_args[@]}" --node-arg=--bootstrap-min-records=1 >/dev/null 2>"$work/cluster.log"
node1="http://127.0.0.1:$((port + 1))"
node3="http://127.0.0.1:$((port + 3))"

echo "filling the cluster with $size_mib MiB through node 1 ..."
files=$(python3 - "$node1" "$size_mib" "${SIZES_KIB:-16,256,1024,3072,4096,32768}" <<'PY'
import os, sys, urllib.request
url, total = sys.argv[1], int(sys.argv[2]) << 20
sizes = [int(k) << 10 for k in sys.argv[3].split(",")]
done = n = 0
while done < total:
    size = min(sizes[n % len(sizes)] + n, total - done)
    req = urllib.request.Request(f"{url}/v1/files/bench/d{n % 16}/f{n}", data=os.urandom(size),
                                 method="PUT")
    urllib.request.urlopen(req, timeout=300).read()
    done += size
    n += 1
print(n)
PY
)
echo "$files files written; waiting for node 3 to apply them, then wiping it"
end=$(applied "$node1")
until (($(applied "$node3") >= end)); do sleep 0.5; done
scripts/cluster stop-node 3 --with-redis --dir "$work/cluster" >/dev/null 2>>"$work/cluster.log"
scripts/cluster wipe-node 3 --dir "$work/cluster" >/dev/null 2>>"$work/cluster.log"
start=$(date +%s.%N)
scripts/cluster start-node 3 --dir "$work/cluster" --timeout 1800 \
  --node-arg=--bootstrap-parallel="$parallel" >/dev/null 2>>"$work/cluster.log"
ready=$(date +%s.%N)
curl -sf "$node3/internal/status" >"$work/status.json"
python3 - "$work/status.json" "$files" "$start" "$ready" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["recovery"]
files, wall = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
secs = (r["finished_ms"] - r["started_ms"]) / 1000
mb = (r["chunk_bytes_done"] + r["snapshot_bytes_done"]) / 1e6
print(f"bootstrap of node 3: snapshot of {r['snapshot_bytes_done']} bytes at offset "
      f"{r['snapshot_offset']}, {r['chunks_done']}/{r['chunks_total']} chunks, "
      f"{r['chunk_bytes_done'] / 1e6:.1f} MB fetched ({r['chunks_failed']} failed)")
print(f"bootstrap: {secs:.2f} s = {mb / secs:.1f} MB/s, {files / secs:.0f} files/s")
print(f"start-node command to ready (includes the tool starting Redis): {wall:.2f} s = "
      f"{mb / wall:.1f} MB/s, {files / wall:.0f} files/s")
PY
