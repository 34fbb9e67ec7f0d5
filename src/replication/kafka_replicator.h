// KafkaReplicator: the Replicator of DESIGN §2, wiring the parts of this
// module together. Replicator::Create returns one.
//
// Parts and their threads:
//   ClusterMonitor  creates the topics, probes Kafka (reachability, log end,
//                   sequencer progress)                          1 thread
//   Election        the election group's member                  1 thread
//   Sequencer       leader work while elected                    1 thread
//   LogFollower     applies the log (only StateMachine::Apply caller)
//                                                                1 thread
//   ChunkConsumer   stores every chunk from <p>.chunks           1 thread
//   AsyncProducer   chunks / proposals, one delivery thread each 2 threads
//
// Propose fails fast with kUnavailable, without producing, when:
//   * Kafka is unreachable: the last probe failed (a probe runs every 250 ms
//     with a 1 s timeout, and at once when a client reports all brokers
//     down), or
//   * no leader has ever been elected (the log holds no leader record), or
//   * the leader has not been seen alive: proposals have been waiting while
//     the sequencer group's committed offset did not move for
//     leader_stall = max(3 s, 2 x session timeout + 1 s). A failover
//     (session timeout, rebalance, fencing) fits in that window, so writes
//     made during a failover wait for the new leader instead of failing.
// The same conditions, checked every 100 ms, end a Propose that is already
// waiting (kUnavailable; like kTimeout, the outcome is then unknown and a
// retry with the same op_id is safe).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "replication/async_producer.h"
#include "replication/chunk_arrivals.h"
#include "replication/chunk_consumer.h"
#include "replication/cluster_monitor.h"
#include "replication/election.h"
#include "replication/kafka_health.h"
#include "replication/kafka_util.h"
#include "replication/log_follower.h"
#include "replication/outcome_waiters.h"
#include "replication/peer_client.h"
#include "replication/ready_gate.h"
#include "replication/replicator.h"
#include "replication/sequencer.h"

namespace kdfs {

class KafkaReplicator final : public Replicator {
 public:
  // REQUIRES: state->Open() succeeded; every pointer outlives this object.
  KafkaReplicator(const ReplicatorOptions& options, StateMachine* state, ChunkStore* chunks,
                  HlcClock* hlc, Clock* clock);
  ~KafkaReplicator() override;  // Stop()

  Status Start() override;
  void Stop() override;
  std::unique_ptr<ChunkUpload> NewChunkUpload(size_t window) override;
  Result<ApplyOutcome> Propose(const Operation& op,
                               std::chrono::steady_clock::time_point deadline) override;
  Status WaitApplied(int64_t version, std::chrono::steady_clock::time_point deadline) override;
  Result<int64_t> QueryLogEnd(std::chrono::steady_clock::time_point deadline) override;
  Status FetchChunk(const ChunkId& id, std::chrono::steady_clock::time_point deadline) override;
  ClusterView View() override;

  // Stops like a crashed process would: leaves no group, commits and flushes
  // nothing, so the broker notices only after the session timeout. For
  // failover tests.
  void Abandon();

  SequencerStats sequencer_stats() const { return sequencer_->stats(); }
  // Below this the other nodes would wait; exposed for tests and docs.
  std::chrono::milliseconds leader_stall() const { return leader_stall_; }

 private:
  // ok if a proposal may be made now; else why not (kUnavailable).
  Status ProposeGate();
  void Shutdown(bool leave);

  const ReplicatorOptions options_;
  const kafka::Names names_;
  StateMachine* const state_;
  ChunkStore* const chunks_;
  HlcClock* const hlc_;
  Clock* const clock_;
  const std::chrono::milliseconds leader_stall_;

  KafkaHealth health_;
  ReadyGate topics_ready_;
  ChunkArrivals arrivals_;
  OutcomeWaiters waiters_;
  PeerChunkClient peers_;
  std::unique_ptr<ClusterMonitor> monitor_;
  std::unique_ptr<AsyncProducer> chunk_producer_;
  std::unique_ptr<AsyncProducer> proposal_producer_;
  std::unique_ptr<ChunkConsumer> chunk_consumer_;
  std::unique_ptr<LogFollower> follower_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<Election> election_;

  std::mutex lifecycle_mu_;
  std::atomic<bool> running_{false};
  bool stopped_ = false;  // guarded by lifecycle_mu_
};

}  // namespace kdfs
