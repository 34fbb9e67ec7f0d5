#include "store/chunk_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "common/fault_env.h"

namespace kdfs {
namespace {

namespace fs = std::filesystem;

// Deterministic pseudo-random bytes, distinct per seed.
std::string Data(uint64_t seed, size_t n) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    n += e.is_regular_file() ? 1 : 0;
  return n;
}

class ChunkStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "kdfs_chunks_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    options_.dir = root_ + "/data";
    options_.gc_grace_ms = 1000;
    options_.clock = &clock_;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  void Reopen() {
    store_.reset();
    auto store = ChunkStore::Open(&env_, options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::string ChunkPath(const ChunkId& id) const {
    std::string hex = id.Hex();
    return options_.dir + "/chunks/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
  }
  size_t ChunkFiles() const { return CountFiles(options_.dir + "/chunks"); }
  size_t TempFiles() const { return CountFiles(options_.dir + "/tmp"); }
  size_t QuarantineFiles() const { return CountFiles(options_.dir + "/quarantine"); }

  void ExpectStats(uint64_t chunks, uint64_t bytes, uint64_t quarantined) {
    ChunkStoreStats s = store_->Stats();
    EXPECT_EQ(s.chunks, chunks);
    EXPECT_EQ(s.bytes, bytes);
    EXPECT_EQ(s.quarantined, quarantined);
  }

  // Nothing of a failed put may remain anywhere.
  void ExpectEmpty() {
    EXPECT_EQ(ChunkFiles(), 0u);
    EXPECT_EQ(TempFiles(), 0u);
    ExpectStats(0, 0, 0);
  }

  std::string root_;
  FakeClock clock_;
  FaultInjectionEnv env_{Env::Default()};
  ChunkStoreOptions options_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ChunkStoreTest, PutThenReadRoundTrip) {
  const std::string data = Data(1, 1 << 20);
  const auto before = env_.counters();
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, ChunkId::Of(data));
  EXPECT_TRUE(store_->Has(*id));
  EXPECT_TRUE(fs::exists(ChunkPath(*id)));
  auto back = store_->Read(*id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  ExpectStats(1, data.size(), 0);
  EXPECT_EQ(TempFiles(), 0u);
  // The file is durable the way the header promises: one file fsync, and
  // directory fsyncs for the new fan-out dirs (top, chunks) and the rename.
  EXPECT_EQ(env_.counters().syncs - before.syncs, 1u);
  EXPECT_EQ(env_.counters().dir_syncs - before.dir_syncs, 3u);
  // A second chunk in a ready fan-out dir costs one dir fsync. Reopening
  // marks the existing dirs ready.
  Reopen();
  ASSERT_TRUE(store_->Remove(*id).ok());
  const auto again = env_.counters();
  ASSERT_TRUE(store_->Put(data).ok());
  EXPECT_EQ(env_.counters().syncs - again.syncs, 1u);
  EXPECT_EQ(env_.counters().dir_syncs - again.dir_syncs, 1u);
}

TEST_F(ChunkStoreTest, FailedFanoutCreationIsRetriedByTheNextPut) {
  const std::string data = Data(14, 1000);
  env_.FailNextDirSyncs(1);  // the fsync that makes the new fan-out dir durable
  EXPECT_EQ(store_->Put(data).status().code(), Code::kIoError);
  ExpectEmpty();
  const auto before = env_.counters();
  ASSERT_TRUE(store_->Put(data).ok());
  // Not trusted after the failure: its entry is made durable again.
  EXPECT_EQ(env_.counters().dir_syncs - before.dir_syncs, 3u);
  EXPECT_TRUE(store_->Has(ChunkId::Of(data)));
}

TEST_F(ChunkStoreTest, EmptyChunkIsAChunk) {
  auto id = store_->Put("");
  ASSERT_TRUE(id.ok());
  auto back = store_->Read(*id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "");
  ExpectStats(1, 0, 0);
}

TEST_F(ChunkStoreTest, ReadOfAbsentChunkIsNotFound) {
  ChunkId id = ChunkId::Of("never stored");
  EXPECT_FALSE(store_->Has(id));
  EXPECT_EQ(store_->Read(id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Remove(id).code(), Code::kNotFound);
}

TEST_F(ChunkStoreTest, PutOfExistingChunkWritesNothingButRefreshesMtime) {
  const std::string data = Data(2, 4096);
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok());
  const auto before = env_.counters();
  clock_.AdvanceMillis(500);

  auto again = store_->Put(data);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  ASSERT_TRUE(store_->PutVerified(*id, data).ok());
  const auto after = env_.counters();
  EXPECT_EQ(after.files_created, before.files_created);
  EXPECT_EQ(after.bytes_appended, before.bytes_appended);
  EXPECT_EQ(after.syncs, before.syncs);
  EXPECT_EQ(after.renames, before.renames);
  EXPECT_EQ(*env_.GetFileMTime(ChunkPath(*id)), clock_.WallMillis());
  ExpectStats(1, data.size(), 0);
}

TEST_F(ChunkStoreTest, PutVerifiedRejectsDataOfAnotherId) {
  const std::string data = Data(3, 1000);
  ChunkId wrong = ChunkId::Of("something else");
  Status s = store_->PutVerified(wrong, data);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_FALSE(store_->Has(wrong));
  EXPECT_FALSE(store_->Has(ChunkId::Of(data)));
  ExpectEmpty();

  ASSERT_TRUE(store_->PutVerified(ChunkId::Of(data), data).ok());
  EXPECT_TRUE(store_->Has(ChunkId::Of(data)));
}

TEST_F(ChunkStoreTest, FlippedByteIsCorruptionAndQuarantined) {
  const std::string data = Data(4, 64 << 10);
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok());
  {
    std::fstream f(ChunkPath(*id), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put(static_cast<char>(data[12345] ^ 0x01));
  }
  auto read = store_->Read(*id);
  EXPECT_EQ(read.status().code(), Code::kCorruption) << read.status().ToString();
  EXPECT_FALSE(store_->Has(*id));
  EXPECT_EQ(QuarantineFiles(), 1u);
  EXPECT_EQ(ChunkFiles(), 0u);
  ExpectStats(0, 0, 1);
  EXPECT_EQ(store_->Read(*id).status().code(), Code::kNotFound);

  // Fetched again (here: put again), it is served normally.
  ASSERT_TRUE(store_->Put(data).ok());
  EXPECT_TRUE(*store_->Read(*id) == data);
  ExpectStats(1, data.size(), 1);

  // Counts survive a restart.
  Reopen();
  ExpectStats(1, data.size(), 1);
}

TEST_F(ChunkStoreTest, TruncatedChunkIsCorruption) {
  const std::string data = Data(5, 10000);
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok());
  fs::resize_file(ChunkPath(*id), 5000);
  EXPECT_EQ(store_->Read(*id).status().code(), Code::kCorruption);
  EXPECT_FALSE(store_->Has(*id));
  // The store cannot know the size the file had when counted; `bytes` is off
  // by what was cut behind its back (never wrapped) until Open recounts.
  EXPECT_EQ(store_->Stats().chunks, 0u);
  EXPECT_EQ(store_->Stats().quarantined, 1u);
  EXPECT_LE(store_->Stats().bytes, data.size());
  Reopen();
  ExpectStats(0, 0, 1);
}

TEST_F(ChunkStoreTest, FileGrownBehindTheStoresBackDoesNotWrapCounters) {
  const std::string data = Data(5, 100);
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok());
  fs::resize_file(ChunkPath(*id), 1000);
  EXPECT_EQ(store_->Read(*id).status().code(), Code::kCorruption);
  ExpectStats(0, 0, 1);
}

