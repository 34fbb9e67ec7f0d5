"""The commands that run, grow and stop a cluster."""

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

from .common import Fail, HOST, say
from .isolation import isolate_setup, isolate_teardown
from .probes import (
    group_probe,
    http_get,
    kafka_answers,
    leader_probe,
    node_probe,
    port_free,
    redis_ping,
    wait_all,
)
from .procs import proc_alive, proc_paused, signal_proc, stop_procs, sweep
from .services import (
    haproxy_start,
    kafka_start,
    kafka_wait,
    node_start,
    node_wait,
    redis_start,
    redis_wait,
)
from .state import Cluster, check_compatible, locked, new_state, used_ports, with_cluster


def cmd_up(args):
    d = Path(args.dir).resolve()
    with locked(d):
        c = Cluster(d)
        if c.exists():
            if not c.s["gateway"]:
                raise Fail(f"{d} holds a standalone Kafka (kafka-up), not a cluster")
            check_compatible(args, c.s)
        else:
            c.s = new_state(args, d)
            c.save()
        s = c.s
        if not os.access(s["node_bin"], os.X_OK):
            raise Fail(f"node binary {s['node_bin']} missing; run `make build` (or pass --node-bin)")
        if s.get("isolation"):
            isolate_setup(s)
        for n in s["nodes"]:
            if proc_paused(n):
                say(f"resuming paused {n['id']} (pid {n['pid']})")
                signal_proc(n, signal.SIGCONT)
        if not s["kafka"].get("external"):
            kafka_start(c, args)
        for n in s["nodes"]:
            redis_start(c, n)
        kafka_wait(c, args.timeout)
        redis_wait(s["nodes"], args.timeout)
        for n in s["nodes"]:
            node_start(c, n)
        haproxy_start(c)
        node_wait(c, s["nodes"], args.timeout)
        g = s["gateway"]
        wait_all("the gateway", [("haproxy", node_probe(g, "/readyz"), ("haproxy", g, g["log"]))],
                 args.timeout)
        wait_all("an elected leader", [("leader", leader_probe(s["nodes"]), None)], args.timeout)
        # Nodes that join the election after its first round make the group
        # rebalance, and the leader steps down and leads again in a new epoch
        # (a record in the log). Wait for every node to be in, then the leader.
        wait_all("every node in the election", [("election", group_probe(
            s["kafka"]["bootstrap"], s["topic_prefix"] + ".election", len(s["nodes"])), None)],
            args.timeout)
        wait_all("an elected leader", [("leader", leader_probe(s["nodes"]), None)], args.timeout)
        say(f"cluster up: {len(s['nodes'])} nodes, Kafka {s['kafka']['bootstrap']}, "
            f"topic prefix {s['topic_prefix']}, state in {d}")
        print(g["url"], flush=True)


def cmd_kafka_up(args):
    d = Path(args.dir).resolve()
    with locked(d):
        c = Cluster(d)
        if c.exists():
            if c.s["gateway"]:
                raise Fail(f"{d} holds a cluster; kafka-up wants a dir of its own")
            if args.port is not None and args.port != c.s["port"]:
                raise Fail(f"{d} holds a broker on --port {c.s['port']}")
        else:
            c.s = new_state(args, d, standalone_kafka=True)
            c.save()
        kafka_start(c, args)
        kafka_wait(c, args.timeout)
        print(c.s["kafka"]["bootstrap"], flush=True)


def cmd_down(args):
    d = Path(args.dir).resolve()
    if not d.exists():
        say(f"nothing to stop: {d} does not exist")
        return
    with locked(d):
        c = Cluster(d)
        if c.exists():
            s = c.s
            front = ([s["gateway"]] if s["gateway"] else []) + s["nodes"]
            stop_procs(front, args.timeout)
            c.save()
            back = [n["redis"] for n in s["nodes"]]
            if not s["kafka"].get("external"):
                back.append(s["kafka"])
            stop_procs(back, max(args.timeout, 30))
            c.save()
            if s.get("isolation"):
                isolate_teardown(s, purge=args.purge)
        sweep(d)
        say(f"stopped everything in {d}")
    if args.purge:
        shutil.rmtree(d)
        say(f"removed {d}")


def cmd_status(args):
    c = Cluster(Path(args.dir).resolve())
    s = c.require()
    rows, all_ok = [], True

    def row(name, entry, ok_probe, address, external=False):
        nonlocal all_ok
        if external:
            state, pid = "external", "-"
        elif proc_paused(entry):
            state, pid = "paused", entry["pid"]
        elif proc_alive(entry):
            state, pid = "running", entry["pid"]
        else:
            state, pid = "stopped", "-"
        ok, detail = (False, "")
        if state in ("running", "external"):
            ok, detail = ok_probe()
        else:
            detail = ""
        all_ok = all_ok and ok
        rows.append((name, str(pid), state, "ok" if ok else "NOT OK", address, str(detail)))

    k = s["kafka"]
    row("kafka", k, lambda: kafka_answers(k["bootstrap"], 1.0), k["bootstrap"], k.get("external"))
    for n in s["nodes"]:
        r = n["redis"]
        row(f"{n['id']} redis", r, lambda r=r: redis_ping(r["port"]), f"{HOST}:{r['port']}")

        def node_ok(n=n):
            code, _ = http_get(n["url"] + "/readyz")
            info = f"readyz {code}" if code else "no answer"
            c2, body = http_get(n["url"] + "/v1/cluster")
            with contextlib.suppress(ValueError, TypeError, KeyError, StopIteration):
                me = next(x for x in json.loads(body)["nodes"] if x["id"] == n["id"])
                info += f" role={me.get('role')} applied={me.get('applied_offset')} lag={me.get('lag')}"
            return code == 200, info
        row(n["id"], n, node_ok, n["url"])
    g = s["gateway"]
    if g:
        row("gateway", g, lambda: (lambda cb: (cb[0] == 200, f"healthz {cb[0] or cb[1]}"))(
            http_get(g["url"] + "/healthz")), g["url"])
    widths = [max(len(r[i]) for r in rows + [("NAME", "PID", "STATE", "HEALTH", "ADDRESS", "")])
              for i in range(5)]
    for r in [("NAME", "PID", "STATE", "HEALTH", "ADDRESS", "DETAIL")] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)) + "  " + r[5])
    print(f"{'all up' if all_ok else 'NOT all up'}; state in {c.dir}")
    return 0 if all_ok else 1


