#include "store/memory_kv.h"

#include "store/meta_schema.h"

namespace kdfs {

namespace {

std::optional<std::string> FieldOf(const KvFields* hash, const std::string& field) {
  if (hash == nullptr) return std::nullopt;
  auto it = hash->find(field);
  if (it == hash->end()) return std::nullopt;
  return it->second;
}

}  // namespace

Status MemoryKv::MaybeFail() {
  if (fail_next_ > 0) {
    --fail_next_;
    return Status::Unavailable("memory kv: injected failure");
  }
  return Status::Ok();
}

const KvFields* MemoryKv::FindHash(std::string_view key) const {
  auto it = hashes_.find(key);
  return it == hashes_.end() ? nullptr : &it->second;
}

Result<std::optional<std::string>> MemoryKv::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  auto it = strings_.find(key);
  if (it == strings_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::optional<std::string>> MemoryKv::HGet(std::string_view key, std::string_view field) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  return FieldOf(FindHash(key), std::string(field));
}

Result<std::vector<std::optional<std::string>>> MemoryKv::HMGet(
    std::string_view key, const std::vector<std::string>& fields) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  const KvFields* hash = FindHash(key);
  std::vector<std::optional<std::string>> out;
  out.reserve(fields.size());
  for (const auto& f : fields)
    out.push_back(FieldOf(hash, f));
  return out;
}

Result<KvFields> MemoryKv::HGetAll(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  const KvFields* hash = FindHash(key);
  return hash ? *hash : KvFields();
}

Result<std::vector<KvFields>> MemoryKv::HGetAllMany(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  std::vector<KvFields> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    const KvFields* hash = FindHash(k);
    out.push_back(hash ? *hash : KvFields());
  }
  return out;
}

Result<uint64_t> MemoryKv::HLen(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  const KvFields* hash = FindHash(key);
  return static_cast<uint64_t>(hash ? hash->size() : 0);
}

Result<std::vector<std::string>> MemoryKv::ZRangeAfter(std::string_view key, std::string_view after,
                                                       size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  std::vector<std::string> out;
  auto it = zsets_.find(key);
  if (it == zsets_.end()) return out;
  const auto& set = it->second;
  // std::string's operator< is byte-wise (char_traits<char>::compare uses
  // memcmp-like unsigned comparison), the same order as Redis.
  for (auto m = after.empty() ? set.begin() : set.upper_bound(std::string(after));
       m != set.end() && out.size() < limit; ++m) {
    out.push_back(*m);
  }
  return out;
}

ResolvedPath MemoryKv::ResolveLocked(uint64_t start, const std::vector<std::string>& names) const {
  ResolvedPath out;
  uint64_t ino = start;
  for (const auto& name : names) {
    auto child = FieldOf(FindHash(schema::DirentKey(ino)), name);
    uint64_t child_ino = 0;
    if (!child || !schema::ParseU64(*child, &child_ino)) break;
    auto type = FieldOf(FindHash(schema::InodeKey(child_ino)), std::string(schema::kType));
    out.inos.push_back(child_ino);
    out.types.push_back(type.value_or(""));
    ino = child_ino;
    if (out.types.back() != schema::kTypeDir) break;
  }
  if (const KvFields* last = FindHash(schema::InodeKey(ino))) out.last = *last;
  return out;
}

Result<ResolvedPath> MemoryKv::Resolve(uint64_t start, const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  return ResolveLocked(start, names);
}

