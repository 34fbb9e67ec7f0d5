// AsyncProducer: an idempotent (acks=all) librdkafka producer with its own
// delivery thread, reporting each record's outcome to a per-record callback.
//
// Used for chunks (large records, a window per upload) and for proposals
// (small records, latency first); each gets its own instance so that a
// proposal never queues behind megabytes of chunks on one connection.
//
// Thread-safe: Produce may be called from any thread. Callbacks run on the
// delivery thread, must be quick and must not call back into this object.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "replication/kafka_util.h"

namespace kdfs {

class AsyncProducer {
 public:
  // Outcome of one record: ok with its offset, or why it was not written.
  using Callback = std::function<void(const Status& status, int64_t offset)>;

  // `extra` is added to (and may override) the idempotent defaults.
  static Result<std::unique_ptr<AsyncProducer>> Create(const std::string& brokers,
                                                       const std::string& client_id,
                                                       RdKafka::EventCb* events,
                                                       const kafka::ConfPairs& extra);
  ~AsyncProducer();  // Close(0)
  AsyncProducer(const AsyncProducer&) = delete;
  AsyncProducer& operator=(const AsyncProducer&) = delete;

  // Queues a record (key and value are copied). `done` runs exactly once if
  // and only if this returns ok. While librdkafka's local queue is full it
  // retries until `deadline` (then kTimeout).
  Status Produce(const std::string& topic, int32_t partition, std::string_view key,
                 std::string_view value, Callback done,
                 std::chrono::steady_clock::time_point deadline);

  // Waits up to `flush_ms` for outstanding records, fails the rest (their
  // callbacks report kUnavailable) and stops the delivery thread. Idempotent.
  void Close(int flush_ms);

  // Learns the leaders of `topic`'s partitions now (bounded by
  // `timeout_ms`), so that the first record is not held back by
  // librdkafka's first metadata request for it (about a second).
  void WarmUp(const std::string& topic, int timeout_ms);

  // For metadata and watermark queries. Valid until destruction.
  RdKafka::Producer* handle() { return producer_.get(); }

 private:
  class DeliveryReports;
  AsyncProducer() = default;
  void PollLoop();

  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  std::thread poller_;
};

}  // namespace kdfs
