// KafkaChunkUpload: publishes one upload's chunks to <prefix>.chunks through
// the node's chunk producer, at most `window` of them unacknowledged.
//
// Record: key = the 32 bytes of the chunk id, value = the chunk's bytes.
// Not thread-safe (one upload, one thread), as the ChunkUpload contract says;
// delivery reports arrive on the producer's thread through InflightWindow.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "replication/async_producer.h"
#include "replication/inflight_window.h"
#include "replication/replicator.h"

namespace kdfs {

class KafkaChunkUpload final : public ChunkUpload {
 public:
  // REQUIRES: producer outlives every Add/Finish call; window >= 1.
  // `add_wait` bounds how long Add waits for room (a delivery report always
  // comes within the producer's message timeout, so this is a safety net).
  KafkaChunkUpload(AsyncProducer* producer, std::string topic, size_t window,
                   std::chrono::milliseconds add_wait);
  ~KafkaChunkUpload() override = default;

  Status Add(const ChunkId& id, std::string_view bytes) override;
  Status Finish(std::chrono::steady_clock::time_point deadline) override;

 private:
  AsyncProducer* const producer_;
  const std::string topic_;
  const std::chrono::milliseconds add_wait_;
  // Shared with the delivery callbacks, which may outlive this object when an
  // upload is abandoned.
  std::shared_ptr<InflightWindow> window_;
};

}  // namespace kdfs
