"""The Python package in clients/python (kdfs.Client, kdfs.KdfsFileSystem)
against real clusters: transfers, ranges, paging, read-your-writes, retries
under one Idempotency-Key, every exception, fsspec's generic test classes,
pandas through kdfs:// URLs, and files larger than the memory they may use."""

import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import uuid
from importlib.metadata import entry_points
from urllib.parse import urlsplit

import pytest
import requests

from conftest import REPO, ClusterFactory

kdfs = pytest.importorskip("kdfs", reason="pip install ./clients/python (make test does)")
fsspec = pytest.importorskip("fsspec")
from fsspec.tests.abstract import (  # noqa: E402
    AbstractCopyTests,
    AbstractFixtures,
    AbstractGetTests,
    AbstractOpenTests,
    AbstractPipeTests,
    AbstractPutTests,
)

MiB = 1 << 20


@pytest.fixture
def client(shared_cluster):
    return kdfs.Client(shared_cluster.gateway, timeout=60)


@pytest.fixture
def base(shared_cluster):
    """A fresh directory for one test, removed afterwards."""
    path = f"/py-{uuid.uuid4().hex[:12]}"
    yield path
    c = kdfs.Client(shared_cluster.gateway)
    if c.exists(path):
        c.rm(path, recursive=True)


def sha(data):
    return hashlib.sha256(data).hexdigest()


class RecordingSession(requests.Session):
    """A requests session that remembers each request's method, URL and headers."""

    def __init__(self):
        super().__init__()
        self.trust_env = False
        self.sent = []

    def request(self, method, url, **kw):
        self.sent.append((method, url, dict(kw.get("headers") or {})))
        return super().request(method, url, **kw)


# --- kdfs.Client -------------------------------------------------------------


def test_put_and_get_bytes_file_objects_and_iterators(client, base, tmp_path):
    data = os.urandom(3 * MiB + 17)
    r = client.put(f"{base}/a.bin", data, content_type="application/x-test")
    assert r["path"] == f"{base}/a.bin" and r["size"] == len(data) and r["etag"] == sha(data)
    assert r["version"] == client.version
    assert client.get(f"{base}/a.bin") == data
    assert client.stat(f"{base}/a.bin")["content_type"] == "application/x-test"

    # A file object from its current position; replacing answers the new etag.
    f = io.BytesIO(b"skip" + data[::-1])
    f.seek(4)
    r2 = client.put(f"{base}/a.bin", f)
    assert r2["etag"] == sha(data[::-1]) and r2["version"] > r["version"]
    # An iterator of pieces, sent chunked.
    pieces = [os.urandom(100_000) for _ in range(7)]
    client.put(f"{base}/it.bin", iter(pieces))
    assert client.get(f"{base}/it.bin") == b"".join(pieces)
    # Empty files.
    client.put(f"{base}/empty", b"")
    assert client.get(f"{base}/empty") == b"" and client.stat(f"{base}/empty")["size"] == 0

    # Streaming downloads: pieces of at most the chunk size, and into files.
    got = list(client.stream(f"{base}/a.bin", chunk_size=MiB))
    assert all(len(p) <= MiB for p in got) and b"".join(got) == data[::-1]
    assert client.download(f"{base}/a.bin", tmp_path / "out") == len(data)
    assert (tmp_path / "out").read_bytes() == data[::-1]
    local = tmp_path / "in"
    local.write_bytes(data)
    assert client.upload(local, f"{base}/up.bin")["etag"] == sha(data)


def test_ranges_and_open_for_reading(client, base):
    data = bytes(range(256)) * 4096  # 1 MiB
    client.put(f"{base}/r.bin", data)
    assert client.get(f"{base}/r.bin", offset=1000, length=10) == data[1000:1010]
    assert client.get(f"{base}/r.bin", offset=len(data) - 5) == data[-5:]
    assert client.read_range(f"{base}/r.bin", len(data) - 3, 100) == data[-3:]
    with client.open(f"{base}/r.bin", block_size=4096) as f:
        assert f.read(3) == data[:3]
        f.seek(500_000)
        assert f.read(10) == data[500_000:500_010]
        f.seek(-4, io.SEEK_END)
        assert f.read() == data[-4:]
        assert f.read(5) == b""
        f.seek(0)
        assert f.read() == data
    # The reader is pinned to the version it opened.
    with client.open(f"{base}/r.bin", block_size=4096) as f:
        f.read(10)
        client.put(f"{base}/r.bin", b"replaced")
        f.seek(700_000)
        with pytest.raises(kdfs.PreconditionFailed):
            f.read(10)


