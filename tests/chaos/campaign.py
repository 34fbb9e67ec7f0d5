#!/usr/bin/env python3
"""Runs one chaos campaign against a fresh local cluster and writes a report.

  campaign.py --duration S --seed N --out DIR [--faults all|none|k1,k2] [--clients C]
              [--node-bin PATH] [--lincheck PATH] [--port P] [--node-arg=--flag]...
              [--progress-s S]

Starts a 3-node cluster (its own Kafka; `--isolate` when a fault needs it),
runs the workload and the nemesis for S seconds, heals every fault, lets the
cluster settle, reads the final state from every node, runs the checkers and
writes DIR/{history.jsonl,faults.json,summary.json,report.md,...}. While it
runs it prints a progress line every --progress-s seconds. The last line
printed is

  chaos: ops=N faults=N acked=N lost=N divergent=N linearizable=yes|no

Exit status 0 only if nothing was lost, no node diverged, every read was of
bytes some write wrote, and the history is linearizable.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import checkers  # noqa: E402
from history import History  # noqa: E402
from nemesis import KINDS, NEEDS_ISOLATION, Nemesis, cluster, node_status  # noqa: E402
from report import progress_line, write_report  # noqa: E402
from portblocks import PORTS  # noqa: E402
from workload import KEYS, Workload, decode, request  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--faults", default="all")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--port", type=int, default=None, help="gateway port (default: a free block, locked like the test suite's)")
    p.add_argument("--node-bin", default=os.environ.get("KDFS_NODE_BIN",
                                                        str(REPO / "build/src/node/kdfs-node")))
    p.add_argument("--lincheck", default=os.environ.get("KDFS_LINCHECK_BIN"))
    p.add_argument("--node-arg", action="append", default=[])
    p.add_argument("--settle-timeout", type=float, default=180)
    p.add_argument("--keep", action="store_true", help="leave the cluster running")
    p.add_argument("--progress-s", type=float, default=60,
                   help="print a progress line (ops, acked, faults, fault errors) this often")
    a = p.parse_args(argv)
    a.kinds = KINDS if a.faults == "all" else () if a.faults == "none" else \
        tuple(k.strip() for k in a.faults.split(",") if k.strip())
    unknown = set(a.kinds) - set(KINDS)
    if unknown:
        p.error(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    if a.port is None:
        a.port = PORTS.reserve(12)  # held until the campaign exits
    return a


def build_lincheck(out):
    """Builds the Porcupine checker with the Go toolchain into out/."""
    exe = Path(out) / "lincheck"
    src = Path(__file__).resolve().parent / "linearizability"
    subprocess.run(["go", "build", "-o", str(exe), "."], cwd=src, check=True)
    return exe


def wait_settled(state, deadline):
    """Waits until every node is ready and all report the same applied offset
    at (or past) the log end; returns {node id: status} (the last seen)."""
    last = {}
    while time.monotonic() < deadline:
        last = {n["id"]: node_status(n["url"], timeout=3) for n in state["nodes"]}
        sts = list(last.values())
        if all(s and s.get("ready") for s in sts):
            applied = {s["applied_offset"] for s in sts}
            if len(applied) == 1 and all(s["applied_offset"] >= s["log_end_offset"] - 1 for s in sts):
                time.sleep(1)  # then confirm nothing moved
                again = {n["id"]: node_status(n["url"], timeout=3) for n in state["nodes"]}
                if all(a and a.get("applied_offset") == s["applied_offset"]
                       for a, s in zip(again.values(), sts)):
                    return again, True
        time.sleep(0.5)
    return last, False


def final_states(state, keys, statuses):
    """{node id: {applied, digest, files: {key: token, "" absent, None unreadable}}}."""
    out = {}
    for n in state["nodes"]:
        st = statuses.get(n["id"]) or {}
        files = {}
        for key in keys:
            try:
                code, _, body = request(n["url"], "GET", "/v1/files" + key,
                                        headers={"X-Kdfs-Consistency": "strong"}, timeout=15)
                files[key] = "" if code == 404 else decode(body) if code == 200 else f"<{code}>"
            except OSError as e:
                files[key] = f"<{e}>"
        out[n["id"]] = {"applied": st.get("applied_offset"), "digest": st.get("digest"),
                        "files": files}
    return out


def main(argv):
    a = parse(argv)
    out = Path(a.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cdir = out / "cluster"
    lincheck = a.lincheck or build_lincheck(out)
    isolate = any(k in NEEDS_ISOLATION for k in a.kinds)
    if isolate and os.geteuid() != 0:
        print("campaign: partition/delay/skew/disk-full need root; leaving them out", flush=True)
        a.kinds = tuple(k for k in a.kinds if k not in NEEDS_ISOLATION)
        isolate = False
    up = ["up", "--port", a.port, "--nodes", 3, "--node-bin", a.node_bin,
          "--node-arg=--request-timeout-ms=8000", *[f"--node-arg={x}" for x in a.node_arg]]
    if isolate:
        up.append("--isolate")
    t0 = time.time()
    rc, text = cluster(cdir, *up, timeout=300)
    if rc != 0:
        print(text)
        cluster(cdir, "down", "--purge")
        raise SystemExit("campaign: the cluster did not start")
    state = json.loads((cdir / "cluster.json").read_text())
    endpoints = [("gateway", state["gateway"]["url"])] + [(n["id"], n["url"]) for n in state["nodes"]]
    history, faults = History(), []
    workload = Workload(history, endpoints, a.seed, clients=a.clients)
    nemesis = Nemesis(cdir, a.seed, a.kinds, faults)
    try:
        print(f"campaign: seed {a.seed}, {a.duration:g}s, {a.clients} clients, faults: "
              f"{', '.join(a.kinds) or 'none'}; cluster in {cdir}", flush=True)
        workload.start()
        nemesis.start()
        begin = time.monotonic()
        end, next_progress = begin + a.duration, begin + a.progress_s
        while time.monotonic() < end:
            time.sleep(min(5, max(0, end - time.monotonic())))
            if not any(t.is_alive() for t in workload.threads):
                break
            if time.monotonic() >= next_progress:
                next_progress += a.progress_s
                print(progress_line(time.monotonic() - begin, a.duration, history, faults),
                      flush=True)
        nemesis.finish()
        workload.finish()
        heal = nemesis.heal_all()
        statuses, settled = wait_settled(state, time.monotonic() + a.settle_timeout)
        nodes = final_states(state, KEYS, statuses)
        first = state["nodes"][0]["id"]
        final = nodes[first]["files"]
        results = {
            "seed": a.seed, "duration_s": a.duration, "clients": a.clients, "kinds": list(a.kinds),
            "settled": settled, "heal_failures": [t for rc, t in heal if rc != 0][-5:],
            "bad_reads": checkers.check_reads(history),
            "lost": checkers.check_lost(history, final),
            "divergent": checkers.check_convergence(nodes) if settled else
            [n for n in nodes],
            "linearizability": checkers.check_linearizable(history, lincheck, out),
            "nodes": nodes, "wall_s": round(time.time() - t0, 1),
        }
    finally:
        if not a.keep:
            logs = out / "logs"
            logs.mkdir(exist_ok=True)
            for p in cdir.glob("node*/node.log"):
                shutil.copy(p, logs / f"{p.parent.name}.log")
            for p in cdir.glob("node*/redis/redis.log"):
                shutil.copy(p, logs / f"{p.parent.parent.name}-redis.log")
            # The broker's own log: its restarts dominate the write gaps.
            for p in cdir.glob("kafka/logs/server.log"):
                shutil.copy(p, logs / "kafka.log")
            cluster(cdir, "down", "--purge")
    ok = write_report(out, history, faults, results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
