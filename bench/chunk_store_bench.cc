// Chunk store throughput: write (hash + temp file + fsync + rename + dir
// fsync), read (read + SHA-256 verification), against the raw costs they are
// made of (SHA-256 alone, a write+fsync through the Env alone).
//
// The store lives in a temporary directory next to this program (so on the
// build directory's disk, not a tmpfs) and is removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/sha256.h"
#include "store/chunk_store.h"

namespace kdfs {
namespace {

constexpr size_t kChunkSize = 1 << 20;
constexpr int kPool = 64;  // distinct chunks for the steady-state benchmarks

std::string g_dir;
std::unique_ptr<ChunkStore> g_store;
std::atomic<uint64_t> g_unique{0};

// 1 MiB of incompressible bytes whose first 8 bytes are `seed`.
std::string MakeChunk(uint64_t seed) {
  std::string s(kChunkSize, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
  for (size_t i = 0; i < s.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&s[i], &x, 8);
  }
  std::memcpy(s.data(), &seed, sizeof(seed));
  return s;
}

const std::vector<std::string>& Pool() {
  static const std::vector<std::string>* pool = [] {
    auto* p = new std::vector<std::string>();
    for (int i = 0; i < kPool; ++i)
      p->push_back(MakeChunk(1'000'000 + i));
    return p;
  }();
  return *pool;
}

std::string ChunkPath(const ChunkId& id) {
  std::string hex = id.Hex();
  return g_dir + "/store/chunks/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
}

void Check(const Status& s, benchmark::State& state) {
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
}

void BM_Sha256(benchmark::State& state) {
  const std::string& data = Pool()[0];
  for (auto _ : state)
    benchmark::DoNotOptimize(Sha256::Digest(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_Sha256);

// The disk floor: write 1 MiB to a new file and fsync it, nothing else.
void BM_EnvWriteFsync(benchmark::State& state) {
  Env* env = Env::Default();
  const std::string& data = Pool()[0];
  const std::string path = g_dir + "/raw." + std::to_string(state.thread_index());
  for (auto _ : state) {
    auto file = env->NewWritableFile(path);
    if (!file.ok()) return Check(file.status(), state);
    Status s = (*file)->Append(data);
    if (s.ok()) s = (*file)->Sync();
    if (s.ok()) s = (*file)->Close();
    if (!s.ok()) return Check(s, state);
  }
  (void)env->RemoveFile(path);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_EnvWriteFsync)->UseRealTime();

// New chunks with new ids: a young store, where most puts also create their
// fan-out directory (two more directory fsyncs).
void BM_ChunkPutFresh(benchmark::State& state) {
  std::string data = MakeChunk(0);
  std::vector<ChunkId> written;
  for (auto _ : state) {
    uint64_t seed = g_unique.fetch_add(1);
    std::memcpy(data.data(), &seed, sizeof(seed));
    auto id = g_store->Put(data);
    if (!id.ok()) return Check(id.status(), state);
    written.push_back(*id);
  }
  for (const ChunkId& id : written)
    (void)g_store->Remove(id);  // after the loop: untimed
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_ChunkPutFresh)->UseRealTime();
BENCHMARK(BM_ChunkPutFresh)->UseRealTime()->Threads(4);

// New chunks whose fan-out directories exist: the steady state.
void BM_ChunkPutSteady(benchmark::State& state) {
  const auto& pool = Pool();
  for (const auto& d : pool)
    (void)g_store->Put(d);  // creates the fan-out dirs
  for (const auto& d : pool)
    (void)g_store->Remove(ChunkId::Of(d));
  size_t i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    const std::string& data = pool[i % pool.size()];
    i += static_cast<size_t>(state.threads());
    auto id = g_store->Put(data);
    if (!id.ok()) return Check(id.status(), state);
    state.PauseTiming();
    (void)g_store->Remove(*id);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_ChunkPutSteady)->UseRealTime();

// Put of a chunk that is already stored: hash + mtime refresh, no write.
void BM_ChunkPutExisting(benchmark::State& state) {
  const std::string& data = Pool()[1];
  Check(g_store->Put(data).status(), state);
  for (auto _ : state) {
    auto id = g_store->Put(data);
    if (!id.ok()) return Check(id.status(), state);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_ChunkPutExisting);

// Verified reads from the page cache.
void BM_ChunkReadHot(benchmark::State& state) {
  const auto& pool = Pool();
  std::vector<ChunkId> ids;
  for (const auto& d : pool)
    ids.push_back(*g_store->Put(d));
  size_t i = 0;
  for (auto _ : state) {
    auto data = g_store->Read(ids[i++ % ids.size()]);
    if (!data.ok()) return Check(data.status(), state);
    benchmark::DoNotOptimize(data->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_ChunkReadHot);

// Verified reads from the disk: each file's pages are dropped from the page
// cache (posix_fadvise DONTNEED, outside the timing) before it is read.
void BM_ChunkReadCold(benchmark::State& state) {
  const auto& pool = Pool();
  std::vector<ChunkId> ids;
  for (const auto& d : pool)
    ids.push_back(*g_store->Put(d));
  size_t i = 0;
  for (auto _ : state) {
    const ChunkId& id = ids[i++ % ids.size()];
    state.PauseTiming();
    int fd = ::open(ChunkPath(id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
    state.ResumeTiming();
    auto data = g_store->Read(id);
    if (!data.ok()) return Check(data.status(), state);
    benchmark::DoNotOptimize(data->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunkSize));
}
BENCHMARK(BM_ChunkReadCold)->UseRealTime();

}  // namespace
}  // namespace kdfs

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // A scratch dir beside the executable, i.e. inside the build directory.
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::string base = ec ? "." : std::filesystem::path(exe).parent_path().string();
  std::string tmpl = base + "/chunk_store_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  kdfs::g_dir = tmpl;
  kdfs::ChunkStoreOptions options;
  options.dir = kdfs::g_dir + "/store";
  auto store = kdfs::ChunkStore::Open(kdfs::Env::Default(), options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  kdfs::g_store = std::move(store).value();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  kdfs::g_store.reset();
  std::filesystem::remove_all(kdfs::g_dir, ec);
  return 0;
}
