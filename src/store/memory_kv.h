// MemoryKv: an in-memory MetaKv for unit tests, with the same semantics as
// RedisKv (byte-wise sorted sets, atomic batches, consistent path walks)
// and hooks to inject store failures.
//
// Thread-safe: one mutex guards all data; every call holds it throughout.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "store/meta_kv.h"

namespace kdfs {

class MemoryKv final : public MetaKv {
 public:
  MemoryKv() = default;

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

  // Test hooks.
  // The next `n` calls (reads or commits) fail with kUnavailable.
  void FailNextCalls(int n);
  // The next Commit() is applied but reports kUnavailable, as when Redis
  // executes EXEC and the connection drops before the reply arrives.
  void LoseNextCommitReply();
  // Number of writes in the last successful Commit().
  size_t last_commit_writes() const;
  // A copy of all data / putting it back: simulates a store that loses
  // acknowledged writes (e.g. Redis restarted from an AOF that missed them).
  struct Snapshot;
  std::shared_ptr<const Snapshot> TakeSnapshot() const;
  void Restore(const Snapshot& snapshot);
  // Every key, for comparing two stores in tests: type letter + key ->
  // canonical text of the value.
  std::map<std::string, std::string> Dump() const;

 private:
  Status MaybeFail();                            // REQUIRES: mu_ held
  Status CommitLocked(const WriteBatch& batch);  // REQUIRES: mu_ held
  ResolvedPath ResolveLocked(uint64_t start, const std::vector<std::string>& names) const;
  const KvFields* FindHash(std::string_view key) const;  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> strings_;
  std::map<std::string, KvFields, std::less<>> hashes_;
  std::map<std::string, std::set<std::string>, std::less<>> zsets_;
  int fail_next_ = 0;
  bool lose_next_reply_ = false;
  size_t last_commit_writes_ = 0;
};

}  // namespace kdfs
