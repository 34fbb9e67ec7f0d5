#include "node/node_config.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace kdfs {

Result<std::map<std::string, std::string>> ParsePeers(const std::string& text) {
  std::map<std::string, std::string> peers;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::InvalidArgument("--peers entries must be id=url, got '" + item + "'");
    }
    peers[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return peers;
}

namespace {

void AddFlags(CLI::App& app, NodeConfig& c, std::string& peers) {
  auto add = [&](const char* flag, auto& field, const char* env, const char* help) {
    app.add_option(flag, field, help)->envname(env)->capture_default_str();
  };
  add("--node-id", c.node_id, "KDFS_NODE_ID", "this node's id, unique in the cluster");
  add("--listen", c.listen, "KDFS_LISTEN", "HTTP listen address host:port");
  add("--advertise-url", c.advertise_url, "KDFS_ADVERTISE_URL",
      "URL peers and clients use to reach this node");
  add("--peers", peers, "KDFS_PEERS", "other nodes as id=url,id=url");
  add("--data-dir", c.data_dir, "KDFS_DATA_DIR", "directory for chunks and node state");
  add("--redis", c.redis, "KDFS_REDIS", "this node's Redis, host:port");
  add("--kafka", c.kafka_brokers, "KDFS_KAFKA", "Kafka bootstrap servers");
  add("--topic-prefix", c.topic_prefix, "KDFS_TOPIC_PREFIX", "prefix of every kdfs topic");
  add("--topic-replication", c.topic_replication, "KDFS_TOPIC_REPLICATION",
      "replication factor of topics created by the node");
  add("--chunk-partitions", c.chunk_partitions, "KDFS_CHUNK_PARTITIONS",
      "partitions of the chunks topic");
  add("--chunk-retention-ms", c.chunk_retention_ms, "KDFS_CHUNK_RETENTION_MS",
      "retention of the chunks topic");
  add("--log-retention-ms", c.log_retention_ms, "KDFS_LOG_RETENTION_MS",
      "retention of the log topic (-1: forever)");
  add("--election-session-timeout-ms", c.election_session_timeout_ms,
      "KDFS_ELECTION_SESSION_TIMEOUT_MS", "leader failure detection (broker minimum 1000)");
  add("--transaction-timeout-ms", c.transaction_timeout_ms, "KDFS_TRANSACTION_TIMEOUT_MS",
      "Kafka transaction timeout of the leader");
  add("--chunk-size", c.chunk_size, "KDFS_CHUNK_SIZE", "bytes per chunk");
  add("--max-body-bytes", c.max_body_bytes, "KDFS_MAX_BODY_BYTES", "largest accepted upload");
  add("--max-header-bytes", c.max_header_bytes, "KDFS_MAX_HEADER_BYTES",
      "largest accepted request head");
  add("--chunk-gc-grace-ms", c.chunk_gc_grace_ms, "KDFS_CHUNK_GC_GRACE_MS",
      "age before an unreferenced chunk may be deleted");
  add("--request-timeout-ms", c.request_timeout_ms, "KDFS_REQUEST_TIMEOUT_MS",
      "deadline of one write or consistent read");
  add("--consistency-wait-ms", c.consistency_wait_ms, "KDFS_CONSISTENCY_WAIT_MS",
      "longest wait for X-Kdfs-Min-Version / X-Kdfs-Consistency before 503");
  add("--max-connections", c.max_connections, "KDFS_MAX_CONNECTIONS",
      "open client connections at most");
  add("--max-ready-lag", c.max_ready_lag, "KDFS_MAX_READY_LAG",
      "records behind the log end before /readyz fails");
  add("--log-level", c.log_level, "KDFS_LOG_LEVEL", "debug, info, warn or error");
  add("--bootstrap-min-records", c.bootstrap_min_records, "KDFS_BOOTSTRAP_MIN_RECORDS",
      "an empty node this many records behind a peer loads a snapshot instead of replaying");
  add("--bootstrap-parallel", c.bootstrap_parallel, "KDFS_BOOTSTRAP_PARALLEL",
      "concurrent chunk fetches while bootstrapping");
  // The last value wins, so that a restart can override a cluster-wide setting.
  app.add_option("--scrub-bytes-per-sec", c.scrub_bytes_per_sec,
                 "rate at which the scrubber verifies chunks (0: off)")
      ->envname("KDFS_SCRUB_BYTES_PER_SEC")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  add("--divergence-check-ms", c.divergence_check_ms, "KDFS_DIVERGENCE_CHECK_MS",
      "period of the state digest comparison with peers (0: off)");
  // TEST ONLY (chaos harness); an empty group hides it from --help.
  app.add_flag("--unsafe-ack-before-apply", c.unsafe_ack_before_apply)->group("");
}

Status Check(const NodeConfig& c) {
  if (c.node_id.empty()) return Status::InvalidArgument("--node-id must not be empty");
  if (c.chunk_size < 4096 || c.chunk_size > (16u << 20)) {
    return Status::InvalidArgument("--chunk-size must be between 4096 and 16777216");
  }
  if (c.election_session_timeout_ms < 1000) {
    return Status::InvalidArgument("--election-session-timeout-ms must be at least 1000");
  }
  if (c.peers.count(c.node_id)) {
    return Status::InvalidArgument("--peers must not list this node (" + c.node_id + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<NodeConfig> LoadNodeConfig(int argc, char** argv, bool* exit_now) {
  *exit_now = false;
  NodeConfig config;
  std::string peers;
  CLI::App app{"kdfs-node: a kdfs server node (HTTP API, chunk store, metadata, replication)"};
  app.set_version_flag("--version", "kdfs-node 0.1.0");
  app.set_config("--config", "", "INI/TOML file of settings (keys are the flag names)")
      ->envname("KDFS_CONFIG");
  AddFlags(app, config, peers);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    app.exit(e);
    *exit_now = true;
    return config;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  KDFS_ASSIGN_OR_RETURN(config.peers, ParsePeers(peers));
  KDFS_RETURN_IF_ERROR(Check(config));
  return config;
}

}  // namespace kdfs
