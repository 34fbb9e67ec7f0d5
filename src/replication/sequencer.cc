#include "replication/sequencer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <set>

#include "replication/verdict.h"

namespace kdfs {

using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr int kMaxAttempts = 5;
// Well under Kafka's default offsets.retention.minutes (7 days).
constexpr auto kOffsetsKeepAlive = std::chrono::hours(1);
}  // namespace

// One term of leadership: owns the writer, the proposals consumer and the
// pending set; all on the sequencer thread.
class Sequencer::Term {
 public:
  Term(Sequencer* s, uint64_t term) : s_(s), term_(term) {}

  enum class End {
    kDeposed,   // deposition or stop
    kFailed,    // fence, fatal Kafka error or store error: back off first
    kRetryNow,  // a writer kept from an earlier term turned out fenced
  };

  // Runs the term to its end.
  End Run() {
    if (Setup()) {
      while (InTerm()) {
        auto batch = Collect();
        if (!batch.empty()) {
          if (!Sequence(batch)) break;
        } else if (SteadyClock::now() - last_commit_ > kOffsetsKeepAlive) {
          // Idle for long: re-commit the offset so that it never expires.
          const TxnLogWriter::Offsets offsets = OffsetsAt(next_offset_);
          if (!CommitWithRetries({}, &offsets, nullptr)) break;
          last_commit_ = SteadyClock::now();
        }
      }
    }
    if (!failed_) return End::kDeposed;
    // A failed writer is never used again.
    s_->writer_.reset();
    return reused_writer_ && !leading_once_ ? End::kRetryNow : End::kFailed;
  }

  ~Term() {
    s_->leading_.store(false);
    if (consumer_) consumer_->close();
  }

 private:
  bool InTerm() const { return s_->InTerm(term_); }
  std::function<bool()> KeepGoing() const {
    return [this] { return InTerm(); };
  }

  bool Setup() {
    const SequencerOptions& o = s_->options_;
    const auto started = SteadyClock::now();
    if (s_->writer_) {
      // Kept from this node's previous term (a rebalance that handed the
      // partition straight back): no init_transactions, which would make
      // the coordinator finish that term's transaction first and cost
      // librdkafka's fixed 500 ms retry. Still safe: if anyone called
      // init_transactions since, this writer is fenced and its first
      // transaction below fails; then a fresh writer fences them in turn.
      reused_writer_ = true;
    } else {
      TxnLogWriterOptions wo{o.brokers,
                             o.node_id,
                             o.names.log,
                             o.names.leader_txn_id,
                             o.transaction_timeout_ms,
                             o.max_record_bytes};
      auto writer = TxnLogWriter::Create(wo, s_->events_);
      if (!writer.ok()) {
        spdlog::error("sequencer: {}", writer.status().ToString());
        failed_ = true;
        return false;
      }
      s_->writer_ = std::move(writer).value();
      s_->writer_->SetAbandonFlag(&s_->abandon_);
      if (!Check(s_->writer_->Init(KeepGoing()))) return false;
    }
    // Every earlier writer is fenced now: the proposals' committed offset is
    // final. Start fetching them while catching up.
    if (!OpenProposals()) return false;
    // Catch up to the last stable offset (read_committed): everything
    // committed by earlier leaders. (After a fresh init nothing is open, so
    // that is the end of the log.)
    int64_t end = -1;
    while (InTerm()) {
      auto e = s_->log_end_(SteadyClock::now() + std::chrono::seconds(1));
      if (e.ok()) {
        end = *e;
        break;
      }
    }
    while (InTerm() &&
           !s_->follower_->WaitProcessed(end, SteadyClock::now() + std::chrono::milliseconds(100))
                .ok()) {
    }
    if (!InTerm()) return false;
    const int64_t epoch = s_->state_->leader().epoch + 1;
    LogRecord rec;
    rec.kind = LogRecord::Kind::kLeader;
    rec.leader = LeaderRecord{o.node_id, epoch};
    // The leader record also re-commits the proposals' offset, which keeps
    // it from expiring (offsets.retention.minutes) while the group is idle.
    const TxnLogWriter::Offsets offsets = OffsetsAt(next_offset_);
    if (!CommitWithRetries({{o.node_id, EncodeLogRecord(rec)}}, &offsets, nullptr)) return false;
    last_commit_ = SteadyClock::now();
    leading_once_ = true;
    s_->epoch_.store(epoch);
    s_->leading_.store(true);
    {
      std::lock_guard<std::mutex> lock(s_->mu_);
      ++s_->stats_.terms;
    }
    spdlog::info(
        "sequencer: node={} leads epoch={} (log end {} applied, {} ms to take over{})", o.node_id,
        epoch, end,
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count(),
        reused_writer_ ? ", writer kept" : "");
    return true;
  }

