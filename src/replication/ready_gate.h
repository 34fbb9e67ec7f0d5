// ReadyGate: a one-way latch ("the topics exist") that worker threads wait
// on, in short steps so that they can also notice a stop request.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kdfs {

class ReadyGate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool is_open() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }
  // True once open; false if still closed at `until`.
  bool WaitOpen(std::chrono::steady_clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, until, [&] { return open_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;  // guarded by mu_
};

}  // namespace kdfs
