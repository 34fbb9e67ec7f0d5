#include "replication/cluster_monitor.h"

#include <spdlog/spdlog.h>

namespace kdfs {

using SteadyClock = std::chrono::steady_clock;

ClusterMonitor::ClusterMonitor(ClusterMonitorOptions options, KafkaHealth* health,
                               ReadyGate* topics_ready)
    : options_(std::move(options)), health_(health), topics_ready_(topics_ready) {}

ClusterMonitor::~ClusterMonitor() {
  Stop();
}

Status ClusterMonitor::Start(int first_attempt_ms) {
  KDFS_ASSIGN_OR_RETURN(auto conf,
                        kafka::NewConf(options_.brokers, options_.node_id + ".probe", health_,
                                       {// committed() reads this group's offsets.
                                        {"group.id", options_.names.sequencer_group},
                                        {"enable.auto.commit", "false"},
                                        // Watermark queries then return the last stable offset.
                                        {"isolation.level", "read_committed"}}));
  std::string err;
  probe_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!probe_) return Status::Internal("kafka probe client: " + err);
  ProbeOnce(first_attempt_ms);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ClusterMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // The handle itself lives until destruction: QueryLogEnd may still race
  // with Stop and then simply fails.
  if (probe_ && !closed_.exchange(true)) probe_->close();
}

void ClusterMonitor::ProbeSoon() {
  std::lock_guard<std::mutex> lock(mu_);
  probe_soon_ = true;
  cv_.notify_all();
}

void ClusterMonitor::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.interval, [&] { return stop_ || probe_soon_; });
    if (stop_) break;
    probe_soon_ = false;
    lock.unlock();
    ProbeOnce(options_.probe_timeout_ms);
    lock.lock();
  }
}

void ClusterMonitor::ProbeOnce(int timeout_ms) {
  if (!topics_ready_->is_open()) {
    auto created = EnsureTopics(probe_.get(), options_.topics, timeout_ms);
    if (created.ok()) {
      topics_ready_->Open();
    } else {
      spdlog::warn("cannot create topics yet: {}", created.status().ToString());
      health_->ReportProbe(false);
      return;
    }
  }
  int64_t low = 0, high = 0;
  RdKafka::ErrorCode rc =
      probe_->query_watermark_offsets(options_.names.log, 0, &low, &high, timeout_ms);
  if (rc == RdKafka::ERR__TIMED_OUT || rc == RdKafka::ERR__TRANSPORT ||
      rc == RdKafka::ERR__ALL_BROKERS_DOWN) {
    health_->ReportProbe(false);
    return;
  }
  if (rc != RdKafka::ERR_NO_ERROR) {
    // The log's leader may be moving (or the topic just created): the
    // cluster is reachable if it answers a metadata request at all.
    RdKafka::Metadata* md = nullptr;
    const bool answered =
        probe_->metadata(false, nullptr, &md, timeout_ms) == RdKafka::ERR_NO_ERROR;
    delete md;
    health_->ReportProbe(answered);
    return;
  }
  health_->ReportProbe(true);
  log_end_.store(high);

  rc = probe_->query_watermark_offsets(options_.names.proposals, 0, &low, &high, timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR) return;
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(options_.names.proposals, 0));
  std::vector<RdKafka::TopicPartition*> parts{tp.get()};
  rc = probe_->committed(parts, timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR || tp->err() != RdKafka::ERR_NO_ERROR) return;
  // No commit yet: the sequencer starts from the earliest proposal kept.
  const int64_t committed = tp->offset() >= 0 ? tp->offset() : low;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = SteadyClock::now();
  if (committed >= high) {
    stalled_ = false;
  } else if (!stalled_ || committed != last_committed_) {
    // Proposals wait; measure from now, or from this step of progress.
    stalled_ = true;
    stall_since_ = now;
  }
  last_committed_ = committed;
}

std::chrono::milliseconds ClusterMonitor::sequencer_stall() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stalled_) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - stall_since_);
}

Result<int64_t> ClusterMonitor::QueryLogEnd(SteadyClock::time_point deadline) {
  int64_t low = 0, high = 0;
  const RdKafka::ErrorCode rc = probe_->query_watermark_offsets(
      options_.names.log, 0, &low, &high, kafka::MillisUntil(deadline, 30000));
  if (rc != RdKafka::ERR_NO_ERROR) return kafka::KafkaStatus(rc, "query log end");
  log_end_.store(high);
  return high;
}

}  // namespace kdfs
