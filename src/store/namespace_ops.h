// Namespace decisions: what one operation does to the namespace, computed
// from reads only. StateMachine::Validate() keeps the verdict;
// StateMachine::Apply() commits the writes. One function decides for both,
// so the leader's check and every node's apply cannot disagree.
//
// Thread-compatible; Decide() only reads the store.
#pragma once

#include <cstdint>

#include "common/path.h"
#include "store/meta_kv.h"
#include "store/operation.h"
#include "store/state_machine.h"

namespace kdfs {

struct Decision {
  Status verdict;         // ok, or why the operation is rejected
  bool created = false;   // put/mkdir made a new entry
  FileInfo info;          // the entry written/moved/removed (chunks cleared)
  WriteBatch writes;      // namespace and chunk-refcount writes; empty if rejected
  uint64_t next_ino = 0;  // the inode counter after this operation
};

class NamespaceOps {
 public:
  // REQUIRES: kv outlives this object.
  explicit NamespaceOps(MetaKv* kv) : kv_(kv) {}

  // Decides `op` as the record at `offset`, allocating inode numbers from
  // `next_ino`. With `plan_writes` false only the verdict is computed (fewer
  // reads). A non-ok Result is a store failure, not a verdict.
  Result<Decision> Decide(const Operation& op, int64_t offset, uint64_t next_ino,
                          bool plan_writes) const;

 private:
  struct Walk;
  class Planner;

  Result<Walk> Lookup(const Path& path) const;
  Result<Decision> DecidePut(const Operation& op, Planner* plan) const;
  Result<Decision> DecideMkdir(const Operation& op, Planner* plan) const;
  Result<Decision> DecideDelete(const Operation& op, Planner* plan) const;
  Result<Decision> DecideRename(const Operation& op, Planner* plan) const;
  // Adds the removal of every descendant of directory `dir` to `plan`.
  Status RemoveSubtree(uint64_t dir, Planner* plan) const;

  MetaKv* const kv_;
};

}  // namespace kdfs