TEST_F(ChunkStoreTest, DiskFullIsNoSpaceAndLeavesNothing) {
  env_.FailNextWrites(1);
  auto r = store_->Put(Data(6, 1 << 20));
  EXPECT_EQ(r.status().code(), Code::kNoSpace) << r.status().ToString();
  ExpectEmpty();
}

TEST_F(ChunkStoreTest, DiskFullMidChunkIsNoSpaceAndLeavesNothing) {
  const std::string first = Data(7, 1 << 20);
  ASSERT_TRUE(store_->Put(first).ok());
  env_.SetWriteBudget(512 << 10);  // the next chunk is half written, then ENOSPC
  const std::string second = Data(8, 1 << 20);
  auto r = store_->Put(second);
  EXPECT_EQ(r.status().code(), Code::kNoSpace) << r.status().ToString();
  EXPECT_FALSE(store_->Has(ChunkId::Of(second)));
  EXPECT_EQ(ChunkFiles(), 1u);
  EXPECT_EQ(TempFiles(), 0u);
  ExpectStats(1, first.size(), 0);
  // Stored data stays readable; space freed, writes work again.
  EXPECT_TRUE(store_->Read(ChunkId::Of(first)).ok());
  env_.Reset();
  ASSERT_TRUE(store_->Put(second).ok());
  ExpectStats(2, first.size() + second.size(), 0);
}

