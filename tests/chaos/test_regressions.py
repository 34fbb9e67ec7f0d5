"""Regression tests for product bugs the chaos campaigns found."""

import concurrent.futures
import json
import os
import threading
import time

import pytest

from nemesis import cluster, node_status
from test_faults import free_block, wait_until
from workload import request

NODE_BIN = os.environ.get("KDFS_NODE_BIN")
KAFKA = os.environ.get("KDFS_TEST_KAFKA")
pytestmark = pytest.mark.skipif(not NODE_BIN, reason="KDFS_NODE_BIN not set")


def put(url, path, body, timeout=30):
    try:
        return request(url, "PUT", path, body=body, timeout=timeout)[0]
    except OSError:
        return None


def test_a_restarted_node_does_not_stall_writes_while_it_replays_its_backlog(tmp_path):
    """Campaign seed 5 (and others): after node-1 was killed and restarted,
    the cluster had no leader for 20-49 s. The static member ids make the
    returning node take the election partition back at once, and it could
    not lead before replaying everything it had missed. Now a node joins the
    election only once it is within a few records of the log end."""
    d = tmp_path / "c"
    up = ["up", "--port", free_block(), "--node-bin", NODE_BIN]
    if KAFKA:
        up += ["--kafka", KAFKA]
    rc, out = cluster(d, *up, timeout=300)
    try:
        assert rc == 0, out
        nodes = json.loads((d / "cluster.json").read_text())["nodes"]
        url1, url2, url3 = (n["url"] for n in nodes)
        assert cluster(d, "kill-node", 1)[0] == 0
        wait_until(lambda: put(url2, "/v1/files/r/warm", b"w") in (200, 201), timeout=60,
                   what="a leader among nodes 2 and 3")
        # A backlog node 1 must replay: 2000 writes while it is down.
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda i: put((url2, url3)[i % 2], f"/v1/files/r/b{i % 300}", b"x%d" % i),
                                  range(2000)))
        assert codes.count(None) == 0 and all(c in (200, 201) for c in codes)
        # Writes through node 2 go on while node 1 comes back and catches up.
        stop, acks = threading.Event(), []

        def writer():
            i = 0
            while not stop.is_set():
                i += 1
                if put(url2, f"/v1/files/r/live{i % 50}", b"l%d" % i) in (200, 201):
                    acks.append(time.monotonic())
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        started = time.monotonic()
        assert cluster(d, "start-node", 1, "--no-wait")[0] == 0

        def caught_up():
            st = node_status(url1, timeout=2)
            return st and st.get("lag") == 0 and st.get("applied_offset", -1) > 2000
        wait_until(caught_up, timeout=120, what="node 1 caught up")
        time.sleep(3)  # and the leadership move back to it, if any
        stop.set()
        t.join(60)
        points = [started] + [a for a in acks if a >= started] + [time.monotonic()]
        longest = max(b - a for a, b in zip(points, points[1:]))
        assert longest < 4.0, f"writes stalled for {longest:.1f} s while node 1 caught up"
    finally:
        cluster(d, "down", "--purge")
