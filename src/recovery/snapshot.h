// Metadata snapshot: the whole namespace of one node at one applied offset,
// as a stream of self-delimiting entries (format: docs/METADATA.md,
// "Snapshots").
//
// WriteSnapshot walks the schema (meta, then every inode reachable from the
// root in breadth-first order with its directory entries, paged, then refs,
// ops and opq) and hands the encoded bytes to a sink piece by piece, so
// memory stays bounded by one directory page. It reads through MetaKv, so
// the caller must keep the state still while it runs (GatedKv::Hold) for the
// result to be consistent.
//
// SnapshotLoader parses the same bytes in arbitrary pieces and commits them
// in bounded batches; `meta` is written last, in the batch that completes the
// load, after the trailer's checksum and offset were verified. A load that
// fails midway leaves no `meta`: the store reads as empty.
//
// Thread-compatible: one writer or loader per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sha256.h"
#include "store/meta_kv.h"

namespace kdfs {

inline constexpr uint32_t kSnapshotFormat = 1;

struct SnapshotInfo {
  int64_t applied_offset = -1;
  std::string digest;  // hex, the state machine's rolling digest
  uint64_t entries = 0;
  uint64_t bytes = 0;  // encoded size, trailer included
  uint64_t inodes = 0;
};

// Receives encoded bytes in order.
using SnapshotSink = std::function<Status(std::string_view)>;

// Streams a snapshot of `kv` to `sink`. kCorruption if the schema is
// inconsistent (e.g. a directory entry without its inode).
Result<SnapshotInfo> WriteSnapshot(MetaKv* kv, const SnapshotSink& sink);

class SnapshotLoader {
 public:
  // REQUIRES: `kv` is empty (the caller wiped it) and outlives the loader.
  explicit SnapshotLoader(MetaKv* kv, size_t batch_writes = 2000);

  // Feeds the next piece of the stream. Errors are sticky.
  Status Add(std::string_view piece);
  // Verifies that the stream ended with a valid trailer and commits the
  // remaining writes, `meta` last. Returns what was loaded.
  Result<SnapshotInfo> Finish();

 private:
  // Parses one entry at the front of buffer_; false if it is incomplete.
  Result<bool> ParseOne();
  Status Flush();

  MetaKv* const kv_;
  const size_t batch_writes_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already parsed
  bool header_seen_ = false;
  bool ended_ = false;
  Status error_;
  Sha256 hash_;  // over every byte before the trailer's checksum
  WriteBatch batch_;
  WriteBatch meta_;
  SnapshotInfo info_;
};

}  // namespace kdfs
