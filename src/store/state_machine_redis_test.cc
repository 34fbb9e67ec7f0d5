// Slower scenarios against a real redis-server: crashes of Redis between and
// during records, O(1) directory rename, and listing a very large directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "store/meta_schema.h"
#include "store/state_machine.h"
#include "store/store_test_util.h"

namespace kdfs {
namespace {

using testing::OpRecord;
using Clock = std::chrono::steady_clock;

class StateMachineRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisTestServer::FindBinary().empty()) GTEST_SKIP() << "redis-server is not installed";
  }

  static RedisKvOptions OptionsFor(const RedisTestServer& server) {
    RedisKvOptions o;
    o.port = server.port();
    o.prefix = "kdfs-test:";
    o.connect_timeout_ms = 500;
    return o;
  }

  // Digests of the in-memory reference after each record of `records`.
  static std::vector<std::string> ReferenceDigests(const std::vector<LogRecord>& records,
                                                   std::string* tree) {
    MemoryKv kv;
    StateMachine sm(&kv);
    EXPECT_TRUE(sm.Open().ok());
    std::vector<std::string> digests;
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_TRUE(sm.Apply(static_cast<int64_t>(i), records[i]).ok());
      digests.push_back(sm.digest());
    }
    *tree = testing::TreeOf(sm);
    return digests;
  }
};

TEST_F(StateMachineRedisTest, KilledBetweenRecordsReplaysToSameDigest) {
  RedisTestServer server(RedisTestServer::Options{.aof = true});
  ASSERT_TRUE(server.Start().ok());
  const auto records = testing::RandomRecords(7, 400);
  std::string ref_tree;
  const auto ref = ReferenceDigests(records, &ref_tree);

  RedisKv kv(OptionsFor(server));
  auto sm = std::make_unique<StateMachine>(&kv);
  ASSERT_TRUE(sm->Open().ok());
  int64_t next = 0;
  int restarts = 0, exact = 0;
  while (next < static_cast<int64_t>(records.size())) {
    auto out = sm->Apply(next, records[next]);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ++next;
    if (next % 80 != 0 || next >= static_cast<int64_t>(records.size())) continue;
    // SIGKILL between two records, restart from the AOF, reopen, resume
    // from applied_offset + 1 as the log follower does.
    server.Kill();
    EXPECT_EQ(sm->Apply(next, records[next]).status().code(), Code::kUnavailable);
    ASSERT_TRUE(server.Start().ok());
    ++restarts;
    sm = std::make_unique<StateMachine>(&kv);
    ASSERT_TRUE(sm->Open().ok());
    const int64_t applied = sm->applied_offset();
    // appendfsync everysec may lose the last second on a power cut, never on
    // a process kill; either way the state is exactly a prefix of the log.
    ASSERT_LE(applied, next - 1);
    ASSERT_GE(applied, 0);
    EXPECT_EQ(sm->digest(), ref[applied]) << "state at offset " << applied << " is not a prefix";
    if (applied == next - 1) ++exact;
    next = applied + 1;
  }
  EXPECT_GE(restarts, 4);
  EXPECT_GE(exact, 1);
  EXPECT_EQ(sm->digest(), ref.back());
  EXPECT_EQ(testing::TreeOf(*sm), ref_tree);
}

TEST_F(StateMachineRedisTest, KilledDuringApplyReplaysToSameDigest) {
  RedisTestServer server(RedisTestServer::Options{.aof = true});
  ASSERT_TRUE(server.Start().ok());
  const auto records = testing::RandomRecords(11, 1500);
  std::string ref_tree;
  const auto ref = ReferenceDigests(records, &ref_tree);

  RedisKv kv(OptionsFor(server));
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  std::atomic<int64_t> progress{0};
  std::atomic<int> failures{0}, rewinds{0};
  // The applier behaves like the log follower: after a failure it resumes
  // from applied_offset() + 1 (lower than before if Redis lost acknowledged
  // writes); it never reopens the state machine.
  std::thread applier([&] {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    for (int64_t i = 0; i < static_cast<int64_t>(records.size()) && Clock::now() < deadline;) {
      auto out = sm.Apply(i, records[i]);
      if (out.ok()) {
        EXPECT_EQ(sm.digest(), ref[i]) << "diverged at offset " << i;
        progress = ++i;
      } else {
        ++failures;
        if (sm.applied_offset() + 1 < i) ++rewinds;
        i = sm.applied_offset() + 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // retry back-off
      }
    }
  });
  // SIGKILL Redis at arbitrary moments while records are being applied.
  // (Start() runs on this thread: the server is tied to it.)
  for (int64_t at : {200, 600, 1000, 1300}) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (progress.load() < at && Clock::now() < deadline)
      std::this_thread::yield();
    server.Kill();
    ASSERT_TRUE(server.Start().ok());
  }
  applier.join();
  std::printf("%d failed applies, %d rewinds after Redis lost acknowledged writes\n",
              failures.load(), rewinds.load());
  EXPECT_EQ(progress.load(), static_cast<int64_t>(records.size()));
  EXPECT_GT(failures.load(), 0);
  EXPECT_EQ(sm.applied_offset(), static_cast<int64_t>(records.size()) - 1);
  EXPECT_EQ(sm.digest(), ref.back());
  EXPECT_EQ(testing::TreeOf(sm), ref_tree);
  StateMachine reopened(&kv);
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_EQ(reopened.digest(), ref.back());
}

