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
at least once); after that each fault is drawn from a seeded RNG, and 30% of
the time a second fault on another node (or Kafka) overlaps it.
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

# Heal budgets (seconds). A restarted node is ready only once Kafka answers
# and it has caught up, and an overlapping kafka-restart may still be holding
# the broker down or restarting it: a node's budget therefore includes Kafka's.
KAFKA_START_S = 120
NODE_CATCH_UP_S = 90
NODE_START_S = KAFKA_START_S + NODE_CATCH_UP_S
REDIS_START_S = 30


def cluster(dir_, *args, timeout=None):
    """Runs scripts/cluster; returns (rc, output). The process is given 60 s
    more than a `--timeout` among `args` (default: 180 s in all)."""
    if timeout is None:
        a = list(map(str, args))
        timeout = float(a[a.index("--timeout") + 1]) + 60 if "--timeout" in a else 180
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
    def __init__(self, dir_, seed, kinds, log, gap=(2.0, 6.0), hold=(5.0, 12.0), overlap=0.3):
        self.dir = Path(dir_)
        self.rng = random.Random(f"nemesis-{seed}")
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.log = log  # list of fault records
        self.gap, self.hold, self.overlap = gap, hold, overlap
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
            plans = [self.plan(kind)]
            # After the schedule, sometimes a second fault overlaps the first
            # (on another node, or Kafka), starting a little later.
            if count > len(self.kinds) and self.rng.random() < self.overlap:
                busy = {plans[0]["node"]}
                for _ in range(5):
                    other = self.plan(self.rng.choice(self.kinds), exclude=busy)
                    if other:
                        other["delay_s"] = round(self.rng.uniform(0.5, 4.0), 1)
                        plans.append(other)
                        break
            threads = [threading.Thread(target=self.execute, args=(p,), daemon=True)
                       for p in plans if p]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def _pick(self, kind, exclude=()):
        n_nodes = len(self.state()["nodes"])
        if kind == "kafka-restart":
            return None if None in exclude else 0
        leader = self.leader()
        if kind.endswith("leader"):
            choice = [leader] if leader else list(range(1, n_nodes + 1))
        elif kind == "kill-follower":
            choice = [i for i in range(1, n_nodes + 1) if i != leader]
        else:
            choice = list(range(1, n_nodes + 1))
        choice = [i for i in choice if i not in exclude]
        return self.rng.choice(choice) if choice else -1

    def plan(self, kind, exclude=()):
        """Decides target and parameters (RNG draws stay in this thread, so a
        seed replays the same faults); None if no target is left."""
        node = self._pick(kind, exclude)
        if node == -1 or (node == 0 and kind != "kafka-restart"):
            return None
        node = None if kind == "kafka-restart" else node
        apply, heal = self._actions(kind, node)
        return {"kind": kind, "node": node, "hold": self.rng.uniform(*self.hold),
                "apply": apply, "heal": heal, "delay_s": 0}

    def inject(self, kind, hold):
        p = self.plan(kind)
        p["hold"] = hold
        self.execute(p)

    def execute(self, p):
        if p["delay_s"] and self.stop.wait(p["delay_s"]):
            return
        rec = {"kind": p["kind"], "node": p["node"], "start": time.time(),
               "hold_s": round(p["hold"], 1), "overlapping": bool(p["delay_s"])}
        rc, out = cluster(self.dir, *p["apply"])
        rec["apply"] = {"cmd": " ".join(p["apply"]), "rc": rc, "out": out[-400:]}
        self.log.append(rec)
        self.stop.wait(p["hold"])
        rc, out = cluster(self.dir, *p["heal"])
        rec["heal"] = {"cmd": " ".join(p["heal"]), "rc": rc, "out": out[-400:]}
        rec["end"] = time.time()

    def _actions(self, kind, node):
        n = str(node)
        if kind in ("kill-leader", "kill-follower"):
            return ["kill-node", n], ["start-node", n, "--timeout", str(NODE_START_S)]
        if kind == "pause-leader":
            return ["pause-node", n], ["resume-node", n]
        if kind == "kill-redis":
            return ["kill-redis", n], ["start-redis", n, "--timeout", str(REDIS_START_S)]
        if kind == "kafka-restart":
            return (["kafka-stop", "--kill"] if self.rng.random() < 0.5 else ["kafka-stop"]), \
                ["kafka-start", "--timeout", str(KAFKA_START_S)]
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
            out.append(cluster(self.dir, "kafka-start", "--timeout", str(KAFKA_START_S)))
        for n in s["nodes"]:
            out.append(cluster(self.dir, "start-redis", str(n["index"]), "--timeout",
                               str(REDIS_START_S)))
        for n in s["nodes"]:
            out.append(cluster(self.dir, "start-node", str(n["index"]), "--timeout",
                               str(NODE_START_S)))
        return out
