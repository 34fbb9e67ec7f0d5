#include "recovery/divergence.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(Divergence, ComparesAtTheHighestCommonOffset) {
  DigestRing mine{{1, "a"}, {3, "b"}, {5, "c"}};
  DigestRing theirs{{3, "b"}, {4, "x"}, {6, "y"}};
  int64_t at = -1;
  EXPECT_EQ(CompareRings(mine, theirs, &at), Agreement::kAgree);
  EXPECT_EQ(at, 3);
  theirs[0].second = "other";
  EXPECT_EQ(CompareRings(mine, theirs, &at), Agreement::kDiffer);
  EXPECT_EQ(CompareRings(mine, {{7, "z"}}, &at), Agreement::kUnknown);
  EXPECT_EQ(CompareRings({}, theirs, &at), Agreement::kUnknown);
}

TEST(Divergence, MinorityIsDivergentMajorityIsNot) {
  DigestRing good{{10, "g"}};
  DigestRing bad{{10, "b"}};
  // The bad node sees two peers that differ.
  auto v = JudgeDivergence(bad, {{"n1", good}, {"n2", good}});
  EXPECT_TRUE(v.divergent);
  EXPECT_EQ(v.differ, 2);
  EXPECT_EQ(v.differing.size(), 2u);
  // A good node sees one agreeing and one differing peer.
  v = JudgeDivergence(good, {{"n2", good}, {"n3", bad}});
  EXPECT_FALSE(v.divergent);
  // Two nodes: a difference is never decided.
  v = JudgeDivergence(bad, {{"n1", good}});
  EXPECT_FALSE(v.divergent);
  EXPECT_EQ(v.differ, 1);
  // Peers that cannot be compared do not count.
  v = JudgeDivergence(bad, {{"n1", good}, {"n2", good}, {"n3", {{99, "q"}}}});
  EXPECT_TRUE(v.divergent);
}

}  // namespace
}  // namespace kdfs
