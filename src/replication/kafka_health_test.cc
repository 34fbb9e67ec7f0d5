#include "replication/kafka_health.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

using namespace std::chrono_literals;

TEST(KafkaHealthTest, UnknownUntilAProbeSucceeds) {
  FakeClock clock;
  KafkaHealth health("n1", &clock, 3s);
  EXPECT_FALSE(health.connected());
  health.ReportProbe(true);
  EXPECT_TRUE(health.connected());
  health.ReportProbe(false);
  EXPECT_FALSE(health.connected());
}

// A probe stuck inside librdkafka reports nothing; the last success must not
// keep a dead Kafka looking reachable.
TEST(KafkaHealthTest, VerdictExpiresWithoutAFreshProbe) {
  FakeClock clock;
  KafkaHealth health("n1", &clock, 3s);
  health.ReportProbe(true);
  clock.AdvanceMillis(3000);
  EXPECT_TRUE(health.connected());
  clock.AdvanceMillis(1);
  EXPECT_FALSE(health.connected());
  health.ReportProbe(true);
  EXPECT_TRUE(health.connected());
}

}  // namespace
}  // namespace kdfs