TEST_F(ChunkStoreTest, FailedFsyncIsAnErrorAndNothingIsVisible) {
  env_.FailNextSyncs(1);
  const std::string data = Data(9, 1 << 16);
  auto r = store_->Put(data);
  EXPECT_EQ(r.status().code(), Code::kIoError) << r.status().ToString();
  EXPECT_FALSE(store_->Has(ChunkId::Of(data)));
  ExpectEmpty();
  // A retry writes a new file; it does not trust the failed one.
  const auto before = env_.counters();
  ASSERT_TRUE(store_->Put(data).ok());
  EXPECT_EQ(env_.counters().files_created, before.files_created + 1);
  EXPECT_TRUE(store_->Read(ChunkId::Of(data)).ok());
}

TEST_F(ChunkStoreTest, FailedDirectoryFsyncIsAnErrorAndNothingIsVisible) {
  const std::string data = Data(10, 1000);
  const ChunkId id = ChunkId::Of(data);
  // The fan-out dir already exists, so the only dir fsync is the one that
  // makes the renamed entry durable.
  ASSERT_TRUE(env_.CreateDirs(ParentDir(ChunkPath(id))).ok());
  Reopen();
  env_.FailNextDirSyncs(1);
  auto r = store_->Put(data);
  EXPECT_EQ(r.status().code(), Code::kIoError) << r.status().ToString();
  EXPECT_FALSE(store_->Has(id));
  ExpectEmpty();
  ASSERT_TRUE(store_->Put(data).ok());
  EXPECT_TRUE(store_->Has(id));
}

TEST_F(ChunkStoreTest, FailedRenameLeavesNothing) {
  env_.SetFailRenames(true);
  auto r = store_->Put(Data(11, 1000));
  EXPECT_EQ(r.status().code(), Code::kIoError);
  ExpectEmpty();
}

TEST_F(ChunkStoreTest, RemoveUpdatesStats) {
  const std::string a = Data(12, 100), b = Data(13, 200);
  auto ia = store_->Put(a);
  auto ib = store_->Put(b);
  ASSERT_TRUE(ia.ok() && ib.ok());
  ExpectStats(2, 300, 0);
  ASSERT_TRUE(store_->Remove(*ia).ok());
  EXPECT_FALSE(store_->Has(*ia));
  EXPECT_TRUE(store_->Has(*ib));
  ExpectStats(1, 200, 0);
}

