"""Replication through Kafka (issue #5): every node converges on the committed log.

Real Kafka, Redis, nodes and HAProxy, driven through scripts/cluster.
"""

import concurrent.futures
import hashlib
import os
import random
import time

import pytest

from conftest import wait_until

MiB = 1 << 20
CHUNK = MiB  # the nodes' default --chunk-size


def put(c, path, data, node=None, **headers):
    return c.http.put(c.url(node) + "/v1/files" + path, data=data, headers=headers, timeout=120)


def get(c, path, node=None, version=None, **headers):
    if version is not None:
        headers["X-Kdfs-Min-Version"] = str(version)
    return c.http.get(c.url(node) + "/v1/files" + path, headers=headers, timeout=120)


def digests(c):
    """{node id: (applied_offset, digest)} from each node's own view."""
    out = {}
    for i in range(1, c.nodes + 1):
        v = c.cluster_view(i)
        me = v[c.node(i)["id"]]
        out[me["id"]] = (me["applied_offset"], me["digest"])
    return out


def wait_converged(c, timeout=60):
    def same():
        d = digests(c)
        return len(set(d.values())) == 1 and d
    return wait_until(same, timeout=timeout, what="equal digests at equal offsets on every node")


def leader_of(c):
    view = wait_until(lambda: (v := c.get("/v1/cluster").json()) and v.get("leader") and v,
                      timeout=30, what="a leader")
    return view["leader"]["node"]


def node_index(c, node_id):
    return [n["id"] for n in c.info["nodes"]].index(node_id) + 1


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_put_is_identical_on_every_node(shared_cluster, size):
    c = shared_cluster
    data = os.urandom(size)
    r = put(c, f"/repl/size-{size}", data)
    assert r.status_code == 201, r.text
    version = int(r.headers["X-Kdfs-Version"])
    assert r.json()["version"] == version
    assert r.json()["size"] == size
    assert r.json()["etag"] == hashlib.sha256(data).hexdigest()
    for i in range(1, c.nodes + 1):
        g = get(c, f"/repl/size-{size}", node=i, version=version)
        assert g.status_code == 200, (i, g.text)
        assert g.content == data, f"node {i} returned other bytes"
        assert int(g.headers["X-Kdfs-Version"]) == version
    wait_converged(c)


