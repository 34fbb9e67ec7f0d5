"""The nemesis's tools work: each `scripts/cluster` fault command of an
`up --isolate` cluster has the effect it claims, and its heal undoes it.
Needs root (network namespaces, tmpfs mounts); skipped otherwise."""

import json
import os
import threading
import time

import pytest

from nemesis import cluster
from portblocks import PORTS
from workload import request

NODE_BIN = os.environ.get("KDFS_NODE_BIN")
pytestmark = [pytest.mark.skipif(not NODE_BIN, reason="KDFS_NODE_BIN not set"),
              pytest.mark.skipif(os.geteuid() != 0, reason="faults need root")]


def free_block():
    """A gateway port with 12 free ports above it, locked until the run ends."""
    return PORTS.reserve(12)


def wait_until(pred, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def answer(url, method, path, body=None, timeout=10):
    try:
        return request(url, method, path, body=body, timeout=timeout)
    except OSError as e:
        return None, {}, str(e).encode()


@pytest.fixture(scope="module")
def iso(tmp_path_factory):
    d = tmp_path_factory.mktemp("iso")
    rc, out = cluster(d, "up", "--port", free_block(), "--isolate", "--node-bin", NODE_BIN,
                      "--node-arg=--request-timeout-ms=5000", timeout=300)
    try:
        assert rc == 0, out
        s = json.loads((d / "cluster.json").read_text())
        yield d, [n["url"] for n in s["nodes"]]
    finally:
        cluster(d, "down", "--purge")


def ready(url):
    return answer(url, "GET", "/readyz", timeout=2)[0] == 200


def test_partition_cuts_a_node_off_and_heal_restores_it(iso):
    d, urls = iso
    assert cluster(d, "partition-node", 2)[0] == 0
    try:
        wait_until(lambda: not ready(urls[1]), what="node 2 not ready while partitioned")
        assert answer(urls[1], "PUT", "/v1/files/f/part", b"x")[0] == 503
        assert answer(urls[0], "PUT", "/v1/files/f/part", b"y")[0] in (200, 201)  # others go on
    finally:
        assert cluster(d, "heal-node", 2)[0] == 0
    wait_until(lambda: ready(urls[1]), what="node 2 ready after heal")
    assert answer(urls[1], "PUT", "/v1/files/f/part", b"z")[0] == 200


def test_fill_disk_makes_writes_fail_and_free_disk_restores(iso):
    d, urls = iso
    assert cluster(d, "fill-disk", 3)[0] == 0
    try:
        assert answer(urls[2], "PUT", "/v1/files/f/disk", b"d" * 10000)[0] == 507
    finally:
        assert cluster(d, "free-disk", 3)[0] == 0
    assert answer(urls[2], "PUT", "/v1/files/f/disk", b"d" * 10000)[0] in (200, 201)


def test_skew_moves_the_wall_clock_of_one_node(iso):
    d, urls = iso
    assert cluster(d, "skew-node", 1, 3600)[0] == 0
    try:
        def skewed_mtime():
            code, _, _ = answer(urls[0], "PUT", "/v1/files/f/skew", b"s")
            _, _, body = answer(urls[0], "GET", "/v1/stat/f/skew")
            mtime = json.loads(body).get("mtime", 0) if code in (200, 201) else 0
            return mtime > (time.time() + 1800) * 1000
        wait_until(skewed_mtime, timeout=30, what="a file written via node 1 an hour ahead")
    finally:
        assert cluster(d, "skew-node", 1, 0)[0] == 0


def test_delay_slows_a_nodes_links_and_zero_heals(iso):
    d, urls = iso
    body = b"l" * 48000
    assert cluster(d, "delay-node", 1, 200)[0] == 0
    try:
        t = time.monotonic()
        answer(urls[0], "PUT", "/v1/files/f/slow", body, timeout=60)
        slow = time.monotonic() - t
    finally:
        assert cluster(d, "delay-node", 1, 0)[0] == 0
    # So slow a link may cost the node its Kafka session, or the cluster its
    # leader: both recover on their own. Ready is not enough (a node is ready
    # while an election runs), so wait for a write to go through first.
    wait_until(lambda: ready(urls[0]) and
               answer(urls[0], "PUT", "/v1/files/f/healed", b"h")[0] in (200, 201),
               what="node 1 ready and writing after its links healed")
    t = time.monotonic()
    assert answer(urls[0], "PUT", "/v1/files/f/slow", body)[0] in (200, 201)
    assert slow > 1.0 and slow > 3 * (time.monotonic() - t)


def test_kill_redis_makes_the_node_unready_until_restarted(iso):
    d, urls = iso
    assert cluster(d, "kill-redis", 1)[0] == 0
    try:
        wait_until(lambda: not ready(urls[0]), what="node 1 not ready without its Redis")
    finally:
        assert cluster(d, "start-redis", 1)[0] == 0
    wait_until(lambda: ready(urls[0]), what="node 1 ready with its Redis back")


def test_kafka_start_is_not_blocked_by_a_node_waiting_for_kafka(iso):
    """Regression: `start-node` held the cluster's lock while it waited for
    the node to become ready, and a node is ready only once Kafka answers; so
    when a node restart overlapped a Kafka restart, `kafka-start` waited for
    the lock until `start-node` gave up (two fault errors in a 30-minute
    campaign). Waiting now happens outside the lock."""
    d, urls = iso
    assert cluster(d, "kill-node", 2)[0] == 0
    assert cluster(d, "kafka-stop")[0] == 0
    result = {}
    starter = threading.Thread(
        target=lambda: result.update(node=cluster(d, "start-node", 2, "--timeout", 90)))
    starter.start()
    try:
        # The node process is up (it answers /healthz) and waits for Kafka.
        wait_until(lambda: answer(urls[1], "GET", "/healthz", timeout=2)[0] is not None,
                   what="node 2 started and waiting for Kafka")
        assert not ready(urls[1])
        rc, out = cluster(d, "kafka-start", "--timeout", 90)
        assert rc == 0, out
    finally:
        cluster(d, "kafka-start", "--timeout", 120)
        starter.join()
    rc, out = result["node"]
    assert rc == 0, out
    assert ready(urls[1])
