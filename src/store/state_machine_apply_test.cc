// Apply mechanics of the state machine: exactly-once, digest, op-id memory,
// determinism and store failures.
#include <gtest/gtest.h>

#include <thread>

#include "common/encoding.h"
#include "common/sha256.h"
#include "store/state_machine.h"
#include "store/store_test_util.h"

namespace kdfs {
namespace {

using testing::LeaderRec;
using testing::OpRecord;
using testing::RandomRecords;
using testing::RejectRec;

template <typename Backend>
class StateMachineApplyTest : public testing::StateMachineFixture<Backend> {};

TYPED_TEST_SUITE(StateMachineApplyTest, testing::Backends, testing::BackendNames);

TYPED_TEST(StateMachineApplyTest, DigestIsRollingSha256OfRecords) {
  auto& sm = *this->sm_;
  LogRecord r0 = OpRecord(this->m_.Put("/f", "abc"));
  LogRecord r5 = LeaderRec("n2", 3);
  ASSERT_TRUE(sm.Apply(0, r0).ok());
  ASSERT_TRUE(sm.Apply(5, r5).ok());  // offsets may have gaps (transaction markers)
  auto step = [](const std::array<uint8_t, 32>& prev, int64_t offset, const LogRecord& r) {
    Sha256 h;
    h.Update(std::string_view(reinterpret_cast<const char*>(prev.data()), prev.size()));
    std::string be(8, '\0');
    for (int i = 0; i < 8; ++i)
      be[i] = static_cast<char>(offset >> (56 - 8 * i));
    h.Update(be);
    h.Update(EncodeLogRecord(r));
    return h.Final();
  };
  auto d = step(step({}, 0, r0), 5, r5);
  EXPECT_EQ(sm.digest(), ToHex(d.data(), d.size()));
  EXPECT_EQ(sm.applied_offset(), 5);
}

TYPED_TEST(StateMachineApplyTest, ReapplyingAnOffsetIsIgnored) {
  auto& sm = *this->sm_;
  LogRecord rename_rec = OpRecord(this->m_.Rename("/a", "/b"));
  this->Ok(this->m_.Put("/a", "x"));                   // offset 0
  ApplyOutcome first = this->ApplyRecord(rename_rec);  // offset 1
  ASSERT_TRUE(first.status.ok());
  const std::string digest = sm.digest();
  const std::string tree = testing::TreeOf(sm);
  // Replaying offset 1 (e.g. after a crash before the consumer committed)
  // returns the remembered outcome and changes nothing.
  auto again = sm.Apply(1, rename_rec);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->status.ok()) << again->status.ToString();
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(again->op_id, rename_rec.op.op_id);
  // An older offset, too.
  ASSERT_TRUE(sm.Apply(0, rename_rec).ok());
  EXPECT_EQ(sm.digest(), digest);
  EXPECT_EQ(sm.applied_offset(), 1);
  EXPECT_EQ(testing::TreeOf(sm), tree);
}

TYPED_TEST(StateMachineApplyTest, DuplicateOpIdReturnsFirstOutcome) {
  auto& sm = *this->sm_;
  Operation put = this->m_.Put("/f", "first");
  ApplyOutcome first = this->Ok(put);
  // The client retried with the same Idempotency-Key; the retry was
  // sequenced again, with other content.
  Operation retry = this->m_.Put("/f", "other content");
  retry.op_id = put.op_id;
  const std::string digest = sm.digest();
  ApplyOutcome second = this->Apply(retry);
  EXPECT_TRUE(second.status.ok());
  EXPECT_EQ(second.version, first.version);
  EXPECT_EQ(second.info.etag, put.etag);
  EXPECT_TRUE(second.created);
  EXPECT_EQ(sm.Stat("/f")->etag, put.etag);  // no effect
  EXPECT_EQ(sm.applied_offset(), 1);         // but the offset moved on
  EXPECT_NE(sm.digest(), digest);

  auto found = sm.FindOutcome(put.op_id);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->version, 0);
  EXPECT_EQ((*found)->info.size, 5u);
  EXPECT_FALSE(sm.FindOutcome("never-seen")->has_value());
}

TYPED_TEST(StateMachineApplyTest, RejectionRecordsAreRemembered) {
  auto& sm = *this->sm_;
  this->ApplyRecord(RejectRec("op-x", Code::kParentNotDirectory, "/a is a file"));
  EXPECT_EQ(sm.applied_offset(), 0);
  EXPECT_EQ(testing::TreeOf(sm), "");
  auto found = sm.FindOutcome("op-x");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->status.code(), Code::kParentNotDirectory);
  EXPECT_EQ((*found)->status.message(), "/a is a file");
  EXPECT_EQ((*found)->version, 0);
  // The op itself arriving later (it cannot, but if it did) keeps the verdict.
  Operation op = this->m_.Put("/a", "x");
  op.op_id = "op-x";
  EXPECT_EQ(this->Apply(op).status.code(), Code::kParentNotDirectory);
  EXPECT_EQ(sm.Stat("/a").status().code(), Code::kNotFound);
}

