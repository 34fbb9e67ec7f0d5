#include "replication/async_producer.h"

#include <spdlog/spdlog.h>

namespace kdfs {

class AsyncProducer::DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<Callback> done(static_cast<Callback*>(message.msg_opaque()));
    if (!done) return;
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      (*done)(Status::Ok(), message.offset());
    } else if (message.err() == RdKafka::ERR__PURGE_QUEUE ||
               message.err() == RdKafka::ERR__PURGE_INFLIGHT) {
      (*done)(Status::Unavailable("kafka producer closed before delivery"), -1);
    } else {
      (*done)(kafka::KafkaStatus(message.err(), "deliver to " + message.topic_name()), -1);
    }
  }
};

Result<std::unique_ptr<AsyncProducer>> AsyncProducer::Create(const std::string& brokers,
                                                             const std::string& client_id,
                                                             RdKafka::EventCb* events,
                                                             const kafka::ConfPairs& extra) {
  kafka::ConfPairs pairs = {
      // Idempotence: retries never duplicate or reorder a record.
      {"enable.idempotence", "true"},
      {"acks", "all"},
  };
  pairs.insert(pairs.end(), extra.begin(), extra.end());
  KDFS_ASSIGN_OR_RETURN(auto conf, kafka::NewConf(brokers, client_id, events, pairs));
  std::unique_ptr<AsyncProducer> p(new AsyncProducer());
  p->reports_ = std::make_unique<DeliveryReports>();
  KDFS_ASSIGN_OR_RETURN(p->producer_,
                        kafka::NewProducer(conf.get(), p->reports_.get(), "kafka producer"));
  p->poller_ = std::thread([raw = p.get()] { raw->PollLoop(); });
  return p;
}

AsyncProducer::~AsyncProducer() {
  Close(0);
}

void AsyncProducer::PollLoop() {
  while (!stop_.load())
    producer_->poll(50);
}

Status AsyncProducer::Produce(const std::string& topic, int32_t partition, std::string_view key,
                              std::string_view value, Callback done,
                              std::chrono::steady_clock::time_point deadline) {
  if (closed_.load()) return Status::Unavailable("kafka producer closed");
  auto opaque = std::make_unique<Callback>(std::move(done));
  for (;;) {
    const RdKafka::ErrorCode err = producer_->produce(
        topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
        value.size(), key.data(), key.size(), /*timestamp=*/0, opaque.get());
    if (err == RdKafka::ERR_NO_ERROR) {
      opaque.release();  // owned by the delivery report now
      return Status::Ok();
    }
    if (err != RdKafka::ERR__QUEUE_FULL) return kafka::KafkaStatus(err, "produce to " + topic);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Timeout("produce to " + topic + ": local queue full");
    }
    // The delivery thread drains the queue; wait a little for room.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void AsyncProducer::WarmUp(const std::string& topic, int timeout_ms) {
  int64_t low = 0, high = 0;
  (void)producer_->query_watermark_offsets(topic, 0, &low, &high, timeout_ms);
}

void AsyncProducer::Close(int flush_ms) {
  if (closed_.exchange(true)) return;
  if (flush_ms > 0) producer_->flush(flush_ms);
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT |
                   RdKafka::Producer::PURGE_NON_BLOCKING);
  stop_.store(true);
  if (poller_.joinable()) poller_.join();
  // Serve the purged records' reports so that every callback runs (bounded:
  // a request stuck on a dead connection must not hold up shutdown).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (producer_->outq_len() > 0 && std::chrono::steady_clock::now() < give_up) {
    producer_->poll(50);
  }
  if (producer_->outq_len() > 0) {
    spdlog::warn("kafka producer closed with {} reports outstanding", producer_->outq_len());
  }
}

}  // namespace kdfs
