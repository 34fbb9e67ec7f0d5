#include "recovery/bootstrap.h"

#include <spdlog/spdlog.h>

#include <thread>
#include <vector>

#include "http/http_client.h"
#include "recovery/snapshot_file.h"
#include "replication/peer_client.h"
#include "store/meta_schema.h"

namespace kdfs {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// GET /internal/chunks/<id> on a worker's kept-alive connection; the store
// verifies the hash.
Status FetchOver(HttpClient* client, ChunkStore* store, const ChunkId& id, uint32_t max_bytes) {
  KDFS_ASSIGN_OR_RETURN(HttpResponse r, client->Request("GET", "/internal/chunks/" + id.Hex(), {}));
  if (r.status == 404) return Status::NotFound("peer lacks chunk " + id.Hex());
  if (r.status != 200) return Status::Unavailable("peer answered " + std::to_string(r.status));
  if (r.body.size() > max_bytes) return Status::Corruption("peer sent more than a chunk");
  return store->PutVerified(id, r.body);
}

}  // namespace

Bootstrap::Bootstrap(BootstrapOptions options, GatedKv* kv, StateMachine* state, ChunkStore* chunks,
                     WipeFn wipe, RecoveryProgress* progress, const std::atomic<bool>* stop)
    : options_(std::move(options)),
      kv_(kv),
      state_(state),
      chunks_(chunks),
      wipe_(std::move(wipe)),
      progress_(progress),
      stop_(stop) {}

Status Bootstrap::Run(const PeerState& source) {
  progress_->Update([&](RecoveryState& s) {
    s.phase = RecoveryPhase::kSnapshot;
    s.peer = source.id;
    s.error.clear();
    s.snapshot_offset = -1;
    s.snapshot_bytes_done = s.snapshot_bytes_total = 0;
    s.chunks_done = s.chunks_total = s.chunks_failed = s.chunk_bytes_done = 0;
    s.started_ms = NowMs();
  });
  KDFS_ASSIGN_OR_RETURN(SnapshotFile file, NewSnapshotFile(options_.work_dir));
  KDFS_RETURN_IF_ERROR(Download(source, file.path()));
  progress_->Update([](RecoveryState& s) { s.phase = RecoveryPhase::kLoading; });
  KDFS_RETURN_IF_ERROR(Load(file.path()));
  progress_->Update([](RecoveryState& s) { s.phase = RecoveryPhase::kChunks; });
  return FetchMissingChunks(source.id);
}

Status Bootstrap::Download(const PeerState& source, const std::string& path) {
  KDFS_ASSIGN_OR_RETURN(auto client, HttpClient::Create(source.url, options_.http_timeout_ms));
  auto on_head = [&](const HttpResponse& head) {
    auto length = head.headers.Get("content-length");
    if (!length) return;
    progress_->Update([&](RecoveryState& s) { s.snapshot_bytes_total = std::stoull(*length); });
  };
  auto sink = [&](std::string_view piece) {
    if (stop_->load()) return Status::Unavailable("stopping");
    KDFS_RETURN_IF_ERROR(AppendToFile(path, piece));
    progress_->Update([&](RecoveryState& s) { s.snapshot_bytes_done += piece.size(); });
    return Status::Ok();
  };
  auto no_body = [](char*, size_t) -> Result<size_t> { return size_t{0}; };
  KDFS_ASSIGN_OR_RETURN(HttpResponse res, client->Stream("GET", "/internal/snapshot", {},
                                                         std::nullopt, no_body, sink, on_head));
  if (res.status != 200) {
    return Status::Unavailable("snapshot from " + source.id + ": HTTP " +
                               std::to_string(res.status) + " " + res.body);
  }
  return Status::Ok();
}

