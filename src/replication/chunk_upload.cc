#include "replication/chunk_upload.h"

#include <librdkafka/rdkafkacpp.h>

namespace kdfs {

KafkaChunkUpload::KafkaChunkUpload(AsyncProducer* producer, std::string topic, size_t window,
                                   std::chrono::milliseconds add_wait)
    : producer_(producer),
      topic_(std::move(topic)),
      add_wait_(add_wait),
      window_(std::make_shared<InflightWindow>(window < 1 ? 1 : window)) {}

Status KafkaChunkUpload::Add(const ChunkId& id, std::string_view bytes) {
  const auto deadline = std::chrono::steady_clock::now() + add_wait_;
  KDFS_RETURN_IF_ERROR(window_->Acquire(deadline));
  const std::string_view key(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  Status s = producer_->Produce(
      topic_, RdKafka::Topic::PARTITION_UA, key, bytes,
      [w = window_](const Status& delivery, int64_t) { w->Release(delivery); }, deadline);
  if (!s.ok()) window_->Cancel();
  return s;
}

Status KafkaChunkUpload::Finish(std::chrono::steady_clock::time_point deadline) {
  return window_->WaitAll(deadline);
}

}  // namespace kdfs
