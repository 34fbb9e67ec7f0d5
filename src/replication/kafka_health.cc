#include "replication/kafka_health.h"

#include <spdlog/spdlog.h>

namespace kdfs {

namespace {
int64_t MonotonicMillis(Clock* clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock->Now().time_since_epoch())
      .count();
}
}  // namespace

bool KafkaHealth::connected() const {
  return connected_.load() && MonotonicMillis(clock_) - last_ok_ms_.load() <= stale_after_.count();
}

void KafkaHealth::ReportProbe(bool reachable) {
  if (reachable) last_ok_ms_.store(MonotonicMillis(clock_));
  const bool was = connected_.exchange(reachable);
  if (was != reachable) {
    spdlog::info("kafka {} node={}", reachable ? "reachable" : "unreachable", node_id_);
  }
}

void KafkaHealth::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR:
      if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN && probe_now_) probe_now_();
      if (event.fatal()) {
        spdlog::error("kafka fatal error node={} err={}", node_id_, event.str());
      } else {
        spdlog::debug("kafka error node={} err={} {}", node_id_, RdKafka::err2str(event.err()),
                      event.str());
      }
      break;
    case RdKafka::Event::EVENT_LOG: {
      const int sev = event.severity();
      if (sev <= RdKafka::Event::EVENT_SEVERITY_ERROR) {
        spdlog::error("rdkafka {} {}", event.fac(), event.str());
      } else if (sev <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
        spdlog::warn("rdkafka {} {}", event.fac(), event.str());
      } else {
        spdlog::debug("rdkafka {} {}", event.fac(), event.str());
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace kdfs