Status Bootstrap::Load(const std::string& path) {
  auto hold = kv_->Hold();  // the state machine's commits wait until the load is done
  KDFS_ASSIGN_OR_RETURN(uint64_t wiped, wipe_());
  SnapshotLoader loader(kv_->inner());
  Status streamed = StreamFile(path, [&](std::string_view piece) { return loader.Add(piece); });
  Result<SnapshotInfo> info = streamed.ok() ? loader.Finish() : Result<SnapshotInfo>(streamed);
  kv_->ClearDigests();
  state_->RequestReload();
  if (!info.ok()) {
    // Whatever was loaded has no meta: the store reads as empty; make sure.
    (void)wipe_();
    return info.status();
  }
  spdlog::warn("recovery: loaded a snapshot at offset {} ({} inodes, {} bytes, {} old keys wiped)",
               info->applied_offset, info->inodes, info->bytes, wiped);
  progress_->Update([&](RecoveryState& s) { s.snapshot_offset = info->applied_offset; });
  return Status::Ok();
}

Status Bootstrap::FetchMissingChunks(const std::string& preferred) {
  KDFS_ASSIGN_OR_RETURN(KvFields refs, kv_->HGetAll(schema::kRefsKey));
  std::vector<ChunkId> missing;
  for (const auto& [hex, count] : refs) {
    auto id = ChunkId::FromHex(hex);
    if (id.ok() && !chunks_->Has(*id)) missing.push_back(*id);
  }
  progress_->Update([&](RecoveryState& s) { s.chunks_total = missing.size(); });
  spdlog::info("recovery: {} of {} referenced chunks to fetch from peers", missing.size(),
               refs.size());
  PeerChunkClient client(options_.peers, options_.node_id, chunks_, &arrivals_,
                         options_.max_chunk_bytes);
  std::atomic<size_t> next{0};
  const uint64_t start_bytes = chunks_->Stats().bytes;
  // Worker t keeps one connection to one peer (the snapshot's source first,
  // then the others in turn), so that small chunks do not pay a connect each
  // and the load is spread; a miss falls back to asking every peer.
  std::vector<std::string> urls;
  if (auto it = options_.peers.find(preferred); it != options_.peers.end()) {
    urls.push_back(it->second);
  }
  for (const auto& [id, url] : options_.peers) {
    if (id != preferred && id != options_.node_id) urls.push_back(url);
  }
  std::atomic<size_t> worker_index{0};
  auto worker = [&] {
    std::unique_ptr<HttpClient> conn;
    if (!urls.empty()) {
      auto c = HttpClient::Create(urls[worker_index.fetch_add(1) % urls.size()],
                                  options_.http_timeout_ms);
      if (c.ok()) conn = std::move(*c);
    }
    for (size_t i; !stop_->load() && (i = next.fetch_add(1)) < missing.size();) {
      Status s = conn ? FetchOver(conn.get(), chunks_, missing[i], options_.max_chunk_bytes)
                      : Status::Unavailable("no connection");
      for (int attempt = 0; !s.ok() && attempt < 3; ++attempt) {
        s = client.Fetch(missing[i], preferred,
                         std::chrono::steady_clock::now() + std::chrono::seconds(60));
        if (s.ok() || s.code() == Code::kNotFound) break;
      }
      if (!s.ok()) spdlog::error("recovery: chunk {}: {}", missing[i].Hex(), s.ToString());
      const uint64_t bytes = chunks_->Stats().bytes;
      progress_->Update([&](RecoveryState& st) {
        ++(s.ok() ? st.chunks_done : st.chunks_failed);
        st.chunk_bytes_done = bytes > start_bytes ? bytes - start_bytes : 0;
        if ((st.chunks_done + st.chunks_failed) % 1000 == 0) {
          spdlog::info("recovery: chunks {}/{} fetched ({} failed), {} bytes", st.chunks_done,
                       st.chunks_total, st.chunks_failed, st.chunk_bytes_done);
        }
      });
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::max<size_t>(1, options_.fetch_parallel); ++t)
    threads.emplace_back(worker);
  for (auto& t : threads)
    t.join();
  if (stop_->load()) return Status::Unavailable("stopping");
  const uint64_t failed = progress_->Get().chunks_failed;
  if (failed > 0) return Status::Unavailable(std::to_string(failed) + " chunk(s) not fetched");
  return Status::Ok();
}

}  // namespace kdfs
