"""The local cluster and its tool (issue #3): a real Kafka, Redis, nodes, HAProxy."""

import os
import re
import signal
import sys
from pathlib import Path

import pytest
import requests

from conftest import NODE_BIN, REPO, pid_alive, pid_state, wait_until

sys.path.insert(0, str(REPO / "scripts"))
from kdfs_cluster.probes import group_probe, kafka_group  # noqa: E402

NODE_IDS = {"node-1", "node-2", "node-3"}


def gateway_answers(c, n=10, path="/healthz"):
    """How many of n fresh requests through the gateway get a 200."""
    ok = 0
    for _ in range(n):
        r = c.http.get(c.gateway + path, timeout=10, headers={"Connection": "close"})
        ok += r.status_code == 200
    return ok


# --- One cluster, left as found ------------------------------------------------


def test_gateway_answers_healthz(shared_cluster):
    r = shared_cluster.get("/healthz")
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_cluster_view_lists_every_node(shared_cluster):
    c = shared_cluster
    urls = {n["id"]: n["url"] for n in c.info["nodes"]}
    # Through the gateway and from each node directly: the same three nodes, all ready.
    for node in (None, 1, 2, 3):
        view = wait_until(lambda: (v := c.cluster_view(node)) and all(n["ready"] for n in v.values()) and v,
                          timeout=30, what=f"every node ready in the view of {node or 'the gateway'}")
        assert set(view) == NODE_IDS
        for nid, n in view.items():
            assert n["url"] == urls[nid]
            assert n["reachable"] is True
            for key in ("role", "applied_offset", "lag", "digest"):
                assert key in n, f"/v1/cluster entry of {nid} lacks {key}: {n}"


def test_readyz_of_every_node(shared_cluster):
    for i in (1, 2, 3):
        assert shared_cluster.get("/readyz", node=i).status_code == 200


def test_cluster_json_describes_every_process(shared_cluster):
    info = shared_cluster.info
    assert info["gateway"]["url"].startswith("http://127.0.0.1:")
    assert info["kafka"]["bootstrap"]
    assert [n["id"] for n in info["nodes"]] == ["node-1", "node-2", "node-3"]
    for n in info["nodes"]:
        assert Path(n["data_dir"]).is_dir()
        assert Path(n["log"]).is_file()
        assert Path(n["redis"]["dir"]).is_dir()
        assert isinstance(n["redis"]["port"], int)
    for pid in shared_cluster.pids():
        assert pid_alive(pid), f"pid {pid} from cluster.json is not running"
    # The recorded pids are the servers themselves, not wrappers.
    comm = lambda pid: Path(f"/proc/{pid}/comm").read_text().strip()  # noqa: E731
    assert comm(info["gateway"]["pid"]) == "haproxy"
    for n in info["nodes"]:
        assert comm(n["redis"]["pid"]) == "redis-server"
        assert comm(n["pid"]) == NODE_BIN.name[:15]


def test_status_exits_zero_when_all_up(shared_cluster):
    p = shared_cluster.run("status")
    for nid in NODE_IDS:
        assert nid in p.stdout


def test_up_returns_with_every_node_in_the_election(shared_cluster):
    """A node that joins the election after its first round rebalances the
    group: the leader steps down and leads again in a new epoch, a record in
    the log that a test comparing states before and after an operation would
    see. `up` waits until the group is stable with every node."""
    info = shared_cluster.info
    bootstrap, group = info["kafka"]["bootstrap"], info["topic_prefix"] + ".election"
    assert kafka_group(bootstrap, group) == ("Stable", 3)
    assert group_probe(bootstrap, group, 3)() == (True, "Stable with 3 of 3 members")
    assert group_probe(bootstrap, group, 4)() == (False, "Stable with 3 of 4 members")
    assert kafka_group(bootstrap, info["topic_prefix"] + ".no-such-group") == ("Dead", 0)


def test_up_again_changes_nothing(shared_cluster):
    before = shared_cluster.pids()
    assert shared_cluster.up().pids() == before


# --- Failures ------------------------------------------------------------------


def test_kill_node_is_routed_around_and_start_node_brings_it_back(make_cluster):
    c = make_cluster()
    old_pid = c.node(2)["pid"]
    c.run("kill-node", "2")
    assert not pid_alive(old_pid)
    assert c.node(2)["pid"] is None

    # HAProxy retries on another node at once, before its checks notice.
    assert gateway_answers(c) == 10
    wait_until(lambda: c.haproxy_status()["node-2"] == "DOWN", timeout=10, what="HAProxy marks node-2 DOWN")
    for other in (1, 3):
        view = wait_until(lambda: (v := c.cluster_view(other))["node-2"]["reachable"] is False and v,
                          timeout=15, what=f"node-{other} sees node-2 unreachable")
        assert view["node-2"]["ready"] is False
    assert gateway_answers(c, path="/v1/cluster") == 10
    assert c.run("status", check=False).returncode != 0

    c.run("start-node", "2")
    new_pid = c.node(2)["pid"]
    assert new_pid and new_pid != old_pid and pid_alive(new_pid)
    assert c.get("/readyz", node=2).status_code == 200
    wait_until(lambda: all(v["node-2"]["ready"] and v["node-2"]["reachable"]
                           for v in (c.cluster_view(1), c.cluster_view(3))),
               timeout=30, what="nodes 1 and 3 see node-2 ready again")
    wait_until(lambda: c.haproxy_status()["node-2"] == "UP", timeout=10, what="HAProxy marks node-2 UP")
    assert c.run("status", check=False).returncode == 0


def test_pause_and_resume_node(make_cluster):
    c = make_cluster()
    pid = c.node(3)["pid"]
    c.run("pause-node", "3")
    assert pid_state(pid) in "Tt"
    with pytest.raises(requests.Timeout):
        c.get("/healthz", node=3, timeout=1)
    wait_until(lambda: c.haproxy_status()["node-3"] == "DOWN", timeout=10, what="HAProxy marks node-3 DOWN")
    assert gateway_answers(c) == 10

    c.run("resume-node", "3")
    assert pid_state(pid) not in "Tt"
    assert wait_until(lambda: c.get("/healthz", node=3, timeout=1).status_code == 200, timeout=10,
                      what="resumed node-3 answers /healthz")
    wait_until(lambda: c.get("/readyz", node=3, timeout=1).status_code == 200, timeout=30,
               what="resumed node-3 ready")
    wait_until(lambda: c.haproxy_status()["node-3"] == "UP", timeout=10, what="HAProxy marks node-3 UP")
    assert c.node(3)["pid"] == pid


def test_two_clusters_side_by_side(make_cluster):
    a, b = make_cluster(), make_cluster()
    assert a.info["topic_prefix"] != b.info["topic_prefix"]
    assert a.gateway != b.gateway
    assert not set(a.pids()) & set(b.pids())
    ports = lambda c: {c.info["gateway"]["port"]} | {n["port"] for n in c.info["nodes"]} | {  # noqa: E731
        n["redis"]["port"] for n in c.info["nodes"]}
    assert not ports(a) & ports(b)
    for c in (a, b):
        urls = {n["id"]: n["url"] for n in c.info["nodes"]}
        view = c.cluster_view()
        assert {nid: n["url"] for nid, n in view.items()} == urls

    # Breaking one leaves the other whole.
    a.run("kill-node", "1")
    a.run("kill-node", "2")
    wait_until(lambda: a.haproxy_status()["node-1"] == "DOWN", timeout=10, what="a's HAProxy marks node-1 DOWN")
    view = b.cluster_view()
    assert all(n["ready"] and n["reachable"] for n in view.values()), view
    assert b.run("status", check=False).returncode == 0
    assert gateway_answers(b) == 10


def test_node_is_not_ready_without_kafka_or_redis(make_cluster):
    c = make_cluster(own_kafka=True)
    c.run("kafka-stop")
    assert not pid_alive(c.info["kafka"]["pid"])
    for i in (1, 2, 3):
        wait_until(lambda: c.get("/readyz", node=i, timeout=2).status_code == 503, timeout=30,
                   what=f"node-{i} not ready without Kafka")
        assert c.get("/healthz", node=i).status_code == 200
    c.run("kafka-start")
    for i in (1, 2, 3):
        wait_until(lambda: c.get("/readyz", node=i, timeout=2).status_code == 200, timeout=60,
                   what=f"node-{i} ready again with Kafka back")

    redis_pid = c.node(1)["redis"]["pid"]
    os.kill(redis_pid, signal.SIGKILL)
    wait_until(lambda: c.get("/readyz", node=1, timeout=2).status_code == 503, timeout=30,
               what="node-1 not ready without its Redis")
    assert c.get("/healthz", node=1).status_code == 200
    c.run("start-node", "1")  # restarts the missing Redis, keeps the running node
    assert c.node(1)["redis"]["pid"] != redis_pid
    assert c.get("/readyz", node=1).status_code == 200


def test_down_leaves_no_process(make_cluster):
    c = make_cluster(own_kafka=True)
    pids = c.pids()
    assert len(pids) == 8 and all(pid_alive(p) for p in pids)
    c.run("pause-node", "2")  # a paused node must not hold `down` up
    c.run("down")
    for p in pids:
        assert not pid_alive(p), f"pid {p} survived `down`"
    assert all(p is None for p in c.pids())
    needle = str(c.dir) + "/"
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            assert needle not in cmd or not pid_alive(int(proc.name)) or int(proc.name) == os.getpid(), \
                f"pid {proc.name} still runs in the cluster dir: {cmd}"
    assert c.run("status", check=False).returncode != 0
    c.run("down")  # idempotent
    assert re.match(r"http://127\.0\.0\.1:\d+$", c.gateway)
