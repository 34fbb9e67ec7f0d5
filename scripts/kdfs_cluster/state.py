"""A cluster's state: DIR/cluster.json, written atomically after every
change, and the lock that serializes the commands changing one dir."""

import contextlib
import fcntl
import json
import os
import re
import secrets
from pathlib import Path

from .common import DEFAULT_NODE_BIN, Fail, HOST, STATE_FILE
from .isolation import isolate_state, isolated_net
from .procs import proc_alive, reap, write_pidfile


class Cluster:
    def __init__(self, d):
        self.dir = Path(d).resolve()
        self.path = self.dir / STATE_FILE
        self.s = json.loads(self.path.read_text()) if self.path.exists() else None

    def exists(self):
        return self.s is not None

    def require(self):
        if not self.s:
            raise Fail(f"no cluster in {self.dir} (no {STATE_FILE}); run `up` first")
        return self.s

    def save(self):
        reap()
        for _, e in self.entries():
            if not proc_alive(e):
                e["pid"] = e["start_time"] = None  # pids are null when stopped
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.s, indent=2) + "\n")
        os.replace(tmp, self.path)
        for name, e in self.entries():
            write_pidfile(self.dir, name, e)

    def entries(self):
        """(name, process entry) of every process the cluster may own."""
        s = self.s
        out = []
        if s.get("gateway"):
            out.append(("haproxy", s["gateway"]))
        for n in s["nodes"]:
            out.append((n["id"], n))
            out.append((f"{n['id']}-redis", n["redis"]))
        if s["kafka"] and not s["kafka"].get("external"):
            out.append(("kafka", s["kafka"]))
        return out

    def node(self, which):
        nodes = self.require()["nodes"]
        for n in nodes:
            if which in (n["id"], str(n["index"])):
                return n
        raise Fail(f"no node {which!r}; nodes are 1..{len(nodes)} ({', '.join(n['id'] for n in nodes)})")


@contextlib.contextmanager
def locked(d):
    """Serializes commands that change one cluster dir."""
    Path(d).mkdir(parents=True, exist_ok=True)
    with open(Path(d) / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def default_prefix(d):
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", Path(d).name).strip("-")[:24] or "cluster"
    return f"kdfs-{slug}-{secrets.token_hex(3)}"


def new_state(args, d, standalone_kafka=False):
    port = args.port if args.port is not None else 8080
    n = 0 if standalone_kafka else (args.nodes if args.nodes is not None else 3)
    if n < 0 or port < 1 or port + 2 * n + 3 > 65535:
        raise Fail("bad --port/--nodes")
    net = isolated_net(port) if getattr(args, "isolate", False) else None
    if standalone_kafka:
        kafka = {"bootstrap": f"{HOST}:{port}", "port": port, "controller_port": port + 1}
    elif args.kafka:
        kafka = {"bootstrap": args.kafka, "external": True}
    else:
        kp = port + 2 * n + 1
        kafka = {"bootstrap": f"{net['kafka'] if net else HOST}:{kp}", "port": kp,
                 "controller_port": kp + 1, "host": net["kafka"] if net else HOST}
    if not kafka.get("external"):
        kd = d / "kafka"
        kafka.update(
            {"external": False, "dir": str(kd), "log": str(kd / "kafka.out"),
             "server_log": str(kd / "logs" / "server.log"), "cluster_id": None})
    kafka.update({"pid": None, "start_time": None})
    state = {
        "dir": str(d),
        "port": port,
        "topic_prefix": args.topic_prefix or default_prefix(d),
        "kafka": kafka,
        "gateway": None,
        "nodes": [],
        "node_bin": str(Path(args.node_bin or DEFAULT_NODE_BIN).resolve()),
        "node_args": args.node_arg or [],
    }
    if standalone_kafka:
        state["topic_prefix"] = None
        return state
    state["gateway"] = {
        "url": f"http://{HOST}:{port}", "port": port, "pid": None, "start_time": None,
        "stats_url": f"http://{HOST}:{port + 2 * n + 3}/", "stats_port": port + 2 * n + 3,
        "config": str(d / "haproxy" / "haproxy.cfg"), "log": str(d / "haproxy" / "haproxy.log")}
    for i in range(1, n + 1):
        nd = d / f"node{i}"
        state["nodes"].append({
            "id": f"node-{i}", "index": i, "url": f"http://{HOST}:{port + i}", "port": port + i,
            "pid": None, "start_time": None, "data_dir": str(nd / "data"),
            "log": str(nd / "node.log"),
            "redis": {"port": port + n + i, "pid": None, "start_time": None,
                      "dir": str(nd / "redis"), "log": str(nd / "redis" / "redis.log")}})
    if net:
        isolate_state(state, net)
    return state


def check_compatible(args, s):
    """Options given to `up` on an existing dir must agree with it."""
    if args.port is not None and args.port != s["port"]:
        raise Fail(f"{s['dir']} holds a cluster on --port {s['port']}; "
                   "use that, or `down --purge` to start over")
    if args.nodes is not None and args.nodes != len(s["nodes"]):
        raise Fail(f"{s['dir']} holds a {len(s['nodes'])}-node cluster; `down --purge` to resize")
    if args.topic_prefix and args.topic_prefix != s["topic_prefix"]:
        raise Fail(f"{s['dir']} uses topic prefix {s['topic_prefix']}")
    external = s["kafka"].get("external")
    if args.kafka and not external:
        raise Fail(f"{s['dir']} runs its own Kafka; `down --purge` to use --kafka")
    if external and args.kafka:
        s["kafka"]["bootstrap"] = args.kafka
    if args.node_bin:
        s["node_bin"] = str(Path(args.node_bin).resolve())
    if args.node_arg is not None:
        s["node_args"] = args.node_arg


def with_cluster(args, fn, wait=None):
    """Runs fn(c) under the cluster's lock, then wait(c) after releasing it.

    Waiting (for a process to answer or become ready) never holds the lock:
    a node waiting for Kafka must not keep `kafka-start` from running, which
    is what a chaos campaign does when two faults overlap."""
    d = Path(args.dir).resolve()
    c = Cluster(d)
    c.require()
    with locked(d):
        c = Cluster(d)  # re-read under the lock
        rc = fn(c)
        c.save()
    if wait is not None:
        wait(c)
    return rc


def used_ports(s):
    ports = {s["port"], s["kafka"].get("port"), s["kafka"].get("controller_port")}
    if s["gateway"]:
        ports.add(s["gateway"]["stats_port"])
    for n in s["nodes"]:
        ports.update((n["port"], n["redis"]["port"]))
    return ports
