// Creation of kdfs's four topics at start-up (DESIGN §2). A topic that
// already exists is left as it is (its partition count and settings are not
// altered): creation is idempotent and any node may do it.
//
// Thread-safe (stateless).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "replication/replicator.h"

namespace kdfs {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication = 1;
  std::map<std::string, std::string> configs;
};

// The specs of <p>.chunks, <p>.proposals, <p>.log and <p>.election.
std::vector<TopicSpec> KdfsTopicSpecs(const ReplicatorOptions& options);

// Creates every topic in `specs` that is absent, through the admin API of
// `handle` (any client handle). TOPIC_ALREADY_EXISTS counts as success.
// kUnavailable/kTimeout when the cluster cannot be reached in `timeout_ms`.
Status EnsureTopics(RdKafka::Handle* handle, const std::vector<TopicSpec>& specs, int timeout_ms);

}  // namespace kdfs
