"""Isolation for fault injection (needs root). `up --isolate` gives each node
its own network namespace joined to a per-cluster bridge (so its links can be
cut or slowed without touching anyone else's traffic), its data dir on a small
tmpfs of its own (so its disk can be filled) and libfaketime in front of its
wall clock (monotonic time is left alone). Kafka gets an address of its own on
the bridge; each node's Redis listens on the bridge's first address."""

import os
from pathlib import Path

from .common import Fail, run


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
DISK_SIZE = os.environ.get("KDFS_CHAOS_DISK", "256m")


def isolated_net(port):
    prefix = f"10.{64 + (port >> 8) % 128}.{port & 255}"
    return {"prefix": prefix, "bridge": f"kb{port}", "gateway": f"{prefix}.1", "kafka": f"{prefix}.2"}


def isolate_state(state, net):
    state["isolation"] = net
    for n in state["nodes"]:
        i, nd = n["index"], Path(n["data_dir"]).parent
        n["host"] = f"{net['prefix']}.{10 + i}"
        n["url"] = f"http://{n['host']}:{n['port']}"
        n["netns"] = f"kdfs{state['port']}n{i}"
        n["veth"] = f"kv{state['port']}n{i}"
        n["disk"] = str(nd / "disk")
        n["data_dir"] = str(nd / "disk" / "data")
        n["faketime"] = str(nd / "faketime.rc")
        n["redis"]["host"] = net["gateway"]


def isolate_setup(s):
    """Creates the bridge, namespaces and tmpfs disks that are missing."""
    if os.geteuid() != 0:
        raise Fail("--isolate needs root (network namespaces, tmpfs mounts)")
    net = s["isolation"]
    br = net["bridge"]
    if run("ip", "link", "show", br, check=False).returncode != 0:
        run("ip", "link", "add", br, "type", "bridge")
        run("ip", "addr", "add", f"{net['gateway']}/24", "dev", br)
        run("ip", "addr", "add", f"{net['kafka']}/32", "dev", br)
    run("ip", "link", "set", br, "up")
    for n in s["nodes"]:
        ns, veth = n["netns"], n["veth"]
        if not Path(f"/run/netns/{ns}").exists():
            run("ip", "netns", "add", ns)
            tmp = f"kt{s['port']}n{n['index']}"
            run("ip", "link", "add", veth, "type", "veth", "peer", "name", tmp)
            run("ip", "link", "set", tmp, "netns", ns)
            run("ip", "-n", ns, "link", "set", tmp, "name", "eth0")
            run("ip", "-n", ns, "addr", "add", f"{n['host']}/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "link", "set", veth, "master", br)
            run("ip", "link", "set", veth, "up")
        disk = Path(n["disk"])
        disk.mkdir(parents=True, exist_ok=True)
        if run("mountpoint", "-q", disk, check=False).returncode != 0:
            run("mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", disk)
        if not Path(n["faketime"]).exists():
            Path(n["faketime"]).write_text("+0\n")


def isolate_teardown(s, purge=False):
    for n in s["nodes"]:
        run("ip", "netns", "del", n["netns"], check=False)
        if purge and run("mountpoint", "-q", n["disk"], check=False).returncode == 0:
            run("umount", "-l", n["disk"], check=False)
    run("ip", "link", "del", s["isolation"]["bridge"], check=False)


def isolate_wrap(n, argv):
    """(argv, env) that start a node inside its namespace, behind libfaketime."""
    if not n.get("netns"):
        return argv, None
    env = dict(os.environ)
    if Path(FAKETIME_LIB).exists():
        env.update({"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": n["faketime"],
                    "FAKETIME_CACHE_DURATION": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    return ["nsenter", f"--net=/run/netns/{n['netns']}", "--", *argv], env


def isolated_node(c, which):
    n = c.node(which)
    if not n.get("netns"):
        raise Fail(f"{c.dir} was not started with `up --isolate`; faults need it")
    return n
