#include "cli/progress.h"

#include <cstdio>

namespace kdfs {

Progress::Progress(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && total > 0) {}

void Progress::Add(uint64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  done_ += bytes;
  DrawLocked(false);
}

void Progress::Sub(uint64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  done_ -= std::min(done_, bytes);
}

void Progress::Done() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!drawn_) return;
  DrawLocked(true);
  std::fputc('\n', stderr);
}

void Progress::DrawLocked(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done_ / secs : 0;
  double frac = std::min(1.0, static_cast<double>(done_) / total_);
  int width = 30, filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  double eta = rate > 0 && done_ < total_ ? (total_ - done_) / rate : 0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %8.1f MiB/s ETA %4.0fs", label_.c_str(), bar.c_str(),
               frac * 100, rate / (1 << 20), eta);
  std::fflush(stderr);
}

}  // namespace kdfs
