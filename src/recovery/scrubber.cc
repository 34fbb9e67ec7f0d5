#include "recovery/scrubber.h"

#include <spdlog/spdlog.h>

#include <set>
#include <vector>

#include "store/meta_schema.h"

namespace kdfs {

Scrubber::Scrubber(ScrubberOptions options, ChunkStore* chunks, StateMachine* state, MetaKv* kv,
                   FetchFn fetch)
    : options_(options), chunks_(chunks), state_(state), kv_(kv), fetch_(std::move(fetch)) {}

Scrubber::~Scrubber() {
  Stop();
}

void Scrubber::Start() {
  if (options_.bytes_per_sec == 0) return;
  thread_ = std::thread([this] { Run(); });
}

void Scrubber::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Scrubber::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_; });
}

void Scrubber::Run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    RunPass();
    SleepUnlessStopped(options_.pass_pause);
  }
}

void Scrubber::RunPass() {
  std::vector<ChunkId> ids;
  (void)chunks_->ForEach([&](const ChunkId& id) {
    ids.push_back(id);
    return true;
  });
  window_start_ = std::chrono::steady_clock::now();
  window_bytes_ = 0;
  std::set<ChunkId> tried;  // corrupt ones: not counted again as missing
  for (const auto& id : ids) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (!Check(id)) tried.insert(id);
  }
  // Referenced chunks that are not on disk at all.
  auto refs = kv_->HGetAll(schema::kRefsKey);
  if (refs.ok()) {
    for (const auto& [hex, count] : *refs) {
      auto id = ChunkId::FromHex(hex);
      if (id.ok() && !tried.count(*id) && !chunks_->Has(*id)) Repair(*id, &counters_.missing);
    }
  }
  counters_.passes.fetch_add(1);
}

bool Scrubber::Check(const ChunkId& id) {
  Result<std::string> data = chunks_->Read(id);
  if (data.ok()) {
    counters_.scanned.fetch_add(1);
    counters_.scanned_bytes.fetch_add(data->size());
    Throttle(data->size());
    return true;
  }
  if (data.status().code() != Code::kCorruption) return true;  // e.g. removed meanwhile
  counters_.scanned.fetch_add(1);
  spdlog::error("scrubber: chunk {} is corrupt (quarantined): {}", id.Hex(),
                data.status().ToString());
  auto referenced = state_->IsChunkReferenced(id);
  if (referenced.ok() && !*referenced) {
    counters_.corrupt.fetch_add(1);
    return false;  // nothing uses it: no need to fetch it again
  }
  Repair(id, &counters_.corrupt);
  return false;
}

void Scrubber::Repair(const ChunkId& id, std::atomic<uint64_t>* cause) {
  cause->fetch_add(1);
  Status s = fetch_(id);
  if (s.ok()) {
    counters_.repaired.fetch_add(1);
    spdlog::warn("scrubber: chunk {} repaired from a peer", id.Hex());
  } else {
    counters_.failed.fetch_add(1);
    spdlog::error("scrubber: chunk {} could not be repaired: {}", id.Hex(), s.ToString());
  }
}

void Scrubber::Throttle(uint64_t bytes) {
  if (options_.bytes_per_sec == 0) return;
  window_bytes_ += bytes;
  const auto due =
      window_start_ + std::chrono::microseconds(window_bytes_ * 1000000 / options_.bytes_per_sec);
  const auto now = std::chrono::steady_clock::now();
  if (due > now) {
    SleepUnlessStopped(std::chrono::duration_cast<std::chrono::milliseconds>(due - now));
  } else if (now - due > std::chrono::seconds(1)) {
    window_start_ = now;  // do not burst to make up for a slow disk
    window_bytes_ = 0;
  }
}

}  // namespace kdfs
