#include "cli/progress.h"

#include <cstdio>

namespace kdfs {

Progress::Progress(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && total > 0) {}

void Progress::Add(uint64_t bytes) {
  done_ += bytes;
  Draw(false);
}

void Progress::Reset() {
  done_ = 0;
  start_ = std::chrono::steady_clock::now();
}

void Progress::Done() {
  if (!enabled_ || !drawn_) return;
  Draw(true);
  std::fputc('\n', stderr);
}

void Progress::Draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done_ / secs : 0;
  double frac = total_ ? static_cast<double>(done_) / total_ : 1;
  int width = 30, filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  double eta = rate > 0 ? (total_ - done_) / rate : 0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %8.1f MiB/s ETA %4.0fs", label_.c_str(), bar.c_str(),
               frac * 100, rate / (1 << 20), eta);
  std::fflush(stderr);
}

}  // namespace kdfs
