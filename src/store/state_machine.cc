#include "store/state_machine.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "common/encoding.h"
#include "common/path.h"
#include "common/sha256.h"
#include "store/meta_schema.h"
#include "store/namespace_ops.h"

namespace kdfs {

namespace {

using schema::kRootIno;

constexpr size_t kMaxListLimit = 10000;

// digest_n = SHA-256(digest_{n-1} || big-endian int64 offset || record bytes)
std::array<uint8_t, 32> NextDigest(const std::array<uint8_t, 32>& prev, int64_t offset,
                                   std::string_view record) {
  Sha256 h;
  h.Update(std::string_view(reinterpret_cast<const char*>(prev.data()), prev.size()));
  uint8_t be[8];
  for (int i = 0; i < 8; ++i)
    be[i] = static_cast<uint8_t>(static_cast<uint64_t>(offset) >> (56 - 8 * i));
  h.Update(std::string_view(reinterpret_cast<const char*>(be), sizeof(be)));
  h.Update(record);
  return h.Final();
}

bool FromHex(std::string_view hex, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  auto r = ChunkId::FromHex(hex);  // same shape: 32 bytes as 64 hex digits
  if (!r.ok()) return false;
  *out = r->bytes;
  return true;
}

const std::string* Field(const KvFields& f, std::string_view name) {
  auto it = f.find(std::string(name));
  return it == f.end() ? nullptr : &it->second;
}

}  // namespace

class StateMachine::Impl {
 public:
  Impl(MetaKv* kv, StateMachineOptions options) : kv_(kv), options_(options), ops_(kv) {}

  Status Open();
  void RequestReload() { reload_requested_.store(true); }
  bool ReloadIfRequested();
  Result<ApplyOutcome> Apply(int64_t offset, const LogRecord& record);
  Status Validate(const Operation& op) const;
  Result<FileInfo> Stat(std::string_view path) const;
  Result<ListPage> List(std::string_view path, std::string_view after, size_t limit) const;
  Result<std::optional<ApplyOutcome>> FindOutcome(std::string_view op_id) const;
  Result<bool> IsChunkReferenced(const ChunkId& id) const;

  int64_t applied_offset() const { return applied_.load(); }
  std::string digest() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ToHex(digest_.data(), digest_.size());
  }
  LeaderRecord leader() const {
    std::lock_guard<std::mutex> lock(mu_);
    return leader_;
  }

 private:
  // Everything kept in the meta hash. Owned by the applier thread; the
  // published copies (applied_, digest_, leader_) are for readers.
  struct Meta {
    int64_t applied_offset = -1;
    std::array<uint8_t, 32> digest{};
    LeaderRecord leader;
    uint64_t next_ino = kRootIno + 1;
    uint64_t op_head = 0;  // oldest remembered op sequence number
    uint64_t op_tail = 0;  // next sequence number
  };

  Status Load();  // reads the meta hash into meta_ and publishes it
  void Publish();
  static void WriteMeta(const Meta& m, WriteBatch* b);
  // Remembers `outcome` under its op_id, evicting the oldest beyond the cap.
  Status Remember(const ApplyOutcome& outcome, Meta* m, WriteBatch* b);
  Result<ApplyOutcome> Replayed(int64_t offset, const LogRecord& record) const;

  MetaKv* const kv_;
  const StateMachineOptions options_;
  const NamespaceOps ops_;

  // Applier thread only.
  Meta meta_;
  bool opened_ = false;
  bool needs_reload_ = false;  // a commit failed: Redis may or may not have it
  int64_t acked_offset_ = -1;  // highest offset this instance applied
  std::atomic<bool> reload_requested_{false};

  // Published for readers.
  std::atomic<int64_t> applied_{-1};
  mutable std::mutex mu_;
  std::array<uint8_t, 32> digest_{};  // guarded by mu_
  LeaderRecord leader_;               // guarded by mu_
};

