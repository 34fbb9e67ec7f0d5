#include "replication/inflight_window.h"

#include <cassert>

namespace kdfs {

InflightWindow::InflightWindow(size_t limit) : limit_(limit) {
  assert(limit >= 1);
}

Status InflightWindow::Acquire(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool ready =
      cv_.wait_until(lock, deadline, [&] { return !first_error_.ok() || in_flight_ < limit_; });
  if (!first_error_.ok()) return first_error_;
  if (!ready) return Status::Timeout("chunk upload: window still full at the deadline");
  ++in_flight_;
  return Status::Ok();
}

void InflightWindow::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  assert(in_flight_ > 0);
  --in_flight_;
  cv_.notify_all();
}

void InflightWindow::Release(const Status& delivery) {
  std::lock_guard<std::mutex> lock(mu_);
  assert(in_flight_ > 0);
  --in_flight_;
  if (!delivery.ok() && first_error_.ok()) first_error_ = delivery;
  cv_.notify_all();
}

Status InflightWindow::WaitAll(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool done =
      cv_.wait_until(lock, deadline, [&] { return !first_error_.ok() || in_flight_ == 0; });
  if (!first_error_.ok()) return first_error_;
  if (!done) return Status::Timeout("chunk upload: records still unacknowledged at the deadline");
  return Status::Ok();
}

Status InflightWindow::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

size_t InflightWindow::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace kdfs