def test_large_file_streams_through_every_node(shared_cluster, tmp_path):
    """200 MiB through the gateway, read back from each node, compared by hash."""
    c = shared_cluster
    size = 200 * MiB
    rng = random.Random(7)
    block = rng.randbytes(MiB)
    h = hashlib.sha256()

    def body():
        for i in range(size // MiB):
            piece = block[i % 7:] + block[:i % 7]
            h.update(piece)
            yield piece

    r = c.http.put(c.gateway + "/v1/files/repl/big.bin", data=body(), timeout=600)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    expect = h.hexdigest()
    assert r.json()["etag"] == expect
    for i in range(1, c.nodes + 1):
        g = c.http.get(c.node_url(i) + "/v1/files/repl/big.bin", stream=True, timeout=600,
                       headers={"X-Kdfs-Min-Version": str(version)})
        assert g.status_code == 200
        got = hashlib.sha256()
        for piece in g.iter_content(MiB):
            got.update(piece)
        assert got.hexdigest() == expect, f"node {i} differs"
    wait_converged(c)


def test_concurrent_writes_to_every_node_converge(shared_cluster):
    c = shared_cluster
    paths = [f"/conc/p{i}" for i in range(8)]
    acked = {}  # path -> [(version, body)]

    def writer(w):
        out = []
        for k in range(25):
            p = paths[(w * 3 + k) % len(paths)]
            body = f"w{w}-k{k}".encode()
            r = put(c, p, body, node=w % c.nodes + 1)
            if r.status_code in (200, 201):
                out.append((p, r.json()["version"], body))
            else:
                assert r.status_code in (409, 503), r.text
        return out

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        for result in pool.map(writer, range(12)):
            for p, v, body in result:
                acked.setdefault(p, []).append((v, body))
    assert sum(len(v) for v in acked.values()) >= 200, "most writes should be acknowledged"
    wait_converged(c)
    for p, writes in acked.items():
        latest_v, latest_body = max(writes)
        for i in range(1, c.nodes + 1):
            g = get(c, p, node=i, version=latest_v)
            assert g.status_code == 200
            v = int(g.headers["X-Kdfs-Version"])
            # The last acknowledged write, or a later one, never an older one.
            assert v >= latest_v
            if v == latest_v:
                assert g.content == latest_body


def test_leader_kill_fails_over_and_loses_nothing(make_cluster):
    c = make_cluster()
    acked = {}
    for k in range(20):
        r = put(c, f"/fo/before-{k}", f"v{k}".encode())
        assert r.status_code == 201
        acked[f"/fo/before-{k}"] = f"v{k}".encode()
    old = leader_of(c)
    c.run("kill-node", str(node_index(c, old)))
    start = time.monotonic()
    survivor = [i for i in range(1, c.nodes + 1) if c.node(i)["id"] != old][0]

    def write_ok():
        return put(c, "/fo/after", b"after", node=survivor).status_code == 201
    wait_until(write_ok, timeout=30, what="a write after the leader died")
    failover = time.monotonic() - start
    print(f"failover: {failover:.2f}s")
    new = leader_of(c)
    assert new != old
    for p, body in acked.items():
        assert get(c, p, node=survivor).content == body
    c.run("start-node", str(node_index(c, old)))
    wait_converged(c)


def test_paused_leader_is_fenced_and_digests_converge(make_cluster):
    c = make_cluster()
    assert put(c, "/z/a", b"a").status_code == 201
    old = leader_of(c)
    old_i = node_index(c, old)
    c.run("pause-node", str(old_i))
    other = [i for i in range(1, c.nodes + 1) if i != old_i][0]
    wait_until(lambda: c.get("/v1/cluster", node=other).json()["leader"]["node"] != old,
               timeout=30, what="another leader while the old one is paused")
    acked = []
    for k in range(10):
        r = put(c, f"/z/during-{k}", b"x%d" % k, node=other)
        assert r.status_code == 201, r.text
        acked.append((f"/z/during-{k}", r.json()["version"]))
    c.run("resume-node", str(old_i))
    wait_converged(c)
    # The zombie applied what the new leader committed, nothing twice.
    for p, v in acked:
        g = get(c, p, node=old_i, version=v)
        assert g.status_code == 200 and int(g.headers["X-Kdfs-Version"]) == v
    assert put(c, "/z/after", b"after", node=old_i).status_code == 201


def test_killing_a_follower_does_not_stop_writes(make_cluster):
    c = make_cluster()
    leader = leader_of(c)
    follower = [i for i in range(1, c.nodes + 1) if c.node(i)["id"] != leader][0]
    c.run("kill-node", str(follower))
    for k in range(5):
        r = put(c, f"/f/{k}", b"%d" % k)
        assert r.status_code == 201, r.text
    c.run("start-node", str(follower))
    wait_converged(c)


def test_kafka_down_refuses_writes_and_keeps_reads(make_cluster):
    c = make_cluster(own_kafka=True)
    r = put(c, "/k/a", b"alpha")
    assert r.status_code == 201
    version = r.json()["version"]
    c.run("kafka-stop")

    def refused():
        r = put(c, "/k/b", b"beta", node=1)
        return [r] if r.status_code == 503 else None  # a 503 Response is falsy
    [r] = wait_until(refused, timeout=60, what="writes refused with 503 while Kafka is down")
    assert "Retry-After" in r.headers
    assert r.json()["error"]["code"] in ("unavailable", "timeout")
    for i in range(1, c.nodes + 1):
        g = get(c, "/k/a", node=i, version=version)
        assert g.status_code == 200 and g.content == b"alpha"
    c.run("kafka-start")
    wait_until(lambda: put(c, "/k/b", b"beta").status_code == 201, timeout=90,
               what="writes succeed again after Kafka returned")
    wait_converged(c)
