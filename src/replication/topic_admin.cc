#include "replication/topic_admin.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <set>

#include "replication/kafka_util.h"

namespace kdfs {

namespace {

// Owners of librdkafka C objects, released on every path.
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};

std::string Bytes(int64_t n) {
  return std::to_string(n);
}

}  // namespace

std::vector<TopicSpec> KdfsTopicSpecs(const ReplicatorOptions& options) {
  const auto names = kafka::Names::ForPrefix(options.topic_prefix);
  const int rf = options.topic_replication;
  // With three or more replicas an acknowledged write must be on two of them
  // (acks=all waits for the in-sync set); with fewer there is nothing to ask.
  const std::string min_isr = rf >= 3 ? "2" : "1";
  // As large as the clients' message.max.bytes, so that any batch a
  // producer builds is accepted.
  const std::string max_bytes = Bytes(kafka::ClientMessageMax(options.max_record_bytes));
  auto spec = [&](const std::string& name, int partitions) {
    TopicSpec s;
    s.name = name;
    s.partitions = partitions;
    s.replication = rf;
    s.configs = {{"min.insync.replicas", min_isr},
                 {"max.message.bytes", max_bytes},
                 {"cleanup.policy", "delete"}};
    return s;
  };
  TopicSpec chunks = spec(names.chunks, options.chunk_partitions);
  chunks.configs["retention.ms"] = Bytes(options.chunk_retention_ms);
  TopicSpec proposals = spec(names.proposals, 1);
  // Proposals older than the chunk window could name chunks that are gone.
  proposals.configs["retention.ms"] = Bytes(options.chunk_retention_ms);
  TopicSpec log = spec(names.log, 1);
  log.configs["retention.ms"] = Bytes(options.log_retention_ms);
  log.configs["retention.bytes"] = "-1";
  TopicSpec election = spec(names.election, 1);
  return {chunks, proposals, log, election};
}

Result<std::vector<std::string>> AbsentTopics(RdKafka::Handle* handle,
                                              const std::vector<TopicSpec>& specs, int timeout_ms) {
  RdKafka::Metadata* raw_md = nullptr;
  // All topics: asking for one by name may auto-create it on some brokers.
  const RdKafka::ErrorCode rc = handle->metadata(true, nullptr, &raw_md, timeout_ms);
  std::unique_ptr<RdKafka::Metadata> md(raw_md);
  if (rc != RdKafka::ERR_NO_ERROR) return kafka::KafkaStatus(rc, "list topics");
  std::set<std::string> listed;
  for (const RdKafka::TopicMetadata* t : *md->topics()) {
    // A topic still being created is listed with LEADER_NOT_AVAILABLE: it exists.
    if (t->err() != RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) listed.insert(t->topic());
  }
  std::vector<std::string> absent;
  for (const auto& s : specs) {
    if (listed.count(s.name) == 0) absent.push_back(s.name);
  }
  return absent;
}

Result<int> EnsureTopics(RdKafka::Handle* handle, const std::vector<TopicSpec>& all_specs,
                         int timeout_ms) {
  KDFS_ASSIGN_OR_RETURN(auto absent, AbsentTopics(handle, all_specs, timeout_ms));
  if (absent.empty()) return 0;
  std::vector<TopicSpec> specs;
  for (const auto& s : all_specs) {
    if (std::find(absent.begin(), absent.end(), s.name) != absent.end()) specs.push_back(s);
  }
  rd_kafka_t* rk = handle->c_ptr();
  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  char errstr[512];
  for (const auto& s : specs) {
    rd_kafka_NewTopic_t* t =
        rd_kafka_NewTopic_new(s.name.c_str(), s.partitions, s.replication, errstr, sizeof errstr);
    if (t == nullptr) return Status::Internal("topic " + s.name + ": " + errstr);
    owned.emplace_back(t);
    raw.push_back(t);
    for (const auto& [k, v] : s.configs) {
      if (rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Internal("topic " + s.name + ": bad config " + k);
      }
    }
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> opts(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(opts.get(), timeout_ms, errstr, sizeof errstr);
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), opts.get(), queue.get());
  // The admin request carries its own timeout; leave a margin to receive it.
  std::unique_ptr<rd_kafka_event_t, EventDeleter> ev(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 1000));
  if (!ev) return Status::Timeout("create topics: no answer");
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka::KafkaStatus(
        static_cast<RdKafka::ErrorCode>(rd_kafka_event_error(ev.get())),
        std::string("create topics: ") + rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  if (res == nullptr) return Status::Internal("create topics: unexpected event");
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    const char* name = rd_kafka_topic_result_name(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info("created topic {}", name);
    } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return kafka::KafkaStatus(static_cast<RdKafka::ErrorCode>(err),
                                std::string("create topic ") + name + ": " + (msg ? msg : ""));
    }
  }
  return static_cast<int>(specs.size());
}

}  // namespace kdfs
