// KafkaHealth: one node's view of whether Kafka is reachable.
//
// The cluster monitor's probe decides (ReportProbe), and its verdict holds
// only while fresh: a probe can block far past its own timeout when the
// broker is gone (librdkafka 2.0.2's watermark query waits on a request that
// a dead broker never answers), so "reachable" also means "a probe succeeded
// within the last `stale_after`". librdkafka's events from
// every client of the node (this class is their EventCb; it also routes
// librdkafka's logs to spdlog) only ask for a probe now when a client says
// "all brokers down": that event alone is no proof, since the broker also
// closes a client's idle connections (connections.max.idle.ms).
//
// Thread-safe: event_cb runs on librdkafka threads, the rest anywhere.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/clock.h"

namespace kdfs {

class KafkaHealth final : public RdKafka::EventCb {
 public:
  // REQUIRES: clock outlives this object.
  KafkaHealth(std::string node_id, Clock* clock, std::chrono::milliseconds stale_after)
      : node_id_(std::move(node_id)), clock_(clock), stale_after_(stale_after) {}

  void event_cb(RdKafka::Event& event) override;

  // The probe reached the cluster (true) or failed (false).
  void ReportProbe(bool reachable);
  bool connected() const;
  // Called (on a librdkafka thread, must not block) when a probe is due at
  // once. Set before any client is created.
  void SetProbeNow(std::function<void()> fn) { probe_now_ = std::move(fn); }

 private:
  const std::string node_id_;
  Clock* const clock_;
  const std::chrono::milliseconds stale_after_;
  std::atomic<bool> connected_{false};
  // Monotonic time of the last successful probe, in ms since the clock's epoch.
  std::atomic<int64_t> last_ok_ms_{0};
  std::function<void()> probe_now_;
};

}  // namespace kdfs
