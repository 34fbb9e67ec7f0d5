"""HTTP API v1 (DESIGN §5, issue 6) through the gateway of a real 3-node cluster.

Every row of the API table, each status it names, the conditional and range
headers, idempotent retries reaching other nodes, the consistency headers and
the metrics. Each write is checked on every node (same offset and digest);
each refused request is checked to have changed nothing on any node.
"""

import hashlib
import os
import time

import pytest

from api_helpers import (NodeStates, assert_error, assert_unchanged, files_url, metric_value,
                         node_status, settled, unique)
from conftest import ClusterFactory, wait_until

CONSISTENCY_WAIT_MS = 1500


@pytest.fixture(scope="module")
def api(tmp_path_factory, kafka):
    f = ClusterFactory(tmp_path_factory, kafka)
    try:
        yield f(node_args=(f"--consistency-wait-ms={CONSISTENCY_WAIT_MS}", "--chunk-size=65536"))
    finally:
        f.close()


def put(c, path, data, node=None, **headers):
    return c.put(files_url(path), data, node=node, headers=headers)


def get(c, path, node=None, **headers):
    return c.get(files_url(path), node=node, headers=headers)


def post(c, url, node=None, **kw):
    return c.http.post(c.url(node) + url, timeout=30, **kw)


def delete(c, path, node=None, query="", **headers):
    return c.http.delete(c.url(node) + files_url(path) + query, headers=headers, timeout=30)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- PUT / GET / HEAD -----------------------------------------------------------


