// InflightWindow: bounds the records of one upload that Kafka has not yet
// acknowledged, and remembers the first delivery error.
//
// Thread-safe: the uploading thread calls Acquire/Cancel/WaitAll while the
// producer's delivery thread calls Release.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "common/status.h"

namespace kdfs {

class InflightWindow {
 public:
  // REQUIRES: limit >= 1
  explicit InflightWindow(size_t limit);

  // Waits until fewer than `limit` records are in flight, then counts one
  // more. Returns the first delivery error instead if one was seen, and
  // kTimeout at `deadline` (nothing counted in either case).
  Status Acquire(std::chrono::steady_clock::time_point deadline);
  // Undoes an Acquire whose record was never handed to Kafka.
  void Cancel();
  // A delivery report: one record fewer in flight; a failure is kept if it is
  // the first.
  void Release(const Status& delivery);
  // Waits until nothing is in flight or a delivery failed; returns the first
  // failure, kTimeout at `deadline`, else ok.
  Status WaitAll(std::chrono::steady_clock::time_point deadline);

  Status first_error() const;
  size_t in_flight() const;

 private:
  const size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;  // guarded by mu_
  Status first_error_;    // guarded by mu_
};

}  // namespace kdfs
