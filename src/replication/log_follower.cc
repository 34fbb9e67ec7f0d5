#include "replication/log_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "replication/kafka_util.h"
#include "replication/verdict.h"

namespace kdfs {

namespace {

constexpr int kPollMs = 100;
using SteadyClock = std::chrono::steady_clock;

}  // namespace

LogFollower::LogFollower(LogFollowerOptions options, StateMachine* state, ChunkStore* chunks,
                         ChunkArrivals* arrivals, PeerChunkClient* peers, HlcClock* hlc,
                         RdKafka::EventCb* events, ReadyGate* topics_ready, AppliedFn on_applied)
    : options_(std::move(options)),
      state_(state),
      chunks_(chunks),
      arrivals_(arrivals),
      peers_(peers),
      hlc_(hlc),
      events_(events),
      topics_ready_(topics_ready),
      on_applied_(std::move(on_applied)) {
  processed_end_ = state_->applied_offset() + 1;
}

LogFollower::~LogFollower() {
  Stop();
}

void LogFollower::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LogFollower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool LogFollower::apply_failing_for(std::chrono::milliseconds at_least) const {
  if (!apply_failing_.load()) return false;
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch())
          .count();
  return now_ms - failing_since_ms_.load() >= at_least.count();
}

int64_t LogFollower::processed_end() const {
  std::lock_guard<std::mutex> lock(mu_);
  return processed_end_;
}

Status LogFollower::WaitProcessed(int64_t end, SteadyClock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return stop_.load() || processed_end_ >= end; });
  if (processed_end_ >= end) return Status::Ok();
  if (stop_.load()) return Status::Unavailable("log follower stopped");
  return Status::Timeout("log offset " + std::to_string(end - 1) + " not applied yet (at " +
                         std::to_string(processed_end_ - 1) + ")");
}

void LogFollower::AdvanceTo(int64_t end) {
  std::lock_guard<std::mutex> lock(mu_);
  if (end > processed_end_) {
    processed_end_ = end;
    cv_.notify_all();
  }
}

void LogFollower::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

std::unique_ptr<RdKafka::KafkaConsumer> LogFollower::Connect() {
  kafka::ConfPairs settings = kafka::LargeRecordFetch(options_.max_record_bytes, 1);
  settings.insert(settings.end(),
                  {{"group.id", options_.group},
                   {"isolation.level", "read_committed"},
                   {"enable.auto.commit", "false"},
                   {"enable.partition.eof", "true"},
                   // The position comes from the state machine; a position Kafka no
                   // longer holds means this node needs a snapshot, never a silent jump.
                   {"auto.offset.reset", "error"},
                   {"fetch.error.backoff.ms", "50"},
                   // A commit marker does not always wake a read_committed long poll
                   // at once (seen on a fresh partition: the full 500 ms default), and a
                   // new leader's catch-up waits on this consumer: cap the wait.
                   {"fetch.wait.max.ms", "50"}});
  auto conf = kafka::NewConf(options_.brokers, options_.node_id + ".follower", events_, settings);
  if (!conf.ok()) {
    spdlog::error("log follower config: {}", conf.status().ToString());
    return nullptr;
  }
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) {
    spdlog::error("log follower: {}", err);
    return nullptr;
  }
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(options_.topic, 0, state_->applied_offset() + 1));
  std::vector<RdKafka::TopicPartition*> parts{tp.get()};
  const RdKafka::ErrorCode rc = consumer->assign(parts);
  if (rc != RdKafka::ERR_NO_ERROR) {
    spdlog::error("log follower assign: {}", RdKafka::err2str(rc));
    return nullptr;
  }
  return consumer;
}

