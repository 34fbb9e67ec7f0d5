"""Offline checks of the Dockerfile, docker-compose and Kubernetes manifests.

1. scripts/check-deploy passes on the repository's files, and fails on broken
   copies of each (so the checks really check).
2. The compose file and the manifests use only the node's real settings: every
   KDFS_* name and every flag they pass exists in `kdfs-node --help` (when the
   binary is built) or else in src/node/node_config.h, and the values that must
   agree across files (ports, topic names, peers, replica counts) do.
3. kdfs-start.sh computes the peer list a StatefulSet pod needs.
4. The Dockerfile's packages exist in Debian 12, and its runtime stage carries
   every shared library the built programs need (when they are built).

The tools come from scripts/install-deploy-tools (run once by the fixture below
if needed; a no-op when already installed). No Docker engine, no cluster.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("KDFS_DEPLOY_TOOLS", REPO / ".cache" / "deploy-tools"))
CHECK = REPO / "scripts" / "check-deploy"
COMPOSE = REPO / "deploy" / "compose" / "docker-compose.yml"
K8S = REPO / "deploy" / "k8s"
DOCKERFILE = REPO / "Dockerfile"
NODE_CONFIG_H = REPO / "src" / "node" / "node_config.h"
NODE_BINARIES = [Path(p) for p in [os.environ.get("KDFS_NODE_BIN")] if p] + [
    REPO / "build" / "src" / "node" / "kdfs-node"]

# Compose interpolation variables that configure the deployment, not the node.
COMPOSE_VARIABLES = {"KDFS_IMAGE", "KDFS_GATEWAY_PORT"}
# Settings every node must be given explicitly in a multi-node deployment.
REQUIRED_NODE_ENV = {
    "KDFS_NODE_ID", "KDFS_LISTEN", "KDFS_ADVERTISE_URL", "KDFS_PEERS",
    "KDFS_DATA_DIR", "KDFS_REDIS", "KDFS_KAFKA", "KDFS_TOPIC_PREFIX",
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="session", autouse=True)
def tools():
    """Installs the checkers once (quick no-op when present)."""
    r = run([str(REPO / "scripts" / "install-deploy-tools")])
    assert r.returncode == 0, f"install-deploy-tools failed:\n{r.stdout}\n{r.stderr}"
    return TOOLS


def check(*args):
    r = run([str(CHECK), *map(str, args)])
    return r.returncode, r.stdout + r.stderr


# --- node settings: from the binary when built, else from the header -----------------

def settings_from_header():
    """{flag: env or None} from the `// --flag ENV` comments of node_config.h."""
    text = NODE_CONFIG_H.read_text()
    flags = {}
    for m in re.finditer(r"//\s*(--[a-z0-9-]+)(?:\s+(KDFS_[A-Z0-9_]+))?", text):
        flags[m.group(1)] = m.group(2)
    flags.setdefault("--config", "KDFS_CONFIG")  # described in the header's prose
    return flags


def settings_from_help(binary):
    """{flag: env or None} from CLI11's `kdfs-node --help`."""
    r = run([str(binary), "--help"])
    if r.returncode != 0:
        return None
    flags = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s+(?:-\w,)?(--[a-z0-9-]+)\b", line)
        if m:
            env = re.search(r"\(Env:([A-Z0-9_]+)\)", line)
            flags[m.group(1)] = env.group(1) if env else None
    return flags or None


@pytest.fixture(scope="session")
def node_settings():
    for binary in NODE_BINARIES:
        if binary.exists():
            flags = settings_from_help(binary)
            if flags:
                return "kdfs-node --help", flags
    return "src/node/node_config.h", settings_from_header()


def test_header_parse_finds_the_node_settings():
    flags = settings_from_header()
    assert flags["--node-id"] == "KDFS_NODE_ID"
    assert flags["--peers"] == "KDFS_PEERS"
    assert flags["--kafka"] == "KDFS_KAFKA"
    assert len([e for e in flags.values() if e]) >= 20


