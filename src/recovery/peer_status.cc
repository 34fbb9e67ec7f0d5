#include "recovery/peer_status.h"

#include <future>

#include "http/http_client.h"

namespace kdfs {

using json = nlohmann::json;

Result<json> GetPeerJson(const std::string& url, const std::string& target, int timeout_ms) {
  KDFS_ASSIGN_OR_RETURN(auto client, HttpClient::Create(url, timeout_ms));
  KDFS_ASSIGN_OR_RETURN(HttpResponse res, client->Request("GET", target, {}));
  if (res.status != 200) {
    return Status::Unavailable(url + target + " answered " + std::to_string(res.status));
  }
  json j = json::parse(res.body, nullptr, false);
  if (j.is_discarded()) return Status::Unavailable(url + target + " sent malformed JSON");
  return j;
}

std::vector<PeerState> QueryPeers(const std::map<std::string, std::string>& peers,
                                  const std::string& self_id, int timeout_ms) {
  std::vector<std::future<PeerState>> futures;
  for (const auto& [id, url] : peers) {
    if (id == self_id) continue;
    futures.push_back(std::async(std::launch::async, [id = id, url = url, timeout_ms] {
      PeerState p{id, url};
      auto j = GetPeerJson(url, "/internal/status", timeout_ms);
      if (!j.ok() || !j->is_object()) return p;
      p.reachable = true;
      p.ready = j->value("ready", false);
      p.applied_offset = j->value("applied_offset", int64_t{-1});
      p.lag = j->value("lag", int64_t{0});
      if (j->contains("recovery") && (*j)["recovery"].is_object()) {
        const std::string phase = (*j)["recovery"].value("phase", "idle");
        p.recovering = phase != "idle" && phase != "starting";
      }
      return p;
    }));
  }
  std::vector<PeerState> out;
  for (auto& f : futures)
    out.push_back(f.get());
  return out;
}

const PeerState* PickSnapshotPeer(const std::vector<PeerState>& peers) {
  const PeerState* best = nullptr;
  for (const auto& p : peers) {
    if (!p.reachable || p.recovering || p.applied_offset < 0) continue;
    if (best == nullptr || std::make_pair(p.ready, p.applied_offset) >
                               std::make_pair(best->ready, best->applied_offset)) {
      best = &p;
    }
  }
  return best;
}

}  // namespace kdfs
