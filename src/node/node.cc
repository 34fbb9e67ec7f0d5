#include "node/node.h"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "api/api_handlers.h"
#include "api/file_service.h"
#include "api/internal_handlers.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/hlc.h"
#include "common/metrics.h"
#include "http/http_server.h"
#include "recovery/gated_kv.h"
#include "recovery/peer_status.h"
#include "recovery/recovery_manager.h"
#include "recovery/redis_wipe.h"
#include "replication/replicator.h"
#include "store/chunk_store.h"
#include "store/redis_kv.h"
#include "store/state_machine.h"

namespace kdfs {

using json = nlohmann::json;

class Node::Impl {
 public:
  explicit Impl(NodeConfig config) : config_(std::move(config)) {}

  Status Start() {
    KDFS_RETURN_IF_ERROR(OpenStores());
    KDFS_RETURN_IF_ERROR(StartReplication());
    FileServiceOptions file_options{config_.node_id, config_.chunk_size, 8};
    file_options.unsafe_ack_before_apply = config_.unsafe_ack_before_apply;  // test only
    files_ = std::make_unique<FileService>(file_options, state_.get(), chunks_.get(),
                                           replicator_.get(), hlc_.get());
    DescribeMetrics();
    ApiContext ctx;
    ctx.files = files_.get();
    ctx.metrics = &metrics_;
    ctx.readiness = [this] { return Readiness(); };
    ctx.local_status = [this] { return LocalStatus(); };
    ctx.cluster = [this] { return ClusterStatus(); };
    ctx.request_timeout_ms = config_.request_timeout_ms;
    ctx.consistency_wait_ms = config_.consistency_wait_ms;
    handlers_ = std::make_unique<ApiHandlers>(ctx);
    StartRecovery();
    HttpServerOptions http;
    http.listen = config_.listen;
    http.max_body_bytes = config_.max_body_bytes;
    http.max_header_bytes = config_.max_header_bytes;
    http.max_connections = config_.max_connections;
    server_ = std::make_unique<HttpServer>(
        http, [this](HttpRequest& req, BodyReader& body, ResponseWriter& res) {
          if (!internal_->Handle(req, res)) handlers_->Handle(req, body, res);
        });
    return server_->Start();
  }

  void Stop() {
    if (server_) server_->Stop();
    if (recovery_) recovery_->Stop();
    if (replicator_) replicator_->Stop();
  }

