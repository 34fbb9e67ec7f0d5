"""docs/openapi.yaml: served by every node as written, complete, in step with
the server's error table, and true of the server under schemathesis."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from single_node import node  # noqa: F401 (fixture)

SPEC = REPO / "docs" / "openapi.yaml"

# Every request of DESIGN §5's table: (method, path template).
DESIGN_OPERATIONS = {
    ("put", "/v1/files/{path}"), ("get", "/v1/files/{path}"), ("head", "/v1/files/{path}"),
    ("delete", "/v1/files/{path}"), ("post", "/v1/mkdir/{path}"), ("post", "/v1/rename"),
    ("get", "/v1/list/{path}"), ("get", "/v1/stat/{path}"), ("get", "/v1/cluster"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
    ("get", "/v1/openapi.yaml"), ("get", "/docs"),
}
HEADERS = {"Range", "If-Match", "If-None-Match", "Idempotency-Key", "X-Kdfs-Min-Version",
           "X-Kdfs-Consistency"}


def load_spec():
    return yaml.safe_load(SPEC.read_text())


def test_served_openapi_equals_docs_file(node):
    want = SPEC.read_bytes()
    for where in (1, None):  # the node itself, and through the gateway
        r = node.get("/v1/openapi.yaml", node=where)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/yaml")
        assert r.content == want, "the node serves another openapi.yaml than docs/openapi.yaml (rebuild?)"
    h = node.http.head(node.url(1) + "/v1/openapi.yaml", timeout=5)
    assert h.status_code == 200 and int(h.headers["Content-Length"]) == len(want)


def test_spec_is_valid_openapi_with_every_operation_and_header():
    from openapi_spec_validator import validate

    spec = load_spec()
    validate(spec)
    assert spec["openapi"].startswith("3.0.")
    ops = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert DESIGN_OPERATIONS <= ops, f"missing: {sorted(DESIGN_OPERATIONS - ops)}"
    params = spec["components"]["parameters"]
    header_names = {p["name"] for p in params.values() if p["in"] == "header"}
    assert HEADERS <= header_names, f"missing headers: {HEADERS - header_names}"
    documented = {name for r in spec["components"]["responses"].values()
                  for name in r.get("headers", {})}
    assert {"X-Kdfs-Version", "ETag", "Content-Range", "Retry-After", "Last-Modified"} <= documented
    # Every error answer documents the one error body.
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, resp in op["responses"].items():
                if int(status) >= 400 and method != "head":
                    ref = resp.get("$ref", "")
                    body = spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else resp
                    schema = body["content"]["application/json"]["schema"]["$ref"]
                    assert schema.endswith("/Error"), (method, path, status)


def test_error_codes_match_the_servers_error_table():
    table = (REPO / "src" / "common" / "error_codes.h").read_text()
    rows = re.findall(r'X\(k\w+,\s*(\d+),\s*"(\w+)"\)', table)
    wire = {name for _, name in rows if name != "ok"}
    spec = load_spec()
    codes = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
                ["code"]["enum"])
    assert codes == wire
    # Every HTTP status the table can produce is documented somewhere.
    statuses = {int(s) for s, name in rows if name not in ("ok", "method_not_allowed")}
    documented = {int(s) for item in spec["paths"].values() for m, op in item.items()
                  if m != "parameters" for s in op["responses"]}
    assert statuses <= documented, sorted(statuses - documented)


def test_schemathesis_finds_no_server_error(node, tmp_path):
    """A bounded schemathesis run (fixed seed, 25 examples per operation)
    against a live node: no answer may be a 5xx, and every status, content
    type, header and body must be what the spec documents for it."""
    url = node.url(1)
    here = Path(__file__).resolve().parent
    env = dict(os.environ, SCHEMATHESIS_TELEMETRY="false", NO_COLOR="1",
               SCHEMATHESIS_HOOKS="schemathesis_hooks",
               PYTHONPATH=os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")]))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", url + "/v1/openapi.yaml",
        "--base-url", url,
        "--checks", "all",
        "--hypothesis-max-examples", "25",
        "--hypothesis-seed", "11",
        "--hypothesis-deadline", "None",
        "--hypothesis-database", "none",
        "--hypothesis-suppress-health-check", "all",
        "--request-timeout", "20000",
        "--schemathesis-io-telemetry", "false",
        "--workers", "1",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env,
                       stdin=subprocess.DEVNULL, cwd=tmp_path)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    assert re.search(r"not_a_server_error\s+(\d+) / \1 passed", out), out[-3000:]
    operations = sum(m != "parameters" for item in load_spec()["paths"].values() for m in item)
    assert f"{operations} passed" in out, out[-3000:]
    assert node.get("/readyz", node=1).status_code == 200
