"""The fault commands: partitions, slow links, clock skew, a full disk and a
killed Redis (clusters started with `up --isolate`)."""

import contextlib
import os
from pathlib import Path

from .common import run, say
from .isolation import isolated_node
from .procs import stop_procs
from .services import redis_start, redis_wait
from .state import with_cluster


def cmd_partition(args, cut):
    def fn(c):
        n = isolated_node(c, args.node)
        others = [p for p in c.s["nodes"] if p is not n]
        routes = [(n, c.s["isolation"]["kafka"])] + [(n, p["host"]) for p in others] \
            + [(p, n["host"]) for p in others]
        for owner, dest in routes:
            if cut:
                run("ip", "-n", owner["netns"], "route", "replace", "blackhole", f"{dest}/32")
            else:
                run("ip", "-n", owner["netns"], "route", "del", "blackhole", f"{dest}/32", check=False)
        n["partitioned"] = cut
        say(f"{n['id']} {'cut off from Kafka and its peers' if cut else 'healed'}")
    return with_cluster(args, fn)


def cmd_delay(args):
    """netem delay when the kernel has it; otherwise a token bucket whose rate
    makes one 1500-byte packet take MS ms (the link is slow, not just late)."""
    def fn(c):
        n = isolated_node(c, args.node)
        links = [("ip", "netns", "exec", n["netns"], "tc"), ("tc",)]
        devs = ["eth0", n["veth"]]
        for tc, dev in zip(links, devs):
            run(*tc, "qdisc", "del", "dev", dev, "root", check=False)
            if args.ms <= 0:
                continue
            if run(*tc, "qdisc", "add", "dev", dev, "root", "netem", "delay", f"{args.ms}ms",
                   check=False).returncode != 0:
                kbit = max(8, 12000 // args.ms)
                run(*tc, "qdisc", "add", "dev", dev, "root", "tbf", "rate", f"{kbit}kbit",
                    "burst", "3000", "latency", f"{max(50, 20 * args.ms)}ms")
        n["delay_ms"] = max(args.ms, 0)
        say(f"{n['id']} links " + (f"delayed by {args.ms} ms" if args.ms > 0 else "healed"))
    return with_cluster(args, fn)


def cmd_skew(args):
    def fn(c):
        n = isolated_node(c, args.node)
        Path(n["faketime"]).write_text(f"{args.seconds:+d}\n")
        say(f"{n['id']} wall clock shifted by {args.seconds:+d} s (takes effect within 1 s)")
    return with_cluster(args, fn)


def cmd_disk(args, fill):
    def fn(c):
        n = isolated_node(c, args.node)
        ballast = Path(n["disk"]) / "ballast"
        if not fill:
            with contextlib.suppress(FileNotFoundError):
                ballast.unlink()
            say(f"{n['id']} disk freed")
            return
        # Unbuffered: a buffered tail would fail again (ENOSPC) at close.
        with open(ballast, "ab", buffering=0) as f:
            st = os.statvfs(n["disk"])
            with contextlib.suppress(OSError):
                os.posix_fallocate(f.fileno(), f.tell(), st.f_bavail * st.f_frsize)
            with contextlib.suppress(OSError):  # whatever fallocate left
                while True:
                    f.write(b"\0" * 65536)
        say(f"{n['id']} disk full ({ballast.stat().st_size} bytes of ballast)")
    return with_cluster(args, fn)


def cmd_redis(args, start):
    def fn(c):
        n = c.node(args.node)
        if start:
            redis_start(c, n)
            return
        stop_procs([n["redis"]], args.timeout, kill=True)
        say(f"redis of {n['id']} killed")

    def wait(c):
        redis_wait([c.node(args.node)], args.timeout)
        say(f"redis of {c.node(args.node)['id']} running")
    return with_cluster(args, fn, wait if start else None)
