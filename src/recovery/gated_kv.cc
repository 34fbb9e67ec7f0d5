#include "recovery/gated_kv.h"

#include "store/meta_schema.h"

namespace kdfs {

GatedKv::GatedKv(MetaKv* inner, size_t ring_size) : inner_(inner), ring_size_(ring_size) {}

std::unique_lock<std::shared_mutex> GatedKv::Hold() {
  return std::unique_lock<std::shared_mutex>(gate_);
}

std::vector<std::pair<int64_t, std::string>> GatedKv::Digests() const {
  std::lock_guard<std::mutex> lock(ring_mu_);
  return {ring_.begin(), ring_.end()};
}

void GatedKv::ClearDigests() {
  std::lock_guard<std::mutex> lock(ring_mu_);
  ring_.clear();
}

void GatedKv::Remember(const WriteBatch& batch) {
  std::optional<int64_t> offset;
  std::optional<std::string> digest;
  for (const auto& w : batch.writes()) {
    if (w.kind != WriteBatch::Write::Kind::kHSet || w.key != schema::kMetaKey) continue;
    int64_t v = 0;
    if (w.field == schema::kMetaAppliedOffset && schema::ParseI64(w.value, &v)) offset = v;
    if (w.field == schema::kMetaDigest) digest = w.value;
  }
  if (!offset || !digest) return;
  std::lock_guard<std::mutex> lock(ring_mu_);
  if (!ring_.empty() && ring_.back().first >= *offset) ring_.clear();  // history restarted
  ring_.emplace_back(*offset, std::move(*digest));
  while (ring_.size() > ring_size_)
    ring_.pop_front();
}

Result<std::optional<std::string>> GatedKv::Get(std::string_view key) {
  return inner_->Get(key);
}
Result<std::optional<std::string>> GatedKv::HGet(std::string_view key, std::string_view field) {
  return inner_->HGet(key, field);
}
Result<std::vector<std::optional<std::string>>> GatedKv::HMGet(
    std::string_view key, const std::vector<std::string>& fields) {
  return inner_->HMGet(key, fields);
}
Result<KvFields> GatedKv::HGetAll(std::string_view key) {
  return inner_->HGetAll(key);
}
Result<std::vector<KvFields>> GatedKv::HGetAllMany(const std::vector<std::string>& keys) {
  return inner_->HGetAllMany(keys);
}
Result<uint64_t> GatedKv::HLen(std::string_view key) {
  return inner_->HLen(key);
}
Result<std::vector<std::string>> GatedKv::ZRangeAfter(std::string_view key, std::string_view after,
                                                      size_t limit) {
  return inner_->ZRangeAfter(key, after, limit);
}
Result<ResolvedPath> GatedKv::Resolve(uint64_t start, const std::vector<std::string>& names) {
  return inner_->Resolve(start, names);
}
Result<ResolvedListing> GatedKv::ResolveAndList(uint64_t start,
                                                const std::vector<std::string>& names,
                                                std::string_view after, size_t limit,
                                                const std::vector<std::string>& fields) {
  return inner_->ResolveAndList(start, names, after, limit, fields);
}

Status GatedKv::Commit(const WriteBatch& batch) {
  std::shared_lock<std::shared_mutex> lock(gate_);
  return inner_->Commit(batch);
}

Status GatedKv::CommitIf(std::string_view key, std::string_view field,
                         const std::optional<std::string>& expected, const WriteBatch& batch) {
  std::shared_lock<std::shared_mutex> lock(gate_);
  Status s = inner_->CommitIf(key, field, expected, batch);
  if (s.ok()) Remember(batch);
  return s;
}

}  // namespace kdfs
