// KafkaHealth: one node's view of whether Kafka is reachable.
//
// Two inputs: librdkafka's events from every client of the node (this class
// is their EventCb: it also routes librdkafka's logs to spdlog), where
// "all brokers down" marks Kafka unreachable at once; and the cluster
// monitor's periodic probe, whose success or failure is authoritative.
//
// Thread-safe: event_cb runs on librdkafka threads, the rest anywhere.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <string>

namespace kdfs {

class KafkaHealth final : public RdKafka::EventCb {
 public:
  explicit KafkaHealth(std::string node_id) : node_id_(std::move(node_id)) {}

  void event_cb(RdKafka::Event& event) override;

  // The probe reached the cluster (true) or failed (false).
  void ReportProbe(bool reachable);
  bool connected() const { return connected_.load(); }

 private:
  const std::string node_id_;
  std::atomic<bool> connected_{false};
};

}  // namespace kdfs