TYPED_TEST(StateMachineApplyTest, LeaderRecordPersists) {
  this->ApplyRecord(LeaderRec("node-2", 7));
  EXPECT_EQ(this->sm_->leader().node, "node-2");
  EXPECT_EQ(this->sm_->leader().epoch, 7);
  StateMachine reopened(this->kv_.get());
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_EQ(reopened.leader().node, "node-2");
  EXPECT_EQ(reopened.leader().epoch, 7);
  EXPECT_EQ(reopened.applied_offset(), 0);
  EXPECT_EQ(reopened.digest(), this->sm_->digest());
}

TYPED_TEST(StateMachineApplyTest, OpMemoryIsBoundedFifo) {
  StateMachineOptions o;
  o.op_memory = 3;
  StateMachine sm(this->kv_.get(), o);
  ASSERT_TRUE(sm.Open().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    Operation op = this->m_.Put("/f" + std::to_string(i), "x");
    ids.push_back(op.op_id);
    ASSERT_TRUE(sm.Apply(i, OpRecord(op)).ok());
  }
  EXPECT_FALSE(sm.FindOutcome(ids[0])->has_value());
  EXPECT_FALSE(sm.FindOutcome(ids[1])->has_value());
  for (int i = 2; i < 5; ++i)
    EXPECT_TRUE(sm.FindOutcome(ids[i])->has_value()) << i;
  // The memory survives a reopen and keeps evicting in order.
  StateMachine again(this->kv_.get(), o);
  ASSERT_TRUE(again.Open().ok());
  ASSERT_TRUE(again.Apply(5, OpRecord(this->m_.Put("/f5", "x"))).ok());
  EXPECT_FALSE(again.FindOutcome(ids[2])->has_value());
  EXPECT_TRUE(again.FindOutcome(ids[3])->has_value());
}

TYPED_TEST(StateMachineApplyTest, SameRecordsGiveSameDigestAndTree) {
  auto other_kv = TypeParam::NewKv();
  StateMachine other(other_kv.get());
  ASSERT_TRUE(other.Open().ok());
  MemoryKv ref_kv;  // and the in-memory reference
  StateMachine ref(&ref_kv);
  ASSERT_TRUE(ref.Open().ok());
  int ok = 0;
  for (const auto& r : RandomRecords(42, 300)) {
    auto a = this->ApplyRecord(r);
    auto b = other.Apply(this->offset_, r);
    auto c = ref.Apply(this->offset_, r);
    ASSERT_TRUE(b.ok() && c.ok());
    EXPECT_EQ(a.status, b->status);
    EXPECT_EQ(a.status, c->status);
    if (a.status.ok()) ++ok;
  }
  EXPECT_GT(ok, 100);  // the stream exercises real changes, not only rejections
  EXPECT_EQ(this->sm_->digest(), other.digest());
  EXPECT_EQ(this->sm_->digest(), ref.digest());
  const std::string tree = testing::TreeOf(*this->sm_);
  EXPECT_FALSE(tree.empty());
  EXPECT_EQ(tree, testing::TreeOf(other));
  EXPECT_EQ(tree, testing::TreeOf(ref));
}

TYPED_TEST(StateMachineApplyTest, ReadsRunConcurrentlyWithApply) {
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto l = this->sm_->List("/d", "", 50);
      if (l.ok()) {
        for (const auto& e : l->entries)
          EXPECT_FALSE(e.info.is_dir);
      }
      (void)this->sm_->Stat("/d/f1");
      (void)this->sm_->digest();
      ++reads;
    }
  });
  for (int i = 0; i < 200; ++i) {
    this->Ok(this->m_.Put("/d/f" + std::to_string(i % 20), std::to_string(i)));
    if (i % 7 == 0) this->Ok(this->m_.Delete("/d/f" + std::to_string(i % 20)));
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
}

// Store failures, with MemoryKv's injection hooks.
class StateMachineFailureTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sm_.Open().ok()); }
  MemoryKv kv_;
  StateMachine sm_{&kv_};
  testing::OpMaker m_;
};

TEST_F(StateMachineFailureTest, FailedApplyChangesNothingAndCanBeRetried) {
  LogRecord r = OpRecord(m_.Put("/f", "x"));
  kv_.FailNextCalls(1);
  auto out = sm_.Apply(0, r);
  EXPECT_EQ(out.status().code(), Code::kUnavailable);
  EXPECT_EQ(sm_.applied_offset(), -1);
  EXPECT_EQ(sm_.Stat("/f").status().code(), Code::kNotFound);
  out = sm_.Apply(0, r);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->status.ok());
  EXPECT_EQ(sm_.applied_offset(), 0);
}