TEST_F(StateMachineRedisTest, ReadsReconnectAfterRestart) {
  RedisTestServer server;
  ASSERT_TRUE(server.Start().ok());
  RedisKv kv(OptionsFor(server));
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  testing::OpMaker m;
  ASSERT_TRUE(sm.Apply(0, OpRecord(m.Put("/f", "x"))).ok());
  server.Kill();  // no AOF: the restarted server is empty
  EXPECT_EQ(kv.Ping().code(), Code::kUnavailable);
  EXPECT_EQ(sm.Stat("/f").status().code(), Code::kUnavailable);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(kv.Ping().ok());
  EXPECT_EQ(sm.Stat("/f").status().code(), Code::kNotFound);
}

TEST_F(StateMachineRedisTest, CommitAfterSilentRestartUsesFreshConnection) {
  RedisTestServer server(RedisTestServer::Options{.aof = true});
  ASSERT_TRUE(server.Start().ok());
  RedisKv kv(OptionsFor(server));
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  testing::OpMaker m;
  ASSERT_TRUE(sm.Apply(0, OpRecord(m.Put("/f", "x"))).ok());
  server.Kill();
  ASSERT_TRUE(server.Start().ok());
  // No call saw the outage; the pooled connection is dead but detected
  // before use, so the very next Apply succeeds.
  auto out = sm.Apply(1, OpRecord(m.Put("/g", "y")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(sm.Stat("/g").ok());
}

// Wall time of Apply for one rename record.
std::chrono::nanoseconds TimeRename(StateMachine* sm, testing::OpMaker* m, const std::string& from,
                                    const std::string& to) {
  const auto start = Clock::now();
  auto out = sm->Apply(sm->applied_offset() + 1, OpRecord(m->Rename(from, to)));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(out.ok() && out->status.ok());
  return took;
}

TEST_F(StateMachineRedisTest, RenameTimeIsIndependentOfSubtreeSize) {
  RedisTestServer server;
  ASSERT_TRUE(server.Start().ok());
  RedisKv kv(OptionsFor(server));
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  testing::OpMaker m;
  auto put = [&](const std::string& path) {
    auto out = sm.Apply(sm.applied_offset() + 1, OpRecord(m.Put(path, "x")));
    ASSERT_TRUE(out.ok() && out->status.ok());
  };
  for (int i = 0; i < 10; ++i)
    put("/small/f" + std::to_string(i));
  for (int i = 0; i < 10000; ++i) {
    put("/big/d" + std::to_string(i % 100) + "/f" + std::to_string(i));
  }
  std::vector<std::chrono::nanoseconds> small, big;
  for (int round = 0; round < 21; ++round) {
    const bool even = round % 2 == 0;
    small.push_back(TimeRename(&sm, &m, even ? "/small" : "/small2", even ? "/small2" : "/small"));
    big.push_back(TimeRename(&sm, &m, even ? "/big" : "/big2", even ? "/big2" : "/big"));
  }
  std::sort(small.begin(), small.end());
  std::sort(big.begin(), big.end());
  const auto small_median = small[small.size() / 2];
  const auto big_median = big[big.size() / 2];
  std::printf("rename median: 10 descendants %lld us, 10000 descendants %lld us\n",
              static_cast<long long>(small_median.count() / 1000),
              static_cast<long long>(big_median.count() / 1000));
  // An O(subtree) rename would touch 10,100 entries, ~1000x the work.
  EXPECT_LT(big_median, small_median * 10);
  EXPECT_TRUE(sm.Stat("/big2/d42/f9942").ok());
  EXPECT_FALSE(sm.Stat("/big").ok());
}

TEST_F(StateMachineRedisTest, ListsHundredThousandEntries) {
  RedisTestServer server;
  ASSERT_TRUE(server.Start().ok());
  RedisKv kv(OptionsFor(server));
  StateMachine sm(&kv);
  ASSERT_TRUE(sm.Open().ok());
  testing::OpMaker m;
  ASSERT_TRUE(sm.Apply(0, OpRecord(m.Mkdir("/big"))).ok());
  const uint64_t dir = sm.Stat("/big")->ino;

  // 100,000 entries written straight into the schema in a few pipelined
  // batches (100,000 put records would only test Apply again).
  constexpr int kEntries = 100000;
  std::vector<std::string> names;
  for (int i = 0; i < kEntries; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%06d", (i * 7919) % kEntries);  // scrambled order
    names.push_back(i % 1000 == 0 ? std::string(name) + "\xC3\xA9" : std::string(name));
  }
  for (int start = 0; start < kEntries; start += 25000) {
    WriteBatch b;
    for (int i = start; i < start + 25000; ++i) {
      FileInfo info;
      info.ino = 1'000'000 + i;
      info.size = i;
      schema::PutInode(info, dir, names[i], &b);
    }
    for (int i = start; i < start + 25000; ++i) {
      b.HSet(schema::DirentKey(dir), names[i], std::to_string(1'000'000 + i));
    }
    for (int i = start; i < start + 25000; ++i)
      b.ZAdd(schema::IndexKey(dir), names[i]);
    ASSERT_TRUE(kv.Commit(b).ok());
  }

  std::sort(names.begin(), names.end());
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  const auto start = Clock::now();
  while (true) {
    auto page = sm.List("/big", after, 997);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& e : page->entries) {
      seen.push_back(e.name);
      EXPECT_EQ(e.info.ino - 1'000'000, e.info.size);
    }
    if (!page->next) break;
    ASSERT_EQ(page->entries.size(), 997u);
    after = *page->next;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::printf("listed %zu entries in %d pages in %lld ms\n", seen.size(), pages,
              static_cast<long long>(ms.count()));
  EXPECT_EQ(pages, (kEntries + 996) / 997);
  EXPECT_EQ(seen, names);
  auto max_page = sm.List("/big", "", 1'000'000);  // clamped
  ASSERT_TRUE(max_page.ok());
  EXPECT_EQ(max_page->entries.size(), 10000u);
  EXPECT_TRUE(max_page->next.has_value());
}

}  // namespace
}  // namespace kdfs
