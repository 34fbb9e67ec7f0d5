"""Probes of Kafka, Redis and the nodes (short timeouts: a paused process
must not stall us), and waiting on them with a deadline."""

import contextlib
import json
import socket
import struct
import time
import urllib.error
import urllib.request

from .common import Fail, HOST, say
from .procs import proc_alive, reap, tail


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def http_get(url, timeout=1.0):
    """(status, body) or (None, reason)."""
    try:
        with _opener.open(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, ValueError) as e:
        return None, str(getattr(e, "reason", e))


def redis_ping(port, timeout=1.0):
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = s.recv(64)
    except OSError as e:
        return False, str(e)
    return reply.startswith(b"+PONG"), reply.decode(errors="replace").strip()


def _kafka_call(sock, api_key, version, corr, body):
    client = b"kdfs-cluster"
    req = struct.pack(">hhih", api_key, version, corr, len(client)) + client + body
    sock.sendall(struct.pack(">i", len(req)) + req)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    resp = _recv_exact(sock, size)
    if struct.unpack(">i", resp[:4])[0] != corr:
        raise OSError("kafka: correlation id mismatch")
    return resp[4:]


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def _kafka_str(buf, at):
    """(string, next offset) of a Kafka int16-length string at buf[at:]."""
    n = struct.unpack(">h", buf[at:at + 2])[0]
    return buf[at + 2:at + 2 + max(n, 0)].decode(errors="replace"), at + 2 + max(n, 0)


def kafka_group(bootstrap, group, timeout=2.0):
    """(state, members) of a consumer group: FindCoordinator v0 at the first
    broker, then DescribeGroups v0 at the coordinator."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    name = group.encode()
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.settimeout(timeout)
        found = _kafka_call(s, 10, 0, 3, struct.pack(">h", len(name)) + name)
    if struct.unpack(">h", found[:2])[0] != 0:
        raise OSError(f"FindCoordinator error {struct.unpack('>h', found[:2])[0]}")
    host, at = _kafka_str(found, 6)
    port = struct.unpack(">i", found[at:at + 4])[0]
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        resp = _kafka_call(s, 15, 0, 4, struct.pack(">ih", 1, len(name)) + name)
    if struct.unpack(">i", resp[:4])[0] != 1:
        raise ValueError("DescribeGroups: no group in the answer")
    err = struct.unpack(">h", resp[4:6])[0]
    if err != 0:
        raise OSError(f"DescribeGroups error {err}")
    at = 6
    _, at = _kafka_str(resp, at)  # group id
    state, at = _kafka_str(resp, at)
    _, at = _kafka_str(resp, at)  # protocol type
    _, at = _kafka_str(resp, at)  # protocol
    return state, struct.unpack(">i", resp[at:at + 4])[0]


def group_probe(bootstrap, group, members):
    """Ok once the group is Stable with `members` members: nobody is still
    joining, so no rebalance (and no change of leader) is pending."""
    def probe():
        try:
            state, n = kafka_group(bootstrap, group)
        except (OSError, ValueError, struct.error) as e:
            return False, str(e)
        return state == "Stable" and n == members, f"{state} with {n} of {members} members"
    return probe


def kafka_answers(bootstrap, timeout=2.0):
    """ApiVersions, then Metadata v4: a broker that lists itself is serving."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.settimeout(timeout)
            err = struct.unpack(">h", _kafka_call(s, 18, 0, 1, b"")[:2])[0]
            if err != 0:
                return False, f"ApiVersions error {err}"
            meta = _kafka_call(s, 3, 4, 2, struct.pack(">i", 0) + b"\x00")
            brokers = struct.unpack(">i", meta[4:8])[0]
            return brokers > 0, f"{brokers} broker(s)"
    except (OSError, ValueError, struct.error) as e:
        return False, str(e)


def wait_all(what, items, timeout):
    """items: (name, probe() -> (ok, detail), (label, proc entry, log) or None)."""
    deadline = time.monotonic() + timeout
    pending = {name: (probe, own) for name, probe, own in items}
    details = {}
    last_report = time.monotonic()
    while pending:
        reap()
        for name, (probe, own) in list(pending.items()):
            if own and not proc_alive(own[1]):
                raise Fail(f"{own[0]} exited while waiting for {what}; last lines of {own[2]}:\n"
                           + tail(own[2]))
            ok, details[name] = probe()
            if ok:
                del pending[name]
        if not pending:
            return
        now = time.monotonic()
        if now >= deadline:
            msg = [f"timed out after {timeout:g}s waiting for {what}:"]
            for name, (_, own) in pending.items():
                msg.append(f"  {name}: {details.get(name)}")
                if own:
                    msg.append(f"--- last lines of {own[2]} ---\n{tail(own[2])}")
            raise Fail("\n".join(msg))
        if now - last_report >= 5:
            last_report = now
            say(f"waiting for {what}: " + ", ".join(f"{k} ({details.get(k)})" for k in pending))
        time.sleep(0.1)


def node_probe(n, path):
    def probe():
        code, body = http_get(n["url"] + path)
        return code == 200, code or body
    return probe


def leader_probe(nodes):
    """Ok once some node reports that it sequences writes (role leader)."""
    def probe():
        for n in nodes:
            code, body = http_get(n["url"] + "/internal/status")
            with contextlib.suppress(ValueError):
                if code == 200 and json.loads(body).get("role") == "leader":
                    return True, n["id"]
        return False, "no node leads yet"
    return probe
