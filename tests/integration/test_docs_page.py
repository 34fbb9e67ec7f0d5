"""GET /docs: the interactive API page every node serves (Swagger UI embedded
at build time), opened in a real headless Chromium (Debian's package)."""

import json
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from single_node import node  # noqa: F401 (fixture)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# One row per operation of DESIGN §5: (method as Swagger UI shows it, path).
OPERATIONS = [
    ("PUT", "/v1/files/{path}"),
    ("GET", "/v1/files/{path}"),
    ("HEAD", "/v1/files/{path}"),
    ("DELETE", "/v1/files/{path}"),
    ("POST", "/v1/mkdir/{path}"),
    ("POST", "/v1/rename"),
    ("GET", "/v1/list/{path}"),
    ("GET", "/v1/stat/{path}"),
    ("GET", "/v1/cluster"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/openapi.yaml"),
    ("GET", "/docs"),
]


def test_docs_page_and_assets_come_from_the_node(node):
    r = node.get("/docs", node=1)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    # Every script and style the page names is served by the node itself.
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/docs/assets/") for ref in refs), refs
    types = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
             "init.js": "text/javascript", "favicon-32x32.png": "image/png"}
    for ref in refs:
        a = node.get(ref, node=1)
        assert a.status_code == 200, ref
        assert a.headers["Content-Type"].startswith(types[ref.rsplit("/", 1)[1]]), ref
        assert len(a.content) > 0
    init = node.get("/docs/assets/init.js", node=1).text
    assert '"/v1/openapi.yaml"' in init and "validatorUrl: null" in init
    # The gateway passes the page through too.
    assert node.get("/docs").status_code == 200


def test_docs_errors_are_json(node):
    r = node.get("/docs/assets/nope.js", node=1)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    # The spec is served at its own URL only, not as an asset.
    assert node.get("/docs/assets/openapi.yaml", node=1).status_code == 404
    r = node.http.post(node.url(1) + "/docs", data=b"x", timeout=5)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["Allow"] == "GET, HEAD"
    h = node.http.head(node.url(1) + "/docs/assets/swagger-ui.css", timeout=5)
    assert h.status_code == 200 and int(h.headers["Content-Length"]) > 10000


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium is not installed")
def test_chromium_shows_every_operation_without_outside_requests(node, tmp_path):
    url = node.url(1) + "/docs"
    net_log = tmp_path / "net.json"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--disable-default-apps", "--no-proxy-server",
        # Chromium's own services (updates, sign-in) resolve nothing: no
        # request can leave the machine, whatever the browser tries.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={net_log}",
        # The page renders after fetching the spec: let virtual time run for it.
        "--virtual-time-budget=20000", "--dump-dom", url,
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    assert 'id="swagger-ui"' in dom
    assert "kdfs HTTP API" in dom, "Swagger UI did not render the spec's title"
    methods = re.findall(r'<span class="opblock-summary-method">([A-Z]+)</span>', dom)
    paths = re.findall(r'data-path="([^"]+)"', dom)
    pairs = set(zip(methods, paths))
    missing = [op for op in OPERATIONS if op not in pairs]
    assert not missing, f"operations not on the page: {missing}; page shows {sorted(pairs)}"

    # Chromium's log of every request: those the page started (their
    # initiator is the page's origin) all went to the node.
    text = net_log.read_text(errors="replace")
    try:
        events = json.loads(text)["events"]
    except ValueError:  # a log cut short at exit lacks its closing brackets
        events = json.loads(text.rstrip().rstrip(",") + "]}")["events"]
    origin = node.url(1).rstrip("/")
    by_page = {e["params"]["url"] for e in events
               if e.get("params", {}).get("initiator") == origin and "url" in e["params"]}
    outside = sorted(u for u in by_page if not u.startswith(origin + "/"))
    assert not outside, f"the page fetched from outside the node: {outside}"
    paths = {urlsplit(u).path for u in by_page}
    assert {"/v1/openapi.yaml", "/docs/assets/swagger-ui-bundle.js",
            "/docs/assets/swagger-ui.css"} <= paths, sorted(paths)