def test_help_parse_reads_cli11_format(tmp_path):
    fake = tmp_path / "kdfs-node"
    fake.write_text(
        "#!/bin/sh\ncat <<'EOF'\nkdfs-node\nUsage: kdfs-node [OPTIONS]\n\nOptions:\n"
        "  -h,--help                   Print this help message and exit\n"
        "  --config (Env:KDFS_CONFIG)  cfg\n"
        "  --node-id TEXT=node-1 (Env:KDFS_NODE_ID)\n"
        "                              id\n"
        "  --http-threads INT=0        threads\nEOF\n")
    fake.chmod(0o755)
    assert settings_from_help(fake) == {
        "--help": None, "--config": "KDFS_CONFIG", "--node-id": "KDFS_NODE_ID",
        "--http-threads": None}


# --- 1. the checks pass, and fail on broken copies -------------------------------

def test_check_deploy_passes_on_the_repository():
    rc, out = check()
    assert rc == 0, out
    assert re.search(r"check-deploy: 4 passed, 0 failed", out), out


@pytest.mark.parametrize("edit, code", [
    (lambda s: s.replace("FROM debian:12-slim AS runtime", "FROM debian:latest AS runtime"), "DL3007"),
    (lambda s: s + "\nRUN cd /data && touch x\n", "DL3003"),
    (lambda s: s.replace("apt-get install -y --no-install-recommends \\\n      librdkafka1",
                         "apt-get install --no-install-recommends \\\n      librdkafka1"), "DL3014"),
    # BuildKit's own checks and parser (hadolint passes these).
    (lambda s: s.replace("FROM debian:12 AS build", "FROM debian:12 as build"), "FromAsCasing"),
    (lambda s: s.replace("HEALTHCHECK --interval=10s", "HEALTHCHECK --intervall=10s"), "intervall"),
])
def test_dockerfile_check_fails_on_a_lint_error(tmp_path, edit, code):
    text = DOCKERFILE.read_text()
    broken = edit(text)
    assert broken != text
    f = tmp_path / "Dockerfile"
    f.write_text(broken)
    rc, out = check("--dockerfile", f)
    assert rc != 0 and code in out, out


def test_shell_check_fails_on_a_shellcheck_error(tmp_path):
    f = tmp_path / "bad.sh"
    f.write_text('#!/bin/bash\ndir=$1\nrm -rf $dir/*\n')
    rc, out = check("--shell", f)
    assert rc != 0 and "SC2086" in out, out
    good = tmp_path / "good.sh"
    good.write_text('#!/bin/bash\ndir=$1\nrm -rf "${dir:?}"/*\n')
    rc, out = check("--shell", good)
    assert rc == 0, out


def compose_copy(tmp_path, edit):
    d = tmp_path / "compose"
    d.mkdir()
    shutil.copy(COMPOSE.parent / "haproxy.cfg", d / "haproxy.cfg")
    text = COMPOSE.read_text()
    broken = edit(text)
    assert broken != text
    (d / "docker-compose.yml").write_text(broken)
    return d / "docker-compose.yml"


@pytest.mark.parametrize("edit, needle", [
    # A misspelt service key.
    (lambda s: s.replace("    hostname: kafka\n", "    hostnme: kafka\n"), "hostnme"),
    # A dependency condition that does not exist.
    (lambda s: s.replace("condition: service_healthy", "condition: service_healty", 1),
     "depends_on.kafka.condition"),
    # A dependency on a service that does not exist.
    (lambda s: s.replace("      redis-2:\n        condition", "      redis-9:\n        condition"), "redis-9"),
    # A volume that is not declared.
    (lambda s: s.replace("- node-3-data:/data", "- node-4-data:/data"), "node-4-data"),
])
def test_compose_check_fails_on_a_broken_file(tmp_path, edit, needle):
    f = compose_copy(tmp_path, edit)
    rc, out = check("--compose", f)
    assert rc != 0 and needle in out, out


def test_compose_check_fails_on_a_broken_haproxy_config(tmp_path):
    if not shutil.which("haproxy"):
        pytest.skip("haproxy not installed")
    f = compose_copy(tmp_path, lambda s: s + "\n")
    cfg = f.parent / "haproxy.cfg"
    cfg.write_text(cfg.read_text().replace("balance roundrobin", "balance roundrobbin"))
    rc, out = check("--compose", f)
    assert rc != 0 and "balance only supports" in out, out


def k8s_copy(tmp_path, name, edit):
    d = tmp_path / "k8s"
    shutil.copytree(K8S, d)
    f = d / name
    text = f.read_text()
    broken = edit(text)
    assert broken != text
    f.write_text(broken)
    return d


