#include "recovery/recovery_manager.h"

#include <spdlog/spdlog.h>

#include "recovery/divergence.h"
#include "recovery/peer_status.h"

namespace kdfs {

namespace {

constexpr int kPeerTimeoutMs = 2000;
constexpr auto kTick = std::chrono::milliseconds(500);
constexpr auto kRetryPause = std::chrono::seconds(3);

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DigestRing RingFromJson(const nlohmann::json& j) {
  DigestRing ring;
  if (!j.contains("digests") || !j["digests"].is_array()) return ring;
  for (const auto& e : j["digests"]) {
    if (e.is_array() && e.size() == 2 && e[0].is_number_integer() && e[1].is_string()) {
      ring.emplace_back(e[0].get<int64_t>(), e[1].get<std::string>());
    }
  }
  return ring;
}

}  // namespace

RecoveryManager::RecoveryManager(RecoveryOptions options, GatedKv* kv, StateMachine* state,
                                 ChunkStore* chunks, Bootstrap::WipeFn wipe,
                                 std::function<bool()> log_gap, int64_t initial_applied)
    : options_(std::move(options)),
      kv_(kv),
      state_(state),
      chunks_(chunks),
      log_gap_(std::move(log_gap)),
      initial_applied_(initial_applied),
      peer_chunks_(options_.peers, options_.node_id, chunks, &arrivals_, options_.max_chunk_bytes),
      bootstrap_(BootstrapOptions{options_.node_id, options_.peers, options_.data_dir + "/recovery",
                                  options_.fetch_parallel, options_.max_chunk_bytes},
                 kv, state, chunks, std::move(wipe), &progress_, &stop_),
      scrubber_(ScrubberOptions{options_.scrub_bytes_per_sec}, chunks, state, kv,
                [this](const ChunkId& id) {
                  return peer_chunks_.Fetch(
                      id, "", std::chrono::steady_clock::now() + std::chrono::seconds(30));
                }) {}

RecoveryManager::~RecoveryManager() {
  Stop();
}

void RecoveryManager::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RecoveryManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  scrubber_.Stop();
}

bool RecoveryManager::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
  return !stop_.load();
}

Status RecoveryManager::Readiness() const {
  if (log_gap_ && log_gap_()) {
    return Status::Unavailable("recovery: the log no longer holds the next record to apply");
  }
  RecoveryState s = progress_.Get();
  if (s.phase == RecoveryPhase::kIdle) return Status::Ok();
  std::string why = std::string("recovery: ") + PhaseName(s.phase);
  if (!s.reason.empty()) why += " (" + s.reason + ")";
  if (!s.error.empty()) why += ": " + s.error;
  return Status::Unavailable(why);
}

