// TxnLogWriter: the leader's transactional producer on <prefix>.log, with the
// one fixed transactional.id shared by every node (<prefix>.leader).
//
// init_transactions() with that id fences every earlier producer that used
// it: the previous leader's open transaction is aborted, and its next
// produce, offset commit or transaction commit fails with a fatal "fenced"
// error. So whatever the election believes, at most one writer appends to the
// log, and only whole committed transactions are ever visible to followers
// (they read with isolation.level=read_committed). Records are only ever
// produced inside a transaction.
//
// Not thread-safe: owned by the sequencer thread. Delivery reports are
// served on that thread too.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "replication/kafka_util.h"

namespace kdfs {

struct TxnLogWriterOptions {
  std::string brokers;
  std::string node_id;
  std::string topic;             // <prefix>.log
  std::string transactional_id;  // <prefix>.leader
  int transaction_timeout_ms = 5000;
  uint32_t max_record_bytes = 4 << 20;
};

class TxnLogWriter {
 public:
  enum class Outcome {
    kCommitted,  // the transaction is in the log
    kRetry,      // it was aborted (abortable error); the same batch may be retried
    kFenced,     // fenced or another fatal error: this writer is finished
    kStopped,    // keep_going() turned false; the transaction was aborted
  };
  struct Record {
    std::string key;
    std::string value;
  };
  // The consumed-offset commit that rides in the transaction.
  struct Offsets {
    std::string topic;
    int64_t next_offset = 0;  // partition 0
    RdKafka::ConsumerGroupMetadata* group = nullptr;
  };

  static Result<std::unique_ptr<TxnLogWriter>> Create(const TxnLogWriterOptions& options,
                                                      RdKafka::EventCb* events);
  ~TxnLogWriter();

  // init_transactions(), retried on retriable errors (including a previous
  // leader's transaction still being aborted) while keep_going(). Returns
  // kCommitted when initialised (and every earlier writer is fenced).
  Outcome Init(const std::function<bool()>& keep_going);

  // One transaction: the records (to partition 0, in order) and, if given,
  // the consumer offsets. On kCommitted, *last_offset is the offset of the
  // last record (-1 if there were none).
  Outcome Commit(const std::vector<Record>& records, const Offsets* offsets,
                 const std::function<bool()>& keep_going, int64_t* last_offset);

  // The reason for the last outcome other than kCommitted.
  const Status& last_error() const { return last_error_; }

  // While *flag is true, an open transaction is left as it is (neither
  // aborted nor committed) when the writer gives up or is destroyed, as
  // when the process crashes. For failover tests. REQUIRES: flag outlives
  // this writer.
  void SetAbandonFlag(const std::atomic<bool>* flag) { abandon_ = flag; }

 private:
  class Acks;
  TxnLogWriter() = default;
  Outcome Abort(Outcome then);
  void WarmUp();
  Outcome Fail(RdKafka::Error* error, const char* step);

  TxnLogWriterOptions options_;
  std::unique_ptr<Acks> acks_;
  std::unique_ptr<RdKafka::Producer> producer_;
  bool in_transaction_ = false;
  const std::atomic<bool>* abandon_ = nullptr;
  Status last_error_;
};

}  // namespace kdfs