TEST_F(StateMachineFailureTest, LostCommitReplyIsNotAppliedTwice) {
  MemoryKv ref_kv;
  StateMachine ref(&ref_kv);
  ASSERT_TRUE(ref.Open().ok());
  std::vector<LogRecord> records = {OpRecord(m_.Put("/a/f", "x")), OpRecord(m_.Rename("/a", "/b")),
                                    OpRecord(m_.Put("/b/g", "y"))};
  for (size_t i = 0; i < records.size(); ++i)
    ASSERT_TRUE(ref.Apply(i, records[i]).ok());

  ASSERT_TRUE(sm_.Apply(0, records[0]).ok());
  kv_.LoseNextCommitReply();  // the rename commits, but Apply sees an error
  EXPECT_FALSE(sm_.Apply(1, records[1]).ok());
  // The follower retries the same offset: it must not rename twice (which
  // would now be rejected as kNotFound and remembered wrongly).
  auto retry = sm_.Apply(1, records[1]);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->status.ok()) << retry->status.ToString();
  ASSERT_TRUE(sm_.Apply(2, records[2]).ok());
  EXPECT_EQ(sm_.digest(), ref.digest());
  EXPECT_EQ(kv_.Dump(), ref_kv.Dump());  // byte-identical metadata
}

TEST_F(StateMachineFailureTest, StoreRollbackIsDetectedAndReplayed) {
  const auto records = RandomRecords(3, 12);
  MemoryKv ref_kv;
  StateMachine ref(&ref_kv);
  ASSERT_TRUE(ref.Open().ok());
  for (size_t i = 0; i < records.size(); ++i)
    ASSERT_TRUE(ref.Apply(i, records[i]).ok());

  for (int64_t i = 0; i <= 5; ++i)
    ASSERT_TRUE(sm_.Apply(i, records[i]).ok());
  auto snapshot = kv_.TakeSnapshot();
  for (int64_t i = 6; i <= 8; ++i)
    ASSERT_TRUE(sm_.Apply(i, records[i]).ok());
  kv_.Restore(*snapshot);  // the store forgets records 6..8 it had acknowledged

  // The next commit finds another digest than expected: nothing is written.
  EXPECT_EQ(sm_.Apply(9, records[9]).status().code(), Code::kUnavailable);
  EXPECT_EQ(sm_.applied_offset(), 5);
  // Skipping ahead would lose 6..8: refused until they are applied again.
  EXPECT_EQ(sm_.Apply(9, records[9]).status().code(), Code::kUnavailable);
  for (int64_t i = sm_.applied_offset() + 1; i < static_cast<int64_t>(records.size()); ++i) {
    ASSERT_TRUE(sm_.Apply(i, records[i]).ok()) << i;
  }
  EXPECT_EQ(sm_.digest(), ref.digest());
  EXPECT_EQ(kv_.Dump(), ref_kv.Dump());
}

TEST_F(StateMachineFailureTest, SecondWriterIsFenced) {
  StateMachine other(&kv_);  // e.g. two nodes configured with one Redis prefix
  ASSERT_TRUE(other.Open().ok());
  ASSERT_TRUE(sm_.Apply(0, OpRecord(m_.Put("/mine", "x"))).ok());
  auto out = other.Apply(0, OpRecord(m_.Put("/theirs", "y")));
  EXPECT_EQ(out.status().code(), Code::kUnavailable);
  EXPECT_EQ(sm_.Stat("/theirs").status().code(), Code::kNotFound);
  EXPECT_EQ(other.applied_offset(), 0);  // it reloaded the store's truth
  EXPECT_EQ(other.digest(), sm_.digest());
}

TEST_F(StateMachineFailureTest, RenameWritesAreIndependentOfSubtreeSize) {
  auto writes_for_rename = [&](int descendants, const std::string& name) {
    for (int i = 0; i < descendants; ++i) {
      EXPECT_TRUE(sm_.Apply(sm_.applied_offset() + 1,
                            OpRecord(m_.Put("/" + name + "/s" + std::to_string(i % 10) + "/f" +
                                                std::to_string(i),
                                            "x")))
                      .ok());
    }
    EXPECT_TRUE(
        sm_.Apply(sm_.applied_offset() + 1, OpRecord(m_.Rename("/" + name, "/moved-" + name)))
            .ok());
    return kv_.last_commit_writes();
  };
  const size_t small = writes_for_rename(10, "small");
  const size_t big = writes_for_rename(1000, "big");
  EXPECT_EQ(small, big);
  EXPECT_LT(big, 40u);
  EXPECT_TRUE(sm_.Stat("/moved-big/s3/f993").ok());
}

}  // namespace
}  // namespace kdfs
