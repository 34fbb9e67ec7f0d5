// PendingOps: what the sequencer has appended to the log in its current term
// but the local state machine has not applied yet.
//
// Why: the sequencer validates proposals against the local state machine as
// an early filter, but that state lags the log by the records still in
// flight. A verdict is only trusted for a proposal that cannot depend on any
// pending record: none of its paths (rename: both) is an ancestor of, equal
// to, or a descendant of a pending record's path. Otherwise the op is
// appended unvalidated and the state machine decides at apply time, where
// validation is exact (it re-validates every record deterministically).
// The op_ids of pending records also stop a duplicate proposal from being
// appended twice before the first copy is applied.
//
// Lifecycle per transaction: Stage() each appended op, then Commit(last
// offset of the transaction) or Abort(). Release() drops what the state
// machine has applied.
//
// Not thread-safe: owned by the sequencer thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/operation.h"

namespace kdfs {

class PendingOps {
 public:
  // True if validating `op` against the applied state could give a verdict
  // other than the one it will get at its place in the log.
  bool Overlaps(const Operation& op) const;
  // True if a record with this op_id is pending (staged or committed).
  bool Contains(std::string_view op_id) const;

  // Records an op appended to the open transaction.
  void Stage(const Operation& op);
  // The open transaction committed; its last record has `last_offset`.
  void Commit(int64_t last_offset);
  // The open transaction was aborted: forget what it staged.
  void Abort();
  // Drops committed records at or below `applied_offset`.
  void Release(int64_t applied_offset);
  void Clear();

  size_t size() const;

 private:
  struct Entry {
    std::vector<std::string> paths;
    std::string op_id;
  };
  void Insert(const Entry& e);
  void Erase(const Entry& e);

  std::vector<Entry> staged_;
  std::multimap<int64_t, Entry> committed_;          // by the offset its transaction ended at
  std::map<std::string, int, std::less<>> exact_;    // pending path -> count
  std::map<std::string, int, std::less<>> subtree_;  // pending path or ancestor -> count
  std::map<std::string, int, std::less<>> op_ids_;   // pending op_id -> count
};

// "/a/b/c" -> {"/", "/a", "/a/b"}; "/" -> {}.
std::vector<std::string> ProperAncestors(std::string_view path);

}  // namespace kdfs
