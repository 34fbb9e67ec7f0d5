// Node: builds and owns every component of one kdfs-node process and wires
// them together: Env -> ChunkStore, RedisKv -> StateMachine, Replicator
// (Kafka), FileService, ApiHandlers, HttpServer.
//
// Thread-safety: Start/Stop from the main thread only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "node/node_config.h"

namespace kdfs {

class Node {
 public:
  explicit Node(NodeConfig config);
  ~Node();

  // Opens the stores, starts replication and the HTTP server. Fails when the
  // data dir is unusable or the listen address is taken. Redis down at start
  // delays start-up: Start retries until Redis answers (the applied offset is
  // read from it), so /healthz answers only from then on. Kafka down at start,
  // and either one failing later, is not fatal: the node answers /healthz,
  // reports not-ready on /readyz and keeps retrying.
  Status Start();
  // Stops serving, leaves the election, flushes, closes stores. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdfs
