#include "replication/kafka_replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "replication/chunk_upload.h"
#include "replication/topic_admin.h"

namespace kdfs {

using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kGateRecheck = std::chrono::milliseconds(100);
// Kafka counts as unreachable once no probe has succeeded for this long: the
// monitor probes every 250 ms with a 1 s timeout, so a healthy cluster
// refreshes the verdict well within it.
constexpr auto kProbeStaleAfter = std::chrono::seconds(3);
// A follower whose store has failed this long leaves the election.
constexpr auto kIneligibleAfter = std::chrono::seconds(3);
// A node joins the election only within this many records of the log end
// (Election::Callbacks::may_join): it could then take over in well under a
// second, instead of holding leadership while it replays a backlog.
constexpr int64_t kJoinLag = 64;

std::chrono::milliseconds LeaderStall(const ReplicatorOptions& o) {
  return std::chrono::milliseconds(std::max(3000, 2 * o.election_session_timeout_ms + 1000));
}

}  // namespace

Result<std::unique_ptr<Replicator>> Replicator::Create(const ReplicatorOptions& options,
                                                       StateMachine* state, ChunkStore* chunks,
                                                       HlcClock* hlc, Clock* clock) {
  if (options.node_id.empty()) return Status::InvalidArgument("replicator: node_id is empty");
  if (options.brokers.empty()) return Status::InvalidArgument("replicator: no Kafka brokers");
  if (options.topic_prefix.empty()) {
    return Status::InvalidArgument("replicator: topic_prefix is empty");
  }
  if (options.election_session_timeout_ms < 1000) {
    return Status::InvalidArgument("replicator: the election session timeout must be >= 1000 ms");
  }
  if (options.max_batch < 1 || options.chunk_partitions < 1 || options.topic_replication < 1) {
    return Status::InvalidArgument(
        "replicator: max_batch, partitions and replication must be >= 1");
  }
  return std::unique_ptr<Replicator>(new KafkaReplicator(options, state, chunks, hlc, clock));
}

KafkaReplicator::KafkaReplicator(const ReplicatorOptions& options, StateMachine* state,
                                 ChunkStore* chunks, HlcClock* hlc, Clock* clock)
    : options_(options),
      names_(kafka::Names::ForPrefix(options.topic_prefix)),
      state_(state),
      chunks_(chunks),
      hlc_(hlc),
      clock_(clock),
      leader_stall_(LeaderStall(options)),
      health_(options.node_id, clock, kProbeStaleAfter),
      peers_(options.peers, options.node_id, chunks, &arrivals_, options.max_record_bytes) {
  ClusterMonitorOptions mo;
  mo.brokers = options_.brokers;
  mo.node_id = options_.node_id;
  mo.names = names_;
  mo.topics = KdfsTopicSpecs(options_);
  monitor_ = std::make_unique<ClusterMonitor>(mo, &health_, &topics_ready_);
  health_.SetProbeNow([this] { monitor_->ProbeSoon(); });

  chunk_consumer_ = std::make_unique<ChunkConsumer>(
      ChunkConsumerOptions{options_.brokers, options_.node_id, names_.chunks,
                           names_.ChunkGroup(options_.node_id), options_.max_record_bytes},
      chunks_, &arrivals_, &health_, &topics_ready_);

  LogFollowerOptions fo;
  fo.brokers = options_.brokers;
  fo.node_id = options_.node_id;
  fo.topic = names_.log;
  fo.group = names_.log + ".follower." + options_.node_id;
  fo.max_record_bytes = options_.max_record_bytes;
  follower_ = std::make_unique<LogFollower>(
      fo, state_, chunks_, &arrivals_, &peers_, hlc_, &health_, &topics_ready_,
      [this](int64_t, const LogRecord&, const ApplyOutcome& outcome) {
        if (!outcome.op_id.empty()) waiters_.Complete(outcome);
      });

  SequencerOptions so;
  so.brokers = options_.brokers;
  so.node_id = options_.node_id;
  so.names = names_;
  so.transaction_timeout_ms = options_.transaction_timeout_ms;
  so.max_batch = options_.max_batch;
  so.max_record_bytes = options_.max_record_bytes;
  so.fence_backoff = std::chrono::milliseconds(options_.election_session_timeout_ms);
  sequencer_ = std::make_unique<Sequencer>(
      so, state_, follower_.get(), &health_,
      [this](SteadyClock::time_point deadline) { return monitor_->QueryLogEnd(deadline); });

  Election::Callbacks cb;
  cb.elected = [this] { sequencer_->Elect(); };
  cb.deposed = [this] { sequencer_->Depose(); };
  cb.eligible = [this] { return !follower_->apply_failing_for(kIneligibleAfter); };
  cb.may_join = [this] {
    int64_t end = monitor_->log_end();
    if (end < 0) {  // not probed yet (just started): ask now, not a poll later
      auto queried = monitor_->QueryLogEnd(SteadyClock::now() + std::chrono::seconds(1));
      if (!queried.ok()) return false;
      end = *queried;
    }
    return end - follower_->processed_end() <= kJoinLag;
  };
  election_ = std::make_unique<Election>(
      ElectionOptions{options_.brokers, options_.node_id, names_.election, names_.election_group,
                      options_.election_session_timeout_ms},
      std::move(cb), &health_, &topics_ready_);
}