def test_ls_pages_in_name_order(client, base):
    names = [f"f{i:03d}" for i in range(23)] + ["sub"]
    for n in names[:-1]:
        client.put(f"{base}/{n}", n.encode())
    client.mkdir(f"{base}/sub")
    page = client.list_page(base, limit=10)
    assert [e["name"] for e in page["entries"]] == names[:10] and page["next"] == names[9]
    entries = client.ls(base, page_size=7)
    assert [e["name"] for e in entries] == names
    assert entries[0] == {**entries[0], "type": "file", "size": 4}
    assert entries[-1]["type"] == "directory"
    assert client.ls(f"{base}/sub") == []


def test_stat_mkdir_mv_rm_cluster(client, base, shared_cluster):
    r = client.mkdir(f"{base}/d/e")
    assert r["path"] == f"{base}/d/e"
    assert client.stat(f"{base}/d")["type"] == "directory"
    client.mkdir(f"{base}/d/e")  # already a directory: fine
    client.put(f"{base}/d/e/x", b"x")
    moved = client.mv(f"{base}/d", f"{base}/m")
    assert moved["from"] == f"{base}/d" and moved["to"] == f"{base}/m"
    assert client.get(f"{base}/m/e/x") == b"x"
    assert not client.exists(f"{base}/d")
    client.rm(f"{base}/m/e/x")
    client.rm(f"{base}/m", recursive=True)
    assert not client.exists(f"{base}/m")
    c = client.cluster()
    assert len(c["nodes"]) == 3 and c["leader"]["node"] in {n["id"] for n in c["nodes"]}


def test_reads_carry_the_highest_version_seen(shared_cluster, base):
    session = RecordingSession()
    c = kdfs.Client(shared_cluster.gateway, session=session)
    assert c.version == -1
    c.stat("/")
    assert "X-Kdfs-Min-Version" not in session.sent[-1][2]
    v = c.put(f"{base}/v", b"1")["version"]
    assert c.version == v
    # Each read goes to whichever node the gateway picks; each carries v.
    for _ in range(3):
        assert c.get(f"{base}/v") == b"1"
        assert session.sent[-1][2]["X-Kdfs-Min-Version"] == str(v)
    # A client of one node reads the write of a client of another node once it
    # carries that version (the node waits for it instead of answering stale).
    reader = kdfs.Client(shared_cluster.node_url(3), session=RecordingSession())
    reader._version = c.put(f"{base}/v", b"2", idempotency_key=None)["version"]
    assert reader.get(f"{base}/v") == b"2"
    strong = kdfs.Client(shared_cluster.node_url(2), consistency="strong", session=RecordingSession())
    assert strong.get(f"{base}/v") == b"2"
    assert strong._session.sent[-1][2]["X-Kdfs-Consistency"] == "strong"


