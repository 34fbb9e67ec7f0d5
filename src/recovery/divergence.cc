#include "recovery/divergence.h"

namespace kdfs {

Agreement CompareRings(const DigestRing& mine, const DigestRing& theirs, int64_t* at) {
  // Walk both from the end (ascending offsets) to the highest common offset.
  auto a = mine.rbegin();
  auto b = theirs.rbegin();
  while (a != mine.rend() && b != theirs.rend()) {
    if (a->first == b->first) {
      *at = a->first;
      return a->second == b->second ? Agreement::kAgree : Agreement::kDiffer;
    }
    if (a->first > b->first) {
      ++a;
    } else {
      ++b;
    }
  }
  return Agreement::kUnknown;
}

DivergenceVerdict JudgeDivergence(const DigestRing& mine,
                                  const std::map<std::string, DigestRing>& peers) {
  DivergenceVerdict v;
  for (const auto& [id, ring] : peers) {
    int64_t at = -1;
    switch (CompareRings(mine, ring, &at)) {
      case Agreement::kAgree:
        ++v.agree;
        break;
      case Agreement::kDiffer:
        ++v.differ;
        v.differing.push_back(id);
        v.detail += id + " differs at offset " + std::to_string(at) + "; ";
        break;
      case Agreement::kUnknown:
        break;
    }
  }
  v.divergent = v.differ > v.agree + 1;
  return v;
}

}  // namespace kdfs
