"""Node recovery (issue #7): bootstrap of an empty node from a peer's snapshot, a new node
joining, chunk repair on read and by the scrubber, a node behind a retention gap, and a node
whose state digest diverged.

Real Kafka, Redis, nodes and HAProxy, driven through scripts/cluster.
"""

import concurrent.futures
import hashlib
import os
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import wait_until

KiB = 1 << 10
CHUNK = 64 * KiB  # small chunks: many of them per file
BASE_ARGS = [f"--chunk-size={CHUNK}", "--bootstrap-min-records=1"]


def put(c, path, data, node=None):
    r = c.http.put(c.url(node) + "/v1/files" + path, data=data, timeout=120)
    assert r.status_code in (200, 201), r.text
    return r.json()["version"]


def get(c, path, node=None, version=None):
    headers = {"X-Kdfs-Min-Version": str(version)} if version is not None else {}
    return c.http.get(c.url(node) + "/v1/files" + path, headers=headers, timeout=120)


def write_files(c, n, prefix="/f", seed=0, node=1):
    """n files of mixed sizes (empty, sub-chunk, several chunks); returns {path: bytes}."""
    files = {}
    for i in range(n):
        size = [0, 1, 1000, CHUNK, CHUNK + 1, 3 * CHUNK + 17][(i + seed) % 6] + i
        data = os.urandom(size)
        path = f"{prefix}/d{i % 4}/file{i}"
        put(c, path, data, node=node)
        files[path] = data
    return files


def status(c, i):
    r = c.http.get(c.node_url(i) + "/internal/status", timeout=5)
    r.raise_for_status()
    return r.json()


def recovery(c, i):
    return status(c, i)["recovery"]


def digests(c, nodes):
    return {i: (s["applied_offset"], s["digest"]) for i in nodes if (s := status(c, i))}


def wait_converged(c, nodes, timeout=90):
    def same():
        d = digests(c, nodes)
        return len(set(d.values())) == 1 and d
    return wait_until(same, timeout=timeout, what=f"equal digests at equal offsets on nodes {nodes}")


def leader_index(c):
    view = wait_until(lambda: (v := c.get("/v1/cluster").json()) and v.get("leader") and v,
                      timeout=30, what="a leader")
    return [n["id"] for n in c.info["nodes"]].index(view["leader"]["node"]) + 1


def follower_index(c):
    lead = leader_index(c)
    return next(i for i in range(1, c.nodes + 1) if i != lead)


def assert_all_files(c, files, node, version=None):
    for path, data in files.items():
        r = get(c, path, node=node, version=version)
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(data).hexdigest(), path