  // Maps a writer outcome: true to go on.
  bool Check(TxnLogWriter::Outcome outcome) {
    if (outcome == TxnLogWriter::Outcome::kCommitted) return true;
    if (outcome == TxnLogWriter::Outcome::kFenced) {
      failed_ = true;
      std::lock_guard<std::mutex> lock(s_->mu_);
      ++s_->stats_.fenced;
    }
    return false;
  }

  bool OpenProposals() {
    const SequencerOptions& o = s_->options_;
    kafka::ConfPairs settings = kafka::LargeRecordFetch(o.max_record_bytes, 1);
    settings.insert(settings.end(), {{"group.id", o.names.sequencer_group},
                                     {"isolation.level", "read_committed"},
                                     {"enable.auto.commit", "false"},
                                     {"auto.offset.reset", "earliest"},
                                     {"fetch.wait.max.ms", "100"}});
    auto conf = kafka::NewConf(o.brokers, o.node_id + ".proposals", s_->events_, settings);
    std::string err;
    if (conf.ok()) consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
    if (!consumer_) {
      spdlog::error("sequencer: proposals consumer: {}",
                    conf.ok() ? err : conf.status().ToString());
      failed_ = true;
      return false;
    }
    // Start at the group's committed offset: where the last committed
    // transaction of any earlier leader left the proposals. Without one (a
    // new cluster, or offsets expired) start at the current end, read now,
    // before this term's leader record exists: no origin proposes before it
    // has seen a leader record, so nothing proposed to this term is skipped,
    // and nothing already sequenced is sequenced again.
    int64_t start = -1;
    while (InTerm() && start < 0) {
      std::unique_ptr<RdKafka::TopicPartition> tp(
          RdKafka::TopicPartition::create(o.names.proposals, 0));
      std::vector<RdKafka::TopicPartition*> parts{tp.get()};
      if (consumer_->committed(parts, 1000) != RdKafka::ERR_NO_ERROR ||
          tp->err() != RdKafka::ERR_NO_ERROR) {
        continue;
      }
      // Also teaches this new client the partition's leader: without it the
      // first fetch waits about a second for a metadata refresh.
      int64_t low = 0, high = 0;
      if (consumer_->query_watermark_offsets(o.names.proposals, 0, &low, &high, 1000) !=
          RdKafka::ERR_NO_ERROR) {
        continue;
      }
      if (tp->offset() >= 0) {
        start = tp->offset();
      } else {
        if (high > low) {
          spdlog::warn("sequencer: no committed proposals offset; starting at the end ({})", high);
        }
        start = high;
      }
    }
    if (start < 0) return false;
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(o.names.proposals, 0, start));
    std::vector<RdKafka::TopicPartition*> parts{tp.get()};
    if (consumer_->assign(parts) != RdKafka::ERR_NO_ERROR) {
      failed_ = true;
      return false;
    }
    next_offset_ = start;
    group_.reset(consumer_->groupMetadata());
    return true;
  }

  // The transaction's consumer-offset part: everything before `next`.
  TxnLogWriter::Offsets OffsetsAt(int64_t next) {
    return TxnLogWriter::Offsets{s_->options_.names.proposals, next, group_.get()};
  }

  std::vector<std::unique_ptr<RdKafka::Message>> Collect() {
    std::vector<std::unique_ptr<RdKafka::Message>> batch;
    std::unique_ptr<RdKafka::Message> first(consumer_->consume(50));
    if (first->err() != RdKafka::ERR_NO_ERROR) {
      if (first->err() != RdKafka::ERR__TIMED_OUT) {
        spdlog::debug("sequencer: proposals: {}", first->errstr());
      }
      return batch;
    }
    batch.push_back(std::move(first));
    const auto until = SteadyClock::now() + s_->options_.linger;
    while (batch.size() < s_->options_.max_batch) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(kafka::MillisUntil(until, 1000)));
      if (m->err() != RdKafka::ERR_NO_ERROR) break;
      batch.push_back(std::move(m));
    }
    return batch;
  }

  // Builds the records for `batch` against the current state and stages
  // them in pending_. false on a store error.
  bool Build(const std::vector<std::unique_ptr<RdKafka::Message>>& batch,
             std::vector<TxnLogWriter::Record>* out, uint64_t* duplicates) {
    std::set<std::string> seen;
    for (const auto& m : batch) {
      auto op = DecodeOperation(std::string_view(static_cast<const char*>(m->payload()), m->len()));
      if (!op.ok()) {
        spdlog::warn("sequencer: undecodable proposal at offset {} dropped: {}", m->offset(),
                     op.status().ToString());
        continue;
      }
      if (seen.count(op->op_id) || pending_.Contains(op->op_id)) {
        ++*duplicates;
        continue;
      }
      auto found = s_->state_->FindOutcome(op->op_id);
      if (!found.ok()) {
        spdlog::warn("sequencer: store error: {}", found.status().ToString());
        return false;
      }
      if (found->has_value()) {
        ++*duplicates;
        continue;
      }
      seen.insert(op->op_id);
      LogRecord rec;
      rec.kind = LogRecord::Kind::kOp;
      if (!pending_.Overlaps(*op)) {
        // A store failure is no verdict: the op goes in unvalidated.
        Status v = s_->state_->Validate(*op);
        if (!v.ok() && IsVerdict(v)) {
          rec.kind = LogRecord::Kind::kReject;
          rec.rejection = Rejection{op->op_id, op->origin, v.code(), v.message()};
        }
      }
      pending_.Stage(*op);
      const std::string id = op->op_id;
      if (rec.kind == LogRecord::Kind::kOp) rec.op = std::move(*op);
      std::string value = EncodeLogRecord(rec);
      if (value.size() > s_->options_.max_record_bytes) {
        // Never let one oversized proposal wedge the log: reject it.
        LogRecord reject;
        reject.kind = LogRecord::Kind::kReject;
        reject.rejection =
            Rejection{id, rec.kind == LogRecord::Kind::kOp ? rec.op.origin : rec.rejection.origin,
                      Code::kPayloadTooLarge, "operation too large for one log record"};
        value = EncodeLogRecord(reject);
      }
      out->push_back({id, std::move(value)});
    }
    return true;
  }

  // Appends one batch; false when the term must end.
  bool Sequence(const std::vector<std::unique_ptr<RdKafka::Message>>& batch) {
    const TxnLogWriter::Offsets offsets = OffsetsAt(batch.back()->offset() + 1);
    for (int attempt = 0; attempt < kMaxAttempts && InTerm(); ++attempt) {
      pending_.Release(s_->state_->applied_offset());
      std::vector<TxnLogWriter::Record> records;
      uint64_t duplicates = 0;
      if (!Build(batch, &records, &duplicates)) {
        // The store failed: end the term and back off like after a fence.
        pending_.Abort();
        failed_ = true;
        return false;
      }
      int64_t last = -1;
      const auto outcome = s_->writer_->Commit(records, &offsets, KeepGoing(), &last);
      if (outcome == TxnLogWriter::Outcome::kCommitted) {
        // Unknown offsets (reports not served) keep the ops pending all term.
        if (!records.empty() && last < 0) last = std::numeric_limits<int64_t>::max();
        pending_.Commit(last);
        next_offset_ = offsets.next_offset;
        last_commit_ = SteadyClock::now();
        std::lock_guard<std::mutex> lock(s_->mu_);
        ++s_->stats_.batches;
        s_->stats_.appended += records.size();
        s_->stats_.duplicates += duplicates;
        return true;
      }
      pending_.Abort();
      if (outcome != TxnLogWriter::Outcome::kRetry) {
        Check(outcome);
        return false;
      }
      {
        std::lock_guard<std::mutex> lock(s_->mu_);
        ++s_->stats_.aborted;
      }
      s_->WaitWhileInTerm(term_, std::chrono::milliseconds(20 * (attempt + 1)));
    }
    // Still failing: end the term; the next one re-reads these proposals
    // from the committed offset.
    if (InTerm()) failed_ = true;
    return false;
  }

  bool CommitWithRetries(const std::vector<TxnLogWriter::Record>& records,
                         const TxnLogWriter::Offsets* offsets, int64_t* last) {
    int64_t ignored = -1;
    for (int attempt = 0; attempt < kMaxAttempts && InTerm(); ++attempt) {
      const auto outcome =
          s_->writer_->Commit(records, offsets, KeepGoing(), last ? last : &ignored);
      if (outcome == TxnLogWriter::Outcome::kCommitted) return true;
      if (outcome != TxnLogWriter::Outcome::kRetry) return Check(outcome);
      s_->WaitWhileInTerm(term_, std::chrono::milliseconds(20 * (attempt + 1)));
    }
    if (InTerm()) failed_ = true;  // retries exhausted
    return false;
  }

  Sequencer* const s_;
  const uint64_t term_;
  bool failed_ = false;  // see Run()
  bool reused_writer_ = false;
  bool leading_once_ = false;
  int64_t next_offset_ = 0;  // the next proposal to sequence
  SteadyClock::time_point last_commit_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::ConsumerGroupMetadata> group_;
  PendingOps pending_;
};