void LogFollower::Run() {
  while (!stop_.load() &&
         !topics_ready_->WaitOpen(SteadyClock::now() + std::chrono::milliseconds(kPollMs))) {
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  while (!stop_.load() && !(consumer = Connect()))
    SleepUnlessStopped(std::chrono::seconds(1));
  if (!consumer) return;
  auto last_reset_log = SteadyClock::now() - std::chrono::hours(1);
  int64_t next = state_->applied_offset() + 1;  // the consumer's position
  last_applied_ = next - 1;
  while (!stop_.load()) {
    Reposition(&consumer, &next);
    if (!consumer) break;
    std::unique_ptr<RdKafka::Message> msg(consumer->consume(kPollMs));
    switch (msg->err()) {
      case RdKafka::ERR_NO_ERROR:
        Process(*msg);  // false only when stopping: the loop ends
        next = msg->offset() + 1;
        gap_.store(false);
        break;
      case RdKafka::ERR__PARTITION_EOF:
        // Every committed record below msg->offset() has been delivered and
        // applied: the rest up to there are markers or aborted records.
        AdvanceTo(msg->offset());
        next = msg->offset();
        break;
      case RdKafka::ERR__TIMED_OUT:
        break;
      case RdKafka::ERR__AUTO_OFFSET_RESET:
      case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
        gap_.store(true);
        if (SteadyClock::now() - last_reset_log > std::chrono::seconds(10)) {
          last_reset_log = SteadyClock::now();
          spdlog::error(
              "log follower: offset {} is no longer in the log ({}); this node "
              "needs a snapshot from a peer",
              state_->applied_offset() + 1, msg->errstr());
        }
        break;
      default:
        spdlog::debug("log follower: {}", msg->errstr());
        break;
    }
  }
  if (consumer) consumer->close();
}

void LogFollower::Reposition(std::unique_ptr<RdKafka::KafkaConsumer>* consumer, int64_t* next) {
  const bool reloaded = state_->ReloadIfRequested();
  const int64_t want = state_->applied_offset() + 1;
  if (!reloaded && !reposition_) return;
  reposition_ = false;
  if (want == *next) return;
  spdlog::warn("log follower: the state is now at offset {} (was reading {}): re-positioning",
               want - 1, *next);
  (*consumer)->close();
  consumer->reset();
  while (!stop_.load() && !(*consumer = Connect()))
    SleepUnlessStopped(std::chrono::seconds(1));
  *next = want;
  last_applied_ = want - 1;
  gap_.store(false);
  std::lock_guard<std::mutex> lock(mu_);
  processed_end_ = want;
  cv_.notify_all();
}

bool LogFollower::Process(const RdKafka::Message& msg) {
  const int64_t offset = msg.offset();
  if (offset <= state_->applied_offset()) {
    AdvanceTo(offset + 1);
    return true;
  }
  const std::string_view payload(static_cast<const char*>(msg.payload()), msg.len());
  Result<LogRecord> record = DecodeLogRecord(payload);
  while (!record.ok()) {
    // Every node reads the same bytes: skipping would be deterministic but
    // would silently drop an operation. Stall loudly until a fixed build.
    spdlog::error("log follower: cannot decode record at offset {}: {}", offset,
                  record.status().ToString());
    SleepUnlessStopped(std::chrono::seconds(5));
    if (stop_.load()) return false;
  }
  const LogRecord& rec = *record;
  auto backoff = std::chrono::milliseconds(50);
  if (rec.kind == LogRecord::Kind::kOp && rec.op.type == OpType::kPut) {
    // The state is exactly the one before `offset`, so this verdict is the
    // one Apply will reach: a put it will reject needs no chunks.
    Status v = state_->Validate(rec.op);
    while (!IsVerdict(v)) {
      NoteApplyFailure(offset, v, &backoff);
      if (stop_.load()) return false;
      v = state_->Validate(rec.op);
    }
    if (v.ok() && !EnsureChunks(rec.op)) return false;
    if (reposition_) return true;  // the state moved while chunks were awaited
  }
  for (;;) {
    Result<ApplyOutcome> outcome = state_->Apply(offset, rec);
    if (outcome.ok()) {
      if (apply_failing_.exchange(false)) spdlog::info("log follower: store is back");
      if (rec.kind == LogRecord::Kind::kOp) hlc_->Observe(rec.op.hlc);
      AdvanceTo(offset + 1);
      last_applied_ = offset;
      if (on_applied_) on_applied_(offset, rec, *outcome);
      return true;
    }
    NoteApplyFailure(offset, outcome.status(), &backoff);
    if (stop_.load()) return false;
    if (state_->applied_offset() < last_applied_ || state_->ReloadIfRequested()) {
      // The store rolled back (lost its AOF tail) or was replaced: read again
      // from applied_offset()+1.
      reposition_ = true;
      return true;
    }
  }
}

void LogFollower::NoteApplyFailure(int64_t offset, const Status& s,
                                   std::chrono::milliseconds* backoff) {
  if (!apply_failing_.load()) {
    failing_since_ms_.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch())
            .count());
  }
  if (!apply_failing_.exchange(true) || *backoff >= std::chrono::seconds(2)) {
    spdlog::error("log follower: store failed at offset {}, retrying: {}", offset, s.ToString());
  }
  SleepUnlessStopped(*backoff);
  *backoff = std::min(*backoff * 2, std::chrono::milliseconds(2000));
}

bool LogFollower::EnsureChunks(const Operation& op) {
  std::set<ChunkId> missing;
  for (const auto& c : op.chunks) {
    if (!chunks_->Has(c)) missing.insert(c);
  }
  auto last_progress = SteadyClock::now();
  auto stall = options_.chunk_stall;
  while (!stop_.load()) {
    if (state_->ReloadIfRequested()) {
      reposition_ = true;  // a snapshot replaced the state: this put may be moot
      return true;
    }
    const uint64_t seen = arrivals_->generation();
    for (auto it = missing.begin(); it != missing.end();) {
      it = chunks_->Has(*it) ? missing.erase(it) : std::next(it);
    }
    if (missing.empty()) return true;
    const auto now = SteadyClock::now();
    if (now - last_progress < stall) {
      arrivals_->WaitAfter(seen,
                           std::min(last_progress + stall, now + std::chrono::milliseconds(50)));
      if (arrivals_->generation() != seen) last_progress = SteadyClock::now();
      continue;
    }
    // The chunk consumer has stalled: ask peers for what is still missing.
    if (peers_ != nullptr && peers_->has_peers()) {
      for (const auto& c : missing) {
        if (stop_.load()) return false;
        Status s = peers_->Fetch(c, op.origin, SteadyClock::now() + std::chrono::seconds(10));
        if (!s.ok()) {
          spdlog::warn("log follower: chunk {} of {} not fetched yet: {}", c.Hex(), op.path,
                       s.ToString());
        }
      }
    } else {
      spdlog::warn("log follower: waiting for {} chunk(s) of {} from the chunks topic",
                   missing.size(), op.path);
    }
    last_progress = SteadyClock::now();
    stall = std::min(stall * 2, std::chrono::milliseconds(5000));
  }
  return false;
}

}  // namespace kdfs
