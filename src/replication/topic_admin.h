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

#include "common/result.h"
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

// The names in `specs` that the cluster's metadata does not list. A metadata
// request is answered by any broker from its cache, so this works while the
// controller is busy or being elected.
Result<std::vector<std::string>> AbsentTopics(RdKafka::Handle* handle,
                                              const std::vector<TopicSpec>& specs, int timeout_ms);

// Creates every topic in `specs` that is absent, through the admin API of
// `handle` (any client handle), and returns how many it asked the controller
// to create. When all exist it asks nothing: a node restarting against a
// cluster it already set up never waits for the controller.
// TOPIC_ALREADY_EXISTS counts as success (another node won the race).
// kUnavailable/kTimeout when the cluster cannot be reached in `timeout_ms`.
Result<int> EnsureTopics(RdKafka::Handle* handle, const std::vector<TopicSpec>& specs,
                         int timeout_ms);

}  // namespace kdfs
