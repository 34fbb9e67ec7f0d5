// Sequencer: the leader's work, on one long-lived thread that is idle unless
// this node is the election's candidate.
//
// A term, once elected:
//  1. A new TxnLogWriter calls init_transactions() with the shared
//     transactional.id: every earlier leader is fenced, its open transaction
//     aborted. (A writer this node kept from its own previous term is reused
//     without init; if anyone initialised since, it is fenced, its first
//     transaction fails, and a fresh writer is initialised at once.)
//  2. It reads the log's last stable offset and waits until the local
//     follower has applied everything below it: the state is then complete,
//     so the epoch and the duplicate checks below are exact.
//  3. It appends leader{node, epoch = previous epoch + 1} in a transaction.
//  4. It sequences: consumes <prefix>.proposals (read_committed, partition 0
//     assigned at the sequencer group's committed offset), batches up to
//     max_batch proposals or `linger`, and appends in ONE transaction per
//     batch an op record or a rejection for each, together with the
//     proposals' next offset (send_offsets_to_transaction): a proposal is
//     consumed exactly when its record commits.
//     A proposal whose op_id already has an outcome, or is pending in this
//     term, or repeats within the batch, is consumed but not appended.
//     Validation is an early filter (see PendingOps for when its verdict is
//     trusted); the state machine re-validates at apply time.
// The term ends at once when the election revokes the partition (Depose) or
// the writer is fenced or fails fatally; after a fence it waits
// `fence_backoff` before trying again if still the candidate, so that two
// nodes that both believe they hold partition 0 do not fence each other in
// a tight loop while the group settles.
//
// Threading: Elect/Depose/accessors from any thread, never blocking.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "replication/kafka_util.h"
#include "replication/log_follower.h"
#include "replication/pending_ops.h"
#include "replication/txn_log_writer.h"
#include "store/state_machine.h"

namespace kdfs {

// Reads the log's last stable offset now (a read_committed watermark query
// on a long-lived client, so that a new term does not wait for a new
// client's first metadata).
using LogEndQuery = std::function<Result<int64_t>(std::chrono::steady_clock::time_point deadline)>;

struct SequencerOptions {
  std::string brokers;
  std::string node_id;
  kafka::Names names;
  int transaction_timeout_ms = 5000;
  size_t max_batch = 256;
  uint32_t max_record_bytes = 4 << 20;
  std::chrono::milliseconds linger{2};
  std::chrono::milliseconds fence_backoff{1500};
};

struct SequencerStats {
  uint64_t terms = 0;       // terms that reached sequencing
  uint64_t batches = 0;     // committed transactions of proposals
  uint64_t appended = 0;    // op and rejection records appended
  uint64_t duplicates = 0;  // proposals consumed without a record
  uint64_t aborted = 0;     // transactions aborted and retried
  uint64_t fenced = 0;      // terms ended by a fence or fatal error
};

class Sequencer {
 public:
  // REQUIRES: every pointer outlives this object.
  Sequencer(SequencerOptions options, StateMachine* state, LogFollower* follower,
            RdKafka::EventCb* events, LogEndQuery log_end);
  ~Sequencer();  // Stop()

  void Start();
  // Ends any term and joins the thread.
  void Stop();
  // From now on an ending term leaves its open transaction open, as a crash
  // would (for failover tests). Call before Stop.
  void Abandon() { abandon_.store(true); }

  void Elect();   // this node now holds the election partition
  void Depose();  // it no longer does

  // True from the commit of this term's leader record until the term ends.
  bool leading() const { return leading_.load(); }
  int64_t epoch() const { return epoch_.load(); }
  SequencerStats stats() const;

 private:
  class Term;
  void Run();
  bool InTerm(uint64_t term) const;
  // Sleeps up to `d`, waking early when the term ends.
  void WaitWhileInTerm(uint64_t term, std::chrono::milliseconds d);

  const SequencerOptions options_;
  StateMachine* const state_;
  LogFollower* const follower_;
  RdKafka::EventCb* const events_;
  const LogEndQuery log_end_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool candidate_ = false;  // guarded by mu_
  uint64_t term_ = 0;       // guarded by mu_; bumped by every Elect/Depose
  SequencerStats stats_;    // guarded by mu_

  // The transactional writer, kept across terms unless it failed. Only the
  // sequencer thread touches it.
  std::unique_ptr<TxnLogWriter> writer_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> abandon_{false};
  std::atomic<int64_t> epoch_{0};
  std::thread thread_;
};

}  // namespace kdfs
