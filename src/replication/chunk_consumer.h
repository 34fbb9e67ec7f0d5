// ChunkConsumer: keeps the node's chunk store complete by consuming every
// partition of <prefix>.chunks in a group of its own (<prefix>.chunks.<node>),
// storing each chunk it lacks (verified by hash). This is how content reaches
// followers before the log record that names it; offsets are committed only
// for chunks already stored.
//
// Threading: one thread of its own between Start and Stop.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "replication/chunk_arrivals.h"
#include "replication/ready_gate.h"
#include "store/chunk_store.h"

namespace kdfs {

struct ChunkConsumerOptions {
  std::string brokers;
  std::string node_id;
  std::string topic;  // <prefix>.chunks
  std::string group;  // <prefix>.chunks.<node>
  uint32_t max_record_bytes = 4 << 20;
};

class ChunkConsumer {
 public:
  // REQUIRES: every pointer outlives this object.
  ChunkConsumer(ChunkConsumerOptions options, ChunkStore* store, ChunkArrivals* arrivals,
                RdKafka::EventCb* events, ReadyGate* topics_ready);
  ~ChunkConsumer();  // Stop()

  void Start();
  // Commits stored offsets, leaves the group, joins the thread. Idempotent.
  void Stop();

  uint64_t stored() const { return stored_.load(); }

 private:
  void Run();
  std::unique_ptr<RdKafka::KafkaConsumer> Connect();
  // Stores one record's chunk; retries transient store errors until stopped.
  // Returns false if stopped before the chunk was handled.
  bool Handle(const RdKafka::Message& msg);

  const ChunkConsumerOptions options_;
  ChunkStore* const store_;
  ChunkArrivals* const arrivals_;
  RdKafka::EventCb* const events_;
  ReadyGate* const topics_ready_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> stored_{0};
  std::thread thread_;
};

}  // namespace kdfs
