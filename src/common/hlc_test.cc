#include "common/hlc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace kdfs {
namespace {

TEST(HlcTest, EncodeDecodeRoundTrip) {
  Hlc h{1700000000123, 7, "node-2"};
  EXPECT_EQ(h.Encode(), "1700000000123.7.node-2");
  auto d = Hlc::Decode(h.Encode());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, h);

  Hlc dotted{5, 0, "n.example.org"};
  auto d2 = Hlc::Decode(dotted.Encode());
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(*d2, dotted);

  auto zero = Hlc::Decode(Hlc{}.Encode());
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, Hlc{});
}

TEST(HlcTest, DecodeRejectsMalformed) {
  for (const char* bad : {"", "123", "123.4", "x.1.n", "1.x.n", "-1.0.n", "1.-1.n", "1 .0.n",
                          "1.4294967296.n", "99999999999999999999.0.n", ".1.n", "1..n"}) {
    auto d = Hlc::Decode(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(HlcTest, OrderingIsPhysicalThenLogicalThenNode) {
  EXPECT_LT((Hlc{1, 9, "z"}), (Hlc{2, 0, "a"}));
  EXPECT_LT((Hlc{2, 0, "z"}), (Hlc{2, 1, "a"}));
  EXPECT_LT((Hlc{2, 1, "node-1"}), (Hlc{2, 1, "node-2"}));
  EXPECT_EQ((Hlc{2, 1, "n"}), (Hlc{2, 1, "n"}));
}

TEST(HlcClockTest, FollowsWallClockWhenItAdvances) {
  FakeClock clock(1000);
  HlcClock hlc(&clock, "n1");
  EXPECT_EQ(hlc.Now(), (Hlc{1000, 0, "n1"}));
  EXPECT_EQ(hlc.Now(), (Hlc{1000, 1, "n1"}));
  clock.AdvanceMillis(5);
  EXPECT_EQ(hlc.Now(), (Hlc{1005, 0, "n1"}));
}

TEST(HlcClockTest, MonotonicWhenWallClockStepsBack) {
  FakeClock clock(10'000);
  HlcClock hlc(&clock, "n1");
  Hlc prev = hlc.Now();
  clock.SetWallMillis(4'000);  // NTP step backwards
  for (int i = 0; i < 100; ++i) {
    Hlc next = hlc.Now();
    EXPECT_GT(next, prev);
    EXPECT_EQ(next.physical_ms, 10'000);  // stays on the highest time seen
    prev = next;
  }
  clock.SetWallMillis(10'001);
  EXPECT_EQ(hlc.Now(), (Hlc{10'001, 0, "n1"}));
}

TEST(HlcClockTest, ObserveOfSkewedRemoteOrdersLaterEvents) {
  FakeClock clock(1'000);
  HlcClock hlc(&clock, "a");
  // A remote node whose clock runs 1 minute ahead, with a larger node id and
  // a high counter.
  Hlc remote{61'000, 42, "z"};
  hlc.Observe(remote);
  Hlc after = hlc.Now();
  EXPECT_GT(after, remote);
  EXPECT_EQ(after.physical_ms, 61'000);
  EXPECT_EQ(after.logical, 43u);
  // Once the local wall clock passes the remote's, it takes over again.
  clock.SetWallMillis(70'000);
  EXPECT_EQ(hlc.Now(), (Hlc{70'000, 0, "a"}));
}

TEST(HlcClockTest, ObserveSameMillisecondTakesLargerCounter) {
  FakeClock clock(1'000);
  HlcClock hlc(&clock, "a");
  hlc.Now();  // (1000, 0)
  Hlc remote{1'000, 7, "b"};
  hlc.Observe(remote);
  EXPECT_EQ(hlc.Now(), (Hlc{1'000, 8, "a"}));
  // An older remote does not move the clock back.
  hlc.Observe(Hlc{500, 100, "c"});
  EXPECT_EQ(hlc.Now(), (Hlc{1'000, 9, "a"}));
}

TEST(HlcClockTest, UniqueAndIncreasingAcrossThreads) {
  FakeClock clock(1'000);
  HlcClock hlc(&clock, "a");
  constexpr int kThreads = 4;
  constexpr int kPer = 2000;
  std::vector<std::vector<Hlc>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        if (i % 500 == 0) clock.AdvanceMillis(1);
        seen[t].push_back(hlc.Now());
      }
    });
  }
  for (auto& th : threads)
    th.join();
  std::vector<Hlc> all;
  for (auto& v : seen) {
    for (size_t i = 1; i < v.size(); ++i)
      EXPECT_LT(v[i - 1], v[i]);  // per thread increasing
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());  // no duplicates
}

}  // namespace
}  // namespace kdfs
