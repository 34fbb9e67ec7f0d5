"""Starting Kafka, Redis, the nodes and HAProxy, and waiting until they answer."""

import base64
import os
import shutil
import subprocess
from pathlib import Path

from .common import DEFAULT_KAFKA_LIB, Fail, HAPROXY_TEMPLATE, HOST, KAFKA_LOG4J, say
from .isolation import isolate_wrap
from .probes import kafka_answers, node_probe, port_free, redis_ping, wait_all
from .procs import proc_alive, spawn


def kafka_lib(args):
    lib = Path(getattr(args, "kafka_lib", None) or os.environ.get("KDFS_KAFKA_LIB") or DEFAULT_KAFKA_LIB)
    if not list(lib.glob("kafka_2.13-*.jar")):
        raise Fail(f"no Kafka jars in {lib}; run `make deps` (scripts/install-deps) first")
    return lib


def java_bin():
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else shutil.which("java")
    if not java:
        raise Fail("java not found; run `make deps`")
    return str(java)


def kafka_properties(k):
    data = Path(k["dir"]) / "data"
    return f"""# Written by scripts/cluster: a one-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://{k.get('host', HOST)}:{k['port']},CONTROLLER://{HOST}:{k['controller_port']}
advertised.listeners=PLAINTEXT://{k.get('host', HOST)}:{k['port']}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers={HOST}:{k['controller_port']}
log.dirs={data}
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
# A dead leader's open transaction is aborted soon after its timeout, so
# read_committed followers are not held at the last stable offset for long.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
# Records up to 8 MiB (a 4 MiB chunk plus headers fits with room to spare).
message.max.bytes=8388608
replica.fetch.max.bytes=8388608
"""


