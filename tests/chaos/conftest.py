"""Fixtures of the chaos tests: the harness modules are importable, and the
Porcupine checker is built once per session (or taken from KDFS_LINCHECK_BIN)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))  # portblocks


@pytest.fixture(scope="session")
def lincheck(tmp_path_factory):
    given = os.environ.get("KDFS_LINCHECK_BIN")
    if given:
        return Path(given)
    exe = tmp_path_factory.mktemp("lincheck") / "lincheck"
    subprocess.run(["go", "build", "-o", str(exe), "."], cwd=HERE / "linearizability", check=True)
    return exe