def test_k8s_check_fails_on_a_deployment_with_a_typo(tmp_path):
    d = tmp_path / "app"
    d.mkdir()
    (d / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    (d / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  replica: 2\n  selector:\n    matchLabels: {app: web}\n"
        "  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n        - name: web\n          image: nginx\n")
    rc, out = check("--k8s", d)
    assert rc != 0 and "'replica' was unexpected" in out, out
    # The same Deployment spelled right passes.
    (d / "deployment.yaml").write_text(
        (d / "deployment.yaml").read_text().replace("replica: 2", "replicas: 2"))
    rc, out = check("--k8s", d)
    assert rc == 0, out


@pytest.mark.parametrize("name, edit, needle", [
    ("kdfs-statefulset.yaml",
     lambda s: s.replace("terminationGracePeriodSeconds: 60", "terminationGracePeriod: 60"),
     "terminationGracePeriod"),
    ("kdfs-statefulset.yaml",
     lambda s: s.replace("failureThreshold: 90", 'failureThreshold: "90"'), "statefulset/kdfs"),
    ("kdfs-pdb.yaml", lambda s: s.replace("maxUnavailable: 1", "maxUnavailabe: 1"), "maxUnavailabe"),
    ("kafka-topics.yaml", lambda s: s.replace("partitions: 8", "partitons: 8"), "partitons"),
    ("kafka.yaml", lambda s: s.replace("    - broker\n", "    - brokers\n"), "allowed values"),
    ("kafka.yaml", lambda s: s.replace("type: internal", "type: intern"), "allowed values"),
    ("kdfs-ingress.yaml", lambda s: s.replace("networking.k8s.io/v1", "networking.k8s.io/v1beta1"),
     "networking.k8s.io/v1beta1"),
    # A kind nobody has a schema for must fail, not be skipped.
    ("kdfs-pdb.yaml", lambda s: s.replace("policy/v1", "example.com/v1"), "no schema"),
])
def test_k8s_check_fails_on_a_broken_manifest(tmp_path, name, edit, needle):
    d = k8s_copy(tmp_path, name, edit)
    rc, out = check("--k8s", d)
    assert rc != 0 and needle in out, out


def test_k8s_check_fails_when_kustomize_cannot_render(tmp_path):
    d = k8s_copy(tmp_path, "kustomization.yaml",
                 lambda s: s.replace("  - kdfs-pdb.yaml\n", "  - kdfs-pdb-missing.yaml\n"))
    rc, out = check("--k8s", d)
    assert rc != 0 and "kdfs-pdb-missing.yaml" in out, out


# --- 2. real settings, consistent values -----------------------------------------

@pytest.fixture(scope="session")
def compose_model():
    env = dict(os.environ, DOCKER_CONFIG=str(TOOLS / "docker"))
    r = run([str(TOOLS / "bin" / "docker-compose"), "-f", str(COMPOSE), "config",
             "--format", "json"], env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="session")
def k8s_objects():
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(K8S)]
    else:
        cmd = [str(TOOLS / "bin" / "kustomize"), "build", str(K8S)]
    r = run(cmd)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def kdfs_services(model):
    return {name: s for name, s in model["services"].items()
            if "KDFS_NODE_ID" in (s.get("environment") or {})}


def flags_in(argv):
    return {a.split("=", 1)[0] for a in argv or [] if a.startswith("--") and a != "--"}


def test_compose_uses_only_real_node_settings(compose_model, node_settings):
    source, flags = node_settings
    envs = {e for e in flags.values() if e}
    nodes = kdfs_services(compose_model)
    assert sorted(nodes) == ["node-1", "node-2", "node-3"]
    for name, svc in nodes.items():
        used = {k for k in svc["environment"] if k.startswith("KDFS_")}
        assert used <= envs, f"{name}: not settings of kdfs-node ({source}): {used - envs}"
        assert REQUIRED_NODE_ENV <= used, f"{name}: missing {REQUIRED_NODE_ENV - used}"
        for argv in (svc.get("command"), svc.get("entrypoint")):
            assert flags_in(argv) <= set(flags), f"{name}: unknown flags in {argv}"
    # Interpolation variables are deployment knobs, documented in the file.
    raw = COMPOSE.read_text()
    interpolated = set(re.findall(r"\$\{(KDFS_[A-Z0-9_]+)", raw))
    assert interpolated <= COMPOSE_VARIABLES, interpolated - COMPOSE_VARIABLES


