#include "replication/outcome_waiters.h"

#include <gtest/gtest.h>

#include <thread>

namespace kdfs {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

ApplyOutcome OutcomeFor(const std::string& op_id, int64_t version) {
  ApplyOutcome o;
  o.op_id = op_id;
  o.version = version;
  return o;
}

TEST(OutcomeWaitersTest, CompleteWakesEveryTicketOfThatOpIdOnly) {
  OutcomeWaiters w;
  auto a1 = w.Register("a");
  auto a2 = w.Register("a");
  auto b = w.Register("b");
  std::thread waiter([&] {
    ASSERT_TRUE(a1->WaitUntil(steady_clock::now() + std::chrono::seconds(10)));
    EXPECT_EQ(a1->outcome()->version, 7);
  });
  w.Complete(OutcomeFor("a", 7));
  waiter.join();
  ASSERT_TRUE(a2->WaitUntil(steady_clock::now()));
  EXPECT_EQ(a2->outcome()->version, 7);
  EXPECT_FALSE(b->WaitUntil(steady_clock::now() + milliseconds(10)));
  EXPECT_EQ(w.size(), 1u);  // only b is left
}

TEST(OutcomeWaitersTest, DeliveryFailureEndsTheWait) {
  OutcomeWaiters w;
  auto t = w.Register("x");
  t->FailDelivery(Status::Unavailable("no broker"));
  ASSERT_TRUE(t->WaitUntil(steady_clock::now()));
  EXPECT_FALSE(t->outcome().has_value());
  EXPECT_EQ(t->delivery_error().code(), Code::kUnavailable);
}

TEST(OutcomeWaitersTest, UnregisterForgetsTheTicket) {
  OutcomeWaiters w;
  auto t = w.Register("x");
  w.Unregister("x", t);
  EXPECT_EQ(w.size(), 0u);
  w.Complete(OutcomeFor("x", 1));  // nobody to wake
  EXPECT_FALSE(t->WaitUntil(steady_clock::now()));
  // Unregistering a completed ticket is harmless.
  auto u = w.Register("y");
  w.Complete(OutcomeFor("y", 2));
  w.Unregister("y", u);
  EXPECT_TRUE(u->WaitUntil(steady_clock::now()));
}

}  // namespace
}  // namespace kdfs
