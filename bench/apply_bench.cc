// Apply throughput of the state machine against a real redis-server that
// the program starts on a free port (and stops at exit).
//
//   apply_bench [--benchmark_filter=...]
//
// Each iteration applies one put record (a new file) and is timed end to end:
// reads (op-id memory, path walk script, chunk refcounts, op-queue eviction
// once the memory is full), then one guarded MULTI/EXEC. Reported as
// records/s of wall time. The Memory variants run the same code over MemoryKv: the cost
// of the logic without the network.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include "store/memory_kv.h"
#include "store/redis_kv.h"
#include "store/redis_test_server.h"
#include "store/state_machine.h"

namespace kdfs {
namespace {

RedisTestServer* Server(bool aof) {
  static std::unique_ptr<RedisTestServer> servers[2];
  auto& s = servers[aof ? 1 : 0];
  if (!s) {
    s = std::make_unique<RedisTestServer>(RedisTestServer::Options{.aof = aof});
    Status st = s->Start();
    if (!st.ok()) {
      std::fprintf(stderr, "cannot start redis-server: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  return s.get();
}

std::unique_ptr<MetaKv> NewKv(int backend) {
  static int n = 0;
  if (backend == 0) return std::make_unique<MemoryKv>();
  RedisKvOptions o;
  o.port = Server(backend == 2)->port();
  o.prefix = "bench" + std::to_string(n++) + ":";
  return std::make_unique<RedisKv>(o);
}

const char* BackendName(int backend) {
  return backend == 0 ? "memory" : backend == 1 ? "redis" : "redis+aof";
}

Operation PutOp(int64_t i, std::string path) {
  Operation op;
  op.op_id = "bench-" + std::to_string(i);
  op.origin = "n1";
  op.hlc = Hlc{1'700'000'000'000 + i, 0, "n1"};
  op.type = OpType::kPut;
  op.path = std::move(path);
  const std::string content = "content of " + std::to_string(i);
  op.size = content.size();
  op.chunk_size = 1 << 20;
  op.chunks = {ChunkId::Of(content)};
  op.etag = op.chunks[0].Hex();
  op.content_type = "application/octet-stream";
  return op;
}

// "/dir/f<i>": every put goes into one directory.
std::string FlatPath(int64_t i) {
  return "/dir/f" + std::to_string(i);
}

// "/t3/t7/t1/t9/t4/t2/f<i>": six levels, ten-way fan-out; new directories
// are created along the way for the first ~100,000 puts.
std::string DeepPath(int64_t i) {
  std::string p;
  int64_t x = i;
  for (int level = 0; level < 6; ++level) {
    p += "/t" + std::to_string(x % 10);
    x /= 10;
  }
  return p + "/f" + std::to_string(i);
}

template <std::string (*PathOf)(int64_t)>
void BM_ApplyPut(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  auto kv = NewKv(backend);
  StateMachine sm(kv.get());
  if (!sm.Open().ok()) {
    state.SkipWithError("open failed");
    return;
  }
  int64_t offset = 0;
  for (auto _ : state) {
    LogRecord r;
    r.op = PutOp(offset, PathOf(offset));
    auto out = sm.Apply(offset, r);
    if (!out.ok() || !out->status.ok()) {
      state.SkipWithError("apply failed");
      return;
    }
    ++offset;
  }
  state.SetLabel(BackendName(backend));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_TEMPLATE(BM_ApplyPut, FlatPath)
    ->ArgName("backend")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->MinTime(3.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_ApplyPut, DeepPath)
    ->ArgName("backend")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->MinTime(3.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kdfs

BENCHMARK_MAIN();
