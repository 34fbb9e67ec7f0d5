// Replicator: everything a node does with Kafka, behind one facade that the
// HTTP handlers call. Owns the election, the sequencer (while leader), the log
// follower that applies records to the StateMachine, the chunk producer and
// the chunk consumer that keeps the local ChunkStore complete.
//
// Threading: every public method is thread-safe. Internally: one election
// thread, one sequencer thread while leading, one log-follower thread (the
// only caller of StateMachine::Apply), one chunk-consumer thread, and
// librdkafka's own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/chunk_id.h"
#include "common/clock.h"
#include "common/hlc.h"
#include "common/result.h"
#include "store/chunk_store.h"
#include "store/operation.h"
#include "store/state_machine.h"

namespace kdfs {

struct ReplicatorOptions {
  std::string node_id;
  std::string brokers;       // Kafka bootstrap servers
  std::string topic_prefix;  // topics are <prefix>.chunks/.proposals/.log/.election
  int topic_replication = 1;
  int chunk_partitions = 8;
  int64_t chunk_retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t log_retention_ms = -1;
  int election_session_timeout_ms = 1500;
  int transaction_timeout_ms = 5000;
  uint32_t max_record_bytes = 4 << 20;       // chunk size + headroom
  std::map<std::string, std::string> peers;  // id -> base URL, for chunk fetches
  size_t max_batch = 256;                    // proposals per transaction
};

struct ClusterView {
  std::optional<LeaderRecord> leader;  // from the log
  bool is_leader = false;              // this node sequences now
  bool kafka_connected = false;
  int64_t applied_offset = -1;
  // Last known end of the committed log as of the periodic probe, such that
  // log_end_offset - applied_offset is the lag (0 when caught up, even if
  // the log ends with a transaction marker); -1 if unknown.
  int64_t log_end_offset = -1;
  // The next record to apply is no longer in the log (retention): this node
  // needs a snapshot (LogFollower::log_gap).
  bool log_gap = false;
};

// A stream of chunks of one upload being published to <prefix>.chunks.
// Memory is bounded: Add() blocks while `window` chunks are unacknowledged.
// Not thread-safe: one upload, one thread.
class ChunkUpload {
 public:
  virtual ~ChunkUpload() = default;
  // Publishes a chunk already stored locally. Blocks while the window is
  // full. Returns the first delivery error seen so far, if any.
  virtual Status Add(const ChunkId& id, std::string_view bytes) = 0;
  // Waits until every chunk added is acknowledged by Kafka (acks=all).
  virtual Status Finish(std::chrono::steady_clock::time_point deadline) = 0;
};

class Replicator {
 public:
  static Result<std::unique_ptr<Replicator>> Create(const ReplicatorOptions& options,
                                                    StateMachine* state, ChunkStore* chunks,
                                                    HlcClock* hlc, Clock* clock);
  virtual ~Replicator() = default;

  // Creates topics if absent, starts every thread. Returns once the threads
  // are running; Kafka may still be unreachable (the node keeps retrying).
  virtual Status Start() = 0;
  // Leaves the election group, stops threads, flushes producers. Idempotent.
  virtual void Stop() = 0;

  virtual std::unique_ptr<ChunkUpload> NewChunkUpload(size_t window) = 0;

  // Produces `op` to <prefix>.proposals and waits until this node has
  // applied the log record carrying op.op_id; returns that record's outcome.
  // An op_id that already has an outcome returns it without a new record.
  // kUnavailable fast when there is no leader or Kafka is unreachable (the
  // exact rule: kafka_replicator.h); kTimeout at the deadline (outcome
  // unknown: a retry with the same op_id is safe). REQUIRES: op.op_id set.
  virtual Result<ApplyOutcome> Propose(const Operation& op,
                                       std::chrono::steady_clock::time_point deadline) = 0;

  // Waits until every log record at or below `version` is applied (for a
  // record's own offset: applied_offset >= version). kTimeout at the
  // deadline.
  virtual Status WaitApplied(int64_t version, std::chrono::steady_clock::time_point deadline) = 0;
  // Reads the log's end from Kafka now (for linearizable reads): the last
  // stable offset minus one, i.e. the last offset of the committed log,
  // which may be a transaction marker rather than a record; -1 if the log is
  // empty. WaitApplied(QueryLogEnd()) then waits until this node has applied
  // everything committed when the query ran.
  virtual Result<int64_t> QueryLogEnd(std::chrono::steady_clock::time_point deadline) = 0;

  // Fetches a chunk this node lacks from a peer (GET /internal/chunks/<hex>),
  // verifies and stores it; ok at once if it is already stored. Used by
  // reads (repair). (<prefix>.chunks is read continuously by the chunk
  // consumer; a random read of one chunk from it would mean a scan.)
  // kNotFound if no peer holds it, kUnavailable if none answered.
  virtual Status FetchChunk(const ChunkId& id, std::chrono::steady_clock::time_point deadline) = 0;

  virtual ClusterView View() = 0;
};

}  // namespace kdfs
