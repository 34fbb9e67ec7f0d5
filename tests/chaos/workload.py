"""Concurrent clients doing PUT/GET/DELETE/rename against a kdfs cluster.

Every write carries a unique token; its body is the line "kdfs-chaos <token>"
repeated a random number of times, so any read is traced to exactly one write
(or recognised as bytes no write wrote). Writes carry the token as
Idempotency-Key and are retried with it on 503/connection errors for a while
(after the first attempt through the gateway), which turns most ambiguous
answers into known ones: the node returns the first outcome of a key it has
applied. A write all of whose attempts were refused before reaching the log
(connection refused, or the node's own "writes are refused") is a failure. Each client is seeded from the campaign seed.
"""

import http.client
import json
import random
import re
import threading
import time
import urllib.parse

from history import History

LINE = re.compile(rb"kdfs-chaos ([0-9a-z-]+)\n")
KEYS = tuple(f"/chaos/k{i:02d}" for i in range(12))
DEFINITE_FAIL = (400, 404, 409, 412, 413)  # the node decided: not applied


def encode(token, reps):
    return f"kdfs-chaos {token}\n".encode() * reps


def decode(body):
    """The token the body carries, or None if these are not bytes a write wrote."""
    m = LINE.match(body)
    if not m or len(body) % len(m.group(0)) or body != m.group(0) * (len(body) // len(m.group(0))):
        return None
    return m.group(1).decode()


def request(url, method, path, body=None, headers=None, timeout=10.0):
    """(status, headers, body); raises OSError/HTTPException on transport errors."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, urllib.parse.quote(path), body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


class Workload:
    def __init__(self, history, endpoints, seed, clients=16, retry_s=20.0, timeout_s=10.0,
                 keys=KEYS):
        self.history = history
        self.endpoints = endpoints  # [(name, url)], gateway first
        self.seed = seed
        self.clients = clients
        self.retry_s = retry_s
        self.timeout_s = timeout_s
        self.keys = keys
        self.stop = threading.Event()
        self.threads = []
        self.tokens = {}  # token -> key it was written for (publish: the final key)

    def start(self):
        for i in range(self.clients):
            t = threading.Thread(target=self._client, args=(i,), name=f"client-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self, timeout=120):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)

    # -- one client ------------------------------------------------------------

    def _client(self, i):
        rng = random.Random(f"{self.seed}-{i}")
        seq = 0
        while not self.stop.is_set():
            seq += 1
            key = rng.choice(self.keys)
            name, url = self.endpoints[0] if rng.random() < 0.5 else rng.choice(self.endpoints)
            token = f"s{self.seed}-c{i}-{seq}"
            r = rng.random()
            try:
                if r < 0.22:
                    self._get(i, key, name, url, "default")
                elif r < 0.50:
                    self._get(i, key, name, url, "strong")
                elif r < 0.78:
                    self._put(i, key, name, url, token, rng.randint(1, 60))
                elif r < 0.88:
                    self._delete(i, key, name, url, token)
                else:
                    self._publish(i, key, name, url, token, rng.randint(1, 60))
            except Exception as e:  # a bug in the harness must not pass silently
                self.history.invoke(client=i, kind="error", key=key, target=name,
                                    detail=repr(e))
                raise

    def _get(self, i, key, name, url, consistency):
        headers = {"X-Kdfs-Consistency": "strong"} if consistency == "strong" else {}
        rec = self.history.invoke(client=i, kind="get", key=key, target=name,
                                  consistency=consistency)
        try:
            status, _, body = request(url, "GET", "/v1/files" + key, headers=headers,
                                      timeout=self.timeout_s)
        except (OSError, http.client.HTTPException) as e:
            History.complete(rec, "fail", detail=f"transport: {e}")  # a read changes nothing
            return
        if status == 200:
            History.complete(rec, "ok", value=decode(body) or None, detail=status)
            if rec["value"] is None:
                rec["bytes"] = body[:200].decode(errors="replace")
        elif status == 404:
            History.complete(rec, "ok", value="", detail=status)
        else:
            History.complete(rec, "fail", detail=f"{status} {body[:200]!r}")

    def _write(self, rec, method, path, body=None, headers=None, url=None):
        """Sends, retrying ambiguous answers (first at url, then through the
        gateway) with the same Idempotency-Key. Returns (status, answer), or
        (None, last error) when no attempt got a decision; rec["maybe_applied"]
        then tells whether any attempt may have reached the log."""
        deadline = time.monotonic() + self.retry_s
        rec["maybe_applied"] = False
        while True:
            try:
                status, _, answer = request(url, method, path, body=body, headers=headers,
                                            timeout=self.timeout_s)
                if status < 500:
                    return status, answer
                last = f"{status} {answer[:200]!r}"
                # Refused before anything was proposed: the node's own check,
                # asked directly (HAProxy may have replayed an ambiguous attempt).
                definite = (status == 503 and b"writes are refused" in answer
                            and url != self.endpoints[0][1])
            except ConnectionRefusedError as e:
                last, definite = f"transport: {e}", True  # never reached a node
            except (OSError, http.client.HTTPException) as e:
                last, definite = f"transport: {e}", False
            rec["maybe_applied"] = rec["maybe_applied"] or not definite
            if time.monotonic() >= deadline or self.stop.is_set():
                return None, last
            url = self.endpoints[0][1]
            time.sleep(0.5)

    def _put(self, i, key, name, url, token, reps, path=None):
        self.tokens[token] = key
        rec = self.history.invoke(client=i, kind="put" if path is None else "tmp-put",
                                  key=key, target=name, value=token)
        status, answer = self._write(rec, "PUT", "/v1/files" + (path or key),
                                     body=encode(token, reps),
                                     headers={"Idempotency-Key": token,
                                              "Content-Type": "text/plain"}, url=url)
        return self._settle(rec, status, answer)

    def _delete(self, i, key, name, url, token):
        rec = self.history.invoke(client=i, kind="delete", key=key, target=name)
        status, answer = self._write(rec, "DELETE", "/v1/files" + key,
                                     headers={"Idempotency-Key": token}, url=url)
        if status in (204, 200):
            History.complete(rec, "ok", found=True, detail=status)
        elif status == 404:
            History.complete(rec, "ok", found=False, detail=status)
        else:
            self._settle(rec, status, answer)

    def _publish(self, i, key, name, url, token, reps):
        """PUT a private temporary file, then rename it onto key (only if key is absent)."""
        tmp = f"/chaos/tmp/{token}"
        if self._put(i, key, name, url, token, reps, path=tmp) != "ok":
            return
        rec = self.history.invoke(client=i, kind="publish", key=key, target=name, value=token)
        status, answer = self._write(rec, "POST", "/v1/rename",
                                     body=json.dumps({"from": tmp, "to": key}).encode(),
                                     headers={"Idempotency-Key": token + "-mv",
                                              "Content-Type": "application/json"}, url=url)
        if status == 200:
            History.complete(rec, "ok", found=True, detail=status)
        elif status == 409:
            History.complete(rec, "ok", found=False, detail=status)  # key existed
        else:
            self._settle(rec, status, answer)

    @staticmethod
    def _settle(rec, status, answer):
        if status is not None and 200 <= status < 300:
            History.complete(rec, "ok", detail=status)
        elif status in DEFINITE_FAIL or (status is None and not rec["maybe_applied"]):
            History.complete(rec, "fail", detail=answer if status is None else
                             f"{status} {answer[:200]!r}")
        else:
            History.complete(rec, "unknown", detail=answer if status is None else
                             f"{status} {answer[:200]!r}")
        return rec["status"]