void StateMachine::Impl::WriteMeta(const Meta& m, WriteBatch* b) {
  b->HSet(schema::kMetaKey, schema::kMetaFormat, std::to_string(schema::kFormatVersion));
  b->HSet(schema::kMetaKey, schema::kMetaAppliedOffset, std::to_string(m.applied_offset));
  b->HSet(schema::kMetaKey, schema::kMetaDigest, ToHex(m.digest.data(), m.digest.size()));
  b->HSet(schema::kMetaKey, schema::kMetaLeaderNode, m.leader.node);
  b->HSet(schema::kMetaKey, schema::kMetaLeaderEpoch, std::to_string(m.leader.epoch));
  b->HSet(schema::kMetaKey, schema::kMetaNextIno, std::to_string(m.next_ino));
  b->HSet(schema::kMetaKey, schema::kMetaOpHead, std::to_string(m.op_head));
  b->HSet(schema::kMetaKey, schema::kMetaOpTail, std::to_string(m.op_tail));
}

void StateMachine::Impl::Publish() {
  std::lock_guard<std::mutex> lock(mu_);
  digest_ = meta_.digest;
  leader_ = meta_.leader;
  applied_.store(meta_.applied_offset);
}

Status StateMachine::Impl::Load() {
  KDFS_ASSIGN_OR_RETURN(KvFields f, kv_->HGetAll(schema::kMetaKey));
  if (f.empty()) return Status::NotFound("no metadata");
  auto bad = [](std::string_view field) {
    return Status::Corruption("meta field '" + std::string(field) + "' is missing or malformed");
  };
  Meta m;
  const std::string* v = Field(f, schema::kMetaFormat);
  if (v == nullptr || *v != std::to_string(schema::kFormatVersion)) return bad(schema::kMetaFormat);
  if (!(v = Field(f, schema::kMetaAppliedOffset)) || !schema::ParseI64(*v, &m.applied_offset)) {
    return bad(schema::kMetaAppliedOffset);
  }
  if (!(v = Field(f, schema::kMetaDigest)) || !FromHex(*v, &m.digest)) {
    return bad(schema::kMetaDigest);
  }
  if (!(v = Field(f, schema::kMetaLeaderNode))) return bad(schema::kMetaLeaderNode);
  m.leader.node = *v;
  if (!(v = Field(f, schema::kMetaLeaderEpoch)) || !schema::ParseI64(*v, &m.leader.epoch)) {
    return bad(schema::kMetaLeaderEpoch);
  }
  if (!(v = Field(f, schema::kMetaNextIno)) || !schema::ParseU64(*v, &m.next_ino)) {
    return bad(schema::kMetaNextIno);
  }
  if (!(v = Field(f, schema::kMetaOpHead)) || !schema::ParseU64(*v, &m.op_head)) {
    return bad(schema::kMetaOpHead);
  }
  if (!(v = Field(f, schema::kMetaOpTail)) || !schema::ParseU64(*v, &m.op_tail)) {
    return bad(schema::kMetaOpTail);
  }
  meta_ = m;
  needs_reload_ = false;
  Publish();
  return Status::Ok();
}

Status StateMachine::Impl::Open() {
  Status s = Load();
  if (s.code() == Code::kNotFound) {
    // An empty store: the root directory and the initial meta, atomically.
    Meta m;
    FileInfo root;
    root.ino = kRootIno;
    root.is_dir = true;
    root.mode = 0755;
    root.version = -1;
    WriteBatch b;
    schema::PutInode(root, kRootIno, "", &b);
    WriteMeta(m, &b);
    // Guarded: if another process initialised the store meanwhile, keep its.
    Status c = kv_->CommitIf(schema::kMetaKey, schema::kMetaDigest, std::nullopt, b);
    if (!c.ok() && c.code() != Code::kPreconditionFailed) return c;
    s = Load();
  }
  if (s.ok()) opened_ = true;
  return s;
}

bool StateMachine::Impl::ReloadIfRequested() {
  if (!opened_ || !reload_requested_.load()) return false;
  if (!Load().ok()) return false;  // still requested: retried by the next call
  reload_requested_.store(false);
  acked_offset_ = meta_.applied_offset;  // the loaded history replaces ours
  return true;
}

Status StateMachine::Impl::Remember(const ApplyOutcome& outcome, Meta* m, WriteBatch* b) {
  if (outcome.op_id.empty() || options_.op_memory == 0) return Status::Ok();
  b->HSet(schema::kOpsKey, outcome.op_id, schema::EncodeOutcome(outcome));
  b->HSet(schema::kOpQueueKey, std::to_string(m->op_tail), outcome.op_id);
  ++m->op_tail;
  while (m->op_tail - m->op_head > options_.op_memory) {
    const std::string seq = std::to_string(m->op_head);
    KDFS_ASSIGN_OR_RETURN(auto oldest, kv_->HGet(schema::kOpQueueKey, seq));
    b->HDel(schema::kOpQueueKey, seq);
    if (oldest && *oldest != outcome.op_id) b->HDel(schema::kOpsKey, *oldest);
    ++m->op_head;
  }
  return Status::Ok();
}

