"""Blocks of free loopback ports, locked across processes.

Every harness that starts clusters on this machine (the pytest suites, the
chaos campaign, make bench) takes its ports here, so that concurrent runs
never pick the same ones. A block of SIZE ports is locked with a file lock in
the temp dir for as long as the holder keeps it (at the latest until the
process exits). Blocks lie below the kernel's ephemeral range, so outgoing
connections do not take them.
"""

import fcntl
import random
import socket
import tempfile
from pathlib import Path

SIZE = 64
LOW, HIGH = 20000, 32000


def port_free(port, host="127.0.0.1"):
    """True if `port` can be bound on `host` now (SO_REUSEADDR, as servers do)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class PortBlocks:
    """Hands out blocks; reserve(width) returns a base with `width` free ports above it."""

    def __init__(self):
        self._held = {}

    def reserve(self, width=SIZE):
        assert width <= SIZE
        bases = list(range(LOW, HIGH, SIZE))
        random.shuffle(bases)
        for base in bases:
            f = open(Path(tempfile.gettempdir()) / f"kdfs-test-ports-{base}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            if all(port_free(p) for p in range(base, base + width)):
                self._held[base] = f
                return base
            f.close()
        raise RuntimeError("no free block of loopback ports")

    def release(self, base):
        f = self._held.pop(base, None)
        if f:
            f.close()


# The process's one set of blocks.
PORTS = PortBlocks()
