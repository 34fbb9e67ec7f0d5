"""PEERS=1 part of bench/run_bench.py: the same large-file and small-file
workloads against SeaweedFS on loopback, added as a column of the table.

SeaweedFS: a master, three volume servers and a filer, replication 002 (two
more copies on other servers of the same rack: every file has three copies,
like kdfs on three nodes). Its `weed` program is built from the Go module
proxy at WEED_VERSION into $GOPATH/bin (once; see weed_binary). Writes and
reads go through the filer's HTTP interface with the same clients as kdfs:
curl for the large file, `kdfs bench --raw` for 4 KiB files.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import run_bench as rb

# No semver tags on the proxy: a pinned pseudo-version of the master branch.
WEED_VERSION = os.environ.get("WEED_VERSION", "v0.0.0-20261109003541-7506e5f91cd6")
WEED_MODULE = "github.com/seaweedfs/seaweedfs"


def weed_binary():
    """$GOPATH/bin/weed at WEED_VERSION, built once from the Go module proxy.

    `go install .../weed@version` refuses this module (its go.mod has a
    replace directive), so the module is downloaded with `go mod download` and
    built in its own directory, where the replace applies.
    """
    def go(*args, **kw):
        return subprocess.run(["go", *args], check=True, capture_output=True, text=True, **kw).stdout

    gobin = Path(go("env", "GOPATH").strip()) / "bin"
    marker = gobin / f".weed-{WEED_VERSION}"
    if not (gobin / "weed").exists() or not marker.exists():
        rb.log(f"building weed {WEED_VERSION} from the Go module proxy (once; many minutes)")
        go("mod", "download", f"{WEED_MODULE}@{WEED_VERSION}")
        src = Path(go("env", "GOMODCACHE").strip()) / f"{WEED_MODULE}@{WEED_VERSION}"
        go("build", "-o", str(gobin / "weed"), "./weed", cwd=src)
        marker.touch()
    return gobin / "weed"


def wait_port(port, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


class Seaweed:
    def __init__(self, work, port):
        self.dir, self.port, self.procs = work / "seaweed", port, []
        self.filer = f"http://127.0.0.1:{port + 4}"

    def spawn(self, name, *args):
        log = open(self.dir / f"{name}.log", "w")
        # weed reads flags from the environment too: our PEERS=1 became its -peers.
        env = {k: v for k, v in os.environ.items() if k != "PEERS"}
        self.procs.append(subprocess.Popen([str(self.weed), *args], stdout=log, stderr=log, env=env,
                                           cwd=self.dir))  # the filer's store goes to ./filerldb2

    def up(self):
        self.weed = weed_binary()
        self.dir.mkdir()
        m = self.port
        (self.dir / "master").mkdir()
        # gRPC ports inside our port block too (default: port + 10000).
        master = f"127.0.0.1:{m}.{m + 6}"
        self.spawn("master", "master", "-ip=127.0.0.1", f"-port={m}", f"-port.grpc={m + 6}",
                   f"-mdir={self.dir / 'master'}", "-defaultReplication=002", "-telemetry=false",
                   "-volumeSizeLimitMB=1024")
        wait_port(m, "weed master")
        for i in (1, 2, 3):
            d = self.dir / f"volume{i}"
            d.mkdir()
            self.spawn(f"volume{i}", "volume", "-ip=127.0.0.1", f"-port={m + i}",
                       f"-port.grpc={m + 6 + i}", f"-dir={d}", f"-mserver={master}", "-max=30")
            wait_port(m + i, f"weed volume {i}")
        self.spawn("filer", "filer", "-ip=127.0.0.1", f"-port={m + 4}", f"-port.grpc={m + 10}",
                   f"-master={master}", "-defaultReplicaPlacement=002")
        wait_port(m + 4, "weed filer")
        # The first write waits until the volume servers registered and a
        # volume group with three copies could be grown.
        deadline = time.monotonic() + 90
        while subprocess.run(["curl", "-sS", "-f", "--noproxy", "*", "-o", "/dev/null", "-X", "PUT",
                              "--data-binary", "x", self.filer + "/warmup/x"],
                             stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("SeaweedFS filer does not accept writes")
            time.sleep(0.5)
        return self

    def pids(self):
        return [p.pid for p in self.procs]

    def log_tails(self, lines=15):
        """The first lines of each log (a Go panic's message precedes its stack)."""
        out = []
        for f in sorted(self.dir.glob("*.log")):
            out.append(f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[:lines]))
        return "\n".join(out)

    def down(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def run_peers(work, port, rows, raw, nginx):
    sw = Seaweed(work, port)
    try:
        try:
            sw.up()
        except Exception:
            rb.log("SeaweedFS did not start:\n" + sw.log_tails())
            raise
        big = work / "big-sw.bin"
        rb.run("head", "-c", str(rb.BIG_MIB << 20), "/dev/urandom", stdout=open(big, "wb"))
        with rb.RssSampler(sw.pids()) as rss:
            put = rb.BIG_MIB / rb.timed("curl", "-sS", "-f", "--noproxy", "*", "-o", "/dev/null",
                                        "-T", big, sw.filer + "/bench/big.bin")
            get = max(rb.BIG_MIB / rb.curl_get_seconds(sw.filer + "/bench/big.bin") for _ in range(2))
        big.unlink()
        figures = {"PUT via gateway": put, "GET via gateway": get, "RSS during PUT": rss.peak,
                   "RSS during GET": rss.peak}
        for clients, files in rb.SMALL_LOADS:
            rb.log(f"SeaweedFS: 4 KiB files, {clients} clients")
            r = rb.bench_json("--raw", "--prefix", f"/small{clients}", "-n", files, "-c", clients,
                              "-s", "4K", url=sw.filer)
            raw[f"seaweed_small_{clients}"] = r
            figures[f"4 KiB PUT, {clients} clients"] = r["put"]
            figures[f"4 KiB GET, {clients} clients"] = r["get"]
        raw["seaweed"] = {"version": WEED_VERSION, "big_put": put, "big_get": get, "rss": rss.peak}
        for row in rows:
            for key, value in figures.items():
                if key in row["name"]:
                    if isinstance(value, dict):
                        row["extra"] = {"SeaweedFS": value["rate"]}
                        row["extra_lat"] = (value["p50_ms"], value["p99_ms"])
                    else:
                        row["extra"] = {"SeaweedFS": value}
    finally:
        sw.down()
        shutil.rmtree(sw.dir, ignore_errors=True)
