// ChunkStore: content-addressed chunk files on one node's disk.
//
// Layout: <dir>/chunks/ab/cd/<64-hex id>, written to <dir>/tmp/<unique> first,
// fsynced, renamed into place, then the fan-out directory fsynced. A chunk that
// fails verification on read is moved to <dir>/quarantine/ and reported as
// corrupt; from then on Has() is false so that it is fetched again. Temporary
// files left by a crash are removed by Open. One store per dir: Open holds
// <dir>/LOCK and fails with kUnavailable while another store holds it.
//
// Thread-safe: all methods may be called concurrently. Writes of the same id
// from several threads are safe (one installs the file, the others find it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/chunk_id.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/result.h"

namespace kdfs {

struct ChunkStoreOptions {
  std::string dir;  // the node's data dir; created if absent
  // Chunks whose file is younger than this are never swept.
  int64_t gc_grace_ms = 3600 * 1000;
  // "Now" for the grace period; a chunk file's mtime is stamped from it.
  // REQUIRES: outlives the store.
  Clock* clock = Clock::Real();
};

struct ChunkStoreStats {
  uint64_t chunks = 0;
  uint64_t bytes = 0;
  uint64_t quarantined = 0;
};

class ChunkStore {
 public:
  // REQUIRES: env outlives the store.
  static Result<std::unique_ptr<ChunkStore>> Open(Env* env, const ChunkStoreOptions& options);
  virtual ~ChunkStore() = default;

  // Stores `data` under its SHA-256. A no-op (no write) if already present,
  // except that the chunk's mtime is refreshed: a chunk Put within the grace
  // period is never swept, even by a Sweep running concurrently.
  // kNoSpace when the disk is full (nothing left behind), kIoError otherwise;
  // a failed fsync is reported, never retried as if it had succeeded.
  virtual Result<ChunkId> Put(std::string_view data) = 0;
  // As Put, but `id` is what the caller expects; kCorruption if it differs.
  virtual Status PutVerified(const ChunkId& id, std::string_view data) = 0;
  virtual bool Has(const ChunkId& id) = 0;
  // The whole chunk, verified. kNotFound if absent; kCorruption (after
  // quarantining the file) if its bytes do not hash to `id`.
  virtual Result<std::string> Read(const ChunkId& id) = 0;
  virtual Status Remove(const ChunkId& id) = 0;
  // Calls `fn` for every stored chunk id (order unspecified); stops early when
  // `fn` returns false.
  virtual Status ForEach(const std::function<bool(const ChunkId&)>& fn) = 0;
  // Deletes every chunk older than the grace period for which `referenced`
  // returns false. Returns the number deleted. `referenced` is called without
  // any lock held and only for chunks older than the grace period.
  virtual Result<uint64_t> Sweep(const std::function<bool(const ChunkId&)>& referenced) = 0;
  virtual ChunkStoreStats Stats() = 0;
};

}  // namespace kdfs
