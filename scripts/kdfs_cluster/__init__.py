"""The local cluster tool behind scripts/cluster (see cli.py for its usage).

Modules, each one concept: common (paths, errors), procs (processes we own),
probes (is it answering, waiting with a deadline), state (cluster.json and its
lock), services (starting Kafka, Redis, nodes, HAProxy), isolation (network
namespaces, tmpfs disks, libfaketime), commands and faults (what the CLI runs),
cli (arguments)."""
