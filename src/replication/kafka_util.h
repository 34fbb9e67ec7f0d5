// Small helpers shared by every Kafka client of the replication module:
// topic names, configuration building and the one place where librdkafka
// error codes become kdfs Status codes.
//
// Thread-safe (stateless functions).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kdfs::kafka {

// The names every node derives from the configured prefix (DESIGN §2).
struct Names {
  std::string chunks;           // <p>.chunks: chunk bytes keyed by id
  std::string proposals;        // <p>.proposals: one partition
  std::string log;              // <p>.log: the committed log, one partition
  std::string election;         // <p>.election: one partition, one group
  std::string leader_txn_id;    // <p>.leader: the one transactional.id
  std::string sequencer_group;  // <p>.sequencer: owns the proposals offsets
  std::string election_group;   // <p>.election

  static Names ForPrefix(std::string_view prefix);
  // The chunk consumer's own group, one per node.
  std::string ChunkGroup(std::string_view node_id) const;
};

using ConfPairs = std::vector<std::pair<std::string, std::string>>;

// A global configuration with the settings every kdfs client shares
// (bootstrap servers, client id, fast reconnects, `events` for logs and
// errors; may be null) plus `extra`. kInvalidArgument names a rejected key.
Result<std::unique_ptr<RdKafka::Conf>> NewConf(const std::string& brokers,
                                               const std::string& client_id,
                                               RdKafka::EventCb* events, const ConfPairs& extra);
Status SetConf(RdKafka::Conf* conf, const std::string& key, const std::string& value);

// The one mapping of librdkafka errors onto kdfs codes: transport, broker and
// coordinator trouble is kUnavailable, timeouts kTimeout, oversized records
// kPayloadTooLarge, configuration and programming errors kInternal.
Status KafkaStatus(RdKafka::ErrorCode code, std::string_view context);
// As above for an RdKafka::Error; takes ownership and deletes it. ok if null.
Status KafkaStatus(RdKafka::Error* error, std::string_view context);

// Milliseconds left until `deadline`, clamped to [0, cap_ms].
int MillisUntil(std::chrono::steady_clock::time_point deadline, int cap_ms);

// The records' sizes the clients must accept: a record of `max_record_bytes`
// plus Kafka's batch framing.
inline int ClientMessageMax(uint32_t max_record_bytes) {
  return static_cast<int>(max_record_bytes) + (64 << 10);
}

// Fetch limits of a consumer of records up to `max_record_bytes` that reads
// up to `partitions` partitions at once: every partition's fetch holds one
// whole record, and the whole fetch (and the socket's receive limit) holds
// `partitions` of them, at least librdkafka's 50 MiB default.
ConfPairs LargeRecordFetch(uint32_t max_record_bytes, int partitions);

// A producer over `conf` whose delivery reports go to `reports` (owned by the
// caller, outliving the producer). `what` names it in errors.
Result<std::unique_ptr<RdKafka::Producer>> NewProducer(RdKafka::Conf* conf,
                                                       RdKafka::DeliveryReportCb* reports,
                                                       std::string_view what);

}  // namespace kdfs::kafka
