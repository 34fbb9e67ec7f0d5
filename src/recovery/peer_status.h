// What recovery asks other nodes: their status (GET /internal/status) and
// their recent (offset, digest) pairs (GET /internal/digests).
//
// Thread-safe: every call opens its own connections.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace kdfs {

struct PeerState {
  std::string id;
  std::string url;
  bool reachable = false;
  bool ready = false;
  bool recovering = false;  // the peer is itself bootstrapping
  int64_t applied_offset = -1;
  int64_t lag = 0;
};

// GET `target` on `url`, parsed as JSON. kUnavailable when unreachable or not 200.
Result<nlohmann::json> GetPeerJson(const std::string& url, const std::string& target,
                                   int timeout_ms);

// Every peer's state, asked in parallel; `self_id` is skipped.
std::vector<PeerState> QueryPeers(const std::map<std::string, std::string>& peers,
                                  const std::string& self_id, int timeout_ms);

// The best source for a snapshot: reachable, not recovering, ready
// preferred, then the highest applied offset (lowest lag). nullptr if none.
const PeerState* PickSnapshotPeer(const std::vector<PeerState>& peers);

}  // namespace kdfs
