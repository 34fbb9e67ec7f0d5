// NodeConfig: every setting of kdfs-node, in one place.
//
// Each field is filled, in increasing precedence, from its default, from the
// configuration file (--config / KDFS_CONFIG, INI or TOML `key = value` lines
// whose keys are the flag names without the leading dashes), from the
// environment variable named in the table below, and from the command-line
// flag. `kdfs-node --help` prints the same table. docs/CONFIG.md documents it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace kdfs {

struct NodeConfig {
  // Identity and addresses.
  std::string node_id = "node-1";                       // --node-id KDFS_NODE_ID
  std::string listen = "0.0.0.0:8081";                  // --listen KDFS_LISTEN
  std::string advertise_url = "http://127.0.0.1:8081";  // --advertise-url KDFS_ADVERTISE_URL
  // Peers other than this node, "id=url" comma separated.
  std::map<std::string, std::string> peers;  // --peers KDFS_PEERS

  // Local state.
  std::string data_dir = "./data";       // --data-dir KDFS_DATA_DIR
  std::string redis = "127.0.0.1:6379";  // --redis KDFS_REDIS (host:port)

  // Kafka.
  std::string kafka_brokers = "127.0.0.1:9092";  // --kafka KDFS_KAFKA
  std::string topic_prefix = "kdfs";             // --topic-prefix KDFS_TOPIC_PREFIX
  int topic_replication = 1;                     // --topic-replication KDFS_TOPIC_REPLICATION
  int chunk_partitions = 8;                      // --chunk-partitions KDFS_CHUNK_PARTITIONS
  int64_t chunk_retention_ms =
      7LL * 24 * 3600 * 1000;     // --chunk-retention-ms KDFS_CHUNK_RETENTION_MS
  int64_t log_retention_ms = -1;  // --log-retention-ms KDFS_LOG_RETENTION_MS (-1: forever)
  int election_session_timeout_ms =
      1500;  // --election-session-timeout-ms KDFS_ELECTION_SESSION_TIMEOUT_MS
  int transaction_timeout_ms = 5000;  // --transaction-timeout-ms KDFS_TRANSACTION_TIMEOUT_MS

  // Data path limits.
  uint32_t chunk_size = 1 << 20;            // --chunk-size KDFS_CHUNK_SIZE
  uint64_t max_body_bytes = 64ULL << 30;    // --max-body-bytes KDFS_MAX_BODY_BYTES
  uint32_t max_header_bytes = 16 << 10;     // --max-header-bytes KDFS_MAX_HEADER_BYTES
  int64_t chunk_gc_grace_ms = 3600 * 1000;  // --chunk-gc-grace-ms KDFS_CHUNK_GC_GRACE_MS
  int request_timeout_ms = 30000;           // --request-timeout-ms KDFS_REQUEST_TIMEOUT_MS
  int consistency_wait_ms = 10000;          // --consistency-wait-ms KDFS_CONSISTENCY_WAIT_MS
  int max_connections = 1024;               // --max-connections KDFS_MAX_CONNECTIONS

  // Readiness.
  int64_t max_ready_lag = 1000;  // --max-ready-lag KDFS_MAX_READY_LAG (records)

  std::string log_level = "info";  // --log-level KDFS_LOG_LEVEL

  // Recovery (src/recovery).
  int64_t bootstrap_min_records = 100;         // --bootstrap-min-records KDFS_BOOTSTRAP_MIN_RECORDS
  int bootstrap_parallel = 8;                  // --bootstrap-parallel KDFS_BOOTSTRAP_PARALLEL
  uint64_t scrub_bytes_per_sec = 16ULL << 20;  // --scrub-bytes-per-sec KDFS_SCRUB_BYTES_PER_SEC
  int divergence_check_ms = 5000;  // --divergence-check-ms KDFS_DIVERGENCE_CHECK_MS (0: off)

  // TEST ONLY, hidden from --help: acknowledge writes before they are applied
  // (the chaos harness proves its checkers catch it). Never in production.
  bool unsafe_ack_before_apply = false;  // --unsafe-ack-before-apply
};

// Parses flags, environment and config file. On --help or --version prints to
// stdout and returns kOk with `*exit_now` set; on bad input returns
// kInvalidArgument with a message naming the setting.
Result<NodeConfig> LoadNodeConfig(int argc, char** argv, bool* exit_now);

// "id=url,id=url" -> map; kInvalidArgument on malformed input.
Result<std::map<std::string, std::string>> ParsePeers(const std::string& text);

}  // namespace kdfs
