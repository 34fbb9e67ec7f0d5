"""Runs a local kdfs cluster: Kafka (KRaft), one Redis per node, the nodes, HAProxy.

Everything a cluster owns lives under --dir: configuration, data, logs, pid
files and cluster.json, which describes every process (pid null when stopped).
Ports: the gateway on --port P, node i on P+i, its Redis on P+N+i, Kafka on
P+2N+1 (controller P+2N+2), the HAProxy stats page on P+2N+3. Several clusters
run side by side with different --dir and --port. Processes outlive this tool;
`down` stops every one of them.

  cluster up [--port P] [--nodes N] [--kafka HOST:PORT] [--node-arg=--flag=value]...
  cluster down [--purge] | status
  cluster stop-node N | start-node N | kill-node N | pause-node N | resume-node N
  cluster kafka-stop [--kill] | kafka-start
  cluster add-node [--node-arg=...] | wipe-node N
  cluster kafka-up --port P      (a Kafka broker alone, e.g. shared by tests)

Fault injection (root; clusters started with `up --isolate`, which puts each
node in a network namespace on a bridge, its data dir on a small tmpfs and its
clock behind libfaketime):
  cluster partition-node N | heal-node N   (cut N off from Kafka and its peers)
  cluster delay-node N MS                  (slow N's links; MS 0 heals)
  cluster skew-node N SECONDS              (shift N's wall clock; 0 heals)
  cluster fill-disk N | free-disk N        (fill N's data disk / free it)
  cluster kill-redis N | start-redis N     (SIGKILL / restart N's Redis)

Only the Python 3 standard library is used.
"""

import argparse
import os
import signal
import sys

from .commands import (
    cmd_add_node,
    cmd_down,
    cmd_kafka_start,
    cmd_kafka_stop,
    cmd_kafka_up,
    cmd_signal_node,
    cmd_start_node,
    cmd_status,
    cmd_stop_node,
    cmd_up,
    cmd_wipe_node,
)
from .common import DEFAULT_DIR, DEFAULT_NODE_BIN, Fail, REPO, say
from .faults import cmd_delay, cmd_disk, cmd_partition, cmd_redis, cmd_skew


