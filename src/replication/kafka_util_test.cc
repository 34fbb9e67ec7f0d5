#include "replication/kafka_util.h"

#include <gtest/gtest.h>

#include "replication/topic_admin.h"

namespace kdfs {
namespace {

TEST(KafkaUtilTest, NamesFollowThePrefix) {
  auto n = kafka::Names::ForPrefix("t1");
  EXPECT_EQ(n.chunks, "t1.chunks");
  EXPECT_EQ(n.proposals, "t1.proposals");
  EXPECT_EQ(n.log, "t1.log");
  EXPECT_EQ(n.election, "t1.election");
  EXPECT_EQ(n.leader_txn_id, "t1.leader");
  EXPECT_EQ(n.ChunkGroup("node-2"), "t1.chunks.node-2");
}

TEST(KafkaUtilTest, ErrorsMapOntoKdfsCodes) {
  EXPECT_TRUE(kafka::KafkaStatus(RdKafka::ERR_NO_ERROR, "x").ok());
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__TIMED_OUT, "x").code(), Code::kTimeout);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__MSG_TIMED_OUT, "x").code(), Code::kTimeout);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__TRANSPORT, "x").code(), Code::kUnavailable);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__ALL_BROKERS_DOWN, "x").code(), Code::kUnavailable);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__FENCED, "x").code(), Code::kUnavailable);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR_MSG_SIZE_TOO_LARGE, "x").code(),
            Code::kPayloadTooLarge);
  EXPECT_EQ(kafka::KafkaStatus(RdKafka::ERR__INVALID_ARG, "x").code(), Code::kInternal);
  Status s = kafka::KafkaStatus(RdKafka::ERR__TRANSPORT, "produce to t.log");
  EXPECT_NE(s.message().find("produce to t.log"), std::string::npos);
}

TEST(KafkaUtilTest, BadConfigurationIsReportedWithItsKey) {
  auto conf = kafka::NewConf("127.0.0.1:1", "c", nullptr, {{"no.such.setting", "1"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("no.such.setting"), std::string::npos);
}

TEST(KafkaUtilTest, TopicSpecsRaiseRecordSizeAndKeepTheLog) {
  ReplicatorOptions o;
  o.topic_prefix = "p";
  o.chunk_partitions = 6;
  o.topic_replication = 3;
  o.max_record_bytes = 2 << 20;
  o.chunk_retention_ms = 1000;
  auto specs = KdfsTopicSpecs(o);
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[0].name, "p.chunks");
  EXPECT_EQ(specs[0].partitions, 6);
  EXPECT_EQ(specs[0].configs.at("retention.ms"), "1000");
  for (const auto& s : specs) {
    EXPECT_EQ(s.replication, 3);
    EXPECT_GE(std::stoll(s.configs.at("max.message.bytes")), int64_t{2} << 20);
    EXPECT_EQ(std::stoll(s.configs.at("max.message.bytes")), kafka::ClientMessageMax(2 << 20));
    EXPECT_EQ(s.configs.at("min.insync.replicas"), "2");
  }
  EXPECT_EQ(specs[1].partitions, 1);  // proposals
  EXPECT_EQ(specs[2].name, "p.log");
  EXPECT_EQ(specs[2].partitions, 1);
  EXPECT_EQ(specs[2].configs.at("retention.ms"), "-1");
  EXPECT_EQ(specs[3].name, "p.election");
  EXPECT_EQ(specs[3].partitions, 1);
}

}  // namespace
}  // namespace kdfs
