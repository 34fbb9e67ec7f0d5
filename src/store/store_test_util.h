// Shared helpers of the store tests: the two MetaKv backends for typed
// tests, and builders of operations and log records.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include "store/memory_kv.h"
#include "store/operation.h"
#include "store/redis_kv.h"
#include "store/redis_test_server.h"
#include "store/state_machine.h"

namespace kdfs::testing {

// Backend for typed tests: MemoryKv.
struct MemoryBackend {
  static constexpr const char* kName = "Memory";
  static bool Available() { return true; }
  static std::unique_ptr<MetaKv> NewKv() { return std::make_unique<MemoryKv>(); }
};

// Backend for typed tests: RedisKv on one redis-server per test process,
// each store under its own key prefix.
struct RedisBackend {
  static constexpr const char* kName = "Redis";
  static bool Available() { return !RedisTestServer::FindBinary().empty(); }
  static RedisTestServer* Server() {
    // Destroyed at exit: stops the server and removes its directory.
    static std::unique_ptr<RedisTestServer> server = [] {
      auto s = std::make_unique<RedisTestServer>();
      Status st = s->Start();
      EXPECT_TRUE(st.ok()) << st.ToString();
      return s;
    }();
    return server.get();
  }
  static std::unique_ptr<MetaKv> NewKv() {
    static std::atomic<int> n{0};
    RedisKvOptions o;
    o.port = Server()->port();
    o.prefix = "t" + std::to_string(n++) + ":";
    return std::make_unique<RedisKv>(o);
  }
};

using Backends = ::testing::Types<MemoryBackend, RedisBackend>;

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// Builds operations with unique op ids and increasing timestamps.
class OpMaker {
 public:
  explicit OpMaker(std::string node = "n1") : node_(std::move(node)) {}

  Hlc NextHlc() { return Hlc{1'700'000'000'000 + ++tick_, 0, node_}; }

  Operation Base(OpType type, std::string path) {
    Operation op;
    op.op_id = node_ + "-op-" + std::to_string(++ids_);
    op.origin = node_;
    op.hlc = NextHlc();
    op.type = type;
    op.path = std::move(path);
    return op;
  }
  // A put of `content` split into chunks of `chunk_size` bytes.
  Operation Put(std::string path, std::string_view content, uint32_t chunk_size = 4) {
    Operation op = Base(OpType::kPut, std::move(path));
    op.size = content.size();
    op.chunk_size = chunk_size;
    for (size_t i = 0; i < content.size(); i += chunk_size) {
      op.chunks.push_back(ChunkId::Of(content.substr(i, chunk_size)));
    }
    op.etag = ChunkId::Of(content).Hex();
    op.content_type = "text/plain";
    return op;
  }
  Operation Mkdir(std::string path) { return Base(OpType::kMkdir, std::move(path)); }
  Operation Delete(std::string path, bool recursive = false) {
    Operation op = Base(OpType::kDelete, std::move(path));
    op.recursive = recursive;
    return op;
  }
  Operation Rename(std::string from, std::string to) {
    Operation op = Base(OpType::kRename, std::move(from));
    op.to = std::move(to);
    return op;
  }

