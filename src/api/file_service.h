// FileService: the logic behind the file API, independent of HTTP.
//
// Writes: the body is cut into fixed-size chunks, each stored locally and
// published to Kafka (bounded window), then the operation is proposed and
// the call returns once this node applied the record with its op id.
// Reads: from local state; missing or corrupt chunks are fetched from peers
// while the read waits.
//
// Thread-safe: one instance serves every connection thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/hlc.h"
#include "common/path.h"
#include "common/result.h"
#include "http/http_types.h"
#include "replication/replicator.h"
#include "store/chunk_store.h"
#include "store/state_machine.h"

namespace kdfs {

using Deadline = std::chrono::steady_clock::time_point;

struct FileServiceOptions {
  std::string node_id;
  uint32_t chunk_size = 1 << 20;
  size_t upload_window = 8;  // chunks in flight to Kafka per upload
  // TEST ONLY (chaos harness): acknowledge writes once proposed, before they
  // are sequenced and applied. Deliberately unsafe; proves the checkers work.
  bool unsafe_ack_before_apply = false;
};

struct PutRequest {
  Path path;
  std::string content_type;
  std::optional<std::string> if_match;
  bool if_none_match_any = false;
  std::string idempotency_key;  // empty: a fresh op id
};

class FileService {
 public:
  // REQUIRES: every pointer outlives the service.
  FileService(FileServiceOptions options, StateMachine* state, ChunkStore* chunks,
              Replicator* replicator, HlcClock* hlc);

  // Streams `body` into chunks, then commits. `timeout` bounds the commit
  // (the last chunks' acknowledgement, proposal and apply) and counts from
  // the body's last byte, so that a large upload is never cut off for taking
  // longer than `timeout` to arrive.
  Result<ApplyOutcome> Put(const PutRequest& request, BodyReader& body,
                           std::chrono::milliseconds timeout);
  Result<ApplyOutcome> Delete(const Path& path, bool recursive, const std::string& key,
                              Deadline deadline);
  Result<ApplyOutcome> Mkdir(const Path& path, const std::string& key, Deadline deadline);
  Result<ApplyOutcome> Rename(const Path& from, const Path& to, const std::string& key,
                              Deadline deadline);

  // Waits until this node's state includes `min_version` and, when `strong`,
  // the log's end as read from Kafka now. kTimeout at the deadline.
  Status WaitConsistent(std::optional<int64_t> min_version, bool strong, Deadline deadline);

  Result<FileInfo> Stat(const Path& path) const;
  Result<ListPage> List(const Path& path, const std::string& after, size_t limit) const;
  // Streams bytes [offset, offset + length) of `file` to `sink`, chunk by
  // chunk. A chunk missing or corrupt locally is fetched from a peer first,
  // within `chunk_timeout` (counted per chunk, so that a long download is
  // not cut off by a whole-request deadline); if that fails the read fails
  // (never wrong bytes).
  Status Read(const FileInfo& file, uint64_t offset, uint64_t length,
              const std::function<Status(std::string_view)>& sink,
              std::chrono::milliseconds chunk_timeout);

  // The verified bytes of one chunk, for peers (GET /internal/chunks/<id>).
  Result<std::string> ReadChunk(const ChunkId& id);

  // Operations proposed by this node and not yet answered (a gauge).
  int64_t proposals_in_flight() const {
    return proposals_in_flight_.load(std::memory_order_relaxed);
  }

 private:
  Operation NewOperation(OpType type, const Path& path, const std::string& key);
  // Stamps `op` with this node's HLC and proposes it.
  Result<ApplyOutcome> Submit(Operation op, Deadline deadline);
  Result<std::string> LoadChunk(const ChunkId& id, Deadline deadline);

  const FileServiceOptions options_;
  StateMachine* const state_;
  ChunkStore* const chunks_;
  Replicator* const replicator_;
  HlcClock* const hlc_;
  std::atomic<int64_t> proposals_in_flight_{0};
};

}  // namespace kdfs
