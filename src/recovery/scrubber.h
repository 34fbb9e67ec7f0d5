// Scrubber: a background pass over every stored chunk at a bounded rate.
// Each chunk is read and verified (ChunkStore::Read quarantines a chunk whose
// bytes do not hash to its id); a corrupt chunk that the namespace still
// references is fetched again from a peer. Each pass also fetches referenced
// chunks that are missing altogether (e.g. a data dir wiped under intact
// metadata).
//
// Threading: one thread of its own between Start and Stop; counters are
// atomics, read from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "common/chunk_id.h"
#include "common/result.h"
#include "store/chunk_store.h"
#include "store/meta_kv.h"
#include "store/state_machine.h"

namespace kdfs {

struct ScrubberOptions {
  uint64_t bytes_per_sec = 16 << 20;           // 0 disables the scrubber
  std::chrono::milliseconds pass_pause{1000};  // at least this between passes
};

struct ScrubberCounters {
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> scanned{0};  // chunks read and verified
  std::atomic<uint64_t> scanned_bytes{0};
  std::atomic<uint64_t> corrupt{0};   // failed verification (quarantined)
  std::atomic<uint64_t> missing{0};   // referenced but absent
  std::atomic<uint64_t> repaired{0};  // fetched again from a peer
  std::atomic<uint64_t> failed{0};    // could not be repaired
};

class Scrubber {
 public:
  // Fetches one chunk from peers (verified and stored), e.g.
  // PeerChunkClient::Fetch.
  using FetchFn = std::function<Status(const ChunkId&)>;

  // REQUIRES: every pointer outlives this object.
  Scrubber(ScrubberOptions options, ChunkStore* chunks, StateMachine* state, MetaKv* kv,
           FetchFn fetch);
  ~Scrubber();  // Stop()

  void Start();
  void Stop();  // Idempotent.
  // One whole pass now, on the caller's thread (for tests).
  void RunPass();

  const ScrubberCounters& counters() const { return counters_; }

 private:
  void Run();
  // Verifies one chunk, repairing it if corrupt; false if it was corrupt.
  bool Check(const ChunkId& id);
  void Repair(const ChunkId& id, std::atomic<uint64_t>* cause);
  void Throttle(uint64_t bytes);
  void SleepUnlessStopped(std::chrono::milliseconds d);

  const ScrubberOptions options_;
  ChunkStore* const chunks_;
  StateMachine* const state_;
  MetaKv* const kv_;
  const FetchFn fetch_;
  ScrubberCounters counters_;
  std::chrono::steady_clock::time_point window_start_;
  uint64_t window_bytes_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kdfs
