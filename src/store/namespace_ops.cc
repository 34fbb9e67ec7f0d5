#include "store/namespace_ops.h"

#include <map>

#include "store/meta_schema.h"

namespace kdfs {

namespace {

using schema::kRootIno;

constexpr uint32_t kDirMode = 0755;
constexpr size_t kReadBatch = 1024;  // keys per pipelined read in subtree walks

Decision Reject(Code code, std::string message) {
  Decision d;
  d.verdict = Status(code, message);
  return d;
}

Decision Reject(const Status& status) {
  Decision d;
  d.verdict = status;
  return d;
}

// "/a/b" from the first `n` components of `path`.
std::string Prefix(const Path& path, size_t n) {
  Path p;
  for (size_t i = 0; i < n; ++i)
    p = p.Child(path.components()[i]);
  return p.str();
}

Status CheckChunkLayout(const Operation& op) {
  const uint64_t expected = op.chunk_size == 0 ? 0 : (op.size + op.chunk_size - 1) / op.chunk_size;
  if ((op.chunk_size == 0 && op.size != 0) || op.chunks.size() != expected) {
    return Status::InvalidArgument("put: " + std::to_string(op.chunks.size()) +
                                   " chunks do not cover " + std::to_string(op.size) +
                                   " bytes in chunks of " + std::to_string(op.chunk_size));
  }
  return Status::Ok();
}

}  // namespace

// A path and how far it resolves.
struct NamespaceOps::Walk {
  Path path;
  ResolvedPath r;

  size_t depth() const { return path.components().size(); }
  bool found() const { return r.inos.size() == depth(); }
  // The walk stopped at an existing entry that is not a directory.
  bool blocked() const { return !found() && !r.types.empty() && r.types.back() != "d"; }
  // The deepest inode reached (the root if none).
  uint64_t ino() const { return r.inos.empty() ? kRootIno : r.inos.back(); }
  // REQUIRES: found() && depth() > 0.
  uint64_t parent_ino() const { return depth() >= 2 ? r.inos[depth() - 2] : kRootIno; }
  std::string blocker() const { return Prefix(path, r.inos.size()); }
};

// Accumulates the writes of one decision: inode allocation, directories
// created on the way, chunk reference deltas.
class NamespaceOps::Planner {
 public:
  Planner(const Operation& op, int64_t offset, uint64_t next_ino, bool plan_writes)
      : op_(op), offset_(offset), next_ino_(next_ino), plan_writes_(plan_writes) {}

  bool plan_writes() const { return plan_writes_; }
  uint64_t NewIno() { return next_ino_++; }
  uint64_t next_ino() const { return next_ino_; }
  int64_t offset() const { return offset_; }
  WriteBatch* batch() { return &batch_; }

  FileInfo NewDirInfo() {
    FileInfo info;
    info.ino = NewIno();
    info.is_dir = true;
    info.mode = kDirMode;
    info.mtime = op_.hlc;
    info.version = offset_;
    return info;
  }

  // Creates directories path[from..to) below `parent` (which is path[from-1]
  // or the root). Returns the last one created, or `parent`'s ino if none.
  uint64_t MakeDirs(uint64_t parent, const Path& path, size_t from, size_t to, FileInfo* last) {
    for (size_t i = from; i < to; ++i) {
      FileInfo dir = NewDirInfo();
      const std::string& name = path.components()[i];
      schema::PutInode(dir, parent, name, &batch_);
      schema::PutDirent(parent, name, dir.ino, &batch_);
      parent = dir.ino;
      if (last != nullptr) *last = dir;
    }
    return parent;
  }

  void AddRefs(const std::vector<ChunkId>& chunks, int64_t delta) {
    for (const auto& c : chunks)
      ref_delta_[c] += delta;
  }

  // Turns the reference deltas into absolute counts (one HMGET) and hands
  // the writes to `d`.
  Status Finish(MetaKv* kv, Decision* d) {
    std::vector<std::string> fields;
    std::vector<int64_t> deltas;
    for (const auto& [id, delta] : ref_delta_) {
      if (delta == 0) continue;
      fields.push_back(id.Hex());
      deltas.push_back(delta);
    }
    if (!fields.empty()) {
      KDFS_ASSIGN_OR_RETURN(auto counts, kv->HMGet(schema::kRefsKey, fields));
      for (size_t i = 0; i < fields.size(); ++i) {
        int64_t count = 0;
        if (counts[i] && !schema::ParseI64(*counts[i], &count)) {
          return Status::Corruption("refcount of chunk " + fields[i] + " is malformed");
        }
        count += deltas[i];
        if (count > 0) {
          batch_.HSet(schema::kRefsKey, fields[i], std::to_string(count));
        } else {
          batch_.HDel(schema::kRefsKey, fields[i]);
        }
      }
    }
    d->writes = std::move(batch_);
    d->next_ino = next_ino_;
    return Status::Ok();
  }