TEST_F(ChunkStoreTest, ForEachVisitsEveryChunkAndStopsEarly) {
  std::set<ChunkId> stored;
  for (int i = 0; i < 20; ++i) {
    auto id = store_->Put(Data(100 + i, 64));
    ASSERT_TRUE(id.ok());
    stored.insert(*id);
  }
  // Stray files are not chunks.
  ASSERT_TRUE(env_.WriteFileAtomic(options_.dir + "/chunks/README", "x").ok());
  std::set<ChunkId> seen;
  ASSERT_TRUE(store_
                  ->ForEach([&](const ChunkId& id) {
                    seen.insert(id);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, stored);

  int calls = 0;
  ASSERT_TRUE(store_->ForEach([&](const ChunkId&) { return ++calls < 3; }).ok());
  EXPECT_EQ(calls, 3);
}

TEST_F(ChunkStoreTest, SweepHonoursGraceAndReferences) {
  auto a = store_->Put(Data(20, 10));
  auto b = store_->Put(Data(21, 20));
  auto c = store_->Put(Data(22, 30));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::set<ChunkId> referenced{*c};
  int asked = 0;
  auto is_referenced = [&](const ChunkId& id) {
    ++asked;
    return referenced.count(id) > 0;
  };

  clock_.AdvanceMillis(999);  // younger than the grace period: untouchable
  EXPECT_EQ(*store_->Sweep(is_referenced), 0u);
  EXPECT_EQ(asked, 0);

  clock_.AdvanceMillis(1);
  ASSERT_TRUE(store_->Put(Data(21, 20)).ok());   // b is put again: young again
  EXPECT_EQ(*store_->Sweep(is_referenced), 1u);  // a only
  EXPECT_FALSE(store_->Has(*a));
  EXPECT_TRUE(store_->Has(*b));
  EXPECT_TRUE(store_->Has(*c));
  ExpectStats(2, 50, 0);

  clock_.AdvanceMillis(1000);
  EXPECT_EQ(*store_->Sweep(is_referenced), 1u);  // b; c is referenced
  EXPECT_TRUE(store_->Has(*c));
  ExpectStats(1, 30, 0);
}

TEST_F(ChunkStoreTest, ConcurrentPutsOfTheSameChunk) {
  const std::string data = Data(30, 256 << 10);
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (!store_->Put(data).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  ExpectStats(1, data.size(), 0);
  EXPECT_EQ(ChunkFiles(), 1u);
  EXPECT_EQ(TempFiles(), 0u);
  EXPECT_TRUE(*store_->Read(ChunkId::Of(data)) == data);
}

// The interleaving Sweep must survive, made deterministic: the chunk is Put
// again after Sweep found it old and unreferenced, before it deletes it.
TEST_F(ChunkStoreTest, ChunkPutDuringSweepSurvives) {
  const std::string data = Data(50, 100);
  auto id = store_->Put(data);
  ASSERT_TRUE(id.ok());
  clock_.AdvanceMillis(5000);
  Status put;
  auto n = store_->Sweep([&](const ChunkId& seen) {
    if (seen == *id) put = store_->Put(data).status();  // an upload reuses it
    return false;
  });
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(store_->Has(*id));
  ExpectStats(1, data.size(), 0);
}

// Puts of old, unreferenced chunks race with a sweeper: a chunk whose Put
// returned is never lost, and the counters match the files.
TEST_F(ChunkStoreTest, PutRacingSweepNeverLosesAPutChunk) {
  constexpr int kChunks = 100;
  for (int i = 0; i < kChunks; ++i)
    ASSERT_TRUE(store_->Put(Data(1000 + i, 512)).ok());
  clock_.AdvanceMillis(5000);  // all old now; the clock stands still from here

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swept{0};
  std::thread sweeper([&] {
    while (!stop) {
      auto n = store_->Sweep([](const ChunkId&) { return false; });
      if (n.ok()) swept += *n;
    }
  });
  for (int i = 0; i < kChunks; ++i) {
    auto id = store_->Put(Data(1000 + i, 512));
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(store_->Has(*id)) << i;
  }
  stop = true;
  sweeper.join();
  ExpectStats(kChunks, kChunks * 512, 0);
  EXPECT_EQ(ChunkFiles(), static_cast<size_t>(kChunks));
  Reopen();
  ExpectStats(kChunks, kChunks * 512, 0);
}

TEST_F(ChunkStoreTest, OpenRemovesStaleTempFilesAndRecounts) {
  ASSERT_TRUE(store_->Put(Data(40, 100)).ok());
  ASSERT_TRUE(store_->Put(Data(41, 200)).ok());
  store_.reset();
  ASSERT_TRUE(env_.WriteFileAtomic(options_.dir + "/tmp/deadbeef.7", "half a chunk").ok());
  Reopen();
  EXPECT_EQ(TempFiles(), 0u);
  ExpectStats(2, 300, 0);
}

TEST_F(ChunkStoreTest, SecondOpenOfTheSameDirIsRefused) {
  auto second = ChunkStore::Open(&env_, options_);
  EXPECT_EQ(second.status().code(), Code::kUnavailable) << second.status().ToString();
}

// A real full filesystem: a 2 MiB tmpfs. Needs CAP_SYS_ADMIN.
TEST_F(ChunkStoreTest, RealFullFilesystemIsNoSpace) {
  const std::string mnt = root_ + "/small";
  ASSERT_TRUE(env_.CreateDirs(mnt).ok());
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};

  ChunkStoreOptions options;
  options.dir = mnt + "/data";
  auto opened = ChunkStore::Open(Env::Default(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = *opened;

  std::vector<std::string> stored;
  Status full;
  for (int i = 0; i < 5 && full.ok(); ++i) {
    std::string data = Data(500 + i, 768 << 10);
    auto id = store->Put(data);
    if (id.ok()) {
      stored.push_back(std::move(data));
    } else {
      full = id.status();
    }
  }
  ASSERT_EQ(full.code(), Code::kNoSpace) << full.ToString();
  EXPECT_GE(stored.size(), 1u);
  EXPECT_EQ(CountFiles(options.dir + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(options.dir + "/chunks"), stored.size());
  EXPECT_EQ(store->Stats().chunks, stored.size());
  for (const auto& d : stored)
    EXPECT_TRUE(store->Read(ChunkId::Of(d)).ok());

  // Freeing space makes writes work again.
  ASSERT_TRUE(store->Remove(ChunkId::Of(stored.back())).ok());
  EXPECT_TRUE(store->Put(stored.back()).ok());
  store.reset();  // close the store before unmounting
}

}  // namespace
}  // namespace kdfs
