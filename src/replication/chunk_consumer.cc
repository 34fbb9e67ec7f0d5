#include "replication/chunk_consumer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "replication/kafka_util.h"

namespace kdfs {

namespace {

constexpr auto kPollMs = 200;

void StoreOffset(RdKafka::KafkaConsumer* consumer, const RdKafka::Message& msg) {
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(msg.topic_name(), msg.partition(), msg.offset() + 1));
  std::vector<RdKafka::TopicPartition*> v{tp.get()};
  consumer->offsets_store(v);
}

}  // namespace

ChunkConsumer::ChunkConsumer(ChunkConsumerOptions options, ChunkStore* store,
                             ChunkArrivals* arrivals, RdKafka::EventCb* events,
                             ReadyGate* topics_ready)
    : options_(std::move(options)),
      store_(store),
      arrivals_(arrivals),
      events_(events),
      topics_ready_(topics_ready) {}

ChunkConsumer::~ChunkConsumer() {
  Stop();
}

void ChunkConsumer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ChunkConsumer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<RdKafka::KafkaConsumer> ChunkConsumer::Connect() {
  kafka::ConfPairs settings = kafka::LargeRecordFetch(options_.max_record_bytes, 4);
  settings.insert(settings.end(), {{"group.id", options_.group},
                                   {"auto.offset.reset", "earliest"},
                                   {"enable.auto.commit", "true"},
                                   {"auto.commit.interval.ms", "1000"},
                                   // Offsets advance only past chunks that are on disk.
                                   {"enable.auto.offset.store", "false"},
                                   {"queued.max.messages.kbytes", "32768"}});
  auto conf = kafka::NewConf(options_.brokers, options_.node_id + ".chunks", events_, settings);
  if (!conf.ok()) {
    spdlog::error("chunk consumer config: {}", conf.status().ToString());
    return nullptr;
  }
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) {
    spdlog::error("chunk consumer: {}", err);
    return nullptr;
  }
  const RdKafka::ErrorCode rc = consumer->subscribe({options_.topic});
  if (rc != RdKafka::ERR_NO_ERROR) {
    spdlog::error("chunk consumer subscribe: {}", RdKafka::err2str(rc));
    return nullptr;
  }
  return consumer;
}

bool ChunkConsumer::Handle(const RdKafka::Message& msg) {
  ChunkId id;
  const std::string* key = msg.key();
  if (key == nullptr || key->size() != id.bytes.size()) {
    spdlog::warn("chunks: record without a chunk id at partition={} offset={}, skipped",
                 msg.partition(), msg.offset());
    return true;
  }
  std::memcpy(id.bytes.data(), key->data(), id.bytes.size());
  const std::string_view value(static_cast<const char*>(msg.payload()), msg.len());
  int backoff_ms = 50;
  while (!stop_.load()) {
    if (store_->Has(id)) return true;
    Status s = store_->PutVerified(id, value);
    if (s.ok()) {
      stored_.fetch_add(1);
      arrivals_->Notify();
      return true;
    }
    if (s.code() == Code::kCorruption) {
      spdlog::warn("chunks: record {} does not hash to its key, skipped: {}", id.Hex(),
                   s.ToString());
      return true;
    }
    // Disk trouble: keep the offset here and try again.
    spdlog::error("chunks: cannot store {}: {}", id.Hex(), s.ToString());
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 2000);
  }
  return false;
}

void ChunkConsumer::Run() {
  while (!stop_.load() && !topics_ready_->WaitOpen(std::chrono::steady_clock::now() +
                                                   std::chrono::milliseconds(kPollMs))) {
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  while (!stop_.load() && !(consumer = Connect())) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!consumer) return;
  while (!stop_.load()) {
    std::unique_ptr<RdKafka::Message> msg(consumer->consume(kPollMs));
    switch (msg->err()) {
      case RdKafka::ERR_NO_ERROR:
        if (Handle(*msg)) StoreOffset(consumer.get(), *msg);
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default:
        spdlog::debug("chunk consumer: {}", msg->errstr());
        break;
    }
  }
  consumer->close();
}

}  // namespace kdfs
