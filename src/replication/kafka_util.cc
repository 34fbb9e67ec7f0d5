#include "replication/kafka_util.h"

#include <algorithm>

namespace kdfs::kafka {

Names Names::ForPrefix(std::string_view prefix) {
  const std::string p(prefix);
  Names n;
  n.chunks = p + ".chunks";
  n.proposals = p + ".proposals";
  n.log = p + ".log";
  n.election = p + ".election";
  n.leader_txn_id = p + ".leader";
  n.sequencer_group = p + ".sequencer";
  n.election_group = p + ".election";
  return n;
}

std::string Names::ChunkGroup(std::string_view node_id) const {
  return chunks + "." + std::string(node_id);
}

Status SetConf(RdKafka::Conf* conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK) {
    return Status(Code::kInternal, "kafka config " + key + "=" + value + ": " + err);
  }
  return Status::Ok();
}

Result<std::unique_ptr<RdKafka::Conf>> NewConf(const std::string& brokers,
                                               const std::string& client_id,
                                               RdKafka::EventCb* events, const ConfPairs& extra) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  const ConfPairs common = {
      {"bootstrap.servers", brokers},
      {"client.id", client_id},
      // A restarted broker is found again within a second, not after
      // librdkafka's default exponential backoff of up to 10 s.
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", "1000"},
      {"socket.keepalive.enable", "true"},
  };
  for (const auto& [k, v] : common)
    KDFS_RETURN_IF_ERROR(SetConf(conf.get(), k, v));
  for (const auto& [k, v] : extra)
    KDFS_RETURN_IF_ERROR(SetConf(conf.get(), k, v));
  if (events != nullptr) {
    std::string err;
    if (conf->set("event_cb", events, err) != RdKafka::Conf::CONF_OK) {
      return Status::Internal("kafka config event_cb: " + err);
    }
  }
  return conf;
}

ConfPairs LargeRecordFetch(uint32_t max_record_bytes, int partitions) {
  const int per_partition = ClientMessageMax(max_record_bytes);
  const int whole = std::max(per_partition * partitions, 50 << 20);
  return {{"max.partition.fetch.bytes", std::to_string(per_partition)},
          {"fetch.max.bytes", std::to_string(whole)},
          {"receive.message.max.bytes", std::to_string(whole + 4096)}};
}

Result<std::unique_ptr<RdKafka::Producer>> NewProducer(RdKafka::Conf* conf,
                                                       RdKafka::DeliveryReportCb* reports,
                                                       std::string_view what) {
  std::string err;
  if (conf->set("dr_cb", reports, err) != RdKafka::Conf::CONF_OK) {
    return Status::Internal("kafka config dr_cb: " + err);
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf, err));
  if (!producer) return Status::Internal(std::string(what) + ": " + err);
  return producer;
}

Status KafkaStatus(RdKafka::ErrorCode code, std::string_view context) {
  if (code == RdKafka::ERR_NO_ERROR) return Status::Ok();
  const std::string msg = std::string(context) + ": " + RdKafka::err2str(code);
  switch (code) {
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT_QUEUE:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
      return Status::Timeout(msg);
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
      return Status(Code::kPayloadTooLarge, msg);
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR__NOT_IMPLEMENTED:
    case RdKafka::ERR__UNKNOWN_PROTOCOL:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR_INVALID_REQUEST:
    case RdKafka::ERR_UNSUPPORTED_VERSION:
      return Status::Internal(msg);
    default:
      // Transport, broker, coordinator, fencing and authorization trouble:
      // the cluster cannot take the request now.
      return Status::Unavailable(msg);
  }
}

Status KafkaStatus(RdKafka::Error* error, std::string_view context) {
  if (error == nullptr) return Status::Ok();
  std::unique_ptr<RdKafka::Error> owned(error);
  Status s = KafkaStatus(owned->code(), context);
  if (s.ok()) return s;
  return Status(s.code(), std::string(context) + ": " + owned->str());
}

int MillisUntil(std::chrono::steady_clock::time_point deadline, int cap_ms) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, cap_ms));
}

}  // namespace kdfs::kafka
