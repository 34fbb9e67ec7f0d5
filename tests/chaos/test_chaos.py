"""The checkers catch what they claim, on real clusters: the same short
campaign (no faults) passes against a correct node and fails against one
started with the test-only --unsafe-ack-before-apply (which acknowledges a
write as soon as it is proposed, before it is sequenced and applied)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
NODE_BIN = os.environ.get("KDFS_NODE_BIN")
SUMMARY = re.compile(r"^chaos: ops=(\d+) faults=(\d+) acked=(\d+) lost=(\d+) divergent=(\d+) "
                     r"linearizable=(yes|no|unknown)$")

pytestmark = pytest.mark.skipif(not NODE_BIN, reason="KDFS_NODE_BIN not set")


def campaign(tmp_path, lincheck, seed, *extra):
    r = subprocess.run(
        [sys.executable, str(HERE / "campaign.py"), "--duration", "25", "--seed", str(seed),
         "--faults", "none", "--clients", "12", "--out", str(tmp_path / "report"),
         "--node-bin", NODE_BIN, "--lincheck", str(lincheck), *extra],
        capture_output=True, text=True, timeout=600)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    m = SUMMARY.match(last)
    assert m, f"no summary line; stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    ops, faults, acked, lost, divergent = map(int, m.groups()[:5])
    return r.returncode, dict(ops=ops, faults=faults, acked=acked, lost=lost,
                              divergent=divergent, linearizable=m.group(6)), r.stdout


def test_correct_node_passes_the_checkers(tmp_path, lincheck):
    rc, s, out = campaign(tmp_path, lincheck, 11)
    assert s["acked"] > 100, out
    assert (rc, s["lost"], s["divergent"], s["linearizable"]) == (0, 0, 0, "yes"), out


def test_ack_before_apply_is_caught(tmp_path, lincheck):
    rc, s, out = campaign(tmp_path, lincheck, 11, "--node-arg=--unsafe-ack-before-apply")
    assert s["acked"] > 100, out
    assert rc != 0, out
    assert s["lost"] > 0 or s["linearizable"] == "no", out
