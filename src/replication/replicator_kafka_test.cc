// Replication against the real broker: two in-process nodes with separate
// stores agree on the log. Skipped when no broker answers.
#include <gtest/gtest.h>

#include <thread>

#include "replication/kafka_test_util.h"

namespace kdfs {
namespace {

using namespace std::chrono_literals;
using testing::In;
using testing::TestNode;
using testing::WaitFor;

// Both nodes reach the same applied offset with the same digest.
void ExpectConverged(TestNode& a, TestNode& b) {
  ASSERT_TRUE(WaitFor([&] { return a.state.applied_offset() == b.state.applied_offset(); }, 20s));
  EXPECT_EQ(a.state.digest(), b.state.digest());
}

TEST(ReplicatorKafkaTest, ProposalFromFollowerIsSequencedAndAppliedByBoth) {
  KDFS_REQUIRE_KAFKA();
  const std::string prefix = testing::UniquePrefix("agree");
  TestNode a("n1", prefix), b("n2", prefix);
  // Static members are ordered by group.instance.id: once both are members
  // the smallest id leads.
  TestNode* leader = testing::StartAndElect({&a, &b}, &a);
  ASSERT_NE(leader, nullptr);
  EXPECT_GE(b.repl->View().leader->epoch, 1);

  // A file of exactly one chunk, and one of a chunk plus one byte: records
  // of 2 MiB, over Kafka's 1 MB defaults, through both chunk topics paths.
  const uint32_t kChunk = 2 << 20;
  std::string one(kChunk, 'a');
  std::string two(kChunk + 1, 'b');
  two.back() = 'z';
  Operation put1 = b.PublishPut("/docs/one", one, kChunk);
  Operation put2 = b.PublishPut("/docs/two", two, kChunk);
  auto r1 = b.repl->Propose(put1, In(30s));
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r1->status.ok()) << r1->status.ToString();
  EXPECT_TRUE(r1->created);
  auto r2 = b.repl->Propose(put2, In(30s));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_TRUE(r2->status.ok()) << r2->status.ToString();
  EXPECT_GT(r2->version, r1->version);

  // The leader applied it too, and before that it held every chunk.
  ASSERT_TRUE(a.repl->WaitApplied(r2->version, In(30s)).ok());
  for (const auto& c : put2.chunks)
    EXPECT_TRUE(a.chunks->Has(c));
  auto content = a.chunks->Read(put2.chunks[1]);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "z");
  auto info = a.state.Stat("/docs/two");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, two.size());
  EXPECT_EQ(info->version, r2->version);
  EXPECT_EQ(info->chunks, put2.chunks);

  // A proposal of the leader's own, rejected deterministically on both.
  Operation clash = a.Op(OpType::kMkdir, "/docs/one/sub");  // parent is a file
  auto r3 = a.repl->Propose(clash, In(30s));
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(r3->status.code(), Code::kParentNotDirectory);
  ExpectConverged(a, b);

  // Strong read: the end of the log is reached by both.
  auto end = b.repl->QueryLogEnd(In(10s));
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_GE(*end, r3->version);
  EXPECT_TRUE(b.repl->WaitApplied(*end, In(10s)).ok());
  EXPECT_TRUE(a.repl->WaitApplied(*end, In(10s)).ok());
  auto view = b.repl->View();
  EXPECT_TRUE(view.kafka_connected);
  EXPECT_FALSE(view.is_leader);
  EXPECT_EQ(view.applied_offset, b.state.applied_offset());
  EXPECT_TRUE(
      WaitFor([&] { return b.repl->View().log_end_offset == b.state.applied_offset(); }, 5s));
}

