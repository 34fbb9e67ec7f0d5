// RecoveryProgress: what recovery is doing now, for /v1/cluster,
// /internal/status, /metrics, /readyz and the log.
//
// Thread-safe: writers and readers take one mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace kdfs {

enum class RecoveryPhase {
  kStarting,  // deciding whether this node needs a snapshot
  kIdle,      // nothing to do
  kSnapshot,  // downloading a snapshot from a peer
  kLoading,   // replacing the local metadata with it
  kChunks,    // fetching the chunks it references from peers
  kWaiting,   // failed; retrying after a pause
};

const char* PhaseName(RecoveryPhase phase);

struct RecoveryState {
  RecoveryPhase phase = RecoveryPhase::kStarting;
  std::string reason;  // why the current/last bootstrap runs/ran
  std::string peer;    // the snapshot's source
  std::string error;   // the last failure
  int64_t snapshot_offset = -1;
  uint64_t snapshot_bytes_done = 0;
  uint64_t snapshot_bytes_total = 0;
  uint64_t chunks_done = 0;
  uint64_t chunks_total = 0;
  uint64_t chunks_failed = 0;
  uint64_t chunk_bytes_done = 0;
  uint64_t bootstraps = 0;   // completed
  uint64_t divergences = 0;  // times this node found itself divergent
  int64_t started_ms = 0;    // wall clock of the current/last bootstrap
  int64_t finished_ms = 0;
};

class RecoveryProgress {
 public:
  RecoveryState Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }
  void Update(const std::function<void(RecoveryState&)>& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    fn(state_);
  }
  // True while the node must not take traffic because of recovery.
  bool busy() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_.phase != RecoveryPhase::kIdle;
  }
  nlohmann::json ToJson() const;

 private:
  mutable std::mutex mu_;
  RecoveryState state_;
};

}  // namespace kdfs
