// Topic creation against the real broker. Skipped when no broker answers.
#include <gtest/gtest.h>

#include "replication/kafka_test_util.h"
#include "replication/topic_admin.h"

namespace kdfs {
namespace {

std::unique_ptr<RdKafka::Producer> AdminHandle() {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", testing::TestBrokers(), err);
  conf->set("log_level", "0", err);
  return std::unique_ptr<RdKafka::Producer>(RdKafka::Producer::create(conf.get(), err));
}

std::vector<TopicSpec> SpecsFor(const std::string& prefix) {
  ReplicatorOptions options;
  options.topic_prefix = prefix;
  return KdfsTopicSpecs(options);
}

// A restarting node must not need the controller when its topics exist (a
// 30-minute chaos campaign saw restarts stall on "Timed out waiting for
// controller"): only absent topics are ever sent to CreateTopics.
TEST(TopicAdminKafkaTest, AsksTheControllerOnlyForAbsentTopics) {
  KDFS_REQUIRE_KAFKA();
  auto handle = AdminHandle();
  ASSERT_TRUE(handle);
  const auto specs = SpecsFor(testing::UniquePrefix("topics"));
  ASSERT_EQ(specs.size(), 4u);

  // One topic made beforehand, as if a node had crashed mid-way.
  auto first = EnsureTopics(handle.get(), {specs[2]}, 10000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 1);

  // A broker's metadata cache follows the controller a moment later.
  const std::vector<std::string> others{specs[0].name, specs[1].name, specs[3].name};
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto absent = AbsentTopics(handle.get(), specs, 10000);
        return absent.ok() && *absent == others;
      },
      std::chrono::seconds(20)));

  auto rest = EnsureTopics(handle.get(), specs, 10000);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(*rest, 3);

  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto absent = AbsentTopics(handle.get(), specs, 10000);
        return absent.ok() && absent->empty();
      },
      std::chrono::seconds(20)));
  auto again = EnsureTopics(handle.get(), specs, 10000);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
}

TEST(TopicAdminKafkaTest, UnreachableClusterIsUnavailableNotCreated) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", "127.0.0.1:1", err);
  conf->set("log_level", "0", err);
  std::unique_ptr<RdKafka::Producer> handle(RdKafka::Producer::create(conf.get(), err));
  ASSERT_TRUE(handle);
  auto r = EnsureTopics(handle.get(), SpecsFor("kdfs-test-unreachable"), 500);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == Code::kUnavailable || r.status().code() == Code::kTimeout)
      << r.status().ToString();
}

}  // namespace
}  // namespace kdfs