TEST(ReplicatorKafkaTest, DuplicateOpIdIsAppendedOnce) {
  KDFS_REQUIRE_KAFKA();
  const std::string prefix = testing::UniquePrefix("dup");
  TestNode a("n1", prefix), b("n2", prefix);
  // Whichever node leads counts the duplicates its sequencer drops (the
  // election no longer always picks n1 first: a node joins it only once it
  // has caught up with the log).
  TestNode* leader = testing::StartAndElect({&a, &b});
  ASSERT_NE(leader, nullptr);

  // The same op proposed concurrently by both nodes (a client retrying
  // through another node with the same Idempotency-Key).
  Operation op = b.Op(OpType::kMkdir, "/once");
  Result<ApplyOutcome> ra = Status::Internal("unset"), rb = Status::Internal("unset");
  std::thread ta([&] { ra = a.repl->Propose(op, In(30s)); });
  std::thread tb([&] { rb = b.repl->Propose(op, In(30s)); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_TRUE(ra->status.ok());
  EXPECT_EQ(ra->version, rb->version);

  // Once applied, a retry returns the first outcome without a new record.
  auto again = a.repl->Propose(op, In(30s));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version, ra->version);

  // The proposal arriving again at the sequencer (as a retry through a node
  // that had not applied it yet would) is consumed without a record.
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", testing::TestBrokers(), err);
    std::unique_ptr<RdKafka::Producer> raw(RdKafka::Producer::create(conf.get(), err));
    const std::string json = EncodeOperation(op);
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(raw->produce(prefix + ".proposals", 0, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(json.data()), json.size(), nullptr, 0, 0, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(raw->flush(10000), RdKafka::ERR_NO_ERROR);
  }

  // A later, different op: once it is applied the log is complete.
  auto barrier = b.repl->Propose(b.Op(OpType::kMkdir, "/after"), In(30s));
  ASSERT_TRUE(barrier.ok()) << barrier.status().ToString();
  ASSERT_TRUE(a.repl->WaitApplied(barrier->version, In(30s)).ok());
  EXPECT_EQ(testing::CountOps(prefix, op.op_id), 1);
  // The concurrent copy (same batch or pending) and the two late ones.
  EXPECT_GE(leader->k()->sequencer_stats().duplicates, 3u);
  ExpectConverged(a, b);
}

TEST(ReplicatorKafkaTest, FencedZombieMakesTheLeaderStepDownWithoutDoubleAppend) {
  KDFS_REQUIRE_KAFKA();
  const std::string prefix = testing::UniquePrefix("zombie");
  TestNode a("n1", prefix), b("n2", prefix);
  ASSERT_EQ(testing::StartAndElect({&a, &b}, &a), &a);
  auto warm = b.repl->Propose(b.Op(OpType::kMkdir, "/warm"), In(30s));
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  const int64_t epoch = a.repl->View().leader->epoch;

  // A zombie takes the transactional.id: the leader's producer is fenced.
  // It leaves a transaction open with a record nobody may ever apply.
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", testing::TestBrokers(), err);
  conf->set("transactional.id", prefix + ".leader", err);
  std::unique_ptr<RdKafka::Producer> zombie(RdKafka::Producer::create(conf.get(), err));
  ASSERT_TRUE(zombie);
  std::unique_ptr<RdKafka::Error> e(zombie->init_transactions(20000));
  ASSERT_FALSE(e) << e->str();
  e.reset(zombie->begin_transaction());
  ASSERT_FALSE(e);
  std::string garbage = "not a log record";
  ASSERT_EQ(zombie->produce(prefix + ".log", 0, RdKafka::Producer::RK_MSG_COPY, garbage.data(),
                            garbage.size(), nullptr, 0, 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(zombie->flush(10000), RdKafka::ERR_NO_ERROR);

  // The next proposal: the fenced leader steps down, takes leadership back
  // after its backoff (it still holds the election partition), which aborts
  // the zombie's transaction, and sequences the proposal once.
  Operation op = b.Op(OpType::kMkdir, "/after-zombie");
  auto r = b.repl->Propose(op, In(40s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->status.ok()) << r->status.ToString();
  EXPECT_GE(a.k()->sequencer_stats().fenced, 1u);
  auto view = b.repl->View();
  EXPECT_EQ(view.leader->node, "n1");
  EXPECT_GT(view.leader->epoch, epoch);

  // The zombie cannot commit any more.
  e.reset(zombie->commit_transaction(10000));
  EXPECT_TRUE(e);
  zombie.reset();

  ASSERT_TRUE(a.repl->WaitApplied(r->version, In(30s)).ok());
  int ops = 0;
  for (const auto& [offset, rec] : testing::ReadCommittedLog(prefix)) {
    EXPECT_TRUE(rec.ok()) << "undecodable committed record at " << offset;
    if (rec.ok() && rec->kind == LogRecord::Kind::kOp && rec->op.op_id == op.op_id) ++ops;
  }
  EXPECT_EQ(ops, 1);
  ExpectConverged(a, b);
}

TEST(ReplicatorKafkaTest, FollowerRetriesTheSameRecordWhileItsStoreFails) {
  KDFS_REQUIRE_KAFKA();
  const std::string prefix = testing::UniquePrefix("storefail");
  TestNode a("n1", prefix), b("n2", prefix);
  ASSERT_NE(testing::StartAndElect({&a, &b}), nullptr);
  const int64_t before = b.state.applied_offset();
  b.kv.FailNextCalls(6);  // Redis "down" for the follower's next calls
  auto r = a.repl->Propose(a.Op(OpType::kMkdir, "/while-down"), In(30s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(b.repl->WaitApplied(r->version, In(30s)).ok());
  EXPECT_GT(b.state.applied_offset(), before);
  EXPECT_TRUE(b.state.Stat("/while-down").ok());
  ExpectConverged(a, b);
}

// A put naming `n` chunks (of 1 byte each: only the record's size matters).
Operation ManyChunkPut(TestNode& n, const std::string& path, int chunks) {
  Operation op = n.Op(OpType::kPut, path);
  op.chunk_size = 1;
  op.size = chunks;
  for (int i = 0; i < chunks; ++i)
    op.chunks.push_back(ChunkId::Of(std::to_string(i)));
  op.etag = ChunkId::Of(path).Hex();
  return op;
}

TEST(ReplicatorKafkaTest, OversizedOperationsAreRefusedAndNeverWedgeTheLog) {
  KDFS_REQUIRE_KAFKA();
  const std::string prefix = testing::UniquePrefix("oversize");
  auto small = [](ReplicatorOptions& o) { o.max_record_bytes = 64 << 10; };
  TestNode a("n1", prefix, small), b("n2", prefix, small);
  ASSERT_NE(testing::StartAndElect({&a, &b}), nullptr);

  // Refused by the origin before anything is produced.
  auto huge = b.repl->Propose(ManyChunkPut(b, "/huge", 2000), In(10s));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), Code::kPayloadTooLarge);

  // One that slipped past an origin (here produced raw, just under the
  // topic's limit but over the record limit) is rejected by the sequencer,
  // and the log keeps moving.
  Operation slipped = ManyChunkPut(b, "/slipped", 1200);
  const std::string json = EncodeOperation(slipped);
  ASSERT_GT(json.size(), 64u << 10);
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", testing::TestBrokers(), err);
    conf->set("message.max.bytes", std::to_string(1 << 20), err);
    std::unique_ptr<RdKafka::Producer> raw(RdKafka::Producer::create(conf.get(), err));
    ASSERT_EQ(raw->produce(prefix + ".proposals", 0, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(json.data()), json.size(), nullptr, 0, 0, nullptr),
              RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(raw->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  auto next = b.repl->Propose(b.Op(OpType::kMkdir, "/next"), In(30s));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->status.ok());
  auto outcome = b.state.FindOutcome(slipped.op_id);
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ((*outcome)->status.code(), Code::kPayloadTooLarge);
}

TEST(ReplicatorKafkaTest, ProposeFailsFastWithoutKafka) {
  // No broker needed: nothing listens on port 1.
  const std::string prefix = testing::UniquePrefix("nokafka");
  TestNode n("n1", prefix, [](ReplicatorOptions& o) { o.brokers = "127.0.0.1:1"; });
  ASSERT_TRUE(n.repl->Start().ok());  // starts anyway; keeps retrying
  const auto t0 = std::chrono::steady_clock::now();
  auto r = n.repl->Propose(n.Op(OpType::kMkdir, "/x"), In(30s));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_LT(took, 1s);
  EXPECT_FALSE(n.repl->View().kafka_connected);
  EXPECT_FALSE(n.repl->QueryLogEnd(In(1500ms)).ok());
}

}  // namespace
}  // namespace kdfs
