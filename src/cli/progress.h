// Progress: a one-line progress bar with rate and ETA on stderr, drawn only
// when enabled (stderr is a terminal and the total is known), at most five
// times a second.
//
// Thread-safe: parallel transfers add to one bar.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace kdfs {

class Progress {
 public:
  Progress(std::string label, uint64_t total, bool enabled);
  void Add(uint64_t bytes);
  // Takes back bytes of a transfer that restarts.
  void Sub(uint64_t bytes);
  // Draws the final state and ends the line.
  void Done();

 private:
  void DrawLocked(bool force);

  const std::string label_;
  const uint64_t total_;
  const bool enabled_;
  std::mutex mu_;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace kdfs
