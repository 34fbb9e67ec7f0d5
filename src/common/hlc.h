// Hybrid logical clock (Kulkarni et al.): physical milliseconds, a logical
// counter, and the node id as the final tie-break, so that any two
// timestamps from distinct nodes are totally ordered.
#pragma once

#include <compare>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace kdfs {

struct Hlc {
  int64_t physical_ms = 0;
  uint32_t logical = 0;
  std::string node;

  // Text form "<physical_ms>.<logical>.<node>", e.g. "1700000000000.3.node-2".
  std::string Encode() const;
  // kInvalidArgument on malformed input.
  static Result<Hlc> Decode(std::string_view text);

  auto operator<=>(const Hlc&) const = default;
};

// Issues timestamps for one node. Thread-safe.
class HlcClock {
 public:
  HlcClock(Clock* clock, std::string node_id);
  // A timestamp greater than every one issued or observed before.
  Hlc Now();
  // Merges a timestamp seen in a message (receive event), so that later Now()
  // values are greater than `remote`.
  void Observe(const Hlc& remote);

 private:
  Clock* const clock_;
  const std::string node_;
  std::mutex mu_;
  int64_t last_physical_ms_ = 0;  // guarded by mu_
  uint32_t last_logical_ = 0;     // guarded by mu_
};

}  // namespace kdfs