def kafka_start(c, args):
    k = c.s["kafka"]
    if k.get("external"):
        raise Fail(f"this cluster uses an external Kafka ({k['bootstrap']}); "
                   "stop or start it where it was started")
    if proc_alive(k):
        return False
    kd = Path(k["dir"])
    (kd / "logs").mkdir(parents=True, exist_ok=True)
    props = kd / "server.properties"
    props.write_text(kafka_properties(k))
    shutil.copyfile(KAFKA_LOG4J, kd / "log4j2.properties")
    lib, java = kafka_lib(args), java_bin()
    cp = f"{lib}/*"
    log4j = [f"-Dlog4j2.configurationFile={kd / 'log4j2.properties'}", f"-Dkafka.logs.dir={kd / 'logs'}"]
    for port in (k["port"], k["controller_port"]):
        if not port_free(port):
            raise Fail(f"port {port} (Kafka) is in use by another process")
    if not (kd / "data" / "meta.properties").exists():
        cid = ""
        while not cid or cid.startswith("-"):
            cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        k["cluster_id"] = cid
        say(f"formatting Kafka storage in {kd / 'data'} (cluster id {cid})")
        fmt = subprocess.run(
            [java, "-Xmx256m", *log4j, "-cp", cp, "kafka.tools.StorageTool", "format",
             "--standalone", "-t", cid, "-c", str(props)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True)
        (kd / "format.log").write_text(fmt.stdout + fmt.stderr)
        if fmt.returncode != 0:
            raise Fail(f"Kafka storage format failed:\n{fmt.stdout}{fmt.stderr}")
    heap = os.environ.get("KDFS_KAFKA_HEAP", "-Xmx512m -Xms128m").split()
    extra = os.environ.get("KDFS_KAFKA_OPTS", "").split()
    k.update(spawn(
        [java, *heap, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
         *log4j, *extra, "-cp", cp, "kafka.Kafka", props],
        Path(k["log"]), cwd=kd))
    c.save()
    say(f"kafka started (pid {k['pid']}) on {k['bootstrap']}")
    return True


def kafka_wait(c, timeout):
    k = c.s["kafka"]
    own = None if k.get("external") else ("kafka", k, k["server_log"])
    wait_all(f"Kafka at {k['bootstrap']}", [("kafka", lambda: kafka_answers(k["bootstrap"]), own)], timeout)


def redis_conf(n):
    r = n["redis"]
    return f"""# Written by scripts/cluster: the metadata store of {n['id']}.
bind {HOST}{' ' + r['host'] if r.get('host') else ''}
port {r['port']}
protected-mode {'no' if r.get('host') else 'yes'}
daemonize no
dir "{r['dir']}"
logfile "{r['log']}"
appendonly yes
appendfsync everysec
save ""
proc-title-template "{{title}} {{listen-addr}} {{server-mode}} {{config-file}}"
"""


def redis_start(c, n):
    r = n["redis"]
    if proc_alive(r):
        return False
    if not port_free(r["port"]):
        raise Fail(f"port {r['port']} (Redis of {n['id']}) is in use by another process")
    rd = Path(r["dir"])
    rd.mkdir(parents=True, exist_ok=True)
    conf = rd / "redis.conf"
    conf.write_text(redis_conf(n))
    r.update(spawn(["redis-server", conf], rd / "redis.out", cwd=rd))
    c.save()
    say(f"redis of {n['id']} started (pid {r['pid']}) on {HOST}:{r['port']}")
    return True


def node_argv(c, n, extra=()):
    s = c.s
    peers = ",".join(f"{p['id']}={p['url']}" for p in s["nodes"] if p["id"] != n["id"])
    argv = [s["node_bin"], "--node-id", n["id"], "--listen", f"{n.get('host', HOST)}:{n['port']}",
            "--advertise-url", n["url"], "--data-dir", n["data_dir"],
            "--redis", f"{n['redis'].get('host', HOST)}:{n['redis']['port']}",
            "--kafka", s["kafka"]["bootstrap"],
            "--topic-prefix", s["topic_prefix"]]
    if peers:
        argv += ["--peers", peers]
    return argv + list(s["node_args"]) + list(extra)


def node_start(c, n, extra=()):
    if proc_alive(n):
        return False
    if not os.access(c.s["node_bin"], os.X_OK):
        raise Fail(f"node binary {c.s['node_bin']} missing; run `make build` (or pass --node-bin)")
    if not port_free(n["port"]):
        raise Fail(f"port {n['port']} ({n['id']}) is in use by another process")
    Path(n["data_dir"]).mkdir(parents=True, exist_ok=True)
    argv, env = isolate_wrap(n, node_argv(c, n, extra))
    n.update(spawn(argv, Path(n["log"]), cwd=Path(n["data_dir"]).parent, env=env))
    c.save()
    say(f"{n['id']} started (pid {n['pid']}) at {n['url']}")
    return True


def haproxy_config(c):
    s, g = c.s, c.s["gateway"]
    servers = "\n    ".join(f"server {n['id']} {n.get('host', HOST)}:{n['port']}" for n in s["nodes"])
    text = HAPROXY_TEMPLATE.read_text()
    for key, value in {"dir": s["dir"], "gateway_port": g["port"], "stats_port": g["stats_port"],
                       "servers": servers}.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def haproxy_start(c):
    g = c.s["gateway"]
    if proc_alive(g):
        return False
    cfg = Path(g["config"])
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(haproxy_config(c))
    check = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True)
    if check.returncode != 0:
        raise Fail(f"haproxy rejects {cfg}:\n{check.stdout}{check.stderr}")
    for port in (g["port"], g["stats_port"]):
        if not port_free(port):
            raise Fail(f"port {port} (gateway) is in use by another process")
    g.update(spawn(["haproxy", "-db", "-f", cfg], Path(g["log"]), cwd=cfg.parent))
    c.save()
    say(f"haproxy started (pid {g['pid']}) at {g['url']} (stats {g['stats_url']})")
    return True


def node_wait(c, nodes, timeout, ready=True):
    wait_all("/healthz", [(n["id"], node_probe(n, "/healthz"), (n["id"], n, n["log"])) for n in nodes], timeout)
    if ready:
        wait_all("/readyz", [(n["id"], node_probe(n, "/readyz"), (n["id"], n, n["log"])) for n in nodes], timeout)


def redis_wait(nodes, timeout):
    wait_all("Redis PING", [(f"{n['id']}-redis", lambda n=n: redis_ping(n["redis"]["port"]),
                             (f"redis of {n['id']}", n["redis"], n["redis"]["log"])) for n in nodes], timeout)
