// Bootstrap: brings this node's metadata and chunks to a peer's state.
//
//   1. download a snapshot from the peer (GET /internal/snapshot) into a
//      local file, streamed;
//   2. under the gate: wipe this node's Redis keys, load the snapshot, ask
//      the state machine to reload (the log follower then re-positions
//      itself after the snapshot's offset and replays the rest of the log);
//   3. fetch every referenced chunk the local store lacks from peers, in
//      parallel (bounded), each verified by hash.
//
// Progress is published in RecoveryProgress at every step.
//
// Thread-compatible: Run() is called by the recovery thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "common/result.h"
#include "recovery/gated_kv.h"
#include "recovery/peer_status.h"
#include "recovery/progress.h"
#include "replication/chunk_arrivals.h"
#include "store/chunk_store.h"
#include "store/state_machine.h"

namespace kdfs {

struct BootstrapOptions {
  std::string node_id;
  std::map<std::string, std::string> peers;  // id -> base URL
  std::string work_dir;                      // for the downloaded snapshot
  size_t fetch_parallel = 8;                 // concurrent chunk fetches
  uint32_t max_chunk_bytes = 1 << 20;
  int http_timeout_ms = 30000;
};

class Bootstrap {
 public:
  // Deletes every metadata key of this node (WipeRedisPrefix in production).
  using WipeFn = std::function<Result<uint64_t>()>;

  // REQUIRES: every pointer outlives this object.
  Bootstrap(BootstrapOptions options, GatedKv* kv, StateMachine* state, ChunkStore* chunks,
            WipeFn wipe, RecoveryProgress* progress, const std::atomic<bool>* stop);

  // Runs steps 1-3 from `source`.
  Status Run(const PeerState& source);
  // Step 3 alone: fetches whatever referenced chunk is missing locally.
  Status FetchMissingChunks(const std::string& preferred);

 private:
  Status Download(const PeerState& source, const std::string& path);
  Status Load(const std::string& path);

  const BootstrapOptions options_;
  GatedKv* const kv_;
  StateMachine* const state_;
  ChunkStore* const chunks_;
  const WipeFn wipe_;
  RecoveryProgress* const progress_;
  const std::atomic<bool>* const stop_;
  ChunkArrivals arrivals_;
};

}  // namespace kdfs
