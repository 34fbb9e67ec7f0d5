// RecoveryManager: decides when this node must be rebuilt from a peer and
// does it (Bootstrap), runs the Scrubber, and checks for divergence.
//
// Triggers for a bootstrap:
//   * at start, the metadata store was empty (applied offset -1) and a peer
//     is at least `bootstrap_min_records` ahead (a new instance or a wiped
//     node; a smaller gap is simply replayed from the log);
//   * the log follower reports that its next offset was deleted by
//     retention (`log_gap`);
//   * the divergence check finds that a majority of the compared nodes have
//     another digest at the same offset.
// A failed bootstrap is retried every few seconds; while one is pending or
// running the node is not ready.
//
// Threading: one thread of its own (plus the scrubber's) between Start and
// Stop; accessors are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "recovery/bootstrap.h"
#include "recovery/gated_kv.h"
#include "recovery/progress.h"
#include "recovery/scrubber.h"
#include "replication/chunk_arrivals.h"
#include "replication/peer_client.h"

namespace kdfs {

struct RecoveryOptions {
  std::string node_id;
  std::map<std::string, std::string> peers;  // id -> base URL
  std::string data_dir;
  uint32_t max_chunk_bytes = 1 << 20;
  int64_t bootstrap_min_records = 100;
  size_t fetch_parallel = 8;
  uint64_t scrub_bytes_per_sec = 16 << 20;
  std::chrono::milliseconds divergence_check{5000};  // 0 disables the check
  std::chrono::milliseconds startup_wait{10000};     // for peers to answer at start
};

class RecoveryManager {
 public:
  // `initial_applied`: the state machine's applied offset when the node
  // started, before the log follower ran. `log_gap`: LogFollower::log_gap.
  // REQUIRES: every pointer outlives this object.
  RecoveryManager(RecoveryOptions options, GatedKv* kv, StateMachine* state, ChunkStore* chunks,
                  Bootstrap::WipeFn wipe, std::function<bool()> log_gap, int64_t initial_applied);
  ~RecoveryManager();  // Stop()

  void Start();
  void Stop();  // Idempotent.

  // Not ok while a bootstrap is pending or running (the reason says why).
  Status Readiness() const;
  nlohmann::json ProgressJson() const { return progress_.ToJson(); }
  // Registers the recovery and scrubber metrics and their collector.
  void RegisterMetrics(Metrics* metrics);

 private:
  void Run();
  void DecideAtStart();
  void CheckDivergence();
  // Runs a bootstrap for `reason` until it succeeds or the manager stops.
  // `avoid`: peers not to take the snapshot from (they differ from us... or
  // are the minority).
  void BootstrapUntilDone(const std::string& reason, const std::vector<std::string>& avoid);
  bool SleepUnlessStopped(std::chrono::milliseconds d);  // false once stopped

  const RecoveryOptions options_;
  GatedKv* const kv_;
  StateMachine* const state_;
  ChunkStore* const chunks_;
  const std::function<bool()> log_gap_;
  const int64_t initial_applied_;

  RecoveryProgress progress_;
  std::atomic<bool> stop_{false};
  ChunkArrivals arrivals_;
  PeerChunkClient peer_chunks_;
  Bootstrap bootstrap_;
  Scrubber scrubber_;
  std::atomic<uint64_t> divergence_checks_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace kdfs
