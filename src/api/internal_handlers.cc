#include "api/internal_handlers.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/api_handlers.h"
#include "recovery/snapshot_file.h"

namespace kdfs {

InternalHandlers::InternalHandlers(std::string node_id, GatedKv* kv, std::string work_dir,
                                   Metrics* metrics)
    : node_id_(std::move(node_id)), kv_(kv), work_dir_(std::move(work_dir)), metrics_(metrics) {
  metrics_->Describe("kdfs_snapshots_served_total", Metrics::Type::kCounter,
                     "metadata snapshots sent to peers");
}

bool InternalHandlers::Handle(const HttpRequest& request, ResponseWriter& response) {
  if (request.method != "GET") return false;
  if (request.path == "/internal/snapshot") {
    Snapshot(response);
    return true;
  }
  if (request.path == "/internal/digests") {
    Digests(response);
    return true;
  }
  return false;
}

void InternalHandlers::Snapshot(ResponseWriter& response) {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  const auto start = std::chrono::steady_clock::now();
  Result<SnapshotFile> file = TakeSnapshotFile(kv_, work_dir_);
  if (!file.ok()) {
    spdlog::error("snapshot for a peer failed: {}", file.status().ToString());
    return SendError(response, file.status());
  }
  const SnapshotInfo& info = file->info();
  const auto held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  spdlog::info("snapshot for a peer: offset {}, {} inodes, {} bytes (apply held {} ms)",
               info.applied_offset, info.inodes, info.bytes, held_ms);
  response.SetHeader("Content-Type", "application/octet-stream");
  response.SetHeader("X-Kdfs-Snapshot-Offset", std::to_string(info.applied_offset));
  response.SetHeader("X-Kdfs-Snapshot-Digest", info.digest);
  if (!response.BeginStream(200, info.bytes).ok()) return;
  Status s = file->Stream([&](std::string_view piece) { return response.Write(piece); });
  if (s.ok()) s = response.EndStream();
  if (!s.ok()) spdlog::warn("snapshot for a peer: stream ended early: {}", s.ToString());
  metrics_->Add("kdfs_snapshots_served_total", "");
}

void InternalHandlers::Digests(ResponseWriter& response) {
  nlohmann::json list = nlohmann::json::array();
  auto ring = kv_->Digests();
  const size_t keep = 256;
  for (size_t i = ring.size() > keep ? ring.size() - keep : 0; i < ring.size(); ++i)
    list.push_back({ring[i].first, ring[i].second});
  nlohmann::json body = {{"node", node_id_}, {"digests", list}};
  response.SetHeader("Content-Type", "application/json");
  (void)response.Send(200, body.dump() + "\n");
}

}  // namespace kdfs