Result<ApplyOutcome> StateMachine::Impl::Replayed(int64_t offset, const LogRecord& record) const {
  std::string op_id;
  if (record.kind == LogRecord::Kind::kOp) op_id = record.op.op_id;
  if (record.kind == LogRecord::Kind::kReject) op_id = record.rejection.op_id;
  ApplyOutcome out;
  out.op_id = op_id;
  out.version = offset;
  if (op_id.empty()) return out;  // leader records: nothing to remember
  KDFS_ASSIGN_OR_RETURN(auto found, FindOutcome(op_id));
  if (found) return std::move(*found);
  out.status = Status::Internal("record at offset " + std::to_string(offset) +
                                " was applied before; its outcome is no longer remembered");
  return out;
}

Result<ApplyOutcome> StateMachine::Impl::Apply(int64_t offset, const LogRecord& record) {
  if (!opened_) return Status::Internal("state machine is not open");
  if (needs_reload_) KDFS_RETURN_IF_ERROR(Load());
  if (offset <= meta_.applied_offset) return Replayed(offset, record);
  if (meta_.applied_offset < acked_offset_ && offset > acked_offset_) {
    // The store lost records this instance had applied: they must be
    // applied again, in order, before anything newer.
    return Status::Unavailable("metadata store rolled back to offset " +
                               std::to_string(meta_.applied_offset) + " from " +
                               std::to_string(acked_offset_) + ": resume from applied_offset()+1");
  }

  Meta next = meta_;
  next.applied_offset = offset;
  next.digest = NextDigest(meta_.digest, offset, EncodeLogRecord(record));
  WriteBatch batch;
  ApplyOutcome outcome;
  outcome.version = offset;
  switch (record.kind) {
    case LogRecord::Kind::kLeader:
      next.leader = record.leader;
      break;
    case LogRecord::Kind::kReject: {
      const Rejection& r = record.rejection;
      outcome.op_id = r.op_id;
      KDFS_ASSIGN_OR_RETURN(auto seen, FindOutcome(r.op_id));
      if (seen) {
        outcome = std::move(*seen);  // the first outcome of this op_id stands
        break;
      }
      outcome.status = r.code == Code::kOk ? Status::Internal("rejected: " + r.message)
                                           : Status(r.code, r.message);
      KDFS_RETURN_IF_ERROR(Remember(outcome, &next, &batch));
      break;
    }
    case LogRecord::Kind::kOp: {
      const Operation& op = record.op;
      outcome.op_id = op.op_id;
      KDFS_ASSIGN_OR_RETURN(auto seen, FindOutcome(op.op_id));
      if (seen) {
        outcome = std::move(*seen);  // a retried op: same answer, no effect
        break;
      }
      KDFS_ASSIGN_OR_RETURN(Decision d, ops_.Decide(op, offset, meta_.next_ino, true));
      outcome.status = d.verdict;
      outcome.created = d.created;
      outcome.info = std::move(d.info);
      if (d.verdict.ok()) {
        batch.Append(d.writes);
        next.next_ino = d.next_ino;
      }
      KDFS_RETURN_IF_ERROR(Remember(outcome, &next, &batch));
      break;
    }
  }
  WriteMeta(next, &batch);
  const std::string expected = ToHex(meta_.digest.data(), meta_.digest.size());
  if (Status s = kv_->CommitIf(schema::kMetaKey, schema::kMetaDigest, expected, batch); !s.ok()) {
    needs_reload_ = true;  // the commit may have happened; re-read before the next record
    if (s.code() != Code::kPreconditionFailed) return s;
    // The stored digest is not the one this decision was based on: Redis
    // lost acknowledged writes (restart from an incomplete AOF) or another
    // process applies to the same keys. Nothing was written.
    (void)Load();
    return Status::Unavailable("metadata store changed underneath (now at offset " +
                               std::to_string(meta_.applied_offset) +
                               "): resume from applied_offset()+1");
  }
  meta_ = next;
  acked_offset_ = std::max(acked_offset_, offset);
  Publish();
  return outcome;
}

