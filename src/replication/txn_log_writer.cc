#include "replication/txn_log_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace kdfs {

using SteadyClock = std::chrono::steady_clock;

// Counts the delivery reports of the current transaction. Reports are served
// by poll()/flush() on the owning thread, so no locking is needed.
class TxnLogWriter::Acks final : public RdKafka::DeliveryReportCb {
 public:
  void Reset() {
    produced = acked = 0;
    max_offset = -1;
  }
  void dr_cb(RdKafka::Message& message) override {
    ++acked;
    if (message.err() == RdKafka::ERR_NO_ERROR) max_offset = std::max(max_offset, message.offset());
  }
  int produced = 0;
  int acked = 0;
  int64_t max_offset = -1;
};

Result<std::unique_ptr<TxnLogWriter>> TxnLogWriter::Create(const TxnLogWriterOptions& options,
                                                           RdKafka::EventCb* events) {
  KDFS_ASSIGN_OR_RETURN(
      auto conf,
      kafka::NewConf(options.brokers, options.node_id + ".sequencer", events,
                     {{"transactional.id", options.transactional_id},
                      {"transaction.timeout.ms", std::to_string(options.transaction_timeout_ms)},
                      {"enable.idempotence", "true"},
                      {"acks", "all"},
                      {"linger.ms", "0"},
                      // A transaction's first request gets CONCURRENT_TRANSACTIONS
                      // until the coordinator has finished the previous commit
                      // (a few ms); librdkafka's default 100 ms retry backoff
                      // would cap the log at ~10 transactions per second.
                      {"retry.backoff.ms", "5"},
                      {"message.max.bytes",
                       std::to_string(kafka::ClientMessageMax(options.max_record_bytes))}}));
  std::unique_ptr<TxnLogWriter> w(new TxnLogWriter());
  w->options_ = options;
  w->acks_ = std::make_unique<Acks>();
  KDFS_ASSIGN_OR_RETURN(
      w->producer_, kafka::NewProducer(conf.get(), w->acks_.get(), "kafka transactional producer"));
  return w;
}

TxnLogWriter::~TxnLogWriter() {
  if (producer_ && in_transaction_ && !(abandon_ && abandon_->load())) {
    // Best effort: a new leader's init_transactions aborts it anyway.
    delete producer_->abort_transaction(1000);
  }
}

TxnLogWriter::Outcome TxnLogWriter::Init(const std::function<bool()>& keep_going) {
  while (keep_going()) {
    // Short calls (a timeout is retriable) so that a deposition is noticed.
    RdKafka::Error* error =
        producer_->init_transactions(std::min(options_.transaction_timeout_ms, 1000));
    if (error == nullptr) {
      WarmUp();
      return Outcome::kCommitted;
    }
    std::unique_ptr<RdKafka::Error> owned(error);
    last_error_ = kafka::KafkaStatus(owned->code(), "init_transactions: " + owned->str());
    if (!owned->is_retriable()) {
      spdlog::warn("sequencer: {}", last_error_.ToString());
      return Outcome::kFenced;
    }
    spdlog::debug("sequencer: {} (retrying)", last_error_.ToString());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Outcome::kStopped;
}

void TxnLogWriter::WarmUp() {
  // Learn the log partition's leader now: otherwise the first produce waits
  // for librdkafka's metadata refresh (about a second), which would delay
  // every takeover's leader record by as much.
  int64_t low = 0, high = 0;
  (void)producer_->query_watermark_offsets(options_.topic, 0, &low, &high, 1000);
}

TxnLogWriter::Outcome TxnLogWriter::Abort(Outcome then) {
  if (!in_transaction_) return then;
  if (abandon_ && abandon_->load()) {
    in_transaction_ = false;
    return then;
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    RdKafka::Error* error = producer_->abort_transaction(options_.transaction_timeout_ms);
    if (error == nullptr) {
      in_transaction_ = false;
      return then;
    }
    std::unique_ptr<RdKafka::Error> owned(error);
    if (owned->is_fatal() || !owned->is_retriable()) break;
  }
  // The transaction cannot be ended from here: give this writer up; the
  // next init_transactions (ours or another leader's) aborts it.
  in_transaction_ = false;
  return Outcome::kFenced;
}

TxnLogWriter::Outcome TxnLogWriter::Fail(RdKafka::Error* error, const char* step) {
  std::unique_ptr<RdKafka::Error> owned(error);
  last_error_ = kafka::KafkaStatus(owned->code(), std::string(step) + ": " + owned->str());
  if (owned->is_fatal()) {
    spdlog::warn("sequencer: {} (fatal: stepping down)", last_error_.ToString());
    in_transaction_ = false;
    return Outcome::kFenced;
  }
  spdlog::info("sequencer: {} (aborting the transaction)", last_error_.ToString());
  return Abort(Outcome::kRetry);
}

TxnLogWriter::Outcome TxnLogWriter::Commit(const std::vector<Record>& records,
                                           const Offsets* offsets,
                                           const std::function<bool()>& keep_going,
                                           int64_t* last_offset) {
  *last_offset = -1;
  if (RdKafka::Error* e = producer_->begin_transaction()) return Fail(e, "begin_transaction");
  in_transaction_ = true;
  acks_->Reset();
  for (const auto& r : records) {
    for (;;) {
      const RdKafka::ErrorCode rc = producer_->produce(
          options_.topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(r.value.data()),
          r.value.size(), r.key.data(), r.key.size(), 0, nullptr);
      if (rc == RdKafka::ERR_NO_ERROR) break;
      if (rc == RdKafka::ERR__QUEUE_FULL) {
        producer_->poll(10);
        continue;
      }
      last_error_ = kafka::KafkaStatus(rc, "produce to the log");
      std::string reason;
      if (rc == RdKafka::ERR__FATAL || rc == RdKafka::ERR__FENCED ||
          producer_->fatal_error(reason) != RdKafka::ERR_NO_ERROR) {
        in_transaction_ = false;
        return Outcome::kFenced;
      }
      return Abort(Outcome::kRetry);
    }
    ++acks_->produced;
  }
  const auto until =
      SteadyClock::now() + std::chrono::milliseconds(options_.transaction_timeout_ms);
  if (offsets != nullptr) {
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(offsets->topic, 0, offsets->next_offset));
    std::vector<RdKafka::TopicPartition*> parts{tp.get()};
    for (;;) {
      RdKafka::Error* e = producer_->send_offsets_to_transaction(
          parts, offsets->group, kafka::MillisUntil(until, options_.transaction_timeout_ms));
      if (e == nullptr) break;
      if (e->is_retriable() && !e->is_fatal() && !e->txn_requires_abort() &&
          SteadyClock::now() < until) {
        delete e;
        continue;
      }
      return Fail(e, "send_offsets_to_transaction");
    }
  }
  if (!keep_going()) return Abort(Outcome::kStopped);
  for (;;) {
    RdKafka::Error* e = producer_->commit_transaction(options_.transaction_timeout_ms);
    if (e == nullptr) break;
    if (e->is_retriable() && !e->is_fatal() && !e->txn_requires_abort() && keep_going()) {
      delete e;
      continue;
    }
    return Fail(e, "commit_transaction");
  }
  in_transaction_ = false;
  // commit_transaction flushed every record; serve their reports.
  const auto reports_until = SteadyClock::now() + std::chrono::seconds(2);
  while (acks_->acked < acks_->produced && SteadyClock::now() < reports_until)
    producer_->poll(5);
  *last_offset = acks_->max_offset;
  return Outcome::kCommitted;
}

}  // namespace kdfs