def test_compose_nodes_are_wired_to_each_other(compose_model):
    nodes = kdfs_services(compose_model)
    urls = {s["environment"]["KDFS_NODE_ID"]: s["environment"]["KDFS_ADVERTISE_URL"]
            for s in nodes.values()}
    redis, volumes = set(), set()
    for name, svc in nodes.items():
        env = svc["environment"]
        me = env["KDFS_NODE_ID"]
        assert me == name and svc.get("hostname") == name
        peers = dict(p.split("=", 1) for p in env["KDFS_PEERS"].split(","))
        assert peers == {k: v for k, v in urls.items() if k != me}
        port = env["KDFS_LISTEN"].rsplit(":", 1)[1]
        assert env["KDFS_ADVERTISE_URL"] == f"http://{name}:{port}"
        assert any(f"127.0.0.1:{port}/healthz" in a for a in svc["healthcheck"]["test"])
        redis_host = env["KDFS_REDIS"].split(":")[0]
        assert redis_host in compose_model["services"]
        assert svc["depends_on"][redis_host]["condition"] == "service_healthy"
        assert svc["depends_on"]["kafka"]["condition"] == "service_healthy"
        redis.add(redis_host)
        data = [v for v in svc["volumes"] if v["target"] == env["KDFS_DATA_DIR"]]
        assert len(data) == 1 and data[0]["type"] == "volume"
        volumes.add(data[0]["source"])
    assert len(redis) == 3 and len(volumes) == 3, "each node needs its own Redis and volume"
    for r in redis:
        cmd = compose_model["services"][r]["command"]
        assert cmd[cmd.index("--appendonly") + 1] == "yes"
    haproxy = (COMPOSE.parent / "haproxy.cfg").read_text()
    for name, svc in nodes.items():
        port = svc["environment"]["KDFS_LISTEN"].rsplit(":", 1)[1]
        assert re.search(rf"^\s*server {name} {name}:{port}\b", haproxy, re.M), name
    assert "http-check send meth GET uri /readyz" in haproxy
    assert compose_model["services"]["haproxy"]["ports"][0]["published"] == "8080"


def haproxy_policy(text):
    """{section: [policy lines]}, without addresses, servers and DNS settings."""
    sections, current = {}, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw[0].isspace():
            current = line
            sections[current] = []
            continue
        if line.startswith(("bind ", "server ", "{{", "stats socket")):
            continue
        line = line.replace(" resolvers docker init-addr last,libc,none", "")
        sections[current].append(line)
    return {k: v for k, v in sections.items() if k in ("defaults", "frontend kdfs", "backend nodes")}


def test_compose_haproxy_has_the_local_cluster_policy():
    template = REPO / "deploy" / "haproxy" / "haproxy.cfg.tmpl"
    if not template.exists():
        pytest.skip("no deploy/haproxy/haproxy.cfg.tmpl")
    ours = haproxy_policy((COMPOSE.parent / "haproxy.cfg").read_text())
    theirs = haproxy_policy(template.read_text())
    assert set(ours) == {"defaults", "frontend kdfs", "backend nodes"}
    assert ours == theirs