KafkaReplicator::~KafkaReplicator() {
  Stop();
}

Status KafkaReplicator::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (running_.load() || stopped_) return Status::Internal("replicator: Start called twice");
  const std::string max_msg = std::to_string(kafka::ClientMessageMax(options_.max_record_bytes));
  KDFS_ASSIGN_OR_RETURN(
      chunk_producer_,
      AsyncProducer::Create(options_.brokers, options_.node_id + ".chunks", &health_,
                            {{"message.max.bytes", max_msg},
                             {"linger.ms", "2"},
                             {"message.timeout.ms", "60000"},
                             {"queue.buffering.max.kbytes", "131072"}}));
  KDFS_ASSIGN_OR_RETURN(
      proposal_producer_,
      AsyncProducer::Create(
          options_.brokers, options_.node_id + ".proposals", &health_,
          {{"message.max.bytes", max_msg}, {"linger.ms", "0"}, {"message.timeout.ms", "30000"}}));
  KDFS_RETURN_IF_ERROR(monitor_->Start(/*first_attempt_ms=*/3000));
  if (topics_ready_.is_open()) {
    // Else the first write after a start without Kafka pays about a second.
    chunk_producer_->WarmUp(names_.chunks, 1000);
    proposal_producer_->WarmUp(names_.proposals, 1000);
  }
  chunk_consumer_->Start();
  follower_->Start();
  sequencer_->Start();
  election_->Start();
  running_.store(true);
  spdlog::info("replicator started node={} prefix={} brokers={} topics_ready={}", options_.node_id,
               options_.topic_prefix, options_.brokers, topics_ready_.is_open());
  return Status::Ok();
}

void KafkaReplicator::Shutdown(bool leave) {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  const bool was_running = running_.exchange(false);
  if (!was_running) return;
  // Leadership first: the others can take over while we finish.
  if (!leave) sequencer_->Abandon();
  election_->Stop(leave);
  sequencer_->Stop();
  chunk_producer_->Close(leave ? 5000 : 0);
  proposal_producer_->Close(leave ? 2000 : 0);
  follower_->Stop();
  chunk_consumer_->Stop();
  monitor_->Stop();
  spdlog::info("replicator stopped node={}{}", options_.node_id, leave ? "" : " (abandoned)");
}

void KafkaReplicator::Stop() {
  Shutdown(/*leave=*/true);
}

void KafkaReplicator::Abandon() {
  Shutdown(/*leave=*/false);
}

std::unique_ptr<ChunkUpload> KafkaReplicator::NewChunkUpload(size_t window) {
  // Add waits at most for the producer's message timeout plus a margin: a
  // delivery report always comes by then.
  return std::make_unique<KafkaChunkUpload>(chunk_producer_.get(), names_.chunks, window,
                                            std::chrono::seconds(70));
}