def parse_args(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=argparse.SUPPRESS,
                        help=f"cluster state dir (default: {DEFAULT_DIR.relative_to(REPO)} in the repo)")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS,
                        help="seconds to wait for readiness / for a process to stop (default 120 / 10)")
    p = argparse.ArgumentParser(prog="cluster", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1], parents=[common])
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def add(name, helptext):
        return sub.add_parser(name, help=helptext, parents=[common])

    up = add("up", "start (or complete) the cluster, wait until ready, print the gateway URL")
    up.add_argument("--port", type=int, help="gateway port P; nodes on P+1..P+N (default 8080)")
    up.add_argument("--nodes", type=int, help="number of nodes (default 3)")
    up.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker instead of starting one")
    up.add_argument("--topic-prefix", help="Kafka topic prefix (default: from the dir name, unique)")
    up.add_argument("--node-bin", help=f"kdfs-node binary (default {DEFAULT_NODE_BIN.relative_to(REPO)})")
    up.add_argument("--node-arg", action="append", metavar="ARG",
                    help="extra kdfs-node flag, repeatable: --node-arg=--chunk-size=65536")
    up.add_argument("--kafka-lib", help="dir of the Kafka jars (default .cache/kafka/lib)")
    ku = add("kafka-up", "start a standalone Kafka broker in --dir on --port; print its bootstrap")
    ku.add_argument("--port", type=int, help="broker port (controller on port+1; default 8080)")
    ku.add_argument("--kafka-lib", help="dir of the Kafka jars (default .cache/kafka/lib)")
    for opt in ("nodes", "kafka", "topic_prefix", "node_bin", "node_arg"):
        ku.set_defaults(**{opt: None})
    down = add("down", "stop every process of the cluster (SIGTERM, then SIGKILL)")
    down.add_argument("--purge", action="store_true", help="also delete --dir")
    add("status", "print a table; exit 0 only if everything is up and ready")
    for name, helptext in (("stop-node", "SIGTERM a node (then SIGKILL after --timeout)"),
                           ("kill-node", "SIGKILL a node")):
        sp = add(name, helptext)
        sp.add_argument("node", help="node number (1..N) or id")
        sp.add_argument("--with-redis", action="store_true", help="also stop the node's Redis")
    sn = add("start-node", "start a node (and its Redis if down); wait until ready")
    sn.add_argument("node", help="node number (1..N) or id")
    sn.add_argument("--no-wait", action="store_true", help="wait for /healthz only, not /readyz")
    sn.add_argument("--node-arg", action="append", metavar="ARG", help="extra flag for this start only")
    for name, helptext in (("pause-node", "SIGSTOP a node"), ("resume-node", "SIGCONT a node")):
        add(name, helptext).add_argument("node", help="node number (1..N) or id")
    ks = add("kafka-stop", "stop the cluster's own Kafka broker")
    ks.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM")
    ksa = add("kafka-start", "start the cluster's own Kafka broker again")
    ksa.add_argument("--kafka-lib", help="dir of the Kafka jars (default .cache/kafka/lib)")
    up.add_argument("--isolate", action="store_true",
                    help="per-node network namespaces, tmpfs data disks and libfaketime (root; for faults)")
    for name, helptext in (("partition-node", "cut a node off from Kafka and its peers"),
                           ("heal-node", "undo partition-node"),
                           ("fill-disk", "fill a node's data disk"), ("free-disk", "free it again"),
                           ("kill-redis", "SIGKILL a node's Redis"), ("start-redis", "start it again")):
        add(name, helptext).add_argument("node", help="node number (1..N) or id")
    an = add("add-node", "start one more node (and its Redis) in a running cluster; print its URL")
    an.add_argument("--no-wait", action="store_true", help="wait for /healthz only, not /readyz")
    an.add_argument("--node-arg", action="append", metavar="ARG", help="extra flag for the new node")
    add("wipe-node", "delete a stopped node's data dir and Redis data").add_argument(
        "node", help="node number (1..N) or id")
    dn = add("delay-node", "slow a node's links by MS milliseconds (0 heals)")
    dn.add_argument("node", help="node number (1..N) or id")
    dn.add_argument("ms", type=int)
    sk = add("skew-node", "shift a node's wall clock by SECONDS (0 heals)")
    sk.add_argument("node", help="node number (1..N) or id")
    sk.add_argument("seconds", type=int)
    args = p.parse_args(argv)
    if not hasattr(args, "dir"):
        args.dir = os.environ.get("KDFS_CLUSTER_DIR") or str(DEFAULT_DIR)
    if not hasattr(args, "timeout"):
        args.timeout = 120.0 if args.cmd in ("up", "kafka-up", "start-node", "kafka-start", "add-node") else 10.0
    return args


def main(argv):
    args = parse_args(argv)
    commands = {
        "up": cmd_up,
        "kafka-up": cmd_kafka_up,
        "down": cmd_down,
        "status": cmd_status,
        "stop-node": cmd_stop_node,
        "kill-node": lambda a: cmd_stop_node(a, kill=True),
        "start-node": cmd_start_node,
        "pause-node": lambda a: cmd_signal_node(a, signal.SIGSTOP, "paused"),
        "resume-node": lambda a: cmd_signal_node(a, signal.SIGCONT, "resumed"),
        "kafka-stop": cmd_kafka_stop,
        "kafka-start": cmd_kafka_start,
        "partition-node": lambda a: cmd_partition(a, True),
        "heal-node": lambda a: cmd_partition(a, False),
        "delay-node": cmd_delay,
        "skew-node": cmd_skew,
        "fill-disk": lambda a: cmd_disk(a, True),
        "free-disk": lambda a: cmd_disk(a, False),
        "kill-redis": lambda a: cmd_redis(a, False),
        "start-redis": lambda a: cmd_redis(a, True),
        "add-node": cmd_add_node,
        "wipe-node": cmd_wipe_node,
    }
    try:
        return commands[args.cmd](args) or 0
    except Fail as e:
        say(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        say("interrupted; processes started so far keep running (`down` stops them)")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