Status StateMachine::Impl::Validate(const Operation& op) const {
  auto d = ops_.Decide(op, applied_offset() + 1, 0, /*plan_writes=*/false);
  if (!d.ok()) return d.status();
  return d->verdict;
}

Result<FileInfo> StateMachine::Impl::Stat(std::string_view text) const {
  KDFS_ASSIGN_OR_RETURN(Path path, Path::Parse(text));
  KDFS_ASSIGN_OR_RETURN(ResolvedPath r, kv_->Resolve(kRootIno, path.components()));
  if (r.inos.size() != path.components().size() || r.last.empty()) {
    return Status::NotFound(path.str() + " does not exist");
  }
  return schema::ParseInode(r.inos.empty() ? kRootIno : r.inos.back(), r.last);
}

Result<ListPage> StateMachine::Impl::List(std::string_view text, std::string_view after,
                                          size_t limit) const {
  KDFS_ASSIGN_OR_RETURN(Path path, Path::Parse(text));
  if (limit == 0) return Status::InvalidArgument("list limit must be at least 1");
  limit = std::min(limit, kMaxListLimit);
  KDFS_ASSIGN_OR_RETURN(ResolvedListing l, kv_->ResolveAndList(kRootIno, path.components(), after,
                                                               limit + 1, schema::ListFields()));
  if (l.dir.inos.size() != path.components().size() || l.dir.last.empty()) {
    return Status::NotFound(path.str() + " does not exist");
  }
  const std::string* type = Field(l.dir.last, schema::kType);
  if (type == nullptr || *type != schema::kTypeDir) {
    return Status(Code::kNotDirectory, path.str() + " is a file");
  }
  ListPage page;
  for (auto& e : l.entries) {
    if (page.entries.size() == limit) {
      page.next = page.entries.back().name;
      break;
    }
    KDFS_ASSIGN_OR_RETURN(FileInfo info, schema::ParseInode(e.ino, e.fields));
    page.entries.push_back(DirEntry{std::move(e.name), std::move(info)});
  }
  return page;
}

Result<std::optional<ApplyOutcome>> StateMachine::Impl::FindOutcome(std::string_view op_id) const {
  if (op_id.empty()) return std::optional<ApplyOutcome>();
  KDFS_ASSIGN_OR_RETURN(auto json, kv_->HGet(schema::kOpsKey, op_id));
  if (!json) return std::optional<ApplyOutcome>();
  KDFS_ASSIGN_OR_RETURN(ApplyOutcome out, schema::DecodeOutcome(op_id, *json));
  return std::optional<ApplyOutcome>(std::move(out));
}

Result<bool> StateMachine::Impl::IsChunkReferenced(const ChunkId& id) const {
  KDFS_ASSIGN_OR_RETURN(auto count, kv_->HGet(schema::kRefsKey, id.Hex()));
  int64_t n = 0;
  return count.has_value() && schema::ParseI64(*count, &n) && n > 0;
}

StateMachine::StateMachine(MetaKv* kv, StateMachineOptions options)
    : impl_(std::make_unique<Impl>(kv, options)) {}
StateMachine::~StateMachine() = default;

Status StateMachine::Open() {
  return impl_->Open();
}
void StateMachine::RequestReload() {
  impl_->RequestReload();
}
bool StateMachine::ReloadIfRequested() {
  return impl_->ReloadIfRequested();
}
int64_t StateMachine::applied_offset() const {
  return impl_->applied_offset();
}
std::string StateMachine::digest() const {
  return impl_->digest();
}
LeaderRecord StateMachine::leader() const {
  return impl_->leader();
}
Status StateMachine::Validate(const Operation& op) const {
  return impl_->Validate(op);
}
Result<ApplyOutcome> StateMachine::Apply(int64_t offset, const LogRecord& record) {
  return impl_->Apply(offset, record);
}
Result<FileInfo> StateMachine::Stat(std::string_view path) const {
  return impl_->Stat(path);
}
Result<ListPage> StateMachine::List(std::string_view path, std::string_view after,
                                    size_t limit) const {
  return impl_->List(path, after, limit);
}
Result<std::optional<ApplyOutcome>> StateMachine::FindOutcome(std::string_view op_id) const {
  return impl_->FindOutcome(op_id);
}
Result<bool> StateMachine::IsChunkReferenced(const ChunkId& id) const {
  return impl_->IsChunkReferenced(id);
}

}  // namespace kdfs