Status KafkaReplicator::ProposeGate() {
  if (!running_.load()) return Status::Unavailable("replication is not running");
  if (!health_.connected()) return Status::Unavailable("kafka is unreachable");
  if (state_->leader().node.empty() && !sequencer_->leading()) {
    return Status::Unavailable("no leader has been elected yet");
  }
  const auto stall = monitor_->sequencer_stall();
  if (stall >= leader_stall_) {
    return Status::Unavailable("no leader: proposals have waited " + std::to_string(stall.count()) +
                               " ms unsequenced");
  }
  return Status::Ok();
}

Result<ApplyOutcome> KafkaReplicator::Propose(const Operation& op,
                                              SteadyClock::time_point deadline) {
  if (op.op_id.empty()) return Status::InvalidArgument("proposal without op_id");
  // Register before looking for an earlier outcome, so that an apply racing
  // with the lookup still completes this ticket.
  auto ticket = waiters_.Register(op.op_id);
  struct Unregister {
    OutcomeWaiters* w;
    const std::string& id;
    std::shared_ptr<OutcomeTicket>& t;
    ~Unregister() { w->Unregister(id, t); }
  } unregister{&waiters_, op.op_id, ticket};

  auto earlier = state_->FindOutcome(op.op_id);
  if (earlier.ok() && earlier->has_value()) return **earlier;
  const std::string encoded = EncodeOperation(op);
  if (encoded.size() > options_.max_record_bytes) {
    // Its log record would not fit either (e.g. a put naming too many chunks).
    return Status(Code::kPayloadTooLarge,
                  "operation of " + std::to_string(encoded.size()) + " bytes exceeds the " +
                      std::to_string(options_.max_record_bytes) + "-byte record limit");
  }
  KDFS_RETURN_IF_ERROR(ProposeGate());
  Status produced = proposal_producer_->Produce(
      names_.proposals, 0, op.op_id, encoded,
      [ticket](const Status& s, int64_t) {
        if (!s.ok()) ticket->FailDelivery(s);
      },
      std::min(deadline, SteadyClock::now() + std::chrono::seconds(1)));
  if (!produced.ok())
    return Status::Unavailable("cannot queue the proposal: " + produced.ToString());
  for (;;) {
    const auto step = std::min(deadline, SteadyClock::now() + kGateRecheck);
    if (ticket->WaitUntil(step)) {
      if (auto outcome = ticket->outcome()) return *outcome;
      return Status::Unavailable("proposal not delivered to kafka: " +
                                 ticket->delivery_error().ToString());
    }
    if (SteadyClock::now() >= deadline) {
      return Status::Timeout("proposal " + op.op_id + " not applied by the deadline");
    }
    KDFS_RETURN_IF_ERROR(ProposeGate());
  }
}

Status KafkaReplicator::WaitApplied(int64_t version, SteadyClock::time_point deadline) {
  // Everything at or below `version` is applied once the follower has
  // processed past it (a marker offset counts as processed).
  return follower_->WaitProcessed(version + 1, deadline);
}

Result<int64_t> KafkaReplicator::QueryLogEnd(SteadyClock::time_point deadline) {
  if (!running_.load()) return Status::Unavailable("replication is not running");
  KDFS_ASSIGN_OR_RETURN(int64_t end, monitor_->QueryLogEnd(deadline));
  return end - 1;
}

Status KafkaReplicator::FetchChunk(const ChunkId& id, SteadyClock::time_point deadline) {
  if (chunks_->Has(id)) return Status::Ok();
  return peers_.Fetch(id, "", deadline);
}

ClusterView KafkaReplicator::View() {
  ClusterView v;
  LeaderRecord leader = state_->leader();
  if (!leader.node.empty()) v.leader = leader;
  v.is_leader = sequencer_->leading();
  v.kafka_connected = running_.load() && health_.connected();
  v.applied_offset = state_->applied_offset();
  v.log_gap = follower_->log_gap();
  const int64_t end = monitor_->log_end();
  if (end >= 0) {
    // Caught up means lag 0 even if the end is a transaction marker.
    v.log_end_offset = follower_->processed_end() >= end ? v.applied_offset : end - 1;
  }
  return v;
}

}  // namespace kdfs