Sequencer::Sequencer(SequencerOptions options, StateMachine* state, LogFollower* follower,
                     RdKafka::EventCb* events, LogEndQuery log_end)
    : options_(std::move(options)),
      state_(state),
      follower_(follower),
      events_(events),
      log_end_(std::move(log_end)) {}

Sequencer::~Sequencer() {
  Stop();
}

void Sequencer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Sequencer::Elect() {
  std::lock_guard<std::mutex> lock(mu_);
  candidate_ = true;
  ++term_;
  cv_.notify_all();
}

void Sequencer::Depose() {
  std::lock_guard<std::mutex> lock(mu_);
  candidate_ = false;
  ++term_;
  cv_.notify_all();
}

bool Sequencer::InTerm(uint64_t term) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !stop_ && candidate_ && term_ == term;
}

void Sequencer::WaitWhileInTerm(uint64_t term, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_ || !candidate_ || term_ != term; });
}

SequencerStats Sequencer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Sequencer::Run() {
  for (;;) {
    uint64_t term = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || candidate_; });
      if (stop_) return;
      term = term_;
    }
    Term::End end;
    {
      Term t(this, term);
      end = t.Run();
    }
    if (end == Term::End::kRetryNow) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_ && candidate_ && term_ == term) ++term_;
      continue;
    }
    if (end == Term::End::kFailed) {
      spdlog::warn(
          "sequencer: node={} fenced or failed; candidacy resumes in {} ms if still "
          "elected",
          options_.node_id, options_.fence_backoff.count());
      WaitWhileInTerm(term, options_.fence_backoff);
      // Still the same candidacy after the backoff: run a fresh term.
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_ && candidate_ && term_ == term) ++term_;
    }
  }
  writer_.reset();
}

}  // namespace kdfs
