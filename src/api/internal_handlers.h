// InternalHandlers: node-to-node endpoints of recovery.
//
//   GET /internal/snapshot  the metadata snapshot at one applied offset
//                           (format: docs/METADATA.md, "Snapshots"), streamed
//                           with Content-Length; X-Kdfs-Snapshot-Offset and
//                           X-Kdfs-Snapshot-Digest name the state it holds.
//   GET /internal/digests   {"node":..., "digests":[[offset, digest], ...]}:
//                           the last (offset, digest) pairs this node applied,
//                           for the divergence check.
//
// A snapshot is written to a file under the gate (the apply loop waits only
// while Redis is read), then streamed from the file, so a slow peer never
// holds the state still. One snapshot at a time.
//
// Thread-safe: Handle() runs on every connection thread at once.
#pragma once

#include <mutex>
#include <string>

#include "common/metrics.h"
#include "http/http_types.h"
#include "recovery/gated_kv.h"

namespace kdfs {

class InternalHandlers {
 public:
  // REQUIRES: kv and metrics outlive this object. `work_dir` holds the
  // temporary snapshot files.
  InternalHandlers(std::string node_id, GatedKv* kv, std::string work_dir, Metrics* metrics);

  // Answers the request and returns true if it is one of the routes above.
  bool Handle(const HttpRequest& request, ResponseWriter& response);

 private:
  void Snapshot(ResponseWriter& response);
  void Digests(ResponseWriter& response);

  const std::string node_id_;
  GatedKv* const kv_;
  const std::string work_dir_;
  Metrics* const metrics_;
  std::mutex snapshot_mu_;  // one snapshot at a time
};

}  // namespace kdfs
