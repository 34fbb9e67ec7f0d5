"""scripts/with-kafka: the one broker `make test` gives the unit and pytest suites."""

import os
import re
import subprocess
import sys

from conftest import REPO

WITH_KAFKA = REPO / "scripts" / "with-kafka"

# Run under with-kafka: connects to KDFS_TEST_KAFKA, prints it, exits 7.
PROBE = (
    "import os, socket, sys\n"
    "host, port = os.environ['KDFS_TEST_KAFKA'].rsplit(':', 1)\n"
    "socket.create_connection((host, int(port)), timeout=5).close()\n"
    "print('probe:', os.environ['KDFS_TEST_KAFKA'])\n"
    "sys.exit(7)\n"
)


def run(env, *cmd):
    return subprocess.run([sys.executable, str(WITH_KAFKA), *cmd], env=env, capture_output=True,
                          text=True, timeout=240, stdin=subprocess.DEVNULL)


def listening(port):
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
    return bool(out.strip())


def test_starts_a_broker_for_the_command_and_stops_it_after():
    env = {k: v for k, v in os.environ.items() if k != "KDFS_TEST_KAFKA"}
    p = run(env, sys.executable, "-c", PROBE)
    assert p.returncode == 7, p.stderr  # the command's own status
    m = re.search(r"^probe: (\S+):(\d+)$", p.stdout, re.M)
    assert m, p.stdout + p.stderr
    assert not listening(int(m.group(2))), "the broker outlived the command"
    d = re.search(r"starting a broker on port \d+ in (\S+)", p.stderr).group(1)
    assert not os.path.exists(d)


def test_a_named_broker_is_used_and_none_is_started(kafka):
    p = run({**os.environ, "KDFS_TEST_KAFKA": kafka}, sys.executable, "-c", PROBE)
    assert p.returncode == 7, p.stderr
    assert f"probe: {kafka}" in p.stdout
    assert "starting a broker" not in p.stderr
