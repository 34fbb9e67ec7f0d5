"""End-to-end tests of the `kdfs` command-line client against a real cluster.

Each test runs the binary (KDFS_CLI_BIN, default build/src/cli/kdfs) with its
own config and state directories, so nothing leaks from the user's home.
"""

import hashlib
import json
import os
import pty
import random
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

CLI_BIN = Path(os.environ.get("KDFS_CLI_BIN") or REPO / "build" / "src" / "cli" / "kdfs")
SUBCOMMANDS = ["put", "get", "cat", "ls", "rm", "mv", "mkdir", "stat", "cluster", "bench"]


class Cli:
    def __init__(self, home, url=None):
        self.env = {k: v for k, v in os.environ.items() if k not in ("KDFS_URL", "HOME")}
        self.env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"),
                        HOME=str(home))
        if url:
            self.env["KDFS_URL"] = url
        self.state_file = home / "state" / "kdfs" / "versions.json"
        self.config_file = home / "config" / "kdfs" / "config"

    def run(self, *args, stdin=None, check=True, timeout=120, stderr=subprocess.PIPE):
        p = subprocess.run([str(CLI_BIN), *map(str, args)], input=stdin, stdout=subprocess.PIPE,
                           stderr=stderr, env=self.env, timeout=timeout)
        if check and p.returncode != 0:
            pytest.fail(f"kdfs {' '.join(map(str, args))} exited {p.returncode}: {p.stderr!r}")
        return p


@pytest.fixture
def cli(shared_cluster, tmp_path):
    if not CLI_BIN.exists():
        pytest.fail(f"{CLI_BIN} is not built (set KDFS_CLI_BIN)")
    return Cli(tmp_path / "home", shared_cluster.gateway)


def unique(name):
    return f"/cli-{name}-{random.getrandbits(32):08x}"