 private:
  Status OpenStores() {
    ChunkStoreOptions chunk_options;
    chunk_options.dir = config_.data_dir;
    chunk_options.gc_grace_ms = config_.chunk_gc_grace_ms;
    KDFS_ASSIGN_OR_RETURN(chunks_, ChunkStore::Open(Env::Default(), chunk_options));
    KDFS_ASSIGN_OR_RETURN(RedisKvOptions redis, RedisKvOptions::FromAddress(config_.redis));
    kv_ = std::make_unique<RedisKv>(redis);
    gated_ = std::make_unique<GatedKv>(kv_.get());  // recovery holds commits through it
    state_ = std::make_unique<StateMachine>(gated_.get());
    // Redis may not be up yet (e.g. started alongside): retry, reporting.
    for (int attempt = 0;; ++attempt) {
      Status st = state_->Open();
      if (st.ok()) break;
      if (attempt % 10 == 0)
        spdlog::warn("waiting for Redis at {}: {}", config_.redis, st.ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    initial_applied_ = state_->applied_offset();
    hlc_ = std::make_unique<HlcClock>(Clock::Real(), config_.node_id);
    return Status::Ok();
  }

  Status StartReplication() {
    ReplicatorOptions r;
    r.node_id = config_.node_id;
    r.brokers = config_.kafka_brokers;
    r.topic_prefix = config_.topic_prefix;
    r.topic_replication = config_.topic_replication;
    r.chunk_partitions = config_.chunk_partitions;
    r.chunk_retention_ms = config_.chunk_retention_ms;
    r.log_retention_ms = config_.log_retention_ms;
    r.election_session_timeout_ms = config_.election_session_timeout_ms;
    r.transaction_timeout_ms = config_.transaction_timeout_ms;
    r.max_record_bytes = config_.chunk_size + (1 << 20);
    r.peers = config_.peers;
    KDFS_ASSIGN_OR_RETURN(
        replicator_, Replicator::Create(r, state_.get(), chunks_.get(), hlc_.get(), Clock::Real()));
    return replicator_->Start();
  }

  void StartRecovery() {
    RecoveryOptions r;
    r.node_id = config_.node_id;
    r.peers = config_.peers;
    r.data_dir = config_.data_dir;
    r.max_chunk_bytes = config_.chunk_size;
    r.bootstrap_min_records = config_.bootstrap_min_records;
    r.fetch_parallel = static_cast<size_t>(std::max(1, config_.bootstrap_parallel));
    r.scrub_bytes_per_sec = config_.scrub_bytes_per_sec;
    r.divergence_check = std::chrono::milliseconds(config_.divergence_check_ms);
    const RedisKvOptions redis = kv_->options();
    recovery_ = std::make_unique<RecoveryManager>(
        r, gated_.get(), state_.get(), chunks_.get(), [redis] { return WipeRedisPrefix(redis); },
        [this] { return replicator_->View().log_gap; }, initial_applied_);
    recovery_->RegisterMetrics(&metrics_);
    internal_ = std::make_unique<InternalHandlers>(config_.node_id, gated_.get(),
                                                   config_.data_dir + "/recovery", &metrics_);
    recovery_->Start();
  }

  Status Readiness() {
    KDFS_RETURN_IF_ERROR(recovery_->Readiness());
    Status redis = kv_->Ping();
    if (!redis.ok()) return Status::Unavailable("Redis unreachable: " + redis.message());
    ClusterView view = replicator_->View();
    if (!view.kafka_connected) return Status::Unavailable("Kafka unreachable");
    int64_t lag = Lag(view);
    if (lag > config_.max_ready_lag) {
      return Status::Unavailable("lagging " + std::to_string(lag) + " records behind the log");
    }
    return Status::Ok();
  }

  static int64_t Lag(const ClusterView& view) {
    if (view.log_end_offset < 0) return 0;
    return std::max<int64_t>(0, view.log_end_offset - view.applied_offset);
  }

  json LocalStatus() {
    ClusterView view = replicator_->View();
    Status ready = Readiness();
    json leader = nullptr;
    if (view.leader) leader = {{"node", view.leader->node}, {"epoch", view.leader->epoch}};
    return {{"id", config_.node_id},
            {"url", config_.advertise_url},
            {"role", view.is_leader ? "leader" : "follower"},
            {"ready", ready.ok()},
            {"not_ready_reason", ready.ok() ? "" : ready.message()},
            {"reachable", true},
            {"applied_offset", view.applied_offset},
            {"log_end_offset", view.log_end_offset},
            {"lag", Lag(view)},
            {"kafka_connected", view.kafka_connected},
            {"digest", state_->digest()},
            {"recovery", recovery_->ProgressJson()},
            {"leader", leader}};
  }

  json PeerStatus(const std::string& id, const std::string& url) {
    json unreachable = {
        {"id", id}, {"url", url}, {"role", "unknown"}, {"ready", false}, {"reachable", false}};
    auto status = GetPeerJson(url, "/internal/status", /*timeout_ms=*/1000);
    return status.ok() ? *status : unreachable;
  }

  json ClusterStatus() {
    std::vector<std::future<json>> peers;
    for (const auto& [id, url] : config_.peers) {
      peers.push_back(std::async(std::launch::async,
                                 [this, id = id, url = url] { return PeerStatus(id, url); }));
    }
    json nodes = json::array();
    json self = LocalStatus();
    nodes.push_back(self);
    for (auto& f : peers)
      nodes.push_back(f.get());
    std::sort(nodes.begin(), nodes.end(),
              [](const json& a, const json& b) { return a["id"] < b["id"]; });
    return {{"leader", self["leader"]}, {"self", config_.node_id}, {"nodes", nodes}};
  }

  void DescribeMetrics() {
    metrics_.Describe("kdfs_http_requests_total", Metrics::Type::kCounter,
                      "HTTP requests by route, method and status code");
    metrics_.Describe("kdfs_http_request_duration_seconds", Metrics::Type::kHistogram,
                      "HTTP request latency by route");
    metrics_.Describe("kdfs_http_bytes_out_total", Metrics::Type::kCounter,
                      "response body bytes sent, by route");
    metrics_.Describe("kdfs_http_bytes_in_total", Metrics::Type::kCounter,
                      "request body bytes received, by route");
    metrics_.Describe("kdfs_proposals_in_flight", Metrics::Type::kGauge,
                      "operations this node proposed and awaits the outcome of");
    metrics_.Describe("kdfs_leader_epoch", Metrics::Type::kGauge,
                      "epoch of the current leader (label: its node id); -1 without one");
    metrics_.Describe("kdfs_applied_offset", Metrics::Type::kGauge, "last applied log offset");
    metrics_.Describe("kdfs_lag_records", Metrics::Type::kGauge, "records behind the log end");
    metrics_.Describe("kdfs_is_leader", Metrics::Type::kGauge, "1 while this node sequences");
    metrics_.Describe("kdfs_chunk_store_bytes", Metrics::Type::kGauge, "bytes of stored chunks");
    metrics_.Describe("kdfs_chunk_store_chunks", Metrics::Type::kGauge, "stored chunks");
    metrics_.AddCollector([this](Metrics& m) {
      ClusterView view = replicator_->View();
      m.Set("kdfs_applied_offset", "", static_cast<double>(view.applied_offset));
      m.Set("kdfs_lag_records", "", static_cast<double>(Lag(view)));
      m.Set("kdfs_is_leader", "", view.is_leader ? 1 : 0);
      m.Set("kdfs_proposals_in_flight", "", static_cast<double>(files_->proposals_in_flight()));
      m.Clear("kdfs_leader_epoch");  // one series, labelled by the current leader
      m.Set("kdfs_leader_epoch", view.leader ? "node=\"" + view.leader->node + "\"" : "",
            view.leader ? static_cast<double>(view.leader->epoch) : -1);
      ChunkStoreStats stats = chunks_->Stats();
      m.Set("kdfs_chunk_store_bytes", "", static_cast<double>(stats.bytes));
      m.Set("kdfs_chunk_store_chunks", "", static_cast<double>(stats.chunks));
    });
  }

  const NodeConfig config_;
  Metrics metrics_;
  std::unique_ptr<ChunkStore> chunks_;
  std::unique_ptr<RedisKv> kv_;
  std::unique_ptr<GatedKv> gated_;
  int64_t initial_applied_ = -1;
  std::unique_ptr<StateMachine> state_;
  std::unique_ptr<HlcClock> hlc_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<FileService> files_;
  std::unique_ptr<ApiHandlers> handlers_;
  std::unique_ptr<RecoveryManager> recovery_;
  std::unique_ptr<InternalHandlers> internal_;
  std::unique_ptr<HttpServer> server_;
};

Node::Node(NodeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Node::~Node() {
  Stop();
}
Status Node::Start() {
  return impl_->Start();
}
void Node::Stop() {
  impl_->Stop();
}

}  // namespace kdfs
