"""The nemesis: injects faults into a cluster through scripts/cluster.

Kinds (each is applied, held for a while, then healed):
  kill-leader / kill-follower   SIGKILL the node, later start it again
  pause-leader                  SIGSTOP the leader (a zombie leader), later SIGCONT
  kill-redis                    SIGKILL a node's redis-server, later restart it
  kafka-restart                 stop the broker (SIGTERM or SIGKILL), later start it
  partition                     cut a node off from Kafka and its peers, later heal
  delay                         slow a node's links, later heal
  skew                          shift a node's wall clock by minutes, later reset
  disk-full                     fill a node's data disk, later free it
The first len(KINDS) faults follow KINDS in order (the schedule: every kind
at least once); after that each fault is drawn from a seeded RNG.
"""

import json
import random
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "scripts" / "cluster"
KINDS = ("kill-leader", "pause-leader", "kill-redis", "kafka-restart", "partition",
         "kill-follower", "delay", "skew", "disk-full")
NEEDS_ISOLATION = ("partition", "delay", "skew", "disk-full")


def cluster(dir_, *args, timeout=180):
    """Runs scripts/cluster; returns (rc, output)."""
    try:
        r = subprocess.run([sys.executable, str(CLUSTER), *map(str, args), "--dir", str(dir_)],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout}s"
    return r.returncode, (r.stdout + r.stderr).strip()


def node_status(url, timeout=1.0):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/internal/status", timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


class Nemesis:
    def __init__(self, dir_, seed, kinds, log, gap=(2.0, 6.0), hold=(5.0, 12.0)):
        self.dir = Path(dir_)
        self.rng = random.Random(f"nemesis-{seed}")
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.log = log  # list of fault records
        self.gap, self.hold = gap, hold
        self.stop = threading.Event()
        self.thread = None

    def state(self):
        return json.loads((self.dir / "cluster.json").read_text())

    def leader(self):
        for n in self.state()["nodes"]:
            st = node_status(n["url"])
            if st and st.get("role") == "leader":
                return n["index"]
        return None

    def start(self):
        if self.kinds:
            self.thread = threading.Thread(target=self._run, name="nemesis", daemon=True)
            self.thread.start()

    def finish(self):
        self.stop.set()
        if self.thread:
            self.thread.join()

    def _run(self):
        count = 0
        while not self.stop.wait(self.rng.uniform(*self.gap)):
            kind = self.kinds[count] if count < len(self.kinds) else self.rng.choice(self.kinds)
            count += 1
            self.inject(kind, self.rng.uniform(*self.hold))

    def _pick(self, kind):
        n_nodes = len(self.state()["nodes"])
        leader = self.leader()
        if kind.endswith("leader"):
            return leader or self.rng.randint(1, n_nodes)
        if kind == "kill-follower":
            return self.rng.choice([i for i in range(1, n_nodes + 1) if i != leader] or [1])
        return self.rng.randint(1, n_nodes)

    def inject(self, kind, hold):
        node = None if kind == "kafka-restart" else self._pick(kind)
        rec = {"kind": kind, "node": node, "start": time.time(), "hold_s": round(hold, 1)}
        apply, heal = self._actions(kind, node)
        rc, out = cluster(self.dir, *apply)
        rec["apply"] = {"cmd": " ".join(apply), "rc": rc, "out": out[-400:]}
        self.log.append(rec)
        self.stop.wait(hold)
        rc, out = cluster(self.dir, *heal)
        rec["heal"] = {"cmd": " ".join(heal), "rc": rc, "out": out[-400:]}
        rec["end"] = time.time()

    def _actions(self, kind, node):
        n = str(node)
        if kind in ("kill-leader", "kill-follower"):
            return ["kill-node", n], ["start-node", n, "--timeout", "90"]
        if kind == "pause-leader":
            return ["pause-node", n], ["resume-node", n]
        if kind == "kill-redis":
            return ["kill-redis", n], ["start-redis", n, "--timeout", "30"]
        if kind == "kafka-restart":
            return (["kafka-stop", "--kill"] if self.rng.random() < 0.5 else ["kafka-stop"]), \
                ["kafka-start", "--timeout", "120"]
        if kind == "partition":
            return ["partition-node", n], ["heal-node", n]
        if kind == "delay":
            return ["delay-node", n, str(self.rng.choice((50, 100, 200)))], ["delay-node", n, "0"]
        if kind == "skew":
            return ["skew-node", n, str(self.rng.choice((-1, 1)) * self.rng.randint(30, 600))], \
                ["skew-node", n, "0"]
        if kind == "disk-full":
            return ["fill-disk", n], ["free-disk", n]
        raise ValueError(kind)

    def heal_all(self):
        """Undoes every fault, whatever state the campaign stopped in."""
        s = self.state()
        out = []
        for n in s["nodes"]:
            i = str(n["index"])
            if n.get("netns"):
                out += [cluster(self.dir, "heal-node", i), cluster(self.dir, "delay-node", i, "0"),
                        cluster(self.dir, "skew-node", i, "0"), cluster(self.dir, "free-disk", i)]
            out.append(cluster(self.dir, "resume-node", i))
        if not s["kafka"].get("external"):
            out.append(cluster(self.dir, "kafka-start", "--timeout", "120"))
        for n in s["nodes"]:
            out.append(cluster(self.dir, "start-redis", str(n["index"]), "--timeout", "30"))
        for n in s["nodes"]:
            out.append(cluster(self.dir, "start-node", str(n["index"]), "--timeout", "120"))
        return out
