#include "replication/peer_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "http/http_client.h"

namespace kdfs {

PeerChunkClient::PeerChunkClient(std::map<std::string, std::string> peers, std::string self_id,
                                 ChunkStore* store, ChunkArrivals* arrivals,
                                 uint32_t max_chunk_bytes)
    : peers_(std::move(peers)),
      self_id_(std::move(self_id)),
      store_(store),
      arrivals_(arrivals),
      max_chunk_bytes_(max_chunk_bytes) {}

Status PeerChunkClient::FetchFrom(const std::string& peer_id, const std::string& url,
                                  const ChunkId& id,
                                  std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
  if (left <= 0) return Status::Timeout("chunk fetch: deadline passed");
  const int timeout_ms = static_cast<int>(std::min<int64_t>(left, 10000));
  KDFS_ASSIGN_OR_RETURN(auto client, HttpClient::Create(url, timeout_ms));
  std::string body;
  auto sink = [&](std::string_view piece) -> Status {
    if (body.size() + piece.size() > max_chunk_bytes_) {
      return Status(Code::kPayloadTooLarge, "chunk fetch: peer sent more than a chunk");
    }
    body.append(piece);
    return Status::Ok();
  };
  KDFS_ASSIGN_OR_RETURN(HttpResponse resp, client->Stream("GET", "/internal/chunks/" + id.Hex(), {},
                                                          std::nullopt, nullptr, sink));
  if (resp.status == 404) return Status::NotFound("peer " + peer_id + " lacks chunk");
  if (resp.status != 200) {
    return Status::Unavailable("peer " + peer_id + " answered " + std::to_string(resp.status));
  }
  // PutVerified checks the hash: a wrong or truncated body is kCorruption.
  KDFS_RETURN_IF_ERROR(store_->PutVerified(id, body));
  arrivals_->Notify();
  return Status::Ok();
}

Status PeerChunkClient::Fetch(const ChunkId& id, std::string_view preferred,
                              std::chrono::steady_clock::time_point deadline) {
  std::vector<std::pair<std::string, std::string>> order;
  auto it = peers_.find(std::string(preferred));
  if (it != peers_.end() && it->first != self_id_) order.emplace_back(*it);
  for (const auto& p : peers_) {
    if (p.first != self_id_ && p.first != preferred) order.emplace_back(p);
  }
  if (order.empty()) return Status::Unavailable("chunk fetch: no peers configured");
  bool any_answer = false;
  Status last;
  for (const auto& [peer_id, url] : order) {
    if (store_->Has(id)) return Status::Ok();  // the chunk consumer was faster
    Status s = FetchFrom(peer_id, url, id, deadline);
    if (s.ok()) return s;
    if (s.code() == Code::kNotFound) any_answer = true;
    if (s.code() == Code::kTimeout && std::chrono::steady_clock::now() >= deadline) return s;
    spdlog::debug("chunk {} from {}: {}", id.Hex(), peer_id, s.ToString());
    last = s;
  }
  if (any_answer) return Status::NotFound("no peer holds chunk " + id.Hex());
  return Status::Unavailable("chunk " + id.Hex() + ": no peer answered (" + last.ToString() + ")");
}

}  // namespace kdfs
