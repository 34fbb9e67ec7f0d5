"""The recorded history of a chaos campaign: one record per client operation.

A record is a dict with: id, client, kind (put, get, delete, publish),
key (the checked path), target ("gateway" or a node id), consistency
("default" or "strong", reads), value (the token a put/publish wrote or a
get read; "" = absent, None = unreadable bytes), found (delete: removed
something; publish: the rename succeeded), status ("ok", "fail" = definitely
not applied, "unknown" = may or may not have been applied), call and ret
(time.monotonic_ns(); ret None until completed), detail (HTTP status or
error text).

`publish` is a rename of a private temporary file onto `key`: it succeeds
only when `key` is absent, and then writes the temporary file's token there.
"""

import itertools
import json
import threading
import time
from pathlib import Path


class History:
    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self.ops = []

    def invoke(self, **fields):
        rec = {"id": next(self._ids), "status": None, "ret": None, "detail": None,
               "found": None, "value": fields.pop("value", None), **fields,
               "call": time.monotonic_ns()}
        with self._lock:
            self.ops.append(rec)
        return rec

    @staticmethod
    def complete(rec, status, value=None, found=None, detail=None):
        rec["ret"] = time.monotonic_ns()
        rec["status"] = status
        if value is not None or rec["kind"] == "get":
            rec["value"] = value
        if found is not None:
            rec["found"] = found
        rec["detail"] = detail

    def save(self, path):
        with open(path, "w") as f:
            for rec in self.ops:
                f.write(json.dumps(rec) + "\n")

    @staticmethod
    def load(path):
        h = History()
        h.ops = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        return h


def op(id_, kind, key, call, ret, status="ok", value=None, found=None, client=0,
       consistency="strong", target="gateway"):
    """A hand-made record (tests of the checkers)."""
    return {"id": id_, "client": client, "kind": kind, "key": key, "target": target,
            "consistency": consistency, "value": value, "found": found, "status": status,
            "call": call, "ret": ret, "detail": None}
