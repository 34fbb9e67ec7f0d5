#!/usr/bin/env python3
"""`make bench`: kdfs figures beside references measured in the same run.

Starts a fresh local 3-node cluster (scripts/cluster, own ports and temp dir,
its own Kafka unless KDFS_BENCH_KAFKA=host:port names a broker to reuse) and
an nginx on loopback, then measures:

  * 1 GiB PUT through the gateway (kdfs CLI) vs `dd conv=fsync` to the same disk;
  * 1 GiB GET through the gateway and from a node (curl) vs nginx (curl);
  * 4 KiB PUT/GET rate and p50/p99 with 1, 8, 64 clients (`kdfs bench`, one
    kept-alive connection per client) vs nginx serving 4 KiB files to the
    same load generator (`kdfs bench --raw`);
  * listing rate of a directory of 100,000 entries vs `ls -U` of a local one;
  * failover: SIGKILL of the leader to the first acknowledged write, median of 5;
  * peak resident memory of the nodes during the large transfers vs nginx.

Prints one Markdown table and writes bench/results/<UTC timestamp>.md and .json
with the machine's details. Environment: KDFS_BUILD (build dir, default build),
KDFS_BENCH_KAFKA, BIG_MIB (default 1024), LIST_ENTRIES (default 100000),
FAILOVERS (default 5), PEERS=1 (also SeaweedFS; see bench/seaweed.py).
Only the Python standard library, curl, dd and nginx are used.
"""

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from portblocks import PORTS  # noqa: E402  (scripts/portblocks.py: the test suite's port locks)
BUILD = Path(os.environ.get("KDFS_BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
NODE_BIN = BUILD / "src" / "node" / "kdfs-node"
CLI_BIN = BUILD / "src" / "cli" / "kdfs"
BIG_MIB = int(os.environ.get("BIG_MIB", "1024"))
LIST_ENTRIES = int(os.environ.get("LIST_ENTRIES", "100000"))
FAILOVERS = int(os.environ.get("FAILOVERS", "5"))
SMALL_LOADS = [(1, 200), (8, 1000), (64, 3000)]  # (clients, files)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(*cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([str(c) for c in cmd], text=True, **kw)


def timed(*cmd, **kw):
    start = time.monotonic()
    run(*cmd, **kw)
    return time.monotonic() - start


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "load_avg_at_start": os.getloadavg()[0]}


# ----------------------------------------------------------------------------
# Processes under test


class RssSampler:
    """Peak VmRSS (MiB) of some pids, sampled every 100 ms while active."""

    def __init__(self, pids):
        self.pids, self.peak, self._stop = list(pids), 0.0, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            total = 0
            for pid in self.pids:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total = max(total, int(line.split()[1]))  # the largest process
                except OSError:
                    pass
            self.peak = max(self.peak, total / 1024)
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_seconds(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    f = stat[stat.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds that groups of processes spend inside the block."""

    def __init__(self, groups):
        self.groups, self.used = groups, {}

    def __enter__(self):
        self._start = {g: sum(cpu_seconds(p) for p in pids) for g, pids in self.groups.items()}
        return self

    def __exit__(self, *exc):
        self.used = {g: sum(cpu_seconds(p) for p in pids) - self._start[g]
                     for g, pids in self.groups.items()}


class Cluster:
    def __init__(self, work, port):
        self.dir, self.port = work / "cluster", port

    def up(self):
        args = ["up", "--dir", self.dir, "--port", self.port, "--node-bin", NODE_BIN, "--timeout", 180]
        if os.environ.get("KDFS_BENCH_KAFKA"):
            args += ["--kafka", os.environ["KDFS_BENCH_KAFKA"]]
        run(sys.executable, REPO / "scripts" / "cluster", *args)
        return self

    def tool(self, *args):
        return run(sys.executable, REPO / "scripts" / "cluster", *args, "--dir", self.dir)

    def down(self):
        run(sys.executable, REPO / "scripts" / "cluster", "down", "--dir", self.dir, check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def info(self):
        return json.loads((self.dir / "cluster.json").read_text())

    @property
    def gateway(self):
        return self.info["gateway"]["url"]

    def process_groups(self):
        """{group: pids} of the cluster's processes, for CpuMeter."""
        i = self.info
        groups = {"nodes": self.node_pids(), "redis": [n["redis"]["pid"] for n in i["nodes"]],
                  "haproxy": [i["gateway"]["pid"]]}
        if not i["kafka"].get("external"):
            groups["kafka"] = [i["kafka"]["pid"]]
        return groups

    def node_pids(self):
        return [n["pid"] for n in self.info["nodes"] if n["pid"]]

    def leader(self):
        """1-based index of the leader as a live node sees it, or None."""
        nodes = self.info["nodes"]
        for n in nodes:
            try:
                with OPENER.open(n["url"] + "/v1/cluster", timeout=2) as r:
                    leader = json.load(r).get("leader")
            except OSError:
                continue
            if leader:
                return next(i for i, m in enumerate(nodes, 1) if m["id"] == leader["node"])
        return None


class Nginx:
    def __init__(self, work, port):
        self.root, self.port, self.dir = work / "www", port, work / "nginx"
        self.root.mkdir()
        self.dir.mkdir()
        self.url = f"http://127.0.0.1:{port}"

    def up(self):
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(f"""{user}worker_processes auto;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def pids(self):
        out = run("pgrep", "-P", self.proc.pid, check=False).stdout.split()
        return [self.proc.pid] + [int(p) for p in out]

    def down(self):
        if getattr(self, "proc", None):
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ----------------------------------------------------------------------------
# Measurements


def kdfs(*args, url, **kw):
    return run(CLI_BIN, "--no-state", "--url", url, *args, **kw)


def curl_get_seconds(url):
    return timed("curl", "-sS", "-f", "--noproxy", "*", "-o", "/dev/null", url)


def large_files(work, cluster, nginx, rows, raw):
    big = work / "big.bin"
    log(f"creating a {BIG_MIB} MiB file")
    run("head", "-c", str(BIG_MIB << 20), "/dev/urandom", stdout=open(big, "wb"))
    os.link(big, nginx.root / "big.bin")
    secs = timed("dd", f"if={big}", f"of={work / 'dd.out'}", "bs=1M", "conv=fsync",
                 stderr=subprocess.DEVNULL)
    (work / "dd.out").unlink()
    dd = BIG_MIB / secs
    log(f"dd: {dd:.0f} MiB/s; kdfs PUT")
    with RssSampler(cluster.node_pids()) as rss_put:
        put = BIG_MIB / timed(CLI_BIN, "--no-state", "--url", cluster.gateway, "put", big, "/bench/big.bin")
    log(f"PUT {put:.0f} MiB/s; GETs")
    with RssSampler(cluster.node_pids()) as rss_get:
        get = max(BIG_MIB / curl_get_seconds(cluster.gateway + "/v1/files/bench/big.bin") for _ in range(2))
        node = cluster.info["nodes"][1]["url"]
        get_node = BIG_MIB / curl_get_seconds(node + "/v1/files/bench/big.bin")
    with RssSampler(nginx.pids()) as rss_nginx:
        ref = max(BIG_MIB / curl_get_seconds(nginx.url + "/big.bin") for _ in range(2))
    raw.update(big_put=put, big_get=get, big_get_node=get_node, dd=dd, nginx_big_get=ref,
               rss_put=rss_put.peak, rss_get=rss_get.peak, rss_nginx=rss_nginx.peak)
    rows.append(row(f"{BIG_MIB} MiB PUT via gateway, 3 copies (MiB/s)", put, "dd conv=fsync", dd,
                    goal=0.25))
    rows.append(row(f"{BIG_MIB} MiB GET via gateway, curl (MiB/s)", get, "nginx, curl", ref, goal=0.5))
    rows.append(row(f"{BIG_MIB} MiB GET from a node, no HAProxy (MiB/s)", get_node, "nginx, curl", ref))
    rows.append(row("peak node RSS during PUT (MiB)", rss_put.peak, "nginx RSS during GET",
                    rss_nginx.peak))
    rows.append(row("peak node RSS during GET (MiB)", rss_get.peak, "nginx RSS during GET",
                    rss_nginx.peak))
    big.unlink()
    (nginx.root / "big.bin").unlink()
    kdfs("rm", "/bench/big.bin", url=cluster.gateway)


def bench_json(*args, url):
    out = kdfs("bench", "--json", *args, url=url).stdout
    return {r["op"]: r for r in json.loads(out)["results"]}


def small_files(cluster, nginx, rows, raw):
    small = nginx.root / "small"
    small.mkdir()
    most = max(n for _, n in SMALL_LOADS)
    payload = b"k" * 4096
    for i in range(most):
        (small / f"f{i}").write_bytes(payload)
    for clients, files in SMALL_LOADS:
        log(f"4 KiB files, {clients} clients")
        prefix = f"/bench/small{clients}"
        with CpuMeter(cluster.process_groups()) as cpu:
            k = bench_json("--op", "put", "--keep", "--prefix", prefix, "-n", files, "-c", clients,
                           "-s", "4K", url=cluster.gateway)
        k.update(bench_json("--op", "get", "--prefix", prefix, "-n", files, "-c", clients, "-s", "4K",
                            url=cluster.gateway))
        kdfs("rm", "-r", prefix, url=cluster.gateway)
        n = bench_json("--raw", "--op", "get", "--prefix", "/small", "-n", most, "-c", clients,
                       "-s", "4K", url=nginx.url)
        cpu_ms = {g: 1000 * v / max(k["put"]["ok"], 1) for g, v in cpu.used.items()}
        raw[f"small_{clients}"] = {"kdfs": k, "nginx": n, "put_cpu_ms_per_op": cpu_ms}
        for r in (k["put"], k["get"], n["get"]):
            if r["errors"]:
                raise RuntimeError(f"load generator errors: {r}")
        rows.append(row(f"4 KiB PUT, {clients} clients (ops/s; p50/p99 ms)", k["put"]["rate"],
                        "", None, goal_abs=1000 if clients == 64 else None,
                        lat=(k["put"]["p50_ms"], k["put"]["p99_ms"])))
        rows.append(row(f"4 KiB GET, {clients} clients (ops/s; p50/p99 ms)", k["get"]["rate"],
                        "nginx", n["get"]["rate"], lat=(k["get"]["p50_ms"], k["get"]["p99_ms"]),
                        ref_lat=(n["get"]["p50_ms"], n["get"]["p99_ms"])))
    cpu_ms = raw["small_64"]["put_cpu_ms_per_op"]
    total = sum(cpu_ms.values())
    rows.append(row("CPU ms per 4 KiB PUT at 64 clients, all cluster processes "
                    f"({', '.join(f'{g} {v:.1f}' for g, v in cpu_ms.items())})", total,
                    f"ceiling on {os.cpu_count()} cores (ops/s)", os.cpu_count() * 1000 / total,
                    ratio=False))


def listing(work, cluster, rows, raw):
    log(f"creating {LIST_ENTRIES} entries (64 clients)")
    created = bench_json("--op", "put", "--keep", "--prefix", "/bench/list", "-n", LIST_ENTRIES,
                         "-c", 64, "-s", "0", url=cluster.gateway)["put"]
    if created["errors"]:
        raise RuntimeError(f"creating the listing failed: {created}")
    log("listing")
    start = time.monotonic()
    out = kdfs("ls", "/bench/list", url=cluster.gateway).stdout
    secs = time.monotonic() - start
    count = out.count("\n")
    if count != LIST_ENTRIES:
        raise RuntimeError(f"ls listed {count} of {LIST_ENTRIES}")
    local = work / "list"
    local.mkdir()
    for i in range(LIST_ENTRIES):
        (local / f"f{i}").touch()
    ref_secs = timed("ls", "-U", local)
    raw.update(list_secs=secs, list_create_rate=created["rate"], list_local_secs=ref_secs)
    rows.append(row(f"list {LIST_ENTRIES} entries (entries/s)", LIST_ENTRIES / secs,
                    "ls -U local dir", LIST_ENTRIES / ref_secs))
    rows.append(row(f"create {LIST_ENTRIES} empty files, 64 clients (ops/s)", created["rate"], "", None))
    kdfs("rm", "-r", "/bench/list", url=cluster.gateway, timeout=600)


def try_write(url, i):
    req = urllib.request.Request(f"{url}/v1/files/bench/failover/w{i}", data=b"x", method="PUT")
    try:
        with OPENER.open(req, timeout=2) as r:
            return 200 <= r.status < 300
    except OSError:
        return False


def failover(cluster, rows, raw):
    times = []
    for round_ in range(FAILOVERS):
        leader = cluster.leader()
        if leader is None:
            raise RuntimeError("no leader before failover round")
        survivor = cluster.info["nodes"][(leader % 3)]["url"]  # the next node
        if not try_write(survivor, f"{round_}-warm"):
            raise RuntimeError(f"{survivor} does not take writes before failover round")
        pid = cluster.info["nodes"][leader - 1]["pid"]
        start = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        i = 0
        while not try_write(survivor, f"{round_}-{i}"):
            i += 1
            time.sleep(0.02)  # poll interval: leave the CPUs to the election
            if time.monotonic() - start > 60:
                raise RuntimeError("no write succeeded within 60 s of the leader's death")
        times.append(time.monotonic() - start)
        log(f"failover {round_ + 1}: {times[-1]:.2f} s")
        cluster.tool("start-node", leader)
    raw["failover_s"] = times
    rows.append(row(f"failover: leader SIGKILL to first write, median of {FAILOVERS} (s)",
                    statistics.median(times), "goal", 3.0, lower_better=True))


# ----------------------------------------------------------------------------
# The table


def row(name, kdfs_value, ref_name, ref_value, goal=None, goal_abs=None, lat=None, ref_lat=None,
        lower_better=False, ratio=True):
    return {"name": name, "kdfs": kdfs_value, "reference_name": ref_name, "reference": ref_value,
            "goal_ratio": goal, "goal_abs": goal_abs, "lat": lat, "ref_lat": ref_lat,
            "lower_better": lower_better, "ratio": ratio}


def fmt(v, lat=None):
    if v is None:
        return ""
    s = f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"
    if lat:
        s += " (" + "/".join(f"{x:.2f}" if x < 1 else f"{x:.1f}" for x in lat) + ")"
    return s


def verdict(r):
    if r["lower_better"]:
        return f"< {r['reference']:g} s: {'met' if r['kdfs'] < r['reference'] else 'MISSED'}"
    if r["goal_ratio"] is not None and r["reference"]:
        ok = r["kdfs"] >= r["goal_ratio"] * r["reference"]
        return f">= {r['goal_ratio']:.0%} of ref: {'met' if ok else 'MISSED'}"
    if r["goal_abs"] is not None:
        return f">= {r['goal_abs']:,}/s: {'met' if r['kdfs'] >= r['goal_abs'] else 'MISSED'}"
    return ""


def table(rows, extra_columns=()):
    head = "| figure | kdfs | reference | ref value | kdfs/ref | goal |" + "".join(
        f" {c} |" for c in extra_columns)
    lines = [head, "|" + "---|" * (6 + len(extra_columns))]
    for r in rows:
        ratio = ""
        if r["reference"] and r["ratio"] and not r["lower_better"]:
            ratio = f"{r['kdfs'] / r['reference']:.0%}"
        extras = "".join(f" {fmt(r.get('extra', {}).get(c), r.get('extra_lat'))} |"
                         for c in extra_columns)
        lines.append(f"| {r['name']} | {fmt(r['kdfs'], r['lat'])} | {r['reference_name']} | "
                     f"{fmt(r['reference'], r['ref_lat'])} | {ratio} | {verdict(r)} |{extras}")
    return "\n".join(lines)


def main():
    for binary in (NODE_BIN, CLI_BIN):
        if not binary.exists():
            sys.exit(f"{binary} is not built (make build, or set KDFS_BUILD)")
    if not shutil.which("nginx"):
        sys.exit("nginx is not installed (scripts/install-deps)")
    started = time.monotonic()
    port = PORTS.reserve()  # held until this process exits
    work = Path(tempfile.mkdtemp(prefix="kdfs-bench-"))
    os.chmod(work, 0o755)  # nginx workers read the files
    cluster, nginx = Cluster(work, port), Nginx(work, port + 40)
    rows, raw = [], {"machine": machine()}
    try:
        log(f"cluster on port {port} in {work}")
        cluster.up()
        nginx.up()
        large_files(work, cluster, nginx, rows, raw)
        small_files(cluster, nginx, rows, raw)
        failover(cluster, rows, raw)
        listing(work, cluster, rows, raw)
        if os.environ.get("PEERS") == "1":
            sys.path.insert(0, str(Path(__file__).parent))
            import seaweed  # noqa: E402  (only with PEERS=1)
            try:
                seaweed.run_peers(work, port + 44, rows, raw, nginx)
            except Exception as e:  # the kdfs figures still count
                log(f"PEERS=1: SeaweedFS failed: {e!r}")
                raw["peers_error"] = repr(e)
    finally:
        nginx.down()
        cluster.down()
        shutil.rmtree(work, ignore_errors=True)
    raw["seconds"] = time.monotonic() - started
    m = raw["machine"]
    extra = ["SeaweedFS"] if any("extra" in r for r in rows) else []
    md = (f"# kdfs bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
          f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, Linux {m['kernel']}, "
          f"load average at start {m['load_avg_at_start']:.1f}. Run took {raw['seconds']:.0f} s.\n"
          f"Latencies in parentheses: p50/p99 ms. 3-node cluster on one machine (every node "
          f"stores every chunk).\n"
          + (f"PEERS=1: SeaweedFS failed: {raw['peers_error']}\n" if "peers_error" in raw else "")
          + "\n" + table(rows, extra) + "\n")
    print(md)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (out / f"{stamp}.md").write_text(md)
    (out / f"{stamp}.json").write_text(json.dumps({"rows": rows, "raw": raw}, indent=1) + "\n")
    log(f"wrote bench/results/{stamp}.md and .json")


if __name__ == "__main__":
    main()
