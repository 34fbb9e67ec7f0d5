#include "replication/pending_ops.h"

namespace kdfs {

namespace {

std::vector<std::string> PathsOf(const Operation& op) {
  if (op.type == OpType::kRename) return {op.path, op.to};
  return {op.path};
}

bool Positive(const std::map<std::string, int, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  return it != m.end() && it->second > 0;
}

void Bump(std::map<std::string, int, std::less<>>* m, const std::string& key, int delta) {
  auto it = m->emplace(key, 0).first;
  it->second += delta;
  if (it->second <= 0) m->erase(it);
}

}  // namespace

std::vector<std::string> ProperAncestors(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/") return out;
  out.emplace_back("/");
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') out.emplace_back(path.substr(0, i));
  }
  return out;
}

bool PendingOps::Overlaps(const Operation& op) const {
  for (const auto& p : PathsOf(op)) {
    // A pending record at p or below it.
    if (Positive(subtree_, p)) return true;
    // A pending record at an ancestor of p.
    for (const auto& a : ProperAncestors(p)) {
      if (Positive(exact_, a)) return true;
    }
  }
  return false;
}

bool PendingOps::Contains(std::string_view op_id) const {
  return Positive(op_ids_, op_id);
}

void PendingOps::Insert(const Entry& e) {
  for (const auto& p : e.paths) {
    Bump(&exact_, p, 1);
    Bump(&subtree_, p, 1);
    for (const auto& a : ProperAncestors(p))
      Bump(&subtree_, a, 1);
  }
  Bump(&op_ids_, e.op_id, 1);
}

void PendingOps::Erase(const Entry& e) {
  for (const auto& p : e.paths) {
    Bump(&exact_, p, -1);
    Bump(&subtree_, p, -1);
    for (const auto& a : ProperAncestors(p))
      Bump(&subtree_, a, -1);
  }
  Bump(&op_ids_, e.op_id, -1);
}

void PendingOps::Stage(const Operation& op) {
  Entry e{PathsOf(op), op.op_id};
  Insert(e);
  staged_.push_back(std::move(e));
}

void PendingOps::Commit(int64_t last_offset) {
  for (auto& e : staged_)
    committed_.emplace(last_offset, std::move(e));
  staged_.clear();
}

void PendingOps::Abort() {
  for (const auto& e : staged_)
    Erase(e);
  staged_.clear();
}

void PendingOps::Release(int64_t applied_offset) {
  auto end = committed_.upper_bound(applied_offset);
  for (auto it = committed_.begin(); it != end; ++it)
    Erase(it->second);
  committed_.erase(committed_.begin(), end);
}

void PendingOps::Clear() {
  staged_.clear();
  committed_.clear();
  exact_.clear();
  subtree_.clear();
  op_ids_.clear();
}

size_t PendingOps::size() const {
  return staged_.size() + committed_.size();
}

}  // namespace kdfs