def test_put_creates_then_replaces_and_every_node_serves_it(api):
    c, path = api, unique("put") + "/deep/er/file.bin"
    data = os.urandom(200_000)  # several 64 KiB chunks
    r = put(c, path, data, **{"Content-Type": "application/x-kdfs-test"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {"path": path, "version": body["version"], "size": len(data), "etag": sha(data)}
    assert r.headers["X-Kdfs-Version"] == str(body["version"])
    assert r.headers["ETag"] == f'"{sha(data)}"'
    settled(c)
    for node in (1, 2, 3):
        g = get(c, path, node=node)
        assert g.status_code == 200
        assert g.content == data
        assert g.headers["ETag"] == f'"{sha(data)}"'
        assert g.headers["Content-Type"] == "application/x-kdfs-test"
        assert g.headers["Content-Length"] == str(len(data))
        assert g.headers["X-Kdfs-Version"] == str(body["version"])
        lm = time.mktime(time.strptime(g.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT"))
        assert abs(lm - time.mktime(time.gmtime())) < 120
    # Parents were created as directories.
    st = c.get("/v1/stat" + path.rsplit("/", 1)[0])
    assert st.status_code == 200 and st.json()["type"] == "directory"

    r2 = put(c, path, b"second")
    assert r2.status_code == 200, r2.text
    assert r2.json()["version"] > body["version"]
    assert r2.json()["size"] == 6
    settled(c)
    g = get(c, path, node=2, **{"X-Kdfs-Min-Version": str(r2.json()["version"])})
    assert g.content == b"second"
    assert g.headers["Content-Type"] == "application/octet-stream"


def test_empty_file(api):
    c, path = api, unique("empty")
    r = put(c, path, b"")
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 0 and r.json()["etag"] == sha(b"")
    seen = {"X-Kdfs-Min-Version": str(r.json()["version"])}
    g = get(c, path, **seen)
    assert g.status_code == 200 and g.content == b""
    # Through the gateway the next request may reach another node: carry the version.
    assert_error(get(c, path, Range="bytes=0-0", **seen), 416, "range_not_satisfiable")


def test_head_has_the_headers_of_get_and_no_body(api):
    c, path = api, unique("head")
    data = os.urandom(1000)
    v = put(c, path, data, **{"Content-Type": "text/x-head"}).json()["version"]
    h = c.http.head(c.gateway + files_url(path), timeout=5, headers={"X-Kdfs-Min-Version": str(v)})
    g = get(c, path, **{"X-Kdfs-Min-Version": str(v)})
    assert h.status_code == 200 and h.content == b""
    for k in ("ETag", "Content-Length", "Last-Modified", "X-Kdfs-Version", "Content-Type", "Accept-Ranges"):
        assert h.headers[k] == g.headers[k], k
    assert h.headers["Content-Length"] == "1000"
    h404 = c.http.head(c.gateway + files_url(unique("nohead")), timeout=5)
    assert h404.status_code == 404 and h404.content == b""


def test_get_missing_file_is_404_and_directory_is_409(api):
    c = api
    assert_error(get(c, unique("missing")), 404, "not_found")
    d = unique("dir")
    assert post(c, "/v1/mkdir" + d).status_code == 201
    assert_error(get(c, d, **{"X-Kdfs-Consistency": "strong"}), 409, "is_directory")


def test_ranges_single_open_suffix_and_unsatisfiable(api):
    c, path = api, unique("range")
    data = os.urandom(150_000)  # crosses chunk boundaries at 64 KiB
    v = put(c, path, data).json()["version"]
    hdr = {"X-Kdfs-Min-Version": str(v)}
    cases = {
        "bytes=0-9": (0, 10),
        "bytes=65530-65545": (65530, 65546),  # spans two chunks
        "bytes=140000-": (140000, 150000),
        "bytes=-100": (150000 - 100, 150000),
        "bytes=-999999": (0, 150000),  # suffix longer than the file: all of it
        "bytes=149990-200000": (149990, 150000),  # end clipped to the size
    }
    for spec, (a, b) in cases.items():
        r = get(c, path, Range=spec, **hdr)
        assert r.status_code == 206, spec
        assert r.content == data[a:b], spec
        assert r.headers["Content-Range"] == f"bytes {a}-{b - 1}/{len(data)}", spec
        assert r.headers["Content-Length"] == str(b - a), spec
    for spec in ("bytes=150000-", "bytes=200000-300000", "bytes=-0"):
        r = get(c, path, Range=spec, **hdr)
        assert_error(r, 416, "range_not_satisfiable")
        assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    # Not a single byte range this server serves: the whole body (RFC 9110 allows ignoring).
    for spec in ("items=0-1", "bytes=0-1,5-6", "bytes=9-3", "bytes=x-y"):
        r = get(c, path, Range=spec, **hdr)
        assert r.status_code == 200 and r.content == data, spec


def test_if_none_match_on_get_gives_304(api):
    c, path = api, unique("inm")
    data = b"etag me"
    r = put(c, path, data)
    etag, v = r.headers["ETag"], r.json()["version"]
    hdr = {"X-Kdfs-Min-Version": str(v)}
    for tag in (etag, f'"other", {etag}', "*", f"W/{etag}"):
        g = get(c, path, **{"If-None-Match": tag}, **hdr)
        assert g.status_code == 304, tag
        assert g.content == b""
        assert g.headers["ETag"] == etag
    g = get(c, path, **{"If-None-Match": '"nope"'}, **hdr)
    assert g.status_code == 200 and g.content == data


def test_put_preconditions_if_match_and_if_none_match(api):
    c, path = api, unique("pre")
    # If-None-Match: * creates only if absent.
    r = put(c, path, b"one", **{"If-None-Match": "*"})
    assert r.status_code == 201
    etag = r.headers["ETag"]
    before = settled(c)
    r = put(c, path, b"two", **{"If-None-Match": "*"})
    assert_error(r, 412, "precondition_failed")
    assert "X-Kdfs-Version" in r.headers  # the rejection is in the log, at this version
    # If-Match with a stale tag fails; on a missing file too.
    assert_error(put(c, path, b"three", **{"If-Match": '"0000"'}), 412, "precondition_failed")
    assert_error(put(c, unique("absent"), b"x", **{"If-Match": "*"}), 412, "precondition_failed")
    after = settled(c)
    # Rejections are records of the log (offsets move) but the namespace is as it was.
    g = get(c, path, **{"X-Kdfs-Min-Version": str(max(after.offsets().values()))})
    assert g.content == b"one"
    # The right tag, or *, succeeds.
    r = put(c, path, b"four", **{"If-Match": etag})
    assert r.status_code == 200, r.text
    r = put(c, path, b"five", **{"If-Match": "*"})
    assert r.status_code == 200, r.text
    assert get(c, path, **{"X-Kdfs-Min-Version": str(r.json()["version"])}).content == b"five"


def test_put_conflicts_409(api):
    c, base = api, unique("conf")
    assert put(c, base + "/file", b"f").status_code == 201
    before = settled(c)
    assert_error(put(c, base + "/file/child", b"x"), 409, "parent_not_directory")
    assert_error(put(c, base, b"x"), 409, "is_directory")
    assert_error(put(c, "/", b"x"), 409, "is_directory")
    # Refused by the leader: a rejection record each, the namespace as it was.
    after = settled(c)
    assert all(after.offsets()[n] > before.offsets()[n] for n in after.offsets())
    for node in (1, 2, 3):
        assert get(c, base + "/file", node=node).content == b"f"
        assert c.get("/v1/stat" + base, node=node).json()["type"] == "directory"
        assert c.get("/v1/stat" + base + "/file/child", node=node).status_code in (404, 409)


# --- DELETE ---------------------------------------------------------------------


def test_delete_file_dir_and_recursive(api):
    c, base = api, unique("del")
    assert put(c, base + "/a/x", b"x").status_code == 201
    assert put(c, base + "/a/b/y", b"y").status_code == 201
    assert put(c, base + "/f", b"f").status_code == 201
    r = delete(c, base + "/f")
    assert r.status_code == 204 and r.content == b""
    assert "X-Kdfs-Version" in r.headers
    assert_error(delete(c, base + "/f"), 404, "not_found")
    before = settled(c)
    assert_error(delete(c, base + "/a"), 409, "directory_not_empty")
    assert_error(delete(c, base + "/a", query="?recursive=false"), 409, "directory_not_empty")
    after = settled(c)
    assert get(c, base + "/a/b/y", node=3, **{"X-Kdfs-Min-Version": str(max(after.offsets().values()))}).content == b"y"
    assert after.chunks == before.chunks
    r = delete(c, base + "/a", query="?recursive=true")
    assert r.status_code == 204, r.text
    settled(c)
    for node in (1, 2, 3):
        for p in (base + "/a", base + "/a/x", base + "/a/b", base + "/a/b/y"):
            assert c.get("/v1/stat" + p, node=node).status_code == 404, (node, p)
    # An empty directory goes without recursive.
    assert post(c, "/v1/mkdir" + base + "/empty").status_code == 201
    assert delete(c, base + "/empty").status_code == 204


# --- mkdir / rename -------------------------------------------------------------


def test_mkdir_201_200_409(api):
    c, d = api, unique("mk") + "/sub/dir"
    r = post(c, "/v1/mkdir" + d)
    assert r.status_code == 201, r.text
    assert r.json()["path"] == d and "X-Kdfs-Version" in r.headers
    r = post(c, "/v1/mkdir" + d)
    assert r.status_code == 200, r.text
    f = unique("mkf")
    assert put(c, f, b"file").status_code == 201
    before = settled(c)
    assert_error(post(c, "/v1/mkdir" + f), 409)
    assert_error(post(c, "/v1/mkdir" + f + "/below"), 409, "parent_not_directory")
    after = settled(c)
    assert c.get("/v1/stat" + f, node=2).json()["type"] == "file"
    assert after.chunks == before.chunks  # a refused mkdir stores nothing


def test_rename_file_and_directory(api):
    c, base = api, unique("mv")
    assert put(c, base + "/d/one", b"1").status_code == 201
    assert put(c, base + "/d/sub/two", b"2").status_code == 201
    r = post(c, "/v1/rename", json={"from": base + "/d/one", "to": base + "/moved/one"})
    assert r.status_code == 200, r.text
    assert r.json()["from"] == base + "/d/one" and r.json()["to"] == base + "/moved/one"
    assert "X-Kdfs-Version" in r.headers
    r = post(c, "/v1/rename", json={"from": base + "/d", "to": base + "/e"})
    assert r.status_code == 200, r.text
    settled(c)
    for node in (1, 2, 3):
        assert get(c, base + "/e/sub/two", node=node).content == b"2"
        assert get(c, base + "/moved/one", node=node).content == b"1"
        assert get(c, base + "/d/sub/two", node=node).status_code == 404
    before = settled(c)
    assert_error(post(c, "/v1/rename", json={"from": base + "/nope", "to": base + "/x"}), 404, "not_found")
    # Into its own subtree, and onto an existing directory: conflicts.
    assert_error(post(c, "/v1/rename", json={"from": base + "/e", "to": base + "/e/sub/in"}), 409, "invalid_rename")
    assert_error(post(c, "/v1/rename", json={"from": base + "/moved/one", "to": base + "/e/sub/two/x"}), 409,
                 "parent_not_directory")
    assert_error(post(c, "/v1/rename", json={"from": base + "/moved/one", "to": base + "/e/sub/two"}), 409,
                 "already_exists")
    assert_error(post(c, "/v1/rename", json={"from": "/", "to": base + "/root"}), 409, "invalid_rename")
    after = settled(c)
    assert after.chunks == before.chunks
    assert get(c, base + "/e/sub/two", node=3).content == b"2"


# --- list / stat ----------------------------------------------------------------


def test_list_pages_in_name_order(api):
    c, d = api, unique("ls")
    names = [f"f{i:03d}" for i in range(23)] + ["sub", "Zeta", "\u00e9t\u00e9"]
    for n in names:
        if n == "sub":
            assert post(c, "/v1/mkdir" + d + "/sub").status_code == 201
        else:
            assert put(c, d + "/" + n, n.encode()).status_code == 201
    v = settled(c)
    hdr = {"X-Kdfs-Min-Version": str(max(v.offsets().values()))}
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 10}
        if after:
            params["after"] = after
        r = c.get("/v1/list" + d, node=(pages % 3) + 1, params=params, headers=hdr)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["entries"]) <= 10
        seen += body["entries"]
        pages += 1
        if body["next"] is None:
            break
        assert body["next"] == body["entries"][-1]["name"]
        after = body["next"]
    assert pages == 3
    assert [e["name"] for e in seen] == sorted(names, key=lambda s: s.encode())
    by_name = {e["name"]: e for e in seen}
    assert by_name["sub"]["type"] == "directory"
    assert by_name["f007"] == {"name": "f007", "type": "file", "size": 4,
                               "version": by_name["f007"]["version"], "mtime": by_name["f007"]["mtime"]}
    assert_error(c.get("/v1/list" + d + "/f001"), 409, "not_directory")
    assert_error(c.get("/v1/list" + unique("nolist")), 404, "not_found")
    root = c.get("/v1/list/", params={"limit": 10000})
    assert root.status_code == 200 and d[1:] in [e["name"] for e in root.json()["entries"]]


def test_stat_file_and_directory(api):
    c, path = api, unique("st") + "/f"
    r = put(c, path, b"hello", **{"Content-Type": "text/plain"})
    v = r.json()["version"]
    s = c.get("/v1/stat" + path, headers={"X-Kdfs-Min-Version": str(v)})
    assert s.status_code == 200
    j = s.json()
    assert j["path"] == path and j["type"] == "file" and j["size"] == 5 and j["version"] == v
    assert j["etag"] == sha(b"hello") and j["content_type"] == "text/plain"
    assert s.headers["X-Kdfs-Version"] == str(v)
    d = c.get("/v1/stat" + path.rsplit("/", 1)[0]).json()
    assert d["type"] == "directory"
    assert c.get("/v1/stat/").json()["type"] == "directory"
    assert_error(c.get("/v1/stat" + unique("nost")), 404, "not_found")
    h = c.http.head(c.gateway + "/v1/stat" + path, timeout=5, headers={"X-Kdfs-Min-Version": str(v)})
    assert h.status_code == 200 and h.content == b"" and h.headers["X-Kdfs-Version"] == str(v)
    assert c.http.head(c.gateway + "/v1/list/", timeout=5).status_code == 200


# --- idempotency ----------------------------------------------------------------


def test_idempotent_put_retried_on_every_node_returns_the_first_outcome(api):
    c, path = api, unique("idem")
    key = "put-" + os.urandom(8).hex()
    first = put(c, path, b"first body", node=1, **{"Idempotency-Key": key})
    assert first.status_code == 201
    # Retried at once on the other nodes (they may not have applied it yet),
    # with another body: the first outcome, nothing written twice.
    for node in (2, 3, None):
        again = put(c, path, b"a different body", node=node, **{"Idempotency-Key": key})
        assert again.status_code == 201, (node, again.text)
        assert again.json() == first.json(), node
        assert again.headers["X-Kdfs-Version"] == first.headers["X-Kdfs-Version"]
    s = settled(c)
    for node in (1, 2, 3):
        assert get(c, path, node=node).content == b"first body"
    # Replaying again changes no node's state.
    again = put(c, path, b"third", node=2, **{"Idempotency-Key": key})
    assert again.json() == first.json()
    assert_unchanged(c, s, chunks=False)


def test_idempotent_delete_and_rename(api):
    c, base = api, unique("idem2")
    assert put(c, base + "/a", b"a").status_code == 201
    key = "del-" + os.urandom(8).hex()
    r1 = delete(c, base + "/a", node=1, **{"Idempotency-Key": key})
    assert r1.status_code == 204
    for node in (2, 3):
        r = delete(c, base + "/a", node=node, **{"Idempotency-Key": key})
        assert r.status_code == 204, r.text  # not 404: the first outcome
        assert r.headers["X-Kdfs-Version"] == r1.headers["X-Kdfs-Version"]
    assert delete(c, base + "/a", node=2).status_code == 404  # without the key: a new request

    assert put(c, base + "/b", b"b").status_code == 201
    key = "mv-" + os.urandom(8).hex()
    body = {"from": base + "/b", "to": base + "/c"}
    m1 = post(c, "/v1/rename", node=3, json=body, headers={"Idempotency-Key": key})
    assert m1.status_code == 200
    s = settled(c)
    for node in (1, 2):
        m = post(c, "/v1/rename", node=node, json=body, headers={"Idempotency-Key": key})
        assert m.status_code == 200 and m.json() == m1.json(), m.text
    assert_unchanged(c, s)
    assert get(c, base + "/c").content == b"b"


def test_idempotent_failure_is_replayed_too(api):
    c, path = api, unique("idemfail")
    assert put(c, path, b"x").status_code == 201
    key = "pre-" + os.urandom(8).hex()
    r1 = put(c, path, b"y", node=1, **{"Idempotency-Key": key, "If-None-Match": "*"})
    assert_error(r1, 412, "precondition_failed")
    # The retry carries no precondition now, but the first outcome stands.
    r2 = put(c, path, b"y", node=3, **{"Idempotency-Key": key})
    assert_error(r2, 412, "precondition_failed")
    assert get(c, path, node=3, **{"X-Kdfs-Consistency": "strong"}).content == b"x"


# --- consistency ----------------------------------------------------------------


def test_min_version_waits_then_503(api):
    c, path = api, unique("minv")
    v = put(c, path, b"v", node=1).json()["version"]
    # Reached at once on another node: waits for it, then answers.
    for node in (2, 3):
        r = get(c, path, node=node, **{"X-Kdfs-Min-Version": str(v)})
        assert r.status_code == 200 and r.content == b"v"
        assert int(r.headers["X-Kdfs-Version"]) == v
    far = v + 1_000_000
    t0 = time.monotonic()
    r = get(c, path, node=2, **{"X-Kdfs-Min-Version": str(far)})
    waited = time.monotonic() - t0
    assert_error(r, 503, "unavailable")
    assert r.headers.get("Retry-After")
    assert waited >= CONSISTENCY_WAIT_MS / 1000 * 0.9, waited
    # Through the gateway too (HAProxy retries a 503 of a GET on other nodes, which wait as well).
    hdr = {"X-Kdfs-Min-Version": str(far)}
    assert_error(c.get("/v1/stat" + path, headers=hdr, timeout=30), 503, "unavailable")
    assert_error(c.get("/v1/list/", headers=hdr, timeout=30), 503, "unavailable")


def test_strong_read_sees_a_write_made_through_another_node(api):
    c = api
    for i in range(15):
        path = unique("strong")
        v = put(c, path, str(i).encode(), node=1).json()["version"]
        for node in (2, 3):
            r = get(c, path, node=node, **{"X-Kdfs-Consistency": "strong"})
            assert r.status_code == 200, (i, node, r.text)
            assert r.content == str(i).encode()
            assert int(r.headers["X-Kdfs-Version"]) >= v
    s = c.get("/v1/stat" + path, node=3, headers={"X-Kdfs-Consistency": "strong"})
    assert s.status_code == 200


# --- cluster, health, readiness, metrics ----------------------------------------


def test_cluster_health_readiness(api):
    c = api
    view = c.get("/v1/cluster").json()
    assert view["leader"]["node"] in {"node-1", "node-2", "node-3"}
    assert {n["id"] for n in view["nodes"]} == {"node-1", "node-2", "node-3"}
    for n in view["nodes"]:
        for k in ("url", "role", "applied_offset", "lag", "ready", "digest"):
            assert k in n, (k, n)
    assert sum(n["role"] == "leader" for n in view["nodes"]) == 1
    assert c.get("/healthz").text == "ok\n"
    assert c.get("/readyz").status_code == 200
    for i in (1, 2, 3):
        st = node_status(c, i)
        assert st["ready"] is True


def test_metrics_expose_and_move(api):
    c = api
    text = c.get("/metrics", node=1).text
    for family in ("kdfs_http_requests_total", "kdfs_http_request_duration_seconds",
                   "kdfs_http_bytes_in_total", "kdfs_http_bytes_out_total", "kdfs_applied_offset",
                   "kdfs_lag_records", "kdfs_is_leader", "kdfs_leader_epoch",
                   "kdfs_chunk_store_bytes", "kdfs_proposals_in_flight"):
        assert f"# TYPE {family} " in text, family
    puts = metric_value(text, "kdfs_http_requests_total", route="files", method="PUT", code="201")
    missing = metric_value(text, "kdfs_http_requests_total", route="files", method="GET", code="404")
    bytes_in = metric_value(text, "kdfs_http_bytes_in_total", route="files")
    bytes_out = metric_value(text, "kdfs_http_bytes_out_total", route="files")
    lat = metric_value(text, "kdfs_http_request_duration_seconds_count", route="files")
    applied = metric_value(text, "kdfs_applied_offset")
    store = metric_value(text, "kdfs_chunk_store_bytes")
    data = os.urandom(100_000)
    path = unique("metrics")
    assert put(c, path, data, node=1).status_code == 201
    assert get(c, path, node=1).content == data
    assert get(c, unique("nometrics"), node=1).status_code == 404
    after = c.get("/metrics", node=1).text
    assert metric_value(after, "kdfs_http_requests_total", route="files", method="PUT", code="201") == puts + 1
    assert metric_value(after, "kdfs_http_requests_total", route="files", method="GET", code="404") == missing + 1
    assert metric_value(after, "kdfs_http_bytes_in_total", route="files") >= bytes_in + len(data)
    assert metric_value(after, "kdfs_http_bytes_out_total", route="files") >= bytes_out + len(data)
    assert metric_value(after, "kdfs_http_request_duration_seconds_count", route="files") >= lat + 3
    assert metric_value(after, "kdfs_applied_offset") > applied
    assert metric_value(after, "kdfs_chunk_store_bytes") >= store + len(data)
    assert metric_value(after, "kdfs_proposals_in_flight") == 0
    leaders = sum(metric_value(c.get("/metrics", node=i).text, "kdfs_is_leader") for i in (1, 2, 3))
    assert leaders == 1
    epoch_lines = [l for l in after.splitlines() if l.startswith("kdfs_leader_epoch{")]
    assert len(epoch_lines) == 1 and 'node="node-' in epoch_lines[0]


def test_upload_slower_than_the_request_timeout_still_commits(make_cluster):
    # The commit deadline counts from the body's last byte: an upload that
    # takes longer to arrive than --request-timeout-ms is not cut off.
    c = make_cluster(node_args=("--request-timeout-ms=2000", "--chunk-size=65536"))
    pieces = [os.urandom(65536) for _ in range(16)]

    def slow_body():
        for p in pieces:
            time.sleep(0.25)  # paces the upload (4 s in all), not a wait for a condition
            yield p

    t0 = time.monotonic()
    r = c.http.put(c.gateway + files_url("/slow/upload"), data=slow_body(), timeout=60)
    assert time.monotonic() - t0 > 3
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 16 * 65536
    got = get(c, "/slow/upload", node=3, **{"X-Kdfs-Min-Version": str(r.json()["version"])})
    assert got.content == b"".join(pieces)
