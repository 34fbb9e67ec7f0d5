#include "recovery/snapshot.h"

#include <cstring>
#include <deque>

#include "common/encoding.h"
#include "store/meta_schema.h"

namespace kdfs {

namespace {

constexpr std::string_view kMagic = "KDFSSNAP";
constexpr char kTagHash = 'H';  // key, field, value: one hash field
constexpr char kTagZset = 'Z';  // key, member: one sorted-set member (score 0)
constexpr char kTagEnd = 'E';   // applied offset, digest, entry count, SHA-256
constexpr size_t kPage = 1000;  // directory entries read per round trip
constexpr size_t kFlushBytes = 64 << 10;
constexpr size_t kMaxString = 64 << 20;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Encodes entries into a buffer handed to the sink every kFlushBytes.
class Encoder {
 public:
  explicit Encoder(const SnapshotSink& sink) : sink_(sink) {
    buf_.append(kMagic);
    PutU32(&buf_, kSnapshotFormat);
  }

  Status Hash(std::string_view key, std::string_view field, std::string_view value) {
    buf_.push_back(kTagHash);
    PutStr(&buf_, key);
    PutStr(&buf_, field);
    PutStr(&buf_, value);
    return Entry();
  }
  Status HashAll(std::string_view key, const KvFields& fields) {
    for (const auto& [f, v] : fields)
      KDFS_RETURN_IF_ERROR(Hash(key, f, v));
    return Status::Ok();
  }
  Status Zset(std::string_view key, std::string_view member) {
    buf_.push_back(kTagZset);
    PutStr(&buf_, key);
    PutStr(&buf_, member);
    return Entry();
  }
  Result<SnapshotInfo> End(SnapshotInfo info) {
    buf_.push_back(kTagEnd);
    PutU64(&buf_, static_cast<uint64_t>(info.applied_offset));
    PutStr(&buf_, info.digest);
    PutU64(&buf_, entries_);
    hash_.Update(buf_);
    std::array<uint8_t, 32> sum = hash_.Final();
    bytes_ += buf_.size() + sum.size();
    buf_.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    KDFS_RETURN_IF_ERROR(sink_(buf_));
    info.entries = entries_;
    info.bytes = bytes_;
    return info;
  }

 private:
  Status Entry() {
    ++entries_;
    if (buf_.size() < kFlushBytes) return Status::Ok();
    hash_.Update(buf_);
    bytes_ += buf_.size();
    Status s = sink_(buf_);
    buf_.clear();
    return s;
  }

  const SnapshotSink& sink_;
  std::string buf_;
  Sha256 hash_;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
};

// Emits every directory below `root` breadth-first: each page of names
// with its dirents, index members and the children's inodes.
Status WalkTree(MetaKv* kv, Encoder* enc, SnapshotInfo* info) {
  KDFS_ASSIGN_OR_RETURN(KvFields root, kv->HGetAll(schema::InodeKey(schema::kRootIno)));
  if (root.empty()) return Status::Corruption("snapshot: the root inode is missing");
  KDFS_RETURN_IF_ERROR(enc->HashAll(schema::InodeKey(schema::kRootIno), root));
  info->inodes = 1;
  std::deque<uint64_t> dirs{schema::kRootIno};
  while (!dirs.empty()) {
    const uint64_t dir = dirs.front();
    dirs.pop_front();
    const std::string zkey = schema::IndexKey(dir), dkey = schema::DirentKey(dir);
    std::string after;
    for (;;) {
      KDFS_ASSIGN_OR_RETURN(auto names, kv->ZRangeAfter(zkey, after, kPage));
      if (names.empty()) break;
      KDFS_ASSIGN_OR_RETURN(auto inos, kv->HMGet(dkey, names));
      std::vector<std::string> keys;
      std::vector<uint64_t> children;
      for (size_t i = 0; i < names.size(); ++i) {
        uint64_t child = 0;
        if (!inos[i] || !schema::ParseU64(*inos[i], &child)) {
          return Status::Corruption("snapshot: entry '" + names[i] + "' of directory " +
                                    std::to_string(dir) + " has no inode number");
        }
        KDFS_RETURN_IF_ERROR(enc->Zset(zkey, names[i]));
        KDFS_RETURN_IF_ERROR(enc->Hash(dkey, names[i], *inos[i]));
        keys.push_back(schema::InodeKey(child));
        children.push_back(child);
      }
      KDFS_ASSIGN_OR_RETURN(auto fields, kv->HGetAllMany(keys));
      for (size_t i = 0; i < keys.size(); ++i) {
        if (fields[i].empty()) return Status::Corruption("snapshot: " + keys[i] + " is missing");
        KDFS_RETURN_IF_ERROR(enc->HashAll(keys[i], fields[i]));
        auto type = fields[i].find(std::string(schema::kType));
        if (type != fields[i].end() && type->second == schema::kTypeDir) {
          dirs.push_back(children[i]);
        }
      }
      info->inodes += keys.size();
      after = names.back();
    }
  }
  return Status::Ok();
}

// Little-endian readers over a buffer; each returns false past its end.
struct Cursor {
  std::string_view in;
  size_t pos = 0;