void RecoveryManager::Run() {
  DecideAtStart();
  scrubber_.Start();
  auto last_check = std::chrono::steady_clock::now();
  while (SleepUnlessStopped(kTick)) {
    if (log_gap_ && log_gap_()) {
      spdlog::error(
          "recovery: log records this node has not applied were deleted by retention; "
          "bootstrapping from a peer");
      BootstrapUntilDone("log gap: records deleted by retention", {});
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (options_.divergence_check.count() > 0 && now - last_check >= options_.divergence_check) {
      last_check = now;
      CheckDivergence();
    }
  }
}

void RecoveryManager::DecideAtStart() {
  progress_.Update([](RecoveryState& s) { s.phase = RecoveryPhase::kStarting; });
  const auto deadline = std::chrono::steady_clock::now() + options_.startup_wait;
  while (initial_applied_ < 0 && !options_.peers.empty() && !stop_.load()) {
    std::vector<PeerState> peers = QueryPeers(options_.peers, options_.node_id, kPeerTimeoutMs);
    const PeerState* best = PickSnapshotPeer(peers);
    if (best != nullptr &&
        best->applied_offset - initial_applied_ >= options_.bootstrap_min_records) {
      spdlog::warn("recovery: empty metadata store and {} is at offset {}: bootstrapping", best->id,
                   best->applied_offset);
      BootstrapUntilDone("empty node", {});
      return;
    }
    bool any = false;
    for (const auto& p : peers)
      any = any || p.reachable;
    if (any || std::chrono::steady_clock::now() >= deadline) break;
    SleepUnlessStopped(kTick);
  }
  progress_.Update([](RecoveryState& s) { s.phase = RecoveryPhase::kIdle; });
}

void RecoveryManager::CheckDivergence() {
  std::map<std::string, DigestRing> rings;
  for (const auto& [id, url] : options_.peers) {
    if (id == options_.node_id) continue;
    auto j = GetPeerJson(url, "/internal/digests", kPeerTimeoutMs);
    if (j.ok()) rings[id] = RingFromJson(*j);
  }
  DigestRing mine = kv_->Digests();
  divergence_checks_.fetch_add(1);
  DivergenceVerdict v = JudgeDivergence(mine, rings);
  if (v.differ > 0 && !v.divergent) {
    spdlog::warn("recovery: digest check: {} (this node agrees with the majority)", v.detail);
  }
  if (!v.divergent) return;
  spdlog::critical(
      "recovery: DIVERGENCE: this node's state digest differs from the majority ({}{} agree); "
      "marking itself not ready and re-bootstrapping from a peer",
      v.detail, v.agree);
  progress_.Update([](RecoveryState& s) { ++s.divergences; });
  // Take the snapshot from a node that differs from us: the majority.
  std::vector<std::string> avoid;
  for (const auto& [id, ring] : rings) {
    if (std::find(v.differing.begin(), v.differing.end(), id) == v.differing.end()) {
      avoid.push_back(id);
    }
  }
  BootstrapUntilDone("divergent state digest", avoid);
}

void RecoveryManager::BootstrapUntilDone(const std::string& reason,
                                         const std::vector<std::string>& avoid) {
  progress_.Update([&](RecoveryState& s) {
    s.phase = RecoveryPhase::kSnapshot;
    s.reason = reason;
    s.error.clear();
  });
  while (!stop_.load()) {
    std::vector<PeerState> peers = QueryPeers(options_.peers, options_.node_id, kPeerTimeoutMs);
    std::erase_if(peers, [&](const PeerState& p) {
      return std::find(avoid.begin(), avoid.end(), p.id) != avoid.end();
    });
    const PeerState* source = PickSnapshotPeer(peers);
    Status s =
        source ? bootstrap_.Run(*source) : Status::Unavailable("no peer can serve a snapshot");
    if (s.ok()) {
      // The follower reloads the state on its next turn; wait for it.
      const int64_t target = progress_.Get().snapshot_offset;
      for (int i = 0; i < 600 && state_->applied_offset() < target; ++i)
        SleepUnlessStopped(std::chrono::milliseconds(50));
      progress_.Update([](RecoveryState& st) {
        st.phase = RecoveryPhase::kIdle;
        ++st.bootstraps;
        st.finished_ms = NowMs();
      });
      const RecoveryState st = progress_.Get();
      spdlog::warn(
          "recovery: bootstrap done ({}): snapshot at offset {} from {}, {} chunk(s) / {} bytes "
          "fetched in {} ms",
          reason, st.snapshot_offset, st.peer, st.chunks_done, st.chunk_bytes_done,
          st.finished_ms - st.started_ms);
      return;
    }
    spdlog::error("recovery: bootstrap ({}) failed, retrying: {}", reason, s.ToString());
    progress_.Update([&](RecoveryState& st) {
      st.phase = RecoveryPhase::kWaiting;
      st.error = s.ToString();
    });
    SleepUnlessStopped(kRetryPause);
  }
}

void RecoveryManager::RegisterMetrics(Metrics* metrics) {
  using T = Metrics::Type;
  metrics->Describe("kdfs_recovery_bootstrapping", T::kGauge,
                    "1 while a bootstrap from a peer is pending or running");
  metrics->Describe("kdfs_recovery_bootstraps_total", T::kCounter, "bootstraps completed");
  metrics->Describe("kdfs_recovery_divergences_total", T::kCounter,
                    "times this node found its state digest in the minority");
  metrics->Describe("kdfs_recovery_divergence_checks_total", T::kCounter, "digest comparisons");
  metrics->Describe("kdfs_recovery_snapshot_bytes", T::kGauge,
                    "snapshot bytes downloaded in the current/last bootstrap");
  metrics->Describe("kdfs_recovery_chunks_fetched", T::kGauge,
                    "chunks fetched in the current/last bootstrap");
  metrics->Describe("kdfs_recovery_chunks_total", T::kGauge,
                    "chunks to fetch in the current/last bootstrap");
  metrics->Describe("kdfs_recovery_chunk_bytes", T::kGauge,
                    "chunk bytes fetched in the current/last bootstrap");
  metrics->Describe("kdfs_scrub_passes_total", T::kCounter, "completed scrubber passes");
  metrics->Describe("kdfs_scrub_scanned_total", T::kCounter, "chunks verified by the scrubber");
  metrics->Describe("kdfs_scrub_scanned_bytes_total", T::kCounter, "bytes verified");
  metrics->Describe("kdfs_scrub_corrupt_total", T::kCounter, "chunks that failed verification");
  metrics->Describe("kdfs_scrub_missing_total", T::kCounter, "referenced chunks found missing");
  metrics->Describe("kdfs_scrub_repaired_total", T::kCounter, "chunks fetched again from a peer");
  metrics->Describe("kdfs_scrub_failed_total", T::kCounter, "chunks that could not be repaired");
  metrics->AddCollector([this](Metrics& m) {
    const RecoveryState s = progress_.Get();
    const bool busy = s.phase != RecoveryPhase::kIdle && s.phase != RecoveryPhase::kStarting;
    m.Set("kdfs_recovery_bootstrapping", "", busy ? 1 : 0);
    m.Set("kdfs_recovery_bootstraps_total", "", static_cast<double>(s.bootstraps));
    m.Set("kdfs_recovery_divergences_total", "", static_cast<double>(s.divergences));
    m.Set("kdfs_recovery_divergence_checks_total", "",
          static_cast<double>(divergence_checks_.load()));
    m.Set("kdfs_recovery_snapshot_bytes", "", static_cast<double>(s.snapshot_bytes_done));
    m.Set("kdfs_recovery_chunks_fetched", "", static_cast<double>(s.chunks_done));
    m.Set("kdfs_recovery_chunks_total", "", static_cast<double>(s.chunks_total));
    m.Set("kdfs_recovery_chunk_bytes", "", static_cast<double>(s.chunk_bytes_done));
    const ScrubberCounters& c = scrubber_.counters();
    m.Set("kdfs_scrub_passes_total", "", static_cast<double>(c.passes.load()));
    m.Set("kdfs_scrub_scanned_total", "", static_cast<double>(c.scanned.load()));
    m.Set("kdfs_scrub_scanned_bytes_total", "", static_cast<double>(c.scanned_bytes.load()));
    m.Set("kdfs_scrub_corrupt_total", "", static_cast<double>(c.corrupt.load()));
    m.Set("kdfs_scrub_missing_total", "", static_cast<double>(c.missing.load()));
    m.Set("kdfs_scrub_repaired_total", "", static_cast<double>(c.repaired.load()));
    m.Set("kdfs_scrub_failed_total", "", static_cast<double>(c.failed.load()));
  });
}

}  // namespace kdfs
