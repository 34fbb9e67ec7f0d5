"""Writes a campaign's report folder and prints its one-line summary."""

import collections
import json
from pathlib import Path


def summary_line(s):
    return (f"chaos: ops={s['ops']} faults={s['faults']} acked={s['acked']} lost={s['lost']} "
            f"divergent={s['divergent']} linearizable={s['linearizable']}")


def write_gaps(history):
    """(longest stretch in seconds without any acknowledged write, share of
    5-second windows with at least one) over the run: availability, not safety."""
    acks = sorted(o["ret"] for o in history.ops
                  if o["kind"] in ("put", "delete", "publish") and o["status"] == "ok")
    calls = [o["call"] for o in history.ops]
    if not acks or not calls:
        return None, 0.0
    start, end = min(calls), max(o["ret"] or o["call"] for o in history.ops)
    points = [start] + acks + [end]
    longest = max(b - a for a, b in zip(points, points[1:])) / 1e9
    windows = max(1, int((end - start) / 5e9))
    with_acks = len({int((t - start) / 5e9) for t in acks if t < start + windows * 5e9})
    return round(longest, 1), round(with_acks / windows, 3)


def fault_failed(f):
    """True if a fault's apply or heal command failed (both are recorded in faults.json)."""
    return bool(f.get("apply", {}).get("rc") or (f.get("heal") or {}).get("rc"))


def checked_ops(ops):
    """The operations on checked keys (a publish's temporary PUT is part of it)."""
    return [o for o in ops if o["kind"] in ("get", "put", "delete", "publish")]


def progress_line(elapsed, duration, history, faults):
    """One line of progress for a running campaign (read while threads append)."""
    ops = checked_ops(list(history.ops))
    writes = [o for o in ops if o["kind"] != "get"]
    return (f"campaign: {elapsed:.0f}/{duration:g} s ops={len(ops)} "
            f"acked={sum(1 for o in writes if o['status'] == 'ok')} "
            f"unknown={sum(1 for o in writes if o['status'] == 'unknown')} "
            f"faults={len(faults)} fault_errors={sum(1 for f in list(faults) if fault_failed(f))}")


def summarize(history, faults, results):
    ops = checked_ops(history.ops)
    writes = [o for o in ops if o["kind"] != "get"]
    by_status = collections.Counter(f"{o['kind']}:{o['status']}" for o in history.ops)
    lin = results["linearizability"]["verdict"]
    gap, avail = write_gaps(history)
    return {
        "ops": len(ops),
        "faults": len(faults),
        "faults_by_kind": dict(collections.Counter(f["kind"] for f in faults)),
        "fault_errors": sum(1 for f in faults if fault_failed(f)),
        "acked": sum(1 for o in writes if o["status"] == "ok"),
        "unknown": sum(1 for o in writes if o["status"] == "unknown"),
        "ops_by_status": dict(sorted(by_status.items())),
        "lost": sum(len(lost) for _, _, lost in results["lost"]),
        "lost_paths": len(results["lost"]),
        "bad_reads": len(results["bad_reads"]),
        "divergent": len(results["divergent"]),
        "linearizable": lin,
        "settled": results["settled"],
        "harness_errors": by_status.get("error:None", 0),
        "longest_write_gap_s": gap,
        "windows_with_acked_writes": avail,
    }


def passed(s):
    # A fault that could not be applied or healed (e.g. a restarted node that
    # never became ready) fails the campaign too.
    return (s["lost"] == 0 and s["divergent"] == 0 and s["bad_reads"] == 0
            and s["linearizable"] == "yes" and s["settled"] and s["harness_errors"] == 0
            and s["fault_errors"] == 0)


def write_report(out, history, faults, results):
    out = Path(out)
    s = summarize(history, faults, results)
    history.save(out / "history.jsonl")
    (out / "faults.json").write_text(json.dumps(faults, indent=1))
    detail = {k: v for k, v in results.items() if k not in ("bad_reads", "lost")}
    detail["bad_reads"] = [{"read": o, "why": why} for o, why in results["bad_reads"][:50]]
    detail["lost"] = [{"path": k, "final": v, "lost_acked_writes": lost[:20]}
                      for k, v, lost in results["lost"]]
    (out / "summary.json").write_text(json.dumps({"summary": s, "detail": detail}, indent=1))
    lines = [f"# chaos campaign, seed {results['seed']}, {results['duration_s']:g} s",
             "", f"verdict: {'PASS' if passed(s) else 'FAIL'}", "",
             "| figure | value |", "|---|---|"]
    for k in ("ops", "acked", "unknown", "faults", "fault_errors", "lost", "lost_paths",
              "bad_reads", "divergent", "linearizable", "settled", "harness_errors",
              "longest_write_gap_s", "windows_with_acked_writes"):
        lines.append(f"| {k} | {s[k]} |")
    lines += ["", "faults by kind: " + ", ".join(f"{k}={v}" for k, v in
                                                 sorted(s["faults_by_kind"].items())),
              "", "operations by status: " + ", ".join(f"{k}={v}" for k, v in
                                                      s["ops_by_status"].items()),
              "", f"wall time {results['wall_s']} s; files: history.jsonl (every operation), "
              "faults.json, summary.json, porcupine-input.json / porcupine-output.json, "
              "linearizability-viz/ (only for failing paths), logs/", "", summary_line(s)]
    for f in faults:
        for step in ("apply", "heal"):
            if (f.get(step) or {}).get("rc"):
                lines.insert(-1, f"fault {f['kind']} node {f['node']}: `{f[step]['cmd']}` "
                             f"exited {f[step]['rc']}: {f[step]['out'][-200:]}\n")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[2:-1]))
    print(summary_line(s), flush=True)
    return passed(s)