 private:
  const Operation& op_;
  const int64_t offset_;
  uint64_t next_ino_;
  const bool plan_writes_;
  WriteBatch batch_;
  std::map<ChunkId, int64_t> ref_delta_;
};

Result<NamespaceOps::Walk> NamespaceOps::Lookup(const Path& path) const {
  Walk w;
  w.path = path;
  KDFS_ASSIGN_OR_RETURN(w.r, kv_->Resolve(kRootIno, path.components()));
  return w;
}

Result<Decision> NamespaceOps::Decide(const Operation& op, int64_t offset, uint64_t next_ino,
                                      bool plan_writes) const {
  Planner plan(op, offset, next_ino, plan_writes);
  Result<Decision> d = Status::Internal("unknown operation type");
  switch (op.type) {
    case OpType::kPut:
      d = DecidePut(op, &plan);
      break;
    case OpType::kMkdir:
      d = DecideMkdir(op, &plan);
      break;
    case OpType::kDelete:
      d = DecideDelete(op, &plan);
      break;
    case OpType::kRename:
      d = DecideRename(op, &plan);
      break;
  }
  if (!d.ok()) return d;
  d->info.chunks.clear();
  if (!d->verdict.ok() || !plan_writes) {
    d->writes = WriteBatch();
    d->next_ino = next_ino;
    return d;
  }
  KDFS_RETURN_IF_ERROR(plan.Finish(kv_, &*d));
  return d;
}

Result<Decision> NamespaceOps::DecidePut(const Operation& op, Planner* plan) const {
  auto path = Path::Parse(op.path);
  if (!path.ok()) return Reject(path.status());
  if (path->IsRoot()) return Reject(Code::kIsDirectory, "/ is a directory");
  if (Status s = CheckChunkLayout(op); !s.ok()) return Reject(s);
  KDFS_ASSIGN_OR_RETURN(Walk w, Lookup(*path));
  if (w.blocked()) return Reject(Code::kParentNotDirectory, w.blocker() + " is a file");
  std::optional<FileInfo> existing;
  if (w.found()) {
    KDFS_ASSIGN_OR_RETURN(existing, schema::ParseInode(w.ino(), w.r.last));
    if (existing->is_dir) return Reject(Code::kIsDirectory, path->str() + " is a directory");
  }
  if (op.if_none_match_any && existing) {
    return Reject(Code::kPreconditionFailed, path->str() + " exists (If-None-Match: *)");
  }
  if (op.if_match && (!existing || (*op.if_match != "*" && existing->etag != *op.if_match))) {
    return Reject(Code::kPreconditionFailed, existing ? path->str() + " has another etag (If-Match)"
                                                      : path->str() + " does not exist (If-Match)");
  }
  if (existing && existing->mtime > op.hlc) {
    return Reject(Code::kLwwLost, path->str() + " was written later (" + existing->mtime.Encode() +
                                      " > " + op.hlc.Encode() + ")");
  }
  Decision d;
  d.created = !existing;
  if (!plan->plan_writes()) return d;

  const uint64_t parent =
      w.found() ? w.parent_ino()
                : plan->MakeDirs(w.ino(), *path, w.r.inos.size(), w.depth() - 1, nullptr);
  FileInfo info;
  info.ino = existing ? existing->ino : plan->NewIno();
  info.size = op.size;
  info.mode = op.mode & 07777;
  info.mtime = op.hlc;
  info.version = plan->offset();
  info.etag = op.etag;
  info.content_type = op.content_type;
  info.chunk_size = op.chunk_size;
  info.chunks = op.chunks;
  schema::PutInode(info, parent, path->name(), plan->batch());
  if (!existing) schema::PutDirent(parent, path->name(), info.ino, plan->batch());
  plan->AddRefs(op.chunks, +1);
  if (existing) plan->AddRefs(existing->chunks, -1);
  d.info = std::move(info);
  return d;
}

Result<Decision> NamespaceOps::DecideMkdir(const Operation& op, Planner* plan) const {
  auto path = Path::Parse(op.path);
  if (!path.ok()) return Reject(path.status());
  KDFS_ASSIGN_OR_RETURN(Walk w, Lookup(*path));
  if (w.blocked()) return Reject(Code::kParentNotDirectory, w.blocker() + " is a file");
  Decision d;
  if (w.found()) {
    KDFS_ASSIGN_OR_RETURN(FileInfo existing, schema::ParseInode(w.ino(), w.r.last));
    if (!existing.is_dir) return Reject(Code::kNotDirectory, path->str() + " is a file");
    d.info = std::move(existing);
    return d;  // already a directory: ok, created = false
  }
  d.created = true;
  if (!plan->plan_writes()) return d;
  plan->MakeDirs(w.ino(), *path, w.r.inos.size(), w.depth(), &d.info);
  return d;
}

Result<Decision> NamespaceOps::DecideDelete(const Operation& op, Planner* plan) const {
  auto path = Path::Parse(op.path);
  if (!path.ok()) return Reject(path.status());
  if (path->IsRoot()) return Reject(Code::kInvalidArgument, "the root directory cannot be deleted");
  KDFS_ASSIGN_OR_RETURN(Walk w, Lookup(*path));
  if (!w.found()) return Reject(Code::kNotFound, path->str() + " does not exist");
  KDFS_ASSIGN_OR_RETURN(FileInfo target, schema::ParseInode(w.ino(), w.r.last));
  bool has_children = false;
  if (target.is_dir) {
    KDFS_ASSIGN_OR_RETURN(uint64_t n, kv_->HLen(schema::DirentKey(target.ino)));
    has_children = n > 0;
    if (has_children && !op.recursive) {
      return Reject(Code::kDirectoryNotEmpty, path->str() + " is not empty");
    }
  }
  Decision d;
  if (!plan->plan_writes()) return d;
  if (has_children) KDFS_RETURN_IF_ERROR(RemoveSubtree(target.ino, plan));
  WriteBatch* b = plan->batch();
  b->Del(schema::InodeKey(target.ino));
  if (target.is_dir) {
    b->Del(schema::DirentKey(target.ino));
    b->Del(schema::IndexKey(target.ino));
  }
  schema::DelDirent(w.parent_ino(), path->name(), b);
  plan->AddRefs(target.chunks, -1);
  d.info = std::move(target);
  return d;
}

Status NamespaceOps::RemoveSubtree(uint64_t dir, Planner* plan) const {
  std::vector<uint64_t> level = {dir};
  while (!level.empty()) {
    std::vector<uint64_t> children;
    for (size_t start = 0; start < level.size(); start += kReadBatch) {
      std::vector<std::string> keys;
      for (size_t i = start; i < level.size() && i < start + kReadBatch; ++i) {
        keys.push_back(schema::DirentKey(level[i]));
      }
      KDFS_ASSIGN_OR_RETURN(std::vector<KvFields> dirents, kv_->HGetAllMany(keys));
      for (const auto& entries : dirents) {
        for (const auto& [name, ino_text] : entries) {
          uint64_t ino = 0;
          if (!schema::ParseU64(ino_text, &ino)) {
            return Status::Corruption("dirent '" + name + "' has a malformed inode number");
          }
          children.push_back(ino);
        }
      }
    }
    std::vector<uint64_t> next;
    for (size_t start = 0; start < children.size(); start += kReadBatch) {
      std::vector<std::string> keys;
      for (size_t i = start; i < children.size() && i < start + kReadBatch; ++i) {
        keys.push_back(schema::InodeKey(children[i]));
      }
      KDFS_ASSIGN_OR_RETURN(std::vector<KvFields> inodes, kv_->HGetAllMany(keys));
      for (size_t i = 0; i < inodes.size(); ++i) {
        const uint64_t ino = children[start + i];
        KDFS_ASSIGN_OR_RETURN(FileInfo info, schema::ParseInode(ino, inodes[i]));
        plan->batch()->Del(schema::InodeKey(ino));
        if (info.is_dir) {
          plan->batch()->Del(schema::DirentKey(ino));
          plan->batch()->Del(schema::IndexKey(ino));
          next.push_back(ino);
        } else {
          plan->AddRefs(info.chunks, -1);
        }
      }
    }
    level = std::move(next);
  }
  return Status::Ok();
}

Result<Decision> NamespaceOps::DecideRename(const Operation& op, Planner* plan) const {
  auto from = Path::Parse(op.path);
  if (!from.ok()) return Reject(from.status());
  auto to = Path::Parse(op.to);
  if (!to.ok()) return Reject(to.status());
  if (from->IsRoot()) return Reject(Code::kInvalidRename, "the root directory cannot be renamed");
  KDFS_ASSIGN_OR_RETURN(Walk src, Lookup(*from));
  if (!src.found()) return Reject(Code::kNotFound, from->str() + " does not exist");
  if (*from == *to) return Reject(Code::kAlreadyExists, to->str() + " exists");
  if (from->IsAncestorOf(*to)) {
    return Reject(Code::kInvalidRename,
                  "cannot move " + from->str() + " into its own subtree " + to->str());
  }
  KDFS_ASSIGN_OR_RETURN(Walk dst, Lookup(*to));
  if (dst.found()) return Reject(Code::kAlreadyExists, to->str() + " exists");
  if (dst.blocked()) return Reject(Code::kParentNotDirectory, dst.blocker() + " is a file");
  KDFS_ASSIGN_OR_RETURN(FileInfo moved, schema::ParseInode(src.ino(), src.r.last));
  Decision d;
  if (!plan->plan_writes()) return d;
  // O(1) in the size of the subtree: one dirent moves, the inode learns its
  // new parent and name; descendants are keyed by inode and stay untouched.
  const uint64_t parent =
      plan->MakeDirs(dst.ino(), *to, dst.r.inos.size(), dst.depth() - 1, nullptr);
  WriteBatch* b = plan->batch();
  schema::DelDirent(src.parent_ino(), from->name(), b);
  schema::PutDirent(parent, to->name(), moved.ino, b);
  const std::string key = schema::InodeKey(moved.ino);
  b->HSet(key, schema::kParent, std::to_string(parent));
  b->HSet(key, schema::kName, to->name());
  d.info = std::move(moved);
  return d;
}

}  // namespace kdfs