def cmd_stop_node(args, kill=False):
    def fn(c):
        n = c.node(args.node)
        procs = [n] + ([n["redis"]] if args.with_redis else [])
        was = [p["pid"] for p in procs if proc_alive(p)]
        stop_procs(procs, args.timeout, kill=kill)
        say(f"{'killed' if kill else 'stopped'} {n['id']}"
            + (" and its redis" if args.with_redis else "") + (f" (pids {was})" if was else " (was not running)"))
    return with_cluster(args, fn)


def cmd_start_node(args):
    started_redis = False

    def fn(c):
        nonlocal started_redis
        n = c.node(args.node)
        started_redis = redis_start(c, n)
        if not node_start(c, n, args.node_arg or ()):
            say(f"{n['id']} already running (pid {n['pid']})")

    def wait(c):
        n = c.node(args.node)
        if started_redis:
            redis_wait([n], args.timeout)
        node_wait(c, [n], args.timeout, ready=not args.no_wait)
        say(f"{n['id']} is {'answering' if args.no_wait else 'ready'} at {n['url']}")
    return with_cluster(args, fn, wait)


def cmd_signal_node(args, sig, verb):
    c = Cluster(Path(args.dir).resolve())
    c.require()
    n = c.node(args.node)
    if not proc_alive(n):
        raise Fail(f"{n['id']} is not running")
    os.kill(n["pid"], sig)
    want = sig == signal.SIGSTOP
    deadline = time.monotonic() + 5
    while proc_paused(n) != want:
        if time.monotonic() > deadline:
            raise Fail(f"{n['id']} (pid {n['pid']}) did not become {verb}")
        time.sleep(0.02)
    say(f"{n['id']} (pid {n['pid']}) {verb}")


def cmd_kafka_stop(args):
    def fn(c):
        k = c.s["kafka"]
        if k.get("external"):
            raise Fail(f"this cluster uses an external Kafka ({k['bootstrap']}); it is not ours to stop")
        stop_procs([k], max(args.timeout, 30), kill=args.kill)
        say(f"kafka {'killed' if args.kill else 'stopped'}")
    return with_cluster(args, fn)


def cmd_kafka_start(args):
    def wait(c):
        kafka_wait(c, args.timeout)
        say(f"kafka answering at {c.s['kafka']['bootstrap']}")
    def fn(c):
        kafka_start(c, args)
    return with_cluster(args, fn, wait)


def cmd_add_node(args):
    """Grows a running cluster by one node (and its Redis) on the next free ports.

    The new node is told every other node as a peer; the existing nodes and
    HAProxy are not reconfigured (it serves on its own URL)."""
    def fn(c):
        s = c.s
        if any("host" in n for n in s["nodes"]):
            raise Fail("add-node does not support --isolate clusters")
        used = used_ports(s)
        port = s["gateway"]["stats_port"] + 1
        while port in used or port + 1 in used or not (port_free(port) and port_free(port + 1)):
            port += 2
        i = max(n["index"] for n in s["nodes"]) + 1
        nd = Path(s["dir"]) / f"node{i}"
        n = {"id": f"node-{i}", "index": i, "url": f"http://{HOST}:{port}", "port": port,
             "pid": None, "start_time": None, "data_dir": str(nd / "data"), "log": str(nd / "node.log"),
             "redis": {"port": port + 1, "pid": None, "start_time": None,
                       "dir": str(nd / "redis"), "log": str(nd / "redis" / "redis.log")}}
        s["nodes"].append(n)
        c.save()
        redis_start(c, n)
        node_start(c, n, args.node_arg or ())

    def wait(c):
        n = c.s["nodes"][-1]
        redis_wait([n], args.timeout)
        node_wait(c, [n], args.timeout, ready=not args.no_wait)
        say(f"{n['id']} added at {n['url']}")
        print(n["url"], flush=True)
    return with_cluster(args, fn, wait)


def cmd_wipe_node(args):
    """Deletes a stopped node's data dir and its Redis data (a lost disk)."""
    def fn(c):
        n = c.node(args.node)
        if proc_alive(n) or proc_alive(n["redis"]):
            raise Fail(f"stop {n['id']} and its Redis first (stop-node {args.node} --with-redis)")
        shutil.rmtree(n["data_dir"], ignore_errors=True)
        rd = Path(n["redis"]["dir"])
        for f in list(rd.glob("appendonly*")) + list(rd.glob("*.rdb")):
            shutil.rmtree(f) if f.is_dir() else f.unlink()
        say(f"wiped the data dir and Redis data of {n['id']}")
    return with_cluster(args, fn)
