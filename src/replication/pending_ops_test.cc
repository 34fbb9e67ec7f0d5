#include "replication/pending_ops.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

Operation Op(OpType type, std::string path, std::string id, std::string to = "") {
  Operation op;
  op.type = type;
  op.path = std::move(path);
  op.to = std::move(to);
  op.op_id = std::move(id);
  return op;
}

TEST(PendingOpsTest, ProperAncestors) {
  EXPECT_EQ(ProperAncestors("/"), std::vector<std::string>{});
  EXPECT_EQ(ProperAncestors("/a"), std::vector<std::string>{"/"});
  EXPECT_EQ(ProperAncestors("/a/bb/c"), (std::vector<std::string>{"/", "/a", "/a/bb"}));
}

TEST(PendingOpsTest, OverlapIsSamePathAncestorOrDescendant) {
  PendingOps p;
  p.Stage(Op(OpType::kPut, "/a/b/f", "1"));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kDelete, "/a/b/f", "x")));  // same path
  EXPECT_TRUE(p.Overlaps(Op(OpType::kDelete, "/a", "x")));      // ancestor of pending
  EXPECT_TRUE(p.Overlaps(Op(OpType::kPut, "/a/b/f/g", "x")));   // below a pending file
  EXPECT_TRUE(p.Overlaps(Op(OpType::kPut, "/a/b", "x")));       // parent created by it
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/a/c", "x")));      // sibling subtree
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/a/b/ff", "x")));   // name prefix only
  EXPECT_FALSE(p.Overlaps(Op(OpType::kMkdir, "/z", "x")));
  // Rename: either end counts.
  EXPECT_TRUE(p.Overlaps(Op(OpType::kRename, "/z", "x", "/a/b/f")));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kRename, "/a", "x", "/z")));
  EXPECT_FALSE(p.Overlaps(Op(OpType::kRename, "/y", "x", "/z")));
}

TEST(PendingOpsTest, RenamePendingCoversBothEnds) {
  PendingOps p;
  p.Stage(Op(OpType::kRename, "/src/d", "1", "/dst/d"));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kPut, "/src/d/f", "x")));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kPut, "/dst/d/f", "x")));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kDelete, "/dst", "x")));
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/other", "x")));
}

TEST(PendingOpsTest, AbortForgetsStagedCommitKeepsUntilApplied) {
  PendingOps p;
  p.Stage(Op(OpType::kPut, "/a", "1"));
  EXPECT_TRUE(p.Contains("1"));
  p.Abort();
  EXPECT_FALSE(p.Contains("1"));
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/a", "x")));
  EXPECT_EQ(p.size(), 0u);

  p.Stage(Op(OpType::kPut, "/a", "1"));
  p.Stage(Op(OpType::kPut, "/b", "2"));
  p.Commit(/*last_offset=*/10);
  p.Stage(Op(OpType::kPut, "/c", "3"));
  p.Commit(/*last_offset=*/12);
  p.Release(9);  // nothing of the first transaction applied yet
  EXPECT_TRUE(p.Contains("1"));
  p.Release(10);
  EXPECT_FALSE(p.Contains("1"));
  EXPECT_FALSE(p.Contains("2"));
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/a", "x")));
  EXPECT_TRUE(p.Contains("3"));
  EXPECT_TRUE(p.Overlaps(Op(OpType::kPut, "/c", "x")));
  p.Release(12);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_FALSE(p.Overlaps(Op(OpType::kPut, "/c", "x")));
}

TEST(PendingOpsTest, CountsTwoOpsOnOnePath) {
  PendingOps p;
  p.Stage(Op(OpType::kPut, "/a", "1"));
  p.Commit(5);
  p.Stage(Op(OpType::kPut, "/a", "2"));
  p.Commit(6);
  p.Release(5);
  EXPECT_TRUE(p.Overlaps(Op(OpType::kDelete, "/a", "x")));  // the second is still pending
  p.Clear();
  EXPECT_FALSE(p.Overlaps(Op(OpType::kDelete, "/a", "x")));
}

}  // namespace
}  // namespace kdfs
