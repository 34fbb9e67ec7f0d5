// Divergence: does this node's history differ from the majority's?
//
// Each node keeps (offset, digest) pairs of the records it applied (GatedKv's
// ring). Two nodes agree if their digests are equal at the highest offset
// both hold; they cannot be compared if no offset is common. A node is
// divergent when more of the compared peers differ from it than agree with
// it plus itself, i.e. a strict majority of the compared nodes (itself
// included) disagrees. In a two-node cluster a difference is reported but
// never decided.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kdfs {

using DigestRing = std::vector<std::pair<int64_t, std::string>>;  // ascending offsets

enum class Agreement { kUnknown, kAgree, kDiffer };

// Compares at the highest common offset (stored in *at when known).
Agreement CompareRings(const DigestRing& mine, const DigestRing& theirs, int64_t* at);

struct DivergenceVerdict {
  bool divergent = false;
  int agree = 0;
  int differ = 0;
  std::vector<std::string> differing;  // peer ids whose digests differ from ours
  std::string detail;                  // for the log
};

DivergenceVerdict JudgeDivergence(const DigestRing& mine,
                                  const std::map<std::string, DigestRing>& peers);

}  // namespace kdfs