 private:
  std::string node_;
  int64_t tick_ = 0;
  int ids_ = 0;
};

inline LogRecord OpRecord(Operation op) {
  LogRecord r;
  r.kind = LogRecord::Kind::kOp;
  r.op = std::move(op);
  return r;
}

inline LogRecord LeaderRec(std::string node, int64_t epoch) {
  LogRecord r;
  r.kind = LogRecord::Kind::kLeader;
  r.leader = {std::move(node), epoch};
  return r;
}

inline LogRecord RejectRec(std::string op_id, Code code, std::string message) {
  LogRecord r;
  r.kind = LogRecord::Kind::kReject;
  r.rejection = {std::move(op_id), "n1", code, std::move(message)};
  return r;
}

// A deterministic stream of operations over a small namespace, valid and
// invalid alike.
inline std::vector<LogRecord> RandomRecords(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  OpMaker m;
  auto pick = [&](std::initializer_list<const char*> xs) {
    return std::string(*(xs.begin() + rng() % xs.size()));
  };
  auto path = [&] {
    std::string p;
    const int depth = 1 + rng() % 3;
    for (int i = 0; i < depth; ++i)
      p += "/" + pick({"a", "b", "c", "d\xC3\xA9"});
    return p;
  };
  std::vector<LogRecord> out;
  for (int i = 0; i < n; ++i) {
    switch (rng() % 9) {
      case 0:
      case 1:
      case 2:
        out.push_back(OpRecord(m.Put(path(), pick({"x", "yy", "zzzzz", "x"}), 2)));
        break;
      case 3:
        out.push_back(OpRecord(m.Mkdir(path())));
        break;
      case 4:
        out.push_back(OpRecord(m.Delete(path(), rng() % 2 == 0)));
        break;
      case 5:
      case 6:
        out.push_back(OpRecord(m.Rename(path(), path())));
        break;
      case 7:
        out.push_back(RejectRec("rej-" + std::to_string(i), Code::kLwwLost, "lost"));
        break;
      default:
        out.push_back(LeaderRec("node-" + std::to_string(rng() % 3), i));
        break;
    }
  }
  return out;
}

// Every entry below `dir`, depth first, one line each:
// "<path> <d|f> <size> <etag> <version> <mtime>". Pages through List() with
// `page` entries per call.
inline std::string TreeOf(const StateMachine& sm, const std::string& dir = "/", size_t page = 7) {
  std::string out;
  std::string after;
  while (true) {
    auto l = sm.List(dir, after, page);
    if (!l.ok()) return "error: " + l.status().ToString();
    for (const auto& e : l->entries) {
      const std::string path = (dir == "/" ? "" : dir) + "/" + e.name;
      out += path + (e.info.is_dir ? " d " : " f ") + std::to_string(e.info.size) + " " +
             e.info.etag + " " + std::to_string(e.info.version) + " " + e.info.mtime.Encode() +
             "\n";
      if (e.info.is_dir) out += TreeOf(sm, path, page);
    }
    if (!l->next) return out;
    after = *l->next;
  }
}

// A state machine over a fresh store of `Backend`, applying records at
// increasing offsets.
template <typename Backend>
class StateMachineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Backend::Available()) GTEST_SKIP() << "redis-server is not installed";
    kv_ = Backend::NewKv();
    sm_ = std::make_unique<StateMachine>(kv_.get(), options_);
    ASSERT_TRUE(sm_->Open().ok());
  }

  // Applies `record` at the next offset; fails the test on a store error.
  ApplyOutcome ApplyRecord(const LogRecord& record) {
    auto out = sm_->Apply(++offset_, record);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : ApplyOutcome{};
  }
  ApplyOutcome Apply(Operation op) { return ApplyRecord(OpRecord(std::move(op))); }
  // Applies and expects success.
  ApplyOutcome Ok(Operation op) {
    ApplyOutcome out = Apply(std::move(op));
    EXPECT_TRUE(out.status.ok()) << out.status.ToString();
    return out;
  }
  // Expects Validate() and Apply() to reject `op` with `code`, leaving the
  // namespace as it was.
  void ExpectRejected(Operation op, Code code) {
    const std::string before = TreeOf(*sm_);
    Status v = sm_->Validate(op);
    EXPECT_EQ(v.code(), code) << "Validate: " << v.ToString();
    const int64_t offset = offset_ + 1;
    ApplyOutcome out = Apply(op);
    EXPECT_EQ(out.status.code(), code) << "Apply: " << out.status.ToString();
    EXPECT_FALSE(out.status.message().empty());
    EXPECT_EQ(out.version, offset);
    EXPECT_EQ(sm_->applied_offset(), offset);
    EXPECT_EQ(TreeOf(*sm_), before);
  }

  StateMachineOptions options_;
  std::unique_ptr<MetaKv> kv_;
  std::unique_ptr<StateMachine> sm_;
  int64_t offset_ = -1;
  OpMaker m_;
};

}  // namespace kdfs::testing