  bool U32(uint32_t* v) {
    if (in.size() - pos < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
    pos += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (in.size() - pos < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
    pos += 8;
    return true;
  }
  // kCorruption for an absurd length; false if incomplete.
  Result<bool> Str(std::string_view* s) {
    uint32_t n = 0;
    if (!U32(&n)) return false;
    if (n > kMaxString) return Status::Corruption("snapshot: string of " + std::to_string(n));
    if (in.size() - pos < n) return false;
    *s = in.substr(pos, n);
    pos += n;
    return true;
  }
};

}  // namespace

Result<SnapshotInfo> WriteSnapshot(MetaKv* kv, const SnapshotSink& sink) {
  Encoder enc(sink);
  SnapshotInfo info;
  KDFS_ASSIGN_OR_RETURN(KvFields meta, kv->HGetAll(schema::kMetaKey));
  auto offset = meta.find(std::string(schema::kMetaAppliedOffset));
  auto digest = meta.find(std::string(schema::kMetaDigest));
  if (offset == meta.end() || digest == meta.end() ||
      !schema::ParseI64(offset->second, &info.applied_offset)) {
    return Status::Corruption("snapshot: meta has no applied offset or digest");
  }
  info.digest = digest->second;
  KDFS_RETURN_IF_ERROR(enc.HashAll(schema::kMetaKey, meta));
  KDFS_RETURN_IF_ERROR(WalkTree(kv, &enc, &info));
  for (std::string_view key : {schema::kRefsKey, schema::kOpsKey, schema::kOpQueueKey}) {
    KDFS_ASSIGN_OR_RETURN(KvFields all, kv->HGetAll(key));
    KDFS_RETURN_IF_ERROR(enc.HashAll(key, all));
  }
  return enc.End(std::move(info));
}

SnapshotLoader::SnapshotLoader(MetaKv* kv, size_t batch_writes)
    : kv_(kv), batch_writes_(batch_writes) {}

Status SnapshotLoader::Add(std::string_view piece) {
  if (!error_.ok()) return error_;
  if (ended_ && !piece.empty()) return error_ = Status::Corruption("snapshot: bytes after the end");
  buffer_.append(piece);
  for (;;) {
    Result<bool> one = ParseOne();
    if (!one.ok()) return error_ = one.status();
    if (!*one) break;
  }
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  return Status::Ok();
}

Result<bool> SnapshotLoader::ParseOne() {
  Cursor c{std::string_view(buffer_).substr(consumed_)};
  if (!header_seen_) {
    uint32_t version = 0;
    if (c.in.size() < kMagic.size() + 4) return false;
    if (c.in.substr(0, kMagic.size()) != kMagic) return Status::Corruption("not a kdfs snapshot");
    c.pos = kMagic.size();
    c.U32(&version);
    if (version != kSnapshotFormat) {
      return Status::Corruption("snapshot format " + std::to_string(version) + ", expected " +
                                std::to_string(kSnapshotFormat));
    }
    header_seen_ = true;
  } else if (ended_ || c.in.empty()) {
    return false;
  } else {
    const char tag = c.in[c.pos++];
    std::string_view key, field, value;
    if (tag == kTagHash || tag == kTagZset) {
      for (std::string_view* s : {&key, &field, &value}) {
        if (s == &value && tag == kTagZset) break;
        KDFS_ASSIGN_OR_RETURN(bool got, c.Str(s));
        if (!got) return false;
      }
      WriteBatch& b = key == schema::kMetaKey ? meta_ : batch_;
      if (tag == kTagHash) b.HSet(key, field, value);
      if (tag == kTagZset) b.ZAdd(key, field);
      ++info_.entries;
      if (key.substr(0, schema::kInodePrefix.size()) == schema::kInodePrefix &&
          field == schema::kType) {
        ++info_.inodes;
      }
    } else if (tag == kTagEnd) {
      uint64_t offset = 0, entries = 0;
      std::string_view digest;
      if (!c.U64(&offset)) return false;
      KDFS_ASSIGN_OR_RETURN(bool got, c.Str(&digest));
      if (!got || !c.U64(&entries) || c.in.size() - c.pos < 32) return false;
      hash_.Update(c.in.substr(0, c.pos));
      std::array<uint8_t, 32> sum = hash_.Final();
      if (std::memcmp(sum.data(), c.in.data() + c.pos, 32) != 0) {
        return Status::Corruption("snapshot: checksum mismatch");
      }
      if (entries != info_.entries) return Status::Corruption("snapshot: entry count mismatch");
      c.pos += 32;
      info_.applied_offset = static_cast<int64_t>(offset);
      info_.digest = std::string(digest);
      ended_ = true;
    } else {
      return Status::Corruption("snapshot: unknown entry tag " + std::to_string(tag));
    }
  }
  if (!ended_) hash_.Update(c.in.substr(0, c.pos));
  consumed_ += c.pos;
  info_.bytes += c.pos;
  if (batch_.size() >= batch_writes_) KDFS_RETURN_IF_ERROR(Flush());
  return true;
}

Status SnapshotLoader::Flush() {
  if (batch_.empty()) return Status::Ok();
  Status s = kv_->Commit(batch_);
  batch_ = WriteBatch();
  return s;
}

Result<SnapshotInfo> SnapshotLoader::Finish() {
  if (!error_.ok()) return error_;
  if (!ended_) return Status::Corruption("snapshot: truncated (no end entry)");
  bool meta_matches = false;
  for (const auto& w : meta_.writes()) {
    if (w.field == schema::kMetaAppliedOffset) {
      meta_matches = w.value == std::to_string(info_.applied_offset);
    }
  }
  if (!meta_matches) return Status::Corruption("snapshot: meta disagrees with the end entry");
  batch_.Append(meta_);
  KDFS_RETURN_IF_ERROR(Flush());
  return info_;
}

}  // namespace kdfs
