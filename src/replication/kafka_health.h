// KafkaHealth: one node's view of whether Kafka is reachable.
//
// The cluster monitor's probe decides (ReportProbe). librdkafka's events from
// every client of the node (this class is their EventCb; it also routes
// librdkafka's logs to spdlog) only ask for a probe now when a client says
// "all brokers down": that event alone is no proof, since the broker also
// closes a client's idle connections (connections.max.idle.ms).
//
// Thread-safe: event_cb runs on librdkafka threads, the rest anywhere.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <functional>
#include <string>

namespace kdfs {

class KafkaHealth final : public RdKafka::EventCb {
 public:
  explicit KafkaHealth(std::string node_id) : node_id_(std::move(node_id)) {}

  void event_cb(RdKafka::Event& event) override;

  // The probe reached the cluster (true) or failed (false).
  void ReportProbe(bool reachable);
  bool connected() const { return connected_.load(); }
  // Called (on a librdkafka thread, must not block) when a probe is due at
  // once. Set before any client is created.
  void SetProbeNow(std::function<void()> fn) { probe_now_ = std::move(fn); }

 private:
  const std::string node_id_;
  std::atomic<bool> connected_{false};
  std::function<void()> probe_now_;
};

}  // namespace kdfs