Result<ResolvedListing> MemoryKv::ResolveAndList(uint64_t start,
                                                 const std::vector<std::string>& names,
                                                 std::string_view after, size_t limit,
                                                 const std::vector<std::string>& fields) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  ResolvedListing out;
  out.dir = ResolveLocked(start, names);
  auto only = [&fields](const KvFields* hash) {
    KvFields kept;
    for (const auto& f : fields) {
      if (auto v = FieldOf(hash, f)) kept.emplace(f, std::move(*v));
    }
    return kept;
  };
  const uint64_t dir = out.dir.inos.empty() ? start : out.dir.inos.back();
  out.dir.last = only(FindHash(schema::InodeKey(dir)));
  const bool complete = out.dir.inos.size() == names.size();
  auto type = FieldOf(FindHash(schema::InodeKey(dir)), std::string(schema::kType));
  if (!complete || type != std::string(schema::kTypeDir)) return out;
  auto z = zsets_.find(schema::IndexKey(dir));
  if (z == zsets_.end()) return out;
  const KvFields* dirents = FindHash(schema::DirentKey(dir));
  for (auto m = after.empty() ? z->second.begin() : z->second.upper_bound(std::string(after));
       m != z->second.end() && out.entries.size() < limit; ++m) {
    auto child = FieldOf(dirents, *m);
    uint64_t child_ino = 0;
    if (!child || !schema::ParseU64(*child, &child_ino)) continue;
    out.entries.push_back({*m, child_ino, only(FindHash(schema::InodeKey(child_ino)))});
  }
  return out;
}

struct MemoryKv::Snapshot {
  std::map<std::string, std::string, std::less<>> strings;
  std::map<std::string, KvFields, std::less<>> hashes;
  std::map<std::string, std::set<std::string>, std::less<>> zsets;
};

std::shared_ptr<const MemoryKv::Snapshot> MemoryKv::TakeSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::make_shared<const Snapshot>(Snapshot{strings_, hashes_, zsets_});
}

void MemoryKv::Restore(const Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  strings_ = snapshot.strings;
  hashes_ = snapshot.hashes;
  zsets_ = snapshot.zsets;
}

Status MemoryKv::Commit(const WriteBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  return CommitLocked(batch);
}

Status MemoryKv::CommitIf(std::string_view key, std::string_view field,
                          const std::optional<std::string>& expected, const WriteBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  KDFS_RETURN_IF_ERROR(MaybeFail());
  if (FieldOf(FindHash(key), std::string(field)) != expected) {
    return Status(Code::kPreconditionFailed, "memory kv: guard field changed");
  }
  return CommitLocked(batch);
}

Status MemoryKv::CommitLocked(const WriteBatch& batch) {
  using Kind = WriteBatch::Write::Kind;
  for (const auto& w : batch.writes()) {
    switch (w.kind) {
      case Kind::kSet:
        strings_[w.key] = w.value;
        break;
      case Kind::kDel:
        strings_.erase(w.key);
        hashes_.erase(w.key);
        zsets_.erase(w.key);
        break;
      case Kind::kHSet:
        hashes_[w.key][w.field] = w.value;
        break;
      case Kind::kHDel: {
        auto it = hashes_.find(w.key);
        if (it == hashes_.end()) break;
        it->second.erase(w.field);
        if (it->second.empty()) hashes_.erase(it);  // Redis deletes empty hashes
        break;
      }
      case Kind::kZAdd:
        zsets_[w.key].insert(w.field);
        break;
      case Kind::kZRem: {
        auto it = zsets_.find(w.key);
        if (it == zsets_.end()) break;
        it->second.erase(w.field);
        if (it->second.empty()) zsets_.erase(it);
        break;
      }
    }
  }
  last_commit_writes_ = batch.size();
  if (lose_next_reply_) {
    lose_next_reply_ = false;
    return Status::Unavailable("memory kv: injected lost reply");
  }
  return Status::Ok();
}

void MemoryKv::FailNextCalls(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = n;
}

void MemoryKv::LoseNextCommitReply() {
  std::lock_guard<std::mutex> lock(mu_);
  lose_next_reply_ = true;
}

size_t MemoryKv::last_commit_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_commit_writes_;
}

std::map<std::string, std::string> MemoryKv::Dump() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : strings_)
    out["s " + k] = v;
  for (const auto& [k, h] : hashes_) {
    std::string text;
    for (const auto& [f, v] : h)
      text += f + "=" + v + "\n";
    out["h " + k] = text;
  }
  for (const auto& [k, z] : zsets_) {
    std::string text;
    for (const auto& m : z)
      text += m + "\n";
    out["z " + k] = text;
  }
  return out;
}

}  // namespace kdfs
