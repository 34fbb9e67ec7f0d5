#include "recovery/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "recovery/gated_kv.h"
#include "store/memory_kv.h"
#include "store/state_machine.h"
#include "store/store_test_util.h"

namespace kdfs {
namespace {

// A store with files, directories, renames, deletes and rejections applied.
void Populate(StateMachine* sm) {
  int64_t offset = 0;
  for (const LogRecord& r : testing::RandomRecords(7, 300))
    ASSERT_TRUE(sm->Apply(offset++, r).ok());
  testing::OpMaker ops("n2");
  for (int i = 0; i < 30; ++i) {
    std::string content = "content " + std::to_string(i);
    ASSERT_TRUE(
        sm->Apply(offset++, testing::OpRecord(ops.Put(
                                "/d" + std::to_string(i % 3) + "/f" + std::to_string(i), content)))
            .ok());
  }
  ASSERT_TRUE(sm->Apply(offset++, testing::OpRecord(ops.Mkdir("/empty"))).ok());
  ASSERT_TRUE(sm->Apply(offset++, testing::OpRecord(ops.Rename("/d1", "/moved"))).ok());
  ASSERT_TRUE(sm->Apply(offset++, testing::OpRecord(ops.Delete("/d2/f2"))).ok());
}

std::string Encode(MetaKv* kv, SnapshotInfo* info) {
  std::string out;
  auto r = WriteSnapshot(kv, [&](std::string_view p) {
    out.append(p);
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *info = *r;
  return out;
}

// A populated store and its snapshot.
struct Source {
  Source() {
    EXPECT_TRUE(sm.Open().ok());
    Populate(&sm);
    bytes = Encode(&kv, &info);
  }
  MemoryKv kv;
  StateMachine sm{&kv};
  SnapshotInfo info;
  std::string bytes;
};

TEST(Snapshot, RoundTripReproducesTheStoreExactly) {
  Source source;
  MemoryKv& src = source.kv;
  StateMachine& sm = source.sm;
  const SnapshotInfo& info = source.info;
  const std::string& bytes = source.bytes;
  EXPECT_EQ(info.applied_offset, sm.applied_offset());
  EXPECT_EQ(info.digest, sm.digest());
  EXPECT_EQ(info.bytes, bytes.size());

  // Fed in awkward pieces (one byte, then 7 at a time) into a small-batch loader.
  MemoryKv dst;
  SnapshotLoader loader(&dst, 5);
  ASSERT_TRUE(loader.Add(bytes.substr(0, 1)).ok());
  for (size_t i = 1; i < bytes.size(); i += 7)
    ASSERT_TRUE(loader.Add(bytes.substr(i, 7)).ok());
  auto loaded = loader.Finish();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->applied_offset, info.applied_offset);
  EXPECT_EQ(loaded->entries, info.entries);
  EXPECT_EQ(dst.Dump(), src.Dump());

  // A state machine over the copy continues where the original was.
  StateMachine copy(&dst);
  ASSERT_TRUE(copy.Open().ok());
  EXPECT_EQ(copy.applied_offset(), sm.applied_offset());
  EXPECT_EQ(copy.digest(), sm.digest());
  auto st = copy.Stat("/moved/f1");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, std::string("content 1").size());
}

TEST(Snapshot, RejectsCorruptTruncatedAndForeignStreams) {
  Source source;
  const std::string& bytes = source.bytes;

  {  // One flipped byte in the middle: the checksum catches it.
    std::string bad = bytes;
    bad[bad.size() / 2] ^= 0x01;
    MemoryKv dst;
    SnapshotLoader loader(&dst);
    Status s = loader.Add(bad);
    auto r = s.ok() ? loader.Finish() : Result<SnapshotInfo>(s);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(dst.Dump().count("h meta"), 0u) << "no meta after a failed load";
  }
  {  // Truncated: no end entry.
    MemoryKv dst;
    SnapshotLoader loader(&dst);
    ASSERT_TRUE(loader.Add(bytes.substr(0, bytes.size() - 40)).ok());
    EXPECT_EQ(loader.Finish().status().code(), Code::kCorruption);
  }
  {  // Another format version.
    std::string other = bytes;
    other[8] = 2;
    MemoryKv dst;
    SnapshotLoader loader(&dst);
    EXPECT_EQ(loader.Add(other).code(), Code::kCorruption);
  }
}

TEST(GatedKv, RemembersDigestsAndHoldsCommits) {
  MemoryKv inner;
  GatedKv kv(&inner, 4);
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  Populate(&sm);
  auto ring = kv.Digests();
  ASSERT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.back().first, sm.applied_offset());
  EXPECT_EQ(ring.back().second, sm.digest());

  // While held, a commit waits.
  auto hold = kv.Hold();
  std::atomic<bool> done{false};
  std::thread t([&] {
    WriteBatch b;
    b.HSet("x", "f", "v");
    EXPECT_TRUE(kv.Commit(b).ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done.load());
  hold.unlock();
  t.join();
  EXPECT_TRUE(done.load());
}

TEST(GatedKv, StateMachineFollowsASnapshotLoadedUnderneath) {
  // Source at offset 32; target state machine behind at a different history.
  Source from;
  MemoryKv& src = from.kv;
  StateMachine& source = from.sm;
  const std::string& bytes = from.bytes;

  MemoryKv inner;
  GatedKv kv(&inner);
  StateMachine target(&kv);
  ASSERT_TRUE(target.Open().ok());
  testing::OpMaker ops("n3");
  ASSERT_TRUE(target.Apply(0, testing::OpRecord(ops.Put("/other", "xyz"))).ok());
  {
    auto hold = kv.Hold();
    // Wipe: a fresh MemoryKv cannot be swapped in, so delete what exists.
    WriteBatch wipe;
    for (const auto& [k, v] : inner.Dump())
      wipe.Del(k.substr(2));
    ASSERT_TRUE(inner.Commit(wipe).ok());
    SnapshotLoader loader(&inner);
    ASSERT_TRUE(loader.Add(bytes).ok());
    ASSERT_TRUE(loader.Finish().ok());
    kv.ClearDigests();
    target.RequestReload();
  }
  EXPECT_TRUE(target.ReloadIfRequested());
  EXPECT_EQ(target.applied_offset(), source.applied_offset());
  EXPECT_EQ(target.digest(), source.digest());
  EXPECT_FALSE(target.Stat("/other").ok());
  // Both apply the next record alike.
  const LogRecord r = testing::OpRecord(ops.Put("/next", "next"));
  const int64_t next = source.applied_offset() + 1;
  ASSERT_TRUE(source.Apply(next, r).ok());
  ASSERT_TRUE(target.Apply(next, r).ok());
  EXPECT_EQ(target.digest(), source.digest());
  EXPECT_EQ(inner.Dump(), src.Dump());
}

}  // namespace
}  // namespace kdfs
