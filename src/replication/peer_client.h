// PeerChunkClient: fetches a chunk this node lacks from its peers over the
// internal endpoint `GET <peer>/internal/chunks/<hex>`, verifies it by hash
// and stores it. Used by the log follower when a put names a chunk that the
// chunk consumer has not delivered yet, and by reads for repair.
//
// Thread-safe: every Fetch opens its own connections (HttpClient).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "common/chunk_id.h"
#include "common/status.h"
#include "replication/chunk_arrivals.h"
#include "store/chunk_store.h"

namespace kdfs {

class PeerChunkClient {
 public:
  // `peers`: node id -> base URL (http://host:port); this node's own entry
  // is skipped. REQUIRES: store and arrivals outlive this object.
  PeerChunkClient(std::map<std::string, std::string> peers, std::string self_id, ChunkStore* store,
                  ChunkArrivals* arrivals, uint32_t max_chunk_bytes);

  // Asks `preferred` first (e.g. the operation's origin, which holds every
  // chunk it proposed), then the other peers in id order. ok once stored;
  // kNotFound if every peer that answered lacks it; kUnavailable if none
  // answered; kTimeout at `deadline`.
  Status Fetch(const ChunkId& id, std::string_view preferred,
               std::chrono::steady_clock::time_point deadline);

  bool has_peers() const { return peers_.size() > (peers_.count(self_id_) ? 1u : 0u); }

 private:
  // One attempt against one peer.
  Status FetchFrom(const std::string& peer_id, const std::string& url, const ChunkId& id,
                   std::chrono::steady_clock::time_point deadline);

  const std::map<std::string, std::string> peers_;
  const std::string self_id_;
  ChunkStore* const store_;
  ChunkArrivals* const arrivals_;
  const uint32_t max_chunk_bytes_;
};

}  // namespace kdfs
