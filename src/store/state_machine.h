// StateMachine: the node's namespace, a deterministic function of the log.
//
// Every node applies the same committed log records in the same order and so
// reaches byte-identical metadata (see docs/METADATA.md for the Redis schema).
// Apply() is atomic per record together with the applied offset and the
// rolling state digest: a crash between records replays exactly once.
//
// Threading: Apply() is called by one thread only (the log follower). Reads
// (Stat, List, FindOutcome, Validate, accessors) may be called from any thread
// concurrently with Apply(); each sees the state before or after a record,
// never in between.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/chunk_id.h"
#include "common/hlc.h"
#include "common/result.h"
#include "store/meta_kv.h"
#include "store/operation.h"

namespace kdfs {

struct FileInfo {
  uint64_t ino = 0;
  bool is_dir = false;
  uint64_t size = 0;
  uint32_t mode = 0;
  Hlc mtime;
  int64_t version = 0;  // log offset of the record that last wrote it
  std::string etag;     // files: hex SHA-256 of the content
  std::string content_type;
  uint32_t chunk_size = 0;
  std::vector<ChunkId> chunks;
};

struct DirEntry {
  std::string name;
  FileInfo info;  // chunks left empty in listings
};

struct ListPage {
  std::vector<DirEntry> entries;    // in byte-wise name order
  std::optional<std::string> next;  // pass as `after` for the next page
};

// What a record did, reported to the origin waiting on its op_id.
struct ApplyOutcome {
  std::string op_id;
  Status status;         // ok, or why the operation was rejected
  int64_t version = 0;   // the record's offset
  bool created = false;  // put/mkdir created a new entry
  FileInfo info;         // put/mkdir: the entry as written (rename: the entry
                         // moved; delete: the entry removed). chunks left empty.
};

struct StateMachineOptions {
  // How many recent op_ids (with their outcomes) are remembered, evicted
  // oldest first. 0 disables the memory.
  size_t op_memory = 100000;
};

class StateMachine {
 public:
  // REQUIRES: kv outlives the state machine.
  explicit StateMachine(MetaKv* kv, StateMachineOptions options = {});
  ~StateMachine();

  // Loads applied offset, digest and leader; creates the root directory on an
  // empty store. Must succeed before any other call.
  Status Open();

  // Recovery replaced the store's contents underneath (a snapshot was
  // loaded): the applier re-reads `meta` and forgets what it had applied, at
  // its next ReloadIfRequested() (the log follower calls it between
  // records). Thread-safe.
  void RequestReload();
  // Applier thread only: performs a requested reload; true if it did one
  // successfully (the applied offset may have moved either way).
  bool ReloadIfRequested();

  int64_t applied_offset() const;  // -1 before any record
  std::string digest() const;      // hex; rolling hash of every applied record
  LeaderRecord leader() const;     // from the last leader record applied

  // Checks `op` against the current state without changing it. Returns the
  // precise reason it would be rejected (kParentNotDirectory, kIsDirectory,
  // kNotDirectory, kNotFound, kDirectoryNotEmpty, kAlreadyExists,
  // kInvalidRename, kPreconditionFailed, kLwwLost; kInvalidPath or
  // kInvalidArgument for malformed input such as a chunk list that does not
  // cover `size`, or deleting "/"), or ok. kUnavailable/kInternal/kCorruption
  // mean the store could not be read, not that the op is invalid. Apply()
  // decides with the same code, so Validate() is a prediction for the
  // leader: records sequenced but not yet applied are not taken into account.
  Status Validate(const Operation& op) const;

  // Applies the record at `offset`. Records at or below applied_offset() are
  // ignored (the returned outcome has the remembered status). An op that is
  // invalid against the state at this offset is turned into a rejection here
  // too, deterministically. A non-ok Result means the store failed (e.g. Redis
  // down) and nothing was applied: retry later from applied_offset() + 1.
  // That is normally the same offset; it is lower if the store lost records
  // it had acknowledged (Redis restarted from an AOF that missed its last
  // writes), which each commit detects by checking the stored digest. Until
  // the lost records are applied again, newer offsets are refused.
  // REQUIRES: single caller thread; offset > applied_offset() for effect.
  Result<ApplyOutcome> Apply(int64_t offset, const LogRecord& record);

  // kInvalidPath, kNotFound (also when an ancestor is a file); files come
  // with their chunk list.
  Result<FileInfo> Stat(std::string_view path) const;
  // Entries with name > `after` (byte-wise), at most `limit` (1..10000;
  // larger is clamped, 0 is kInvalidArgument). kNotDirectory if `path` is a
  // file, kNotFound if absent.
  Result<ListPage> List(std::string_view path, std::string_view after, size_t limit) const;
  // The outcome remembered for `op_id` (bounded memory of recent ops).
  Result<std::optional<ApplyOutcome>> FindOutcome(std::string_view op_id) const;
  Result<bool> IsChunkReferenced(const ChunkId& id) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdfs
