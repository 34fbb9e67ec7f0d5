"""Integration test harness: real Kafka, Redis, kdfs-node and HAProxy processes.

One Kafka broker serves the whole run (fixture `kafka`); every cluster is
started through scripts/cluster on its own free ports, in its own directory and
with its own topic prefix, so clusters never see each other's data.

Environment:
  KDFS_NODE_BIN    kdfs-node to run (default build/src/node/kdfs-node)
  KDFS_TEST_KAFKA  bootstrap of an existing broker to use instead of starting one
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CLUSTER_TOOL = REPO / "scripts" / "cluster"
sys.path.insert(0, str(REPO / "scripts"))
from portblocks import PORTS  # noqa: E402  (scripts/portblocks.py)

NODE_BIN = Path(os.environ.get("KDFS_NODE_BIN") or REPO / "build" / "src" / "node" / "kdfs-node")

# Clusters started by the current test, for the log tails of a failure report.
_LIVE = []


# ----------------------------------------------------------------------------
# Helpers


def wait_until(predicate, timeout=30.0, interval=0.1, what=None):
    """Polls predicate() until it returns a truthy value, which is returned.

    Connection errors and malformed answers count as "not yet". On the deadline
    fails the test with the last result or error seen.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (requests.RequestException, OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what or predicate}; last: {last!r}")
        time.sleep(interval)


def pid_alive(pid):
    """True if pid runs (a zombie counts as gone)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def pid_state(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


def http():
    """A requests session that ignores proxy settings (everything is loopback)."""
    s = requests.Session()
    s.trust_env = False
    return s




def run_tool(*args, check=True, timeout=240):
    """Runs scripts/cluster with args; returns the CompletedProcess."""
    cmd = [sys.executable, str(CLUSTER_TOOL), *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        pytest.fail(f"`{' '.join(cmd[1:])}` exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def tail(path, lines=40):
    try:
        text = Path(path).read_bytes()[-32768:].decode(errors="replace")
    except OSError:
        return f"(no file {path})"
    return "\n".join(text.splitlines()[-lines:])


# ----------------------------------------------------------------------------
# A cluster under test


class Cluster:
    def __init__(self, d, nodes=3, kafka=None, node_args=()):
        self.dir = Path(d)
        self.nodes = nodes
        self.kafka = kafka  # None: the cluster runs its own broker
        self.node_args = list(node_args)
        self.port = PORTS.reserve(2 * nodes + 4)
        self.info = None
        self.http = http()

    # --- lifecycle -----------------------------------------------------------
    def up(self):
        args = ["up", "--port", self.port, "--nodes", self.nodes,
                "--node-bin", NODE_BIN, "--timeout", 90]
        if self.kafka:
            args += ["--kafka", self.kafka]
        args += [f"--node-arg={a}" for a in self.node_args]
        p = self.run(*args)
        self.reload()
        lines = p.stdout.strip().splitlines()
        assert lines and lines[-1] == self.gateway, f"`up` should print the gateway URL last: {p.stdout!r}"
        return self

    def down(self):
        if (self.dir / "cluster.json").exists():
            self.run("down", check=False)
        PORTS.release(self.port)

    def run(self, *args, check=True, timeout=240):
        """Runs a cluster subcommand on this cluster's dir."""
        p = run_tool(*args, "--dir", self.dir, check=check, timeout=timeout)
        if (self.dir / "cluster.json").exists():
            self.reload()
        return p

    def reload(self):
        self.info = json.loads((self.dir / "cluster.json").read_text())
        return self.info

    # --- addresses and processes ---------------------------------------------
    @property
    def gateway(self):
        return self.info["gateway"]["url"]

    @property
    def stats_url(self):
        return self.info["gateway"]["stats_url"]

    def node(self, i):
        """cluster.json entry of node i (1-based)."""
        return self.info["nodes"][i - 1]

    def node_url(self, i):
        return self.node(i)["url"]

    def url(self, node=None):
        return self.gateway if node is None else self.node_url(node)

    def pids(self):
        """Every pid cluster.json names (the shared broker is not the cluster's)."""
        i = self.info
        pids = [i["gateway"]["pid"]] + [n["pid"] for n in i["nodes"]] + [n["redis"]["pid"] for n in i["nodes"]]
        if not i["kafka"].get("external"):
            pids.append(i["kafka"]["pid"])
        return pids

    # --- HTTP ------------------------------------------------------------------
    def get(self, path, node=None, timeout=5, **kw):
        return self.http.get(self.url(node) + path, timeout=timeout, **kw)

    def put(self, path, data, node=None, timeout=30, **kw):
        return self.http.put(self.url(node) + path, data=data, timeout=timeout, **kw)

    def cluster_view(self, node=None):
        """GET /v1/cluster as {node id: entry}."""
        r = self.get("/v1/cluster", node=node)
        r.raise_for_status()
        return {n["id"]: n for n in r.json()["nodes"]}

    def haproxy_status(self):
        """{server name: HAProxy status (UP, DOWN, ...)} from the stats page."""
        r = self.http.get(self.stats_url + ";csv", timeout=5)
        r.raise_for_status()
        lines = r.text.splitlines()
        header = lines[0].lstrip("# ").split(",")
        px, sv, st = header.index("pxname"), header.index("svname"), header.index("status")
        out = {}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > st and f[px] == "nodes" and f[sv] not in ("BACKEND", "FRONTEND"):
                out[f[sv]] = f[st].split(" ")[0]
        return out

    def log_tails(self, lines=40):
        if not self.info:
            with contextlib.suppress(OSError, ValueError):
                self.reload()
        if not self.info:
            return f"(no cluster.json in {self.dir})"
        parts = []
        for n in self.info["nodes"]:
            parts.append(f"--- {n['id']}: {n['log']} ---\n{tail(n['log'], lines)}")
        g = self.info.get("gateway")
        if g:
            parts.append(f"--- haproxy: {g['log']} ---\n{tail(g['log'], 10)}")
        return "\n".join(parts)