def tree_hashes(root):
    """{relative path: sha256} of every file, plus every directory as None."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
    return out


def make_tree(root):
    rng = random.Random(8)
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "zero").write_bytes(b"")
    (root / "a" / "big.bin").write_bytes(rng.randbytes(3 * 1024 * 1024 + 17))  # several chunks
    for i in range(30):
        (root / "a" / "b" / f"f{i:02d}.txt").write_bytes(rng.randbytes(rng.randrange(1, 5000)))
    (root / "a" / "b" / "c" / "name with spaces & ü").write_bytes(b"unicode\n")


def test_put_and_get_directory_tree_are_byte_identical(cli, tmp_path):
    src, dst, remote = tmp_path / "src", tmp_path / "dst", unique("tree")
    make_tree(src)
    out = cli.run("put", "-j", "4", src, remote).stdout.decode()
    assert out.startswith("33 files,"), out
    cli.run("get", "-j", "3", remote, dst)
    assert tree_hashes(dst) == tree_hashes(src)
    assert not list(dst.rglob("*.kdfs-part"))


def test_stdin_and_stdout(cli):
    data = random.Random(1).randbytes(200_000)
    remote = unique("stdin") + "/piped"
    answer = cli.run("put", "-", remote, stdin=data).stdout
    assert b'"size":200000' in answer
    assert cli.run("get", remote, "-").stdout == data
    assert cli.run("cat", remote).stdout == data


def test_single_file_into_existing_local_directory(cli, tmp_path):
    remote = unique("single") + "/x.bin"
    (tmp_path / "x.bin").write_bytes(b"payload")
    cli.run("put", tmp_path / "x.bin", remote)
    (tmp_path / "out").mkdir()
    cli.run("get", remote, tmp_path / "out")
    assert (tmp_path / "out" / "x.bin").read_bytes() == b"payload"


def test_ls_long_pages_through_more_than_one_page(cli, tmp_path):
    src, remote = tmp_path / "many", unique("ls")
    src.mkdir()
    names = [f"n{i:03d}" for i in range(23)]
    for i, n in enumerate(names):
        (src / n).write_bytes(b"x" * i)
    (src / "sub").mkdir()
    (src / "sub" / "f").write_bytes(b"1")
    cli.run("put", src, remote)
    lines = cli.run("ls", "-l", "--page-size", "5", remote).stdout.decode().splitlines()
    assert [line.split()[-1] for line in lines] == names + ["sub/"]
    assert [int(line.split()[1]) for line in lines[:23]] == list(range(23))
    assert lines[0].startswith("- ") and lines[-1].startswith("d ")
    short = cli.run("ls", "--page-size", "4", remote).stdout.decode().split()
    assert short == names + ["sub/"]


def test_rm_recursive(cli, tmp_path):
    remote = unique("rm")
    cli.run("put", "-", remote + "/d/f", stdin=b"1")
    assert cli.run("rm", remote, check=False).returncode == 4  # not empty
    cli.run("stat", remote + "/d/f")
    cli.run("rm", "-r", remote)
    assert cli.run("stat", remote + "/d/f", check=False).returncode == 3
    assert cli.run("rm", remote, check=False).returncode == 3


def test_mkdir_with_and_without_parents(cli):
    remote = unique("mkdir")
    assert cli.run("mkdir", remote + "/a/b", check=False).returncode == 3  # no parent
    cli.run("mkdir", "-p", remote + "/a/b")
    assert b'"type": "directory"' in cli.run("stat", remote + "/a/b").stdout
    assert cli.run("mkdir", remote + "/a/b", check=False).returncode == 4  # exists
    cli.run("mkdir", "-p", remote + "/a/b")  # -p: no error
    cli.run("mkdir", remote + "/a/c")  # parent exists: fine without -p


def test_mv(cli):
    remote = unique("mv")
    cli.run("put", "-", remote + "/old", stdin=b"moved")
    cli.run("put", "-", remote + "/file", stdin=b"f")
    cli.run("mv", remote + "/old", remote + "/new")
    assert cli.run("cat", remote + "/new").stdout == b"moved"
    assert cli.run("stat", remote + "/old", check=False).returncode == 3
    # The destination's parent is a file: a conflict.
    assert cli.run("mv", remote + "/new", remote + "/file/x", check=False).returncode == 4
    assert cli.run("mv", remote + "/gone", remote + "/y", check=False).returncode == 3


def test_exit_codes(cli, tmp_path):
    remote = unique("codes")
    p = cli.run("get", remote + "/missing", tmp_path / "m", check=False)
    assert p.returncode == 3 and b"not_found" in p.stderr
    assert not (tmp_path / "m").exists() and not (tmp_path / "m.kdfs-part").exists()
    cli.run("put", "-", remote + "/file", stdin=b"f")
    assert cli.run("put", "-", remote + "/file/child", stdin=b"c", check=False).returncode == 4
    dead = cli.run("--url", "http://127.0.0.1:1", "--retries", "0", "ls", "/", check=False)
    assert dead.returncode == 5, dead.stderr
    assert cli.run("nosuchcommand", check=False).returncode != 0


def test_read_your_writes_across_invocations_and_nodes(shared_cluster, tmp_path):
    c = shared_cluster
    view = c.cluster_view()
    leader = next(i for i, n in enumerate(sorted(view), 1) if view[n]["role"] == "leader")
    writer, reader = [i for i in (1, 2, 3) if i != leader][:2]
    remote = unique("ryw") + "/f"
    writes = Cli(tmp_path / "home", c.node_url(writer))
    reads = Cli(tmp_path / "home", c.node_url(reader))  # same state directory
    # The reader's node is stopped while the write commits, so it is behind
    # when the second invocation asks it; only X-Kdfs-Min-Version makes it wait.
    c.run("pause-node", reader)
    try:
        answer = writes.run("put", "-", remote, stdin=b"fresh").stdout.decode()
    finally:
        c.run("resume-node", reader)
    assert reads.run("cat", remote).stdout == b"fresh"
    version = int(answer.split('"version":')[1].split("}")[0].split(",")[0])
    state = writes.state_file.read_text()
    assert c.node_url(reader) in state and f'"version": {version}' in state, state
    # Without the state the same read may miss the write; with a version from
    # the future, the node says it has not caught up (exit 5, not stale data).
    writes.state_file.write_text(
        '{"clusters":[{"urls":["%s"],"version":%d}]}' % (c.node_url(reader), version + 10**9))
    p = reads.run("--retries", "0", "stat", remote, check=False, timeout=60)
    assert p.returncode == 5 and b"caught up" in p.stderr, p.stderr


def test_config_file_supplies_the_url(shared_cluster, tmp_path):
    cli = Cli(tmp_path / "home")  # no KDFS_URL
    cli.config_file.parent.mkdir(parents=True)
    cli.config_file.write_text(f"# test\nurl = {shared_cluster.gateway}/\n")
    remote = unique("cfg")
    cli.run("put", "-", remote + "/f", stdin=b"cfg")
    assert cli.run("ls", remote).stdout == b"f\n"
    # KDFS_URL beats the file, --url beats both.
    cli.env["KDFS_URL"] = "http://127.0.0.1:1"
    assert cli.run("--retries", "0", "ls", remote, check=False).returncode == 5
    assert cli.run("--url", shared_cluster.gateway, "ls", remote).stdout == b"f\n"


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_help_of_every_subcommand(cli, sub):
    p = cli.run(sub, "--help")
    text = p.stdout.decode()
    assert f"kdfs {sub}" in text and "Options:" in text, text


def test_cluster_table(cli, shared_cluster):
    out = cli.run("cluster").stdout.decode()
    assert out.startswith("leader: node-")
    for n in shared_cluster.info["nodes"]:
        assert n["id"] in out and n["url"] in out
    assert out.count(" yes ") == 3, out


def test_progress_bar_only_on_a_terminal(cli, tmp_path):
    f = tmp_path / "p.bin"
    f.write_bytes(os.urandom(2 << 20))
    remote = unique("progress") + "/p.bin"
    quiet = cli.run("put", f, remote)
    assert quiet.stderr == b""
    primary, secondary = pty.openpty()
    try:
        p = cli.run("put", f, remote, stderr=secondary)
        os.close(secondary)
        secondary = None
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if secondary is not None:
            os.close(secondary)
        os.close(primary)
    assert p.returncode == 0
    assert b"100%" in drawn and b"MiB/s" in drawn and b"ETA" in drawn, drawn


def test_bench_subcommand(cli):
    prefix = unique("bench")
    p = cli.run("bench", "-n", "20", "-c", "4", "-s", "1K", "--prefix", prefix, "--json")
    results = {r["op"]: r for r in json.loads(p.stdout)["results"]}
    assert results["put"]["ok"] == 20 and results["get"]["ok"] == 20
    assert results["put"]["errors"] == 0 and results["get"]["errors"] == 0
    assert results["get"]["p50_ms"] <= results["get"]["p99_ms"]
    assert cli.run("stat", prefix, check=False).returncode == 3  # bench removed its files