def test_compose_kafka_has_the_design_settings(compose_model):
    env = compose_model["services"]["kafka"]["environment"]
    assert compose_model["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert env["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"] == "1000"
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= 4 << 20
    assert int(env["KAFKA_REPLICA_FETCH_MAX_BYTES"]) >= int(env["KAFKA_MESSAGE_MAX_BYTES"])
    for svc in kdfs_services(compose_model).values():
        assert svc["environment"]["KDFS_KAFKA"].split(":")[0] == "kafka"


def by_kind(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    assert found, f"no {kind} {name or ''}"
    return found


def kdfs_container(objects):
    sts = by_kind(objects, "StatefulSet", "kdfs")[0]
    spec = sts["spec"]["template"]["spec"]
    return sts, spec, next(c for c in spec["containers"] if c["name"] == "kdfs")


def k8s_node_env(objects):
    """The kdfs container's environment: ConfigMap keys (envFrom) and env entries."""
    _, _, c = kdfs_container(objects)
    env = {}
    for ref in c.get("envFrom", []):
        cm = by_kind(objects, "ConfigMap", ref["configMapRef"]["name"])[0]
        env.update(cm["data"])
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", e.get("valueFrom"))
    return env


def test_k8s_uses_only_real_node_settings(k8s_objects, node_settings):
    source, flags = node_settings
    envs = {e for e in flags.values() if e}
    env = k8s_node_env(k8s_objects)
    used = {k for k in env if k.startswith("KDFS_")}
    assert used <= envs, f"not settings of kdfs-node ({source}): {used - envs}"
    # The peers come from kdfs-start.sh, the rest from the manifest.
    assert REQUIRED_NODE_ENV - {"KDFS_PEERS"} <= used, REQUIRED_NODE_ENV - used
    _, _, c = kdfs_container(k8s_objects)
    assert flags_in(c.get("command")) | flags_in(c.get("args")) <= set(flags)
    script = (K8S / "kdfs-start.sh").read_text()
    assert set(re.findall(r"\b(KDFS_[A-Z0-9_]+)", script)) <= envs


def test_k8s_statefulset_is_wired_consistently(k8s_objects):
    sts, spec, c = kdfs_container(k8s_objects)
    env = k8s_node_env(k8s_objects)
    assert env["KDFS_NODE_ID"] == {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}} \
        or env["KDFS_NODE_ID"]["fieldRef"]["fieldPath"] == "metadata.name"
    headless = by_kind(k8s_objects, "Service", sts["spec"]["serviceName"])[0]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    port = int(env["KDFS_LISTEN"].rsplit(":", 1)[1])
    http = next(p for p in c["ports"] if p["name"] == "http")
    assert http["containerPort"] == port
    assert env["PEERS_DOMAIN"].startswith(headless["metadata"]["name"] + ".")
    assert env["KDFS_ADVERTISE_URL"] == f"http://$(KDFS_NODE_ID).$(PEERS_DOMAIN):{port}"
    assert int(env["PEERS_PORT"]) == port
    assert int(env["PEERS_REPLICAS"]) == sts["spec"]["replicas"]
    # The start script runs from the ConfigMap mounted into the container.
    script = c["command"][-1]
    mount = next(m for m in c["volumeMounts"] if script.startswith(m["mountPath"] + "/"))
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    start_cm = by_kind(k8s_objects, "ConfigMap", volume["configMap"]["name"])[0]
    assert start_cm["data"][script.rsplit("/", 1)[1]] == (K8S / "kdfs-start.sh").read_text()
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # Redis: a sidecar on loopback with AOF and a volume of its own.
    redis = next(i for i in spec["initContainers"] if i["name"] == "redis")
    assert redis["restartPolicy"] == "Always"
    assert redis["args"][redis["args"].index("--appendonly") + 1] == "yes"
    assert env["KDFS_REDIS"] == "127.0.0.1:6379"
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    assert {"data", "redis"} <= claims
    assert any(m["name"] == "data" and env["KDFS_DATA_DIR"].startswith(m["mountPath"])
               for m in c["volumeMounts"])
    # Non-root everywhere, the PDB and the client path.
    assert spec["securityContext"]["runAsNonRoot"] is True
    pdb = by_kind(k8s_objects, "PodDisruptionBudget")[0]
    assert pdb["spec"]["maxUnavailable"] == 1
    sel = sts["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["selector"]["matchLabels"] == sel
    client = by_kind(k8s_objects, "Service", "kdfs")[0]
    assert client["spec"]["selector"] == sel
    ingress = by_kind(k8s_objects, "Ingress")[0]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "kdfs"
    anti = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"


def test_k8s_kafka_and_topics_match_the_node_settings(k8s_objects):
    env = k8s_node_env(k8s_objects)
    kafka = by_kind(k8s_objects, "Kafka")[0]
    cfg = kafka["spec"]["kafka"]["config"]
    assert cfg["min.insync.replicas"] == 2
    assert cfg["default.replication.factor"] == 3
    assert cfg["transaction.state.log.min.isr"] == 2
    assert int(cfg["message.max.bytes"]) >= 4 << 20
    pools = by_kind(k8s_objects, "KafkaNodePool")
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) == 3
    assert sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) == 3
    for p in pools:
        assert p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    listener = next(l for l in kafka["spec"]["kafka"]["listeners"] if not l["tls"])
    assert env["KDFS_KAFKA"] == f'{kafka["metadata"]["name"]}-kafka-bootstrap:{listener["port"]}'
    prefix = env["KDFS_TOPIC_PREFIX"]
    topics = {t["spec"]["topicName"]: t for t in by_kind(k8s_objects, "KafkaTopic")}
    assert set(topics) == {f"{prefix}.{n}" for n in ("chunks", "proposals", "log", "election")}
    for t in topics.values():
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert t["spec"]["replicas"] == int(env["KDFS_TOPIC_REPLICATION"])
        assert t["spec"]["config"]["min.insync.replicas"] == 2
    assert topics[f"{prefix}.chunks"]["spec"]["partitions"] == int(env["KDFS_CHUNK_PARTITIONS"])
    for n in ("proposals", "log", "election"):
        assert topics[f"{prefix}.{n}"]["spec"]["partitions"] == 1
    assert topics[f"{prefix}.log"]["spec"]["config"]["retention.ms"] == int(env["KDFS_LOG_RETENTION_MS"])
    # The node's default chunk retention (7 days) unless the ConfigMap sets one.
    chunk_retention = int(env.get("KDFS_CHUNK_RETENTION_MS", 7 * 24 * 3600 * 1000))
    assert topics[f"{prefix}.chunks"]["spec"]["config"]["retention.ms"] == chunk_retention


