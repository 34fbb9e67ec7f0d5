#include "replication/inflight_window.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace kdfs {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(InflightWindowTest, AcquireBlocksWhileFullUntilARelease) {
  InflightWindow w(2);
  ASSERT_TRUE(w.Acquire(steady_clock::now() + milliseconds(10)).ok());
  ASSERT_TRUE(w.Acquire(steady_clock::now() + milliseconds(10)).ok());
  // Full: a third Acquire times out and counts nothing.
  EXPECT_EQ(w.Acquire(steady_clock::now() + milliseconds(20)).code(), Code::kTimeout);
  EXPECT_EQ(w.in_flight(), 2u);

  std::atomic<bool> acquired{false};
  std::thread t([&] {
    EXPECT_TRUE(w.Acquire(steady_clock::now() + std::chrono::seconds(10)).ok());
    acquired = true;
  });
  EXPECT_FALSE(acquired.load());
  w.Release(Status::Ok());  // room for the waiting one
  t.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(w.in_flight(), 2u);
}

TEST(InflightWindowTest, FirstDeliveryErrorIsKeptAndStopsTheUpload) {
  InflightWindow w(4);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(w.Acquire(steady_clock::now()).ok());
  w.Release(Status::Ok());
  w.Release(Status::Unavailable("broker gone"));
  w.Release(Status::Timeout("later failure"));
  EXPECT_EQ(w.first_error().code(), Code::kUnavailable);
  // Neither more records nor Finish succeed after a failure.
  EXPECT_EQ(w.Acquire(steady_clock::now() + milliseconds(10)).code(), Code::kUnavailable);
  EXPECT_EQ(w.WaitAll(steady_clock::now() + milliseconds(10)).code(), Code::kUnavailable);
}

TEST(InflightWindowTest, WaitAllWaitsForEveryAcknowledgement) {
  InflightWindow w(8);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(w.Acquire(steady_clock::now()).ok());
  EXPECT_EQ(w.WaitAll(steady_clock::now() + milliseconds(20)).code(), Code::kTimeout);
  std::thread acker([&] {
    for (int i = 0; i < 5; ++i)
      w.Release(Status::Ok());
  });
  EXPECT_TRUE(w.WaitAll(steady_clock::now() + std::chrono::seconds(10)).ok());
  acker.join();
  EXPECT_EQ(w.in_flight(), 0u);
}

TEST(InflightWindowTest, CancelGivesBackTheSlot) {
  InflightWindow w(1);
  ASSERT_TRUE(w.Acquire(steady_clock::now()).ok());
  w.Cancel();
  EXPECT_EQ(w.in_flight(), 0u);
  EXPECT_TRUE(w.Acquire(steady_clock::now()).ok());
  EXPECT_TRUE(w.first_error().ok());
}

}  // namespace
}  // namespace kdfs
