// ClusterMonitor: the node's periodic look at Kafka, on a thread of its own.
//
// Every probe interval it (1) creates the topics until that has succeeded
// once, then opens the topics gate for the other workers; (2) reads the
// log's end offset (isolation read_committed, so the last stable offset),
// which also decides whether Kafka is reachable (KafkaHealth); (3) compares
// the proposals' end offset with the offset the sequencer group has
// committed, to tell how long proposals have been waiting while the
// sequencer consumed none: the "leader not seen alive" signal that makes
// Propose fail fast.
//
// Thread-safe accessors; one thread between Start and Stop.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "replication/kafka_health.h"
#include "replication/kafka_util.h"
#include "replication/ready_gate.h"
#include "replication/topic_admin.h"

namespace kdfs {

struct ClusterMonitorOptions {
  std::string brokers;
  std::string node_id;
  kafka::Names names;
  std::vector<TopicSpec> topics;
  std::chrono::milliseconds interval{250};
  int probe_timeout_ms = 1000;
};

class ClusterMonitor {
 public:
  // REQUIRES: health and topics_ready outlive this object.
  ClusterMonitor(ClusterMonitorOptions options, KafkaHealth* health, ReadyGate* topics_ready);
  ~ClusterMonitor();  // Stop()

  // Creates the probe client, makes one synchronous attempt (bounded by
  // `first_attempt_ms`) to create the topics and probe, starts the thread.
  // Fails only on a configuration error: Kafka may be down.
  Status Start(int first_attempt_ms);
  void Stop();
  // Runs the next probe now rather than at the next interval. Never blocks.
  void ProbeSoon();

  // The log's end offset (next offset to be written) as of the last probe;
  // -1 if never probed.
  int64_t log_end() const { return log_end_.load(); }
  // Reads the log's end offset now.
  Result<int64_t> QueryLogEnd(std::chrono::steady_clock::time_point deadline);
  // How long proposals have waited with the sequencer consuming none; zero
  // when none wait.
  std::chrono::milliseconds sequencer_stall() const;

 private:
  void Run();
  void ProbeOnce(int timeout_ms);

  const ClusterMonitorOptions options_;
  KafkaHealth* const health_;
  ReadyGate* const topics_ready_;
  std::unique_ptr<RdKafka::KafkaConsumer> probe_;

  std::atomic<bool> closed_{false};
  std::atomic<int64_t> log_end_{-1};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                  // guarded by mu_
  bool probe_soon_ = false;                            // guarded by mu_
  int64_t last_committed_ = -2;                        // guarded by mu_
  std::chrono::steady_clock::time_point stall_since_;  // guarded by mu_
  bool stalled_ = false;                               // guarded by mu_
  std::thread thread_;
};

}  // namespace kdfs
