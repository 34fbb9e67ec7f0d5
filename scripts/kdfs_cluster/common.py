"""What every part of the cluster tool shares: paths, the loopback host,
the user-facing error and how the tool speaks."""

import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
HAPROXY_TEMPLATE = REPO / "deploy" / "haproxy" / "haproxy.cfg.tmpl"
KAFKA_LOG4J = REPO / "scripts" / "kafka" / "log4j2.properties"
DEFAULT_DIR = REPO / ".cluster"
DEFAULT_NODE_BIN = REPO / "build" / "src" / "node" / "kdfs-node"
DEFAULT_KAFKA_LIB = REPO / ".cache" / "kafka" / "lib"
HOST = "127.0.0.1"
STATE_FILE = "cluster.json"


class Fail(Exception):
    """A user-facing error: printed without a traceback, exit code 1."""


def say(msg):
    print(f"cluster: {msg}", file=sys.stderr, flush=True)


def run(*argv, check=True):
    """Runs a command quietly; raises Fail with its output when it fails (unless check=False)."""
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise Fail(f"{' '.join(map(str, argv))}: {r.stderr.strip() or r.stdout.strip()}")
    return r