class FlakySession(RecordingSession):
    """Delivers the first `failures` write requests, then reports them lost,
    like a connection that drops after the server acted."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    def request(self, method, url, **kw):
        r = super().request(method, url, **kw)
        if method in ("PUT", "POST", "DELETE") and self.failures > 0:
            self.failures -= 1
            r.close()
            raise requests.ConnectionError("connection reset (simulated after delivery)")
        return r


def test_retries_reuse_one_idempotency_key_and_write_once(shared_cluster, base):
    session = FlakySession(failures=2)
    c = kdfs.Client(shared_cluster.gateway, session=session, retries=3)
    r = c.put(f"{base}/once", b"payload")
    puts = [s for s in session.sent if s[0] == "PUT"]
    assert len(puts) == 3
    keys = {s[2]["Idempotency-Key"] for s in puts}
    assert len(keys) == 1, keys
    # The retries returned the first attempt's outcome: one write, one version.
    assert kdfs.Client(shared_cluster.gateway).stat(f"{base}/once")["version"] == r["version"]
    assert r["size"] == 7

    # A seekable file object is rewound for the retry.
    session.failures = 1
    r = c.put(f"{base}/file", io.BytesIO(b"0123456789"))
    assert c.get(f"{base}/file") == b"0123456789" and r["size"] == 10
    # An iterator cannot be replayed: the lost connection is reported.
    session.failures = 1
    with pytest.raises(kdfs.ConnectionFailed):
        c.put(f"{base}/gen", iter([b"a", b"b"]))

    session.failures = 1
    c.mkdir(f"{base}/dir")
    session.failures = 1
    c.mv(f"{base}/dir", f"{base}/dir2")
    session.failures = 1
    c.rm(f"{base}/dir2")
    assert not c.exists(f"{base}/dir2")
    for method in ("POST", "DELETE"):
        sent = [s for s in session.sent if s[0] == method]
        assert all("Idempotency-Key" in s[2] for s in sent)


def test_each_api_error_raises_its_exception(client, base, shared_cluster):
    client.put(f"{base}/f", b"data")
    client.mkdir(f"{base}/d/sub")

    def raises(cls, code, fn, *args, **kw):
        with pytest.raises(cls) as e:
            fn(*args, **kw)
        assert e.value.code == code, (e.value.code, str(e.value))
        assert isinstance(e.value, kdfs.KdfsError)
        return e.value

    e = raises(kdfs.NotFound, "not_found", client.get, f"{base}/missing")
    assert isinstance(e, FileNotFoundError) and e.status == 404
    raises(kdfs.NotFound, "not_found", client.stat, f"{base}/missing")
    raises(kdfs.NotFound, "not_found", client.rm, f"{base}/missing")
    raises(kdfs.InvalidPath, "invalid_path", client.mv, f"{base}/f", "relative/path")
    raises(kdfs.InvalidPath, "invalid_path", client.put, "/" + "n" * 300, b"")
    raises(kdfs.InvalidArgument, "invalid_argument", client.list_page, base, limit=0)
    raises(kdfs.ParentNotDirectory, "parent_not_directory", client.put, f"{base}/f/x", b"")
    e = raises(kdfs.IsDirectory, "is_directory", client.get, f"{base}/d")
    assert isinstance(e, kdfs.Conflict) and e.status == 409
    raises(kdfs.NotDirectory, "not_directory", client.list_page, f"{base}/f")
    raises(kdfs.DirectoryNotEmpty, "directory_not_empty", client.rm, f"{base}/d")
    raises(kdfs.InvalidRename, "invalid_rename", client.mv, f"{base}/d", f"{base}/d/sub/x")
    raises(kdfs.PreconditionFailed, "precondition_failed", client.put, f"{base}/f", b"x",
           if_none_match=True)
    raises(kdfs.PreconditionFailed, "precondition_failed", client.put, f"{base}/f", b"x",
           if_match="0" * 64)
    raises(kdfs.RangeNotSatisfiable, "range_not_satisfiable", client.get, f"{base}/f",
           offset=100, length=5)
    raises(kdfs.MethodNotAllowed, "method_not_allowed", client._request, "PATCH",
           f"/v1/files{base}/f")
    # Nothing above changed the files.
    assert client.get(f"{base}/f") == b"data"

    # A node that has not reached a version answers 503 after its bounded wait.
    behind = kdfs.Client(shared_cluster.node_url(1), retries=0)
    behind._version = 1 << 60
    e = raises(kdfs.Unavailable, "unavailable", behind.stat, base)
    assert e.status == 503
    dead = kdfs.Client("http://127.0.0.1:9", retries=0, timeout=5)
    e = raises(kdfs.ConnectionFailed, "", dead.stat, "/")
    assert isinstance(e, kdfs.Unavailable) and e.status == 0


def test_limit_errors_raise_their_exceptions(make_cluster):
    c = make_cluster(nodes=1, node_args=["--max-body-bytes=1000", "--max-header-bytes=4096"])
    client = kdfs.Client(c.gateway, retries=0)
    with pytest.raises(kdfs.PayloadTooLarge) as e:
        client.put("/big", b"x" * 5000)
    assert e.value.code == "payload_too_large" and e.value.status == 413
    with pytest.raises(kdfs.HeadersTooLarge) as e:
        client.put("/h", b"x", content_type="a/" + "b" * 8000)
    assert e.value.status == 431
    assert not client.exists("/big") and not client.exists("/h")


@pytest.mark.parametrize("status,code,cls", [
    (411, "length_required", kdfs.LengthRequired),
    (409, "already_exists", kdfs.AlreadyExists),
    (409, "superseded", kdfs.Superseded),
    (500, "io_error", kdfs.ServerError),
    (500, "corruption", kdfs.ServerError),
    (503, "timeout", kdfs.Timeout),
    (507, "insufficient_storage", kdfs.InsufficientStorage),
    (502, "", kdfs.ServerError),
    (404, "", kdfs.NotFound),
])
def test_error_mapping_of_codes_a_healthy_cluster_does_not_produce(status, code, cls):
    from kdfs.errors import error_from_answer

    body = json.dumps({"error": {"code": code, "message": "m"}}).encode() if code else b"<html>"
    e = error_from_answer(status, body, "/p")
    assert type(e) is cls and e.status == status and e.code == code and e.path == "/p"


def test_every_wire_code_of_the_server_has_a_class():
    import re

    from kdfs.errors import BY_CODE

    table = (REPO / "src" / "common" / "error_codes.h").read_text()
    wire = set(re.findall(r'X\(k\w+,\s*\d+,\s*"(\w+)"\)', table)) - {"ok"}
    assert wire == set(BY_CODE)


# --- kdfs.KdfsFileSystem (fsspec) ----------------------------------------------


def test_fsspec_protocol_is_registered_by_entry_point(shared_cluster):
    names = {ep.name: ep.value for ep in entry_points(group="fsspec.specs")}
    assert names.get("kdfs") == "kdfs.spec:KdfsFileSystem"
    assert fsspec.get_filesystem_class("kdfs") is kdfs.KdfsFileSystem
    u = urlsplit(shared_cluster.gateway)
    fs, path = fsspec.core.url_to_fs(f"kdfs://{u.netloc}/some/dir/x.csv")
    assert isinstance(fs, kdfs.KdfsFileSystem) and path == "/some/dir/x.csv"
    assert fs.client.url == shared_cluster.gateway


def test_fsspec_reads_writes_and_lists(shared_cluster, base):
    u = urlsplit(shared_cluster.gateway)
    url = f"kdfs://{u.netloc}{base}"
    data = os.urandom(2 * MiB + 3)
    with fsspec.open(f"{url}/w.bin", "wb", block_size=MiB) as f:
        for i in range(0, len(data), 100_000):
            f.write(data[i:i + 100_000])
    fs = fsspec.filesystem("kdfs", host=u.hostname, port=u.port)
    # fsspec made another instance for open()'s arguments; both share one
    # client, so this read carries the write's version to whichever node.
    writer, _ = fsspec.core.url_to_fs(f"{url}/w.bin", block_size=MiB)
    assert writer is not fs and writer.client is fs.client
    assert fs.client.version >= 0
    assert fs.cat(f"{base}/w.bin") == data
    with fs.open(f"{base}/w.bin", "rb", block_size=64 * 1024) as f:
        f.seek(1_500_000)
        assert f.read(100) == data[1_500_000:1_500_100]
        assert f.tell() == 1_500_100
    assert fs.cat_file(f"{base}/w.bin", start=-10) == data[-10:]
    fs.mkdir(f"{base}/sub")
    listing = fs.ls(base, detail=True)
    by_name = {e["name"]: e for e in listing}
    assert by_name[f"{base}/w.bin"]["type"] == "file" and by_name[f"{base}/w.bin"]["size"] == len(data)
    assert by_name[f"{base}/sub"]["type"] == "directory"
    assert fs.ls(base, detail=False) == [f"{base}/sub", f"{base}/w.bin"]
    assert fs.info(f"{base}/w.bin")["etag"] == sha(data)
    fs.mv(f"{base}/w.bin", f"{base}/sub")
    assert fs.exists(f"{base}/sub/w.bin") and not fs.exists(f"{base}/w.bin")
    # An exception inside the with block aborts the upload: nothing is written.
    with pytest.raises(RuntimeError):
        with fs.open(f"{base}/aborted", "wb", block_size=MiB) as f:
            f.write(os.urandom(3 * MiB))
            raise RuntimeError("stop")
    assert not fs.exists(f"{base}/aborted")
    with pytest.raises(FileExistsError):
        with fs.open(f"{base}/sub/w.bin", "xb") as f:
            f.write(b"no")
    with pytest.raises(FileNotFoundError):
        fs.open(f"{base}/nope", "rb")


def test_pandas_dataframe_round_trip_through_kdfs_url(shared_cluster, base):
    pd = pytest.importorskip("pandas")
    u = urlsplit(shared_cluster.gateway)
    url = f"kdfs://{u.netloc}{base}/frames/cities.csv"
    df = pd.DataFrame({"city": ["Oslo", "Lima", "Perth"] * 1000,
                       "temp": [3.5, 19.25, 24.0] * 1000,
                       "n": range(3000)})
    df.to_csv(url, index=False)
    back = pd.read_csv(url)
    pd.testing.assert_frame_equal(back, df)
    df.to_json(url.replace(".csv", ".jsonl"), orient="records", lines=True)
    pd.testing.assert_frame_equal(pd.read_json(url.replace(".csv", ".jsonl"), lines=True), df)


# The child streams a file larger than its whole address-space limit both
# ways, through kdfs.Client and through fsspec, hashing on the fly.
LARGE_CHILD = textwrap.dedent("""
    import hashlib, os, resource, sys
    limit, size, url, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    import fsspec, kdfs, kdfs.spec
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:  # the limit binds: a whole-file buffer cannot exist in this process
        bytearray(size)
        sys.exit("RLIMIT_AS did not bind")
    except MemoryError:
        pass
    block = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    def pieces():
        for i in range(size // len(block)):
            yield bytes([i & 255]) + block[1:]
    want = hashlib.sha256()
    for p in pieces():
        want.update(p)
    want = want.hexdigest()
    c = kdfs.Client(url)
    r = c.put(base + "/a.bin", pieces())
    assert r["size"] == size and r["etag"] == want, r
    fs = fsspec.filesystem("kdfs", client=c)  # one client: reads see its writes
    h = hashlib.sha256()
    with fs.open(base + "/a.bin", "rb", block_size=4 << 20) as f:
        while True:
            b = f.read(3 << 20)
            if not b:
                break
            h.update(b)
    assert h.hexdigest() == want, "fsspec read"
    with fs.open(base + "/b.bin", "wb") as f:
        for p in pieces():
            f.write(p)
    h = hashlib.sha256()
    for p in c.stream(base + "/b.bin"):
        h.update(p)
    assert h.hexdigest() == want, "client stream"
    print("ok", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


def test_file_larger_than_memory_limit_streams_both_ways(shared_cluster, base):
    limit, size = 192 * MiB, 256 * MiB
    env = dict(os.environ, MALLOC_ARENA_MAX="1")
    p = subprocess.run([sys.executable, "-c", LARGE_CHILD, str(limit), str(size),
                        shared_cluster.gateway, base],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stdout + p.stderr[-4000:]
    assert p.stdout.startswith("ok")


# --- fsspec's own generic tests ----------------------------------------------------


class KdfsFixtures(AbstractFixtures):
    @pytest.fixture
    def fs(self, shared_cluster):
        u = urlsplit(shared_cluster.gateway)
        return fsspec.filesystem("kdfs", host=u.hostname, port=u.port, skip_instance_cache=True)

    @pytest.fixture
    def fs_join(self):
        return lambda *parts: "/".join(p.rstrip("/") for p in parts[:-1]) + "/" + parts[-1].lstrip("/") \
            if len(parts) > 1 else parts[0]

    @pytest.fixture
    def fs_path(self, fs):
        path = f"/fsspec-{uuid.uuid4().hex[:12]}"
        fs.mkdir(path)
        yield path
        if fs.exists(path):
            fs.rm(path, recursive=True)


class TestKdfsCopy(AbstractCopyTests, KdfsFixtures):
    pass


class TestKdfsGet(AbstractGetTests, KdfsFixtures):
    pass


class TestKdfsPut(AbstractPutTests, KdfsFixtures):
    pass


class TestKdfsOpen(AbstractOpenTests, KdfsFixtures):
    pass


class TestKdfsPipe(AbstractPipeTests, KdfsFixtures):
    pass


def test_readme_example_runs_as_written(shared_cluster, tmp_path):
    """The Python example of clients/python/README.md, run in a fresh
    interpreter against a cluster (its URL put in place of make up's)."""
    readme = (REPO / "clients" / "python" / "README.md").read_text()
    code = readme.split("## Example", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    netloc = urlsplit(shared_cluster.gateway).netloc
    assert "127.0.0.1:8080" in code
    script = tmp_path / "example.py"
    script.write_text(code.replace("127.0.0.1:8080", netloc))
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "b'hello, kdfs\\n'" in out and "b'xxxxx'" in out and "not found:" in out
    assert "exists already" in out and "Oslo" in out
    assert not kdfs.Client(shared_cluster.gateway).exists("/demo")
