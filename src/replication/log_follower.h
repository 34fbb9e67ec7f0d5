// LogFollower: applies <prefix>.log to the local StateMachine, strictly in
// order; the only caller of StateMachine::Apply.
//
// It reads with isolation.level=read_committed from applied_offset()+1, so it
// sees only records of committed transactions (aborted ones and transaction
// markers are skipped by the client). Before applying a put that will
// succeed it makes sure every chunk is on local disk: it waits while the
// chunk consumer is making progress, and asks peers for what is still
// missing once it stalls. A store error (Redis down) is retried on the same
// record with backoff, never skipped; so is a record it cannot decode.
//
// Positions: processed_end() is the offset below which every record has been
// applied (or was a marker or aborted). It advances past markers when the
// consumer reports the partition's end, so that a node that applied
// everything reaches the end offset Kafka reports, which is what
// strong reads and a new leader's catch-up wait for.
//
// Threading: one thread of its own between Start and Stop; the accessors are
// thread-safe. `on_applied` runs on the follower thread after each record.
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

#include "common/hlc.h"
#include "replication/chunk_arrivals.h"
#include "replication/peer_client.h"
#include "replication/ready_gate.h"
#include "store/chunk_store.h"
#include "store/state_machine.h"

namespace kdfs {

struct LogFollowerOptions {
  std::string brokers;
  std::string node_id;
  std::string topic;  // <prefix>.log
  std::string group;  // never committed to; librdkafka wants one
  uint32_t max_record_bytes = 4 << 20;
  // How long the chunk consumer may go without storing anything before the
  // missing chunks of a put are asked from peers.
  std::chrono::milliseconds chunk_stall{300};
};

class LogFollower {
 public:
  using AppliedFn =
      std::function<void(int64_t offset, const LogRecord& record, const ApplyOutcome& outcome)>;

  // REQUIRES: every pointer outlives this object; `peers` may be null.
  LogFollower(LogFollowerOptions options, StateMachine* state, ChunkStore* chunks,
              ChunkArrivals* arrivals, PeerChunkClient* peers, HlcClock* hlc,
              RdKafka::EventCb* events, ReadyGate* topics_ready, AppliedFn on_applied);
  ~LogFollower();  // Stop()

  void Start();
  void Stop();  // Idempotent.

  int64_t processed_end() const;
  // Waits until processed_end() >= end. kTimeout at the deadline,
  // kUnavailable once stopped.
  Status WaitProcessed(int64_t end, std::chrono::steady_clock::time_point deadline);
  // True while the store has kept failing to apply the current record for
  // at least `at_least`.
  bool apply_failing_for(std::chrono::milliseconds at_least) const;
  // True while the next offset to apply is no longer in the log (retention
  // deleted it): only a snapshot can bring this node forward. After a
  // snapshot was loaded (StateMachine::RequestReload) the follower reloads
  // and re-positions itself at applied_offset()+1, either way.
  bool log_gap() const { return gap_.load(); }

 private:
  void Run();
  std::unique_ptr<RdKafka::KafkaConsumer> Connect();
  // Applies one record; returns false if stopped first.
  bool Process(const RdKafka::Message& msg);
  bool EnsureChunks(const Operation& op);
  // Logs a store failure, marks the follower failing and backs off.
  void NoteApplyFailure(int64_t offset, const Status& s, std::chrono::milliseconds* backoff);
  void AdvanceTo(int64_t end);
  // Reloads a state replaced by recovery, or follows a store that rolled
  // back; reconnects at applied_offset()+1 if that is not `*next`.
  void Reposition(std::unique_ptr<RdKafka::KafkaConsumer>* consumer, int64_t* next);
  void SleepUnlessStopped(std::chrono::milliseconds d);

  const LogFollowerOptions options_;
  StateMachine* const state_;
  ChunkStore* const chunks_;
  ChunkArrivals* const arrivals_;
  PeerChunkClient* const peers_;
  HlcClock* const hlc_;
  RdKafka::EventCb* const events_;
  ReadyGate* const topics_ready_;
  const AppliedFn on_applied_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> apply_failing_{false};
  std::atomic<bool> gap_{false};
  bool reposition_ = false;                   // follower thread only
  int64_t last_applied_ = -1;                 // follower thread only: the last offset it applied
  std::atomic<int64_t> failing_since_ms_{0};  // steady clock, valid while apply_failing_
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t processed_end_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kdfs
