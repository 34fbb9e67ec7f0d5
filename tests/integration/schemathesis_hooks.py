"""Schemathesis hooks for test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

They keep generated requests inside what the API asks of its clients, so
that any 5xx or undocumented status is the server's fault:
- X-Kdfs-Min-Version is a version the client has seen; a random one makes
  the node wait its 10 s bound and answer 503, as documented (tested in
  test_python_client.py), which would only stall the run. It becomes 0.
- Idempotency-Key must be unique per operation; a generated "0" reused by a
  later request of another kind would rightly get the first one's outcome.
  Each key gets a unique suffix (still printable ASCII, <= 255 bytes).
"""

import itertools

import schemathesis

_counter = itertools.count()


@schemathesis.hook
def map_headers(context, headers):
    if not headers:
        return headers
    if "X-Kdfs-Min-Version" in headers:
        headers["X-Kdfs-Min-Version"] = "0"
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:200]}-{next(_counter)}"
    return headers
