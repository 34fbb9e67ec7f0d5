// Helpers for the replication tests that run against a real Kafka broker:
// locating it (env KDFS_TEST_KAFKA, default 127.0.0.1:19092), unique topic
// prefixes, an
// in-process "node" (chunk store in a temporary dir, MemoryKv state machine,
// HLC, Replicator), polling with a deadline and reading the committed log.
//
// Header-only: test code, never part of the library.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/env.h"
#include "common/hlc.h"
#include "replication/kafka_replicator.h"
#include "store/chunk_store.h"
#include "store/memory_kv.h"
#include "store/state_machine.h"

namespace kdfs::testing {

// The broker named by KDFS_TEST_KAFKA, if set (`make test` sets it through
// scripts/with-kafka).
inline const char* NamedTestBrokers() {
  const char* env = std::getenv("KDFS_TEST_KAFKA");
  return env && *env ? env : nullptr;
}

inline std::string TestBrokers() {
  const char* named = NamedTestBrokers();
  return named ? named : "127.0.0.1:19092";
}

// True if the broker answers a metadata request within 5 s (checked once).
inline bool KafkaAvailable() {
  static const bool available = [] {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", TestBrokers(), err);
    conf->set("log_level", "0", err);
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
    if (!p) return false;
    RdKafka::Metadata* md = nullptr;
    const bool ok = p->metadata(true, nullptr, &md, 5000) == RdKafka::ERR_NO_ERROR;
    delete md;
    return ok;
  }();
  return available;
}

// A test that needs the broker: it fails if KDFS_TEST_KAFKA names a broker
// that does not answer (a test run that promised one must not pass by skipping
// them), and is skipped if no broker was named and none answers at the default.
#define KDFS_REQUIRE_KAFKA()                                                          \
  do {                                                                                \
    if (!::kdfs::testing::KafkaAvailable()) {                                         \
      if (::kdfs::testing::NamedTestBrokers())                                        \
        GTEST_FAIL() << "KDFS_TEST_KAFKA names " << ::kdfs::testing::TestBrokers()    \
                     << ", which does not answer";                                    \
      GTEST_SKIP() << "no Kafka broker answers at " << ::kdfs::testing::TestBrokers() \
                   << " (set KDFS_TEST_KAFKA, or run through scripts/with-kafka)";    \
    }                                                                                 \
  } while (0)

// A topic prefix no other test run uses.
inline std::string UniquePrefix(const std::string& name) {
  static std::atomic<int> n{0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return "kdfs-test-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(ms) + "-" +
         std::to_string(n++);
}

// Polls `pred` every 5 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline std::chrono::steady_clock::time_point In(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

// One in-process kdfs node: its own disk, metadata and Replicator.
struct TestNode {
  TestNode(const std::string& node_id, const std::string& prefix,
           const std::function<void(ReplicatorOptions&)>& tweak = {})
      : id(node_id), hlc(Clock::Real(), node_id), state(&kv) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kdfs-repl-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data()) ? tmpl : "";
    ChunkStoreOptions co;
    co.dir = dir;
    auto cs = ChunkStore::Open(Env::Default(), co);
    EXPECT_TRUE(cs.ok()) << cs.status().ToString();
    chunks = std::move(cs).value();
    Status opened = state.Open();
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    ReplicatorOptions o;
    o.node_id = node_id;
    o.brokers = TestBrokers();
    o.topic_prefix = prefix;
    o.chunk_partitions = 2;
    o.election_session_timeout_ms = 1000;
    o.transaction_timeout_ms = 3000;
    if (tweak) tweak(o);
    auto r = Replicator::Create(o, &state, chunks.get(), &hlc, Clock::Real());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    repl = std::move(r).value();
  }
  ~TestNode() {
    repl->Stop();
    repl.reset();
    chunks.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  KafkaReplicator* k() { return static_cast<KafkaReplicator*>(repl.get()); }
  bool leads() { return repl->View().is_leader; }

  Operation Op(OpType type, const std::string& path) {
    Operation op;
    op.op_id = id + "-" + std::to_string(++ops) + "-" + std::to_string(::getpid());
    op.origin = id;
    op.hlc = hlc.Now();
    op.type = type;
    op.path = path;
    return op;
  }
  // Stores `content` locally in chunks of `chunk_size`, publishes them and
  // returns the put operation for `path`.
  Operation PublishPut(const std::string& path, const std::string& content, uint32_t chunk_size) {
    Operation op = Op(OpType::kPut, path);
    op.size = content.size();
    op.chunk_size = chunk_size;
    op.etag = ChunkId::Of(content).Hex();
    op.content_type = "application/octet-stream";
    auto upload = repl->NewChunkUpload(4);
    for (size_t i = 0; i < content.size(); i += chunk_size) {
      const std::string_view piece = std::string_view(content).substr(i, chunk_size);
      auto id = chunks->Put(piece);
      EXPECT_TRUE(id.ok());
      EXPECT_TRUE(upload->Add(*id, piece).ok());
      op.chunks.push_back(*id);
    }
    Status s = upload->Finish(In(std::chrono::seconds(30)));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return op;
  }

  std::string id;
  std::string dir;
  HlcClock hlc;
  MemoryKv kv;
  StateMachine state;
  std::unique_ptr<ChunkStore> chunks;
  std::unique_ptr<Replicator> repl;
  int ops = 0;
};

// Waits until exactly one of `nodes` leads (`expect` if not null: with
// every node a member, the smallest id leads; before that whoever joined
// first may lead for a moment), every node has applied its leader record and
// reaches Kafka. Returns the leader, or null.
inline TestNode* WaitForLeader(const std::vector<TestNode*>& nodes, TestNode* expect = nullptr,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  TestNode* leader = nullptr;
  WaitFor(
      [&] {
        leader = nullptr;
        int leading = 0;
        for (auto* n : nodes) {
          if (n->leads()) {
            leader = n;
            ++leading;
          }
        }
        if (leading != 1 || (expect != nullptr && leader != expect)) return false;
        for (auto* n : nodes) {
          auto v = n->repl->View();
          if (!v.kafka_connected || !v.leader || v.leader->node != leader->id) return false;
        }
        return true;
      },
      timeout);
  return leader;
}

// Starts every node's replicator, then WaitForLeader. A node that fails to
// start is a test failure and yields null, so callers assert on the result:
//   ASSERT_EQ(testing::StartAndElect({&a, &b}, &a), &a);
inline TestNode* StartAndElect(const std::vector<TestNode*>& nodes, TestNode* expect = nullptr) {
  for (auto* n : nodes) {
    Status started = n->repl->Start();
    if (!started.ok()) {
      ADD_FAILURE() << n->id << " did not start: " << started.ToString();
      return nullptr;
    }
  }
  return WaitForLeader(nodes, expect);
}

// Every committed record of <prefix>.log with its offset, read with
// isolation.level=read_committed as the followers read it.
inline std::vector<std::pair<int64_t, Result<LogRecord>>> ReadCommittedLog(
    const std::string& prefix) {
  std::vector<std::pair<int64_t, Result<LogRecord>>> out;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", TestBrokers(), err);
  conf->set("group.id", prefix + ".test-reader", err);
  conf->set("isolation.level", "read_committed", err);
  conf->set("enable.partition.eof", "true", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(prefix + ".log", 0, 0));
  std::vector<RdKafka::TopicPartition*> parts{tp.get()};
  c->assign(parts);
  const auto until = In(std::chrono::seconds(20));
  while (std::chrono::steady_clock::now() < until) {
    std::unique_ptr<RdKafka::Message> m(c->consume(200));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) break;
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    out.emplace_back(m->offset(), DecodeLogRecord(std::string_view(
                                      static_cast<const char*>(m->payload()), m->len())));
  }
  c->close();
  return out;
}

// How many committed op records carry `op_id`.
inline int CountOps(const std::string& prefix, const std::string& op_id) {
  int n = 0;
  for (const auto& [offset, rec] : ReadCommittedLog(prefix)) {
    if (rec.ok() && rec->kind == LogRecord::Kind::kOp && rec->op.op_id == op_id) ++n;
    if (rec.ok() && rec->kind == LogRecord::Kind::kReject && rec->rejection.op_id == op_id) ++n;
  }
  return n;
}

}  // namespace kdfs::testing