class ClusterFactory:
    def __init__(self, tmp_path_factory, kafka):
        self._tmp = tmp_path_factory
        self._kafka = kafka
        self.clusters = []

    def __call__(self, nodes=3, node_args=(), own_kafka=False):
        """Starts a cluster (waits until every node is ready) and returns it."""
        if not NODE_BIN.exists():
            pytest.fail(f"{NODE_BIN} is not built; run `make build` (or set KDFS_NODE_BIN)")
        c = Cluster(self._tmp.mktemp("c"), nodes=nodes, kafka=None if own_kafka else self._kafka,
                    node_args=node_args)
        self.clusters.append(c)
        _LIVE.append(c)
        return c.up()

    def close(self):
        for c in self.clusters:
            c.down()
            with contextlib.suppress(ValueError):
                _LIVE.remove(c)


# ----------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def kafka(tmp_path_factory):
    """Bootstrap address of the one Kafka broker the run's clusters share."""
    if os.environ.get("KDFS_TEST_KAFKA"):
        yield os.environ["KDFS_TEST_KAFKA"]
        return
    d = tmp_path_factory.mktemp("kafka")
    port = PORTS.reserve(2)
    try:
        p = run_tool("kafka-up", "--dir", d, "--port", port, "--timeout", 90)
        yield p.stdout.strip().splitlines()[-1]
    finally:
        run_tool("down", "--dir", d, check=False)
        PORTS.release(port)


@pytest.fixture
def make_cluster(tmp_path_factory, kafka):
    """Factory: make_cluster(nodes=3, node_args=(), own_kafka=False) -> Cluster.

    Every cluster it made is brought down when the test ends.
    """
    f = ClusterFactory(tmp_path_factory, kafka)
    yield f
    f.close()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory, kafka):
    """One 3-node cluster for the tests of a module that leave it as they found it."""
    f = ClusterFactory(tmp_path_factory, kafka)
    try:
        yield f()
    finally:
        f.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for c in list(_LIVE):
            rep.sections.append((f"kdfs cluster logs ({c.dir})", c.log_tails()))
