// ChunkArrivals: lets the log follower sleep until the chunk consumer has
// stored another chunk, instead of polling the disk.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace kdfs {

class ChunkArrivals {
 public:
  // A chunk was stored (by the consumer or a peer fetch).
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    cv_.notify_all();
  }
  uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }
  // Waits until a Notify after `seen` (a value of generation()) or `until`.
  void WaitAfter(uint64_t seen, std::chrono::steady_clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, until, [&] { return generation_ != seen; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // guarded by mu_
};

}  // namespace kdfs