def test_dockerfile_uses_only_real_node_settings(node_settings):
    _, flags = node_settings
    envs = {e for e in flags.values() if e}
    text = DOCKERFILE.read_text()
    assert set(re.findall(r"\b(KDFS_[A-Z0-9_]+)=", text)) <= envs
    assert re.search(r'^ENTRYPOINT \[.*"/usr/local/bin/kdfs-node"\]$', text, re.M)
    assert re.search(r"^EXPOSE 8081$", text, re.M)
    assert re.search(r"^USER 10001:10001$", text, re.M)


# --- 3. kdfs-start.sh ---------------------------------------------------------------

def run_start(tmp_path, pod, resolvable=(), **env):
    """Runs kdfs-start.sh with a fake getent (resolving `resolvable`) and a fake node."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    getent = bin_dir / "getent"
    getent.write_text("#!/bin/sh\ncase \" $KNOWN \" in *\" $2 \"*) echo \"10.0.0.1 $2\";; "
                      "*) exit 2;; esac\n")
    getent.chmod(0o755)
    node = bin_dir / "fake-node"
    node.write_text('#!/bin/sh\necho "peers=$KDFS_PEERS"\necho "args=$*"\n')
    node.chmod(0o755)
    full_env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "NODE_BIN": str(node),
        "KDFS_NODE_ID": pod, "PEERS_DOMAIN": "kdfs-peers.ns.svc",
        "KNOWN": " ".join(f"kdfs-{i}.kdfs-peers.ns.svc" for i in resolvable),
        "KDFS_DATA_DIR": str(tmp_path / "data" / "node"), **env,
    }
    r = run(["sh", str(K8S / "kdfs-start.sh"), "--log-level", "debug"], env=full_env)
    peers = None
    for line in r.stdout.splitlines():
        if line.startswith("peers="):
            peers = [p.split("=", 1)[0] for p in line[6:].split(",") if p]
    return r, peers


def test_start_script_lists_the_other_pods(tmp_path):
    r, peers = run_start(tmp_path, "kdfs-0")
    assert r.returncode == 0, r.stderr
    assert peers == ["kdfs-1", "kdfs-2"]
    assert "args=--log-level debug" in r.stdout
    assert "http://kdfs-1.kdfs-peers.ns.svc:8081" in r.stdout
    assert (tmp_path / "data" / "node").is_dir()


def test_start_script_finds_pods_added_by_scaling(tmp_path):
    # Scaled from 3 to 5: kdfs-4 knows its elders without DNS ...
    r, peers = run_start(tmp_path, "kdfs-4")
    assert peers == ["kdfs-0", "kdfs-1", "kdfs-2", "kdfs-3"], r.stderr
    # ... and a restarted kdfs-1 finds kdfs-3 and kdfs-4 through the headless Service.
    r, peers = run_start(tmp_path, "kdfs-1", resolvable=[0, 1, 2, 3, 4])
    assert peers == ["kdfs-0", "kdfs-2", "kdfs-3", "kdfs-4"], r.stderr
    # DNS gaps above the known range stop the probe.
    r, peers = run_start(tmp_path, "kdfs-1", resolvable=[0, 1, 2, 4])
    assert peers == ["kdfs-0", "kdfs-2"], r.stderr


def test_start_script_honours_settings_and_rejects_bad_names(tmp_path):
    r, peers = run_start(tmp_path, "kdfs-0", PEERS_REPLICAS="1")
    assert peers == [], r.stderr
    r, peers = run_start(tmp_path, "kdfs-0", KDFS_PEERS="x=http://x:1")
    assert peers == ["x"], r.stderr
    r, _ = run_start(tmp_path, "kdfs")
    assert r.returncode != 0 and "ordinal" in r.stderr


# --- 4. the image's packages and libraries -------------------------------------------

def dockerfile_stages():
    """{stage name: [packages of its apt-get install lines]}."""
    stages, current = {}, None
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        m = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
        if m:
            current = m.group(1)
            stages[current] = []
        m = re.search(r"apt-get install\s+(.*?)(?:&&|$)", line)
        if m and current:
            stages[current] += [w for w in m.group(1).split() if not w.startswith("-")]
    return stages


def test_dockerfile_packages_exist_in_debian_12():
    if not shutil.which("apt-cache") or "bookworm" not in Path("/etc/os-release").read_text():
        pytest.skip("needs Debian 12's apt-cache")
    stages = dockerfile_stages()
    assert set(stages) == {"build", "runtime"}
    deps = (REPO / "scripts" / "install-deps").read_text()
    for pkg in stages["build"]:
        assert re.search(rf"(^|\s){re.escape(pkg)}(\s|$)", deps, re.M), \
            f"{pkg}: build stage and scripts/install-deps disagree"
    wanted = stages["build"] + stages["runtime"]
    r = run(["apt-cache", "show", "--no-all-versions", *wanted])
    found = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
    assert set(wanted) <= found, f"not in Debian 12: {set(wanted) - found}"


def test_docker_build_context_configures_the_two_programs(tmp_path):
    """The files that pass .dockerignore are enough for the Dockerfile's cmake step."""
    if not shutil.which("cmake") or not shutil.which("ninja"):
        pytest.skip("needs cmake and ninja")
    r = run([str(TOOLS / "bin" / "dockerfile-lint"), "--context", str(REPO)])
    assert r.returncode == 0, r.stderr
    files = r.stdout.split()
    assert "CMakeLists.txt" in files and "src/node/node_config.h" in files
    assert not [f for f in files if f.startswith((".git/", "build/", ".cache/", "deploy/"))]
    ctx = tmp_path / "ctx"
    for f in files:
        (ctx / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, ctx / f)
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    cmake_line = re.search(r"RUN cmake -S \. -B build (.*?)&&", text).group(1)
    r = run(["cmake", "-S", str(ctx), "-B", str(ctx / "build"), *cmake_line.split()])
    assert r.returncode == 0, r.stdout + r.stderr
    targets = run(["ninja", "-C", str(ctx / "build"), "-t", "targets", "all"]).stdout
    build_line = re.search(r"cmake --build build --target (.*?)\s*&&", text).group(1).split()
    assert sorted(build_line) == ["kdfs", "kdfs-node"]
    for t in build_line:
        assert re.search(rf"^src/(node|cli)/{t}: ", targets, re.M), f"no target {t}"


def test_runtime_stage_has_every_library_the_programs_need():
    binaries = [b for b in NODE_BINARIES + [REPO / "build" / "src" / "cli" / "kdfs"] if b.exists()]
    if not binaries or not shutil.which("dpkg"):
        pytest.skip("no built kdfs-node or kdfs under build/")
    runtime = dockerfile_stages()["runtime"]
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *runtime])
    provided = {w.strip("<>") for w in re.findall(r"^\s*(?:\|?\w+: )?(\S+)$", r.stdout, re.M)}
    provided |= set(runtime)
    for binary in binaries:
        out = run(["ldd", str(binary)]).stdout
        libs = re.findall(r"=>\s+(/\S+)", out)
        assert libs, out
        for lib in libs:
            owner = run(["dpkg", "-S", os.path.realpath(lib)])
            if owner.returncode != 0:
                owner = run(["dpkg", "-S", lib])
            assert owner.returncode == 0, f"{binary.name}: {lib} belongs to no package"
            first = owner.stdout.splitlines()[0]
            pkgs = {p.split(":")[0] for p in first.rsplit(": ", 1)[0].split(", ")}
            assert pkgs & provided, f"{binary.name}: {lib} ({pkgs}) is not in the runtime stage"
