#include "recovery/scrubber.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/env.h"
#include "store/memory_kv.h"
#include "store/store_test_util.h"

namespace kdfs {
namespace {

namespace fs = std::filesystem;

class ScrubberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "kdfs_scrub_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ChunkStoreOptions options;
    options.dir = root_;
    auto store = ChunkStore::Open(Env::Default(), options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(sm_.Open().ok());
    // One file of three 4-byte chunks, stored locally and on the "peer".
    testing::OpMaker ops;
    Operation put = ops.Put("/f", "aaaabbbbcccc");
    for (size_t i = 0; i < 3; ++i) {
      std::string piece = std::string("aaaabbbbcccc").substr(i * 4, 4);
      peer_[put.chunks[i]] = piece;
      ASSERT_TRUE(store_->Put(piece).ok());
    }
    chunks_ = put.chunks;
    ASSERT_TRUE(sm_.Apply(0, testing::OpRecord(put)).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  std::string PathOf(const ChunkId& id) const {
    const std::string hex = id.Hex();
    return root_ + "/chunks/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
  }
  void Overwrite(const ChunkId& id, const std::string& bytes) {
    std::ofstream(PathOf(id), std::ios::binary | std::ios::trunc) << bytes;
  }
  Scrubber MakeScrubber() {
    return Scrubber(ScrubberOptions{0}, store_.get(), &sm_, &kv_, [this](const ChunkId& id) {
      ++fetches_;
      auto it = peer_.find(id);
      if (it == peer_.end()) return Status::NotFound("no peer has it");
      return store_->PutVerified(id, it->second);
    });
  }

  std::string root_;
  std::unique_ptr<ChunkStore> store_;
  MemoryKv kv_;
  StateMachine sm_{&kv_};
  std::map<ChunkId, std::string> peer_;
  std::vector<ChunkId> chunks_;
  int fetches_ = 0;
};

TEST_F(ScrubberTest, RepairsCorruptAndMissingReferencedChunks) {
  Overwrite(chunks_[0], "XXXX");
  ASSERT_TRUE(store_->Remove(chunks_[2]).ok());
  Scrubber scrubber = MakeScrubber();
  scrubber.RunPass();
  const ScrubberCounters& c = scrubber.counters();
  EXPECT_EQ(c.scanned.load(), 2u);  // the two files on disk
  EXPECT_EQ(c.corrupt.load(), 1u);
  EXPECT_EQ(c.missing.load(), 1u);
  EXPECT_EQ(c.repaired.load(), 2u);
  EXPECT_EQ(c.failed.load(), 0u);
  for (const auto& id : chunks_) {
    auto data = store_->Read(id);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(*data, peer_[id]);
  }
  // A clean pass finds nothing.
  scrubber.RunPass();
  EXPECT_EQ(c.scanned.load(), 5u);
  EXPECT_EQ(c.repaired.load(), 2u);
  EXPECT_EQ(c.passes.load(), 2u);
}

TEST_F(ScrubberTest, UnreferencedCorruptChunkIsQuarantinedNotFetched) {
  auto extra = store_->Put("zzzz");
  ASSERT_TRUE(extra.ok());
  Overwrite(*extra, "yyyy");
  Scrubber scrubber = MakeScrubber();
  scrubber.RunPass();
  EXPECT_EQ(scrubber.counters().corrupt.load(), 1u);
  EXPECT_EQ(fetches_, 0);
  EXPECT_FALSE(store_->Has(*extra));
}

TEST_F(ScrubberTest, CountsWhatNoPeerCanRepair) {
  peer_.erase(chunks_[1]);
  Overwrite(chunks_[1], "QQQQ");
  Scrubber scrubber = MakeScrubber();
  scrubber.RunPass();
  EXPECT_EQ(scrubber.counters().corrupt.load(), 1u);
  EXPECT_EQ(scrubber.counters().failed.load(), 1u);
  EXPECT_FALSE(store_->Has(chunks_[1]));
}

}  // namespace
}  // namespace kdfs
