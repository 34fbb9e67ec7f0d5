// Clock: the node's only source of time, behind an interface so that unit
// tests drive time by hand (FakeClock) instead of sleeping.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace kdfs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (may jump; used for HLC).
  virtual int64_t WallMillis() = 0;
  // Monotonic time for deadlines and durations.
  virtual std::chrono::steady_clock::time_point Now() = 0;

  // The process-wide real clock. Never null; never destroyed.
  static Clock* Real();
};

// A clock that moves only when told to. Starts at wall time `start_ms`.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : wall_ms_(start_ms) {}
  int64_t WallMillis() override { return wall_ms_.load(); }
  std::chrono::steady_clock::time_point Now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(mono_ms_.load()));
  }
  void AdvanceMillis(int64_t ms) {
    wall_ms_ += ms;
    mono_ms_ += ms;
  }
  // Moves only the wall clock (skew, NTP step); monotonic time is unaffected.
  void SetWallMillis(int64_t ms) { wall_ms_ = ms; }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> mono_ms_{0};
};

}  // namespace kdfs