def metric(c, i, name):
    text = c.http.get(c.node_url(i) + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def chunk_path(c, i, data):
    h = hashlib.sha256(data).hexdigest()
    return Path(c.node(i)["data_dir"]) / "chunks" / h[:2] / h[2:4] / h


def log_text(c, i):
    return Path(c.node(i)["log"]).read_text(errors="replace")


def test_wiped_follower_bootstraps_from_a_peer(make_cluster):
    c = make_cluster(node_args=BASE_ARGS)
    files = write_files(c, 24)
    wait_converged(c, [1, 2, 3])
    f = follower_index(c)
    c.run("stop-node", f, "--with-redis")
    c.run("wipe-node", f)
    assert not Path(c.node(f)["data_dir"]).exists()
    c.run("start-node", f)  # returns once /readyz answers 200

    rec = recovery(c, f)
    assert rec["bootstraps"] == 1 and rec["reason"] == "empty node", rec
    assert rec["phase"] == "idle" and rec["snapshot_offset"] >= 0, rec
    assert rec["chunks_total"] > 0 and rec["chunks_done"] == rec["chunks_total"], rec
    assert metric(c, f, "kdfs_recovery_bootstraps_total") == 1
    assert_all_files(c, files, node=f)
    wait_converged(c, [1, 2, 3])
    # It keeps following the log after the snapshot.
    more = write_files(c, 3, prefix="/after", seed=2)
    version = put(c, "/after/last", b"last")
    assert_all_files(c, more, node=f, version=version)
    wait_converged(c, [1, 2, 3])


def test_node_and_redis_killed_under_writes_replay_exactly_once(make_cluster):
    """SIGKILL of a follower and its Redis (AOF everysec may lose the tail) while writes go on:
    on restart it resumes from what Redis kept and reaches the others' digest, no record
    applied twice (a double apply would change the rolling digest)."""
    c = make_cluster(node_args=BASE_ARGS)
    f = follower_index(c)
    live = 1 if f != 1 else 2
    files = {}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        writer = pool.submit(lambda: files.update(write_files(c, 40, node=live)))
        wait_until(lambda: status(c, f)["applied_offset"] >= 10, timeout=60,
                   what="the follower to apply some writes")
        c.run("kill-node", f, "--with-redis")
        writer.result()
    c.run("start-node", f)
    wait_converged(c, [1, 2, 3])
    assert recovery(c, f)["bootstraps"] == 0  # replayed from the log, not rebuilt
    assert_all_files(c, files, node=f)


def test_fourth_node_joins_catches_up_and_serves(make_cluster):
    c = make_cluster(node_args=BASE_ARGS)
    files = write_files(c, 18)
    p = c.run("add-node")
    url = p.stdout.strip().splitlines()[-1]
    assert url == c.node_url(4)
    rec = recovery(c, 4)
    assert rec["bootstraps"] == 1 and rec["reason"] == "empty node", rec
    assert_all_files(c, files, node=4)
    version = put(c, "/joined/x", b"written after the join")
    r = get(c, "/joined/x", node=4, version=version)
    assert r.status_code == 200 and r.content == b"written after the join"
    wait_converged(c, [1, 2, 3, 4])
    # The new node's chunks are all on its own disk (not just fetched per read).
    for data in files.values():
        if 0 < len(data) <= CHUNK:
            assert chunk_path(c, 4, data).exists()


def test_corrupt_chunk_read_repair_then_scrubber_repairs_without_reads(make_cluster):
    c = make_cluster(node_args=BASE_ARGS + ["--scrub-bytes-per-sec=0"])
    a, b = os.urandom(5000), os.urandom(7000)  # one chunk each
    put(c, "/corrupt/a", a)
    put(c, "/corrupt/b", b)
    wait_converged(c, [1, 2, 3])

    # A read through node 2 of a corrupted chunk returns the right bytes.
    pa = chunk_path(c, 2, a)
    pa.write_bytes(b"X" * len(a))
    r = get(c, "/corrupt/a", node=2)
    assert r.status_code == 200 and r.content == a
    assert pa.read_bytes() == a
    assert any((Path(c.node(2)["data_dir"]) / "quarantine").iterdir())

    # The scrubber (enabled on restart) finds and repairs another one without any read.
    c.run("stop-node", 2)
    pb = chunk_path(c, 2, b)
    pb.write_bytes(b[:-1] + bytes([b[-1] ^ 0xFF]))
    before = metric(c, 1, 'kdfs_http_requests_total{route="files",method="GET"}') or 0
    c.run("start-node", 2, "--node-arg=--scrub-bytes-per-sec=1048576")
    wait_until(lambda: metric(c, 2, "kdfs_scrub_repaired_total") >= 1, timeout=60,
               what="the scrubber to repair a chunk")
    assert pb.read_bytes() == b
    assert metric(c, 2, "kdfs_scrub_corrupt_total") >= 1
    assert metric(c, 2, "kdfs_scrub_scanned_total") >= 1
    assert metric(c, 2, "kdfs_scrub_failed_total") == 0
    assert 'route="files",method="GET"' not in c.http.get(c.node_url(2) + "/metrics").text
    assert (metric(c, 1, 'kdfs_http_requests_total{route="files",method="GET"}') or 0) == before


def kafka_delete_records(bootstrap, topic, partition=0, offset=-1):
    """DeleteRecords (API key 21, v2) up to `offset` (-1: the high watermark) on a
    single-broker cluster; returns the new low watermark."""
    def uvarint(n):
        out = b""
        while True:
            b7 = n & 0x7F
            n >>= 7
            if n:
                out += bytes([b7 | 0x80])
            else:
                return out + bytes([b7])

    def cstr(s):
        return uvarint(len(s) + 1) + s.encode()

    client = b"kdfs-test"
    header = struct.pack(">hhih", 21, 2, 7, len(client)) + client + b"\x00"
    body = (uvarint(2) + cstr(topic) + uvarint(2) + struct.pack(">iq", partition, offset) + b"\x00"
            + b"\x00" + struct.pack(">i", 30000) + b"\x00")
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        msg = header + body
        s.sendall(struct.pack(">i", len(msg)) + msg)
        n = struct.unpack(">i", recv_exact(s, 4))[0]
        resp = recv_exact(s, n)
    # correlation id, header tags, throttle, topics(1), name, partitions(1), partition, low, error
    pos = 4 + 1 + 4 + 1
    name_len = resp[pos] - 1
    pos += 1 + name_len + 1 + 4
    low, err = struct.unpack(">qh", resp[pos:pos + 10])
    assert err == 0, f"DeleteRecords error {err}"
    return low


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise OSError("connection closed")
        buf += part
    return buf


def test_node_behind_a_retention_gap_bootstraps(make_cluster, kafka):
    c = make_cluster(node_args=BASE_ARGS)
    files = write_files(c, 6)
    wait_converged(c, [1, 2, 3])
    f = follower_index(c)
    live = 1 if f != 1 else 2
    c.run("stop-node", f)
    stopped_at = status(c, live)["applied_offset"]
    files.update(write_files(c, 6, prefix="/while-down", seed=3, node=live))
    low = kafka_delete_records(kafka, c.info["topic_prefix"] + ".log")
    assert low > 0
    c.run("start-node", f, "--no-wait")
    wait_until(lambda: recovery(c, f)["bootstraps"] >= 1, timeout=90,
               what="the node to bootstrap after the gap")
    rec = recovery(c, f)
    assert rec["reason"].startswith("log gap"), rec
    # Past what it had when it stopped (the records in between are gone from the log).
    assert rec["snapshot_offset"] > stopped_at, rec
    assert "deleted by retention" in log_text(c, f)
    wait_until(lambda: c.http.get(c.node_url(f) + "/readyz", timeout=5).status_code == 200,
               timeout=60, what="ready after the bootstrap")
    assert_all_files(c, files, node=f)
    wait_converged(c, [1, 2, 3])


def test_divergent_node_marks_itself_unready_and_rebootstraps(make_cluster):
    c = make_cluster(node_args=BASE_ARGS + ["--divergence-check-ms=500"])
    files = write_files(c, 6)
    wait_converged(c, [1, 2, 3])
    f = follower_index(c)
    port = c.node(f)["redis"]["port"]
    # Tamper with the node's metadata behind its back: its rolling digest.
    subprocess.run(["redis-cli", "-p", str(port), "HSET", "kdfs:meta", "digest", "0" * 64],
                   check=True, capture_output=True)
    files.update(write_files(c, 3, prefix="/after", seed=1))
    wait_until(lambda: recovery(c, f)["divergences"] >= 1, timeout=60,
               what="the divergence to be detected")
    wait_until(lambda: recovery(c, f)["bootstraps"] >= 1, timeout=60, what="a re-bootstrap")
    assert recovery(c, f)["reason"] == "divergent state digest"
    assert "DIVERGENCE" in log_text(c, f)
    assert metric(c, f, "kdfs_recovery_divergences_total") >= 1
    for i in range(1, 4):
        if i != f:
            assert recovery(c, i)["divergences"] == 0
    wait_converged(c, [1, 2, 3])
    assert_all_files(c, files, node=f)
