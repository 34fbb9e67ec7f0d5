"""Helpers shared by the HTTP API tests (test_api.py, test_api_bad_input.py).

`NodeStates` captures what every node holds (applied offset, state digest,
chunk files, temporary files) so that a test can assert that a request
changed nothing anywhere, or that every node converged after a write.
"""

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

from conftest import wait_until


def unique(prefix="t"):
    return f"/{prefix}-{uuid.uuid4().hex[:12]}"


def files_url(path):
    """The /v1/files URL path of a kdfs path (each byte percent-encoded as needed)."""
    return "/v1/files" + quote(path, safe="/")


def node_status(c, i):
    r = c.get("/internal/status", node=i)
    r.raise_for_status()
    return r.json()


def dir_files(root):
    """Relative paths of every regular file below root (empty set if absent)."""
    root = Path(root)
    out = set()
    for dirpath, _, names in os.walk(root):
        for n in names:
            out.add(str(Path(dirpath, n).relative_to(root)))
    return out


class NodeStates:
    """A snapshot of every node: {node: (applied_offset, digest)} plus files on disk."""

    def __init__(self, c):
        self.c = c
        self.state = {}
        self.chunks = {}
        self.tmp = {}
        for i, n in enumerate(c.info["nodes"], start=1):
            st = node_status(c, i)
            self.state[n["id"]] = (st["applied_offset"], st["digest"])
            data = Path(n["data_dir"])
            self.chunks[n["id"]] = dir_files(data / "chunks")
            self.tmp[n["id"]] = dir_files(data / "tmp")

    def offsets(self):
        return {k: v[0] for k, v in self.state.items()}


def settled(c):
    """Waits until every node has applied the same offset with the same digest; returns NodeStates."""
    def same():
        s = NodeStates(c)
        return s if len(set(s.state.values())) == 1 else None
    return wait_until(same, timeout=30, what="every node at the same offset and digest")


def assert_unchanged(c, before, chunks=True):
    """Asserts that no node applied anything since `before` and no file appeared on disk.

    Waits for the nodes to agree first, so that a write that slipped through
    on one node is seen on all. With chunks=False, unreferenced chunk files may
    appear (an aborted upload stores chunks before it fails; the collector
    deletes them after the grace period) but temporary files may not.
    """
    after = settled(c)
    assert after.state == before.state, f"node states changed: {before.state} -> {after.state}"
    # A chunk being stored (e.g. one an aborted upload published, arriving
    # from Kafka) has a temporary file for a moment: wait for it to go.
    after = wait_until(lambda: (s := NodeStates(c)) and all(s.tmp[n] <= before.tmp[n] for n in s.tmp) and s,
                       timeout=30, what="no temporary files left on any node")
    assert after.state == before.state, f"node states changed: {before.state} -> {after.state}"
    if chunks:
        assert after.chunks == before.chunks, "chunk files changed on some node"


def assert_error(r, status, code=None):
    """Asserts an error answer: the status and a JSON body {"error":{"code","message"}}."""
    assert r.status_code == status, f"want {status}, got {r.status_code}: {r.text[:300]}"
    if r.request.method == "HEAD":
        return
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body


def raw_request(url, head_lines, body=b"", shutdown_write=False, read_timeout=15):
    """Sends a hand-written request to url's host; returns (status or None, raw response bytes).

    head_lines are the request line and headers without CRLFs. With
    shutdown_write the client half-closes after the body (a short body then
    ends at EOF instead of waiting for more).
    """
    u = urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=read_timeout)
    try:
        s.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1") + body)
        if shutdown_write:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                piece = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not piece:
                break
            data += piece
            if b"\r\n\r\n" in data and _complete(data):
                break
    finally:
        s.close()
    if not data.startswith(b"HTTP/"):
        return None, data
    return int(data.split(b" ", 2)[1]), data


def raw_headers(data):
    """{lower-cased name: value} of a raw response's head."""
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1")
    out = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def _complete(data):
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def metric_value(text, name, **labels):
    """Sum of the samples of `name` in Prometheus text whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        base, _, rest = series.partition("{")
        if base != name:
            continue
        have = dict(kv.split("=", 1) for kv in rest.rstrip("}").split(",") if "=" in kv)
        have = {k: v.strip('"') for k, v in have.items()}
        if all(have.get(k) == str(v) for k, v in labels.items()):
            total += float(value)
    return total
