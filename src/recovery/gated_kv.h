// GatedKv: a MetaKv decorator between the state machine and its store that
// lets recovery stop the state still, and that remembers the (offset,
// digest) pair of every record committed through it.
//
// Hold() blocks every Commit/CommitIf until the returned lock is released;
// reads pass through. Holding the gate is how a snapshot sees one applied
// offset (the log follower waits inside its commit meanwhile) and how a
// snapshot is loaded underneath a running state machine: the state machine's
// next guarded commit then finds another digest, reloads `meta` and carries
// on from the loaded offset (see StateMachine::Apply).
//
// The digest ring: after each successful CommitIf on `meta` that sets
// applied_offset and digest, the pair is kept (the last `ring_size`), so that
// nodes can compare digests at equal offsets (divergence check).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/meta_kv.h"

namespace kdfs {

class GatedKv final : public MetaKv {
 public:
  // REQUIRES: inner outlives this object.
  explicit GatedKv(MetaKv* inner, size_t ring_size = 4096);

  // Blocks commits while the returned lock is held. Waits for a commit in
  // progress to finish first.
  std::unique_lock<std::shared_mutex> Hold();
  MetaKv* inner() { return inner_; }

  // The last committed (offset, digest) pairs, oldest first.
  std::vector<std::pair<int64_t, std::string>> Digests() const;
  void ClearDigests();

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::optional<std::string>> HGet(std::string_view key, std::string_view field) override;
  Result<std::vector<std::optional<std::string>>> HMGet(
      std::string_view key, const std::vector<std::string>& fields) override;
  Result<KvFields> HGetAll(std::string_view key) override;
  Result<std::vector<KvFields>> HGetAllMany(const std::vector<std::string>& keys) override;
  Result<uint64_t> HLen(std::string_view key) override;
  Result<std::vector<std::string>> ZRangeAfter(std::string_view key, std::string_view after,
                                               size_t limit) override;
  Result<ResolvedPath> Resolve(uint64_t start, const std::vector<std::string>& names) override;
  Result<ResolvedListing> ResolveAndList(uint64_t start, const std::vector<std::string>& names,
                                         std::string_view after, size_t limit,
                                         const std::vector<std::string>& fields) override;
  Status Commit(const WriteBatch& batch) override;
  Status CommitIf(std::string_view key, std::string_view field,
                  const std::optional<std::string>& expected, const WriteBatch& batch) override;

 private:
  void Remember(const WriteBatch& batch);

  MetaKv* const inner_;
  const size_t ring_size_;
  std::shared_mutex gate_;
  mutable std::mutex ring_mu_;
  std::deque<std::pair<int64_t, std::string>> ring_;  // guarded by ring_mu_
};

}  // namespace kdfs
