"""Checkers over a chaos history (see history.py for the record format).

* check_reads: every successful read returned bytes that some write of that
  path wrote (a put or publish that was acknowledged or whose outcome is
  unknown, invoked before the read returned), or "absent".
* check_lost: the final state of each path (read after healing and settling)
  comes from a write that no acknowledged write of the path strictly follows
  (one invoked after it completed). Unknown writes never complete, so they
  may be the final state; an older acknowledged write may not.
* check_convergence: all nodes report the same applied offset and state
  digest, and serve identical bytes for every path.
* check_linearizable: strong reads and all writes, per path, as a register,
  by Porcupine (the Go program in linearizability/).
"""

import json
import subprocess
from pathlib import Path

WRITES = ("put", "delete", "publish")


def _writes_of(history, key):
    return [o for o in history.ops if o["key"] == key and o["kind"] in WRITES
            and o["status"] in ("ok", "unknown")]


def check_reads(history):
    """[(read record, why)] for reads that return bytes no write wrote."""
    written = {}
    for o in history.ops:
        if o["kind"] in ("put", "publish") and o["status"] in ("ok", "unknown"):
            written.setdefault((o["key"], o["value"]), []).append(o["call"])
    bad = []
    for o in history.ops:
        if o["kind"] != "get" or o["status"] != "ok" or o["value"] == "":
            continue
        if o["value"] is None:
            bad.append((o, "bytes that are no write's content"))
        elif not any(c <= o["ret"] for c in written.get((o["key"], o["value"]), [])):
            bad.append((o, f"token {o['value']} was never written to {o['key']} before"))
    return bad


def _effect(o):
    """What a write leaves at its path if it takes effect, or None if it cannot tell."""
    if o["kind"] == "put":
        return o["value"]
    if o["kind"] == "delete":
        return ""
    if o["kind"] == "publish":
        return o["value"] if o["status"] == "unknown" or o["found"] else None
    return None


def check_lost(history, final):
    """final: {key: token or "" (absent)}. Returns [(key, final, lost acked write records)]."""
    problems = []
    for key, value in sorted(final.items()):
        writes = _writes_of(history, key)
        acked = [o for o in writes if o["status"] == "ok" and _effect(o) is not None]
        sources = [o for o in writes if _effect(o) == value]
        if value == "" and not sources:
            # Never written at all is the one other way to be absent.
            if not acked:
                continue
            problems.append((key, value, acked))
            continue
        if not sources:
            problems.append((key, value, acked))  # bytes from nowhere: every ack is lost
            continue
        # The latest-finishing source is the most favourable explanation.
        src_end = max(float("inf") if o["status"] == "unknown" else o["ret"] for o in sources)
        lost = [o for o in acked if o["call"] > src_end]
        if lost:
            problems.append((key, value, lost))
    return problems


def check_convergence(node_states):
    """node_states: {node id: {"applied": int, "digest": str, "files": {key: token}}}.
    Returns the ids of nodes that differ from the most common state."""
    def sig(s):
        return json.dumps([s.get("applied"), s.get("digest"), s.get("files")], sort_keys=True)
    counts = {}
    for s in node_states.values():
        counts[sig(s)] = counts.get(sig(s), 0) + 1
    if not counts:
        return []
    majority = max(counts, key=counts.get)
    return sorted(n for n, s in node_states.items() if sig(s) != majority)


def porcupine_input(history):
    """The Go checker's input: strong reads and every write with a known or unknown outcome."""
    ops = []
    end = max([o["ret"] or o["call"] for o in history.ops] + [0]) + 1
    for o in history.ops:
        if o["kind"] == "get":
            if o["consistency"] != "strong" or o["status"] != "ok" or o["value"] is None:
                continue
        elif o["kind"] not in WRITES or o["status"] not in ("ok", "unknown"):
            continue
        unknown = o["status"] == "unknown"
        ops.append({"client": o["client"], "key": o["key"], "kind": o["kind"],
                    "value": o["value"] or "", "found": bool(o["found"]), "unknown": unknown,
                    "call": o["call"], "return": end + o["id"] if unknown else o["ret"]})
    return {"operations": ops}


def check_linearizable(history, checker_bin, workdir, timeout_s=120):
    """Runs the Porcupine checker; returns its JSON answer (verdict yes, no or unknown)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    inp = workdir / "porcupine-input.json"
    inp.write_text(json.dumps(porcupine_input(history)))
    r = subprocess.run([str(checker_bin), "-timeout", f"{timeout_s}s", "-viz",
                        str(workdir / "linearizability-viz"), str(inp)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"linearizability checker failed: {r.stderr}")
    (workdir / "porcupine-output.json").write_text(r.stdout)
    return json.loads(r.stdout)
