// Snapshots as local files: taken under the gate (so that the state stays at
// one offset only while Redis is read, not while a slow peer downloads), or
// downloaded from a peer before loading.
//
// Thread-safe: each call works on its own file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "recovery/gated_kv.h"
#include "recovery/snapshot.h"

namespace kdfs {

// Hands the bytes of the file at `path` to `sink` in pieces of 256 KiB.
Status StreamFile(const std::string& path, const SnapshotSink& sink);

// A snapshot file that is deleted when this object goes away.
class SnapshotFile {
 public:
  SnapshotFile() = default;
  SnapshotFile(std::string path, SnapshotInfo info) : path_(std::move(path)), info_(info) {}
  SnapshotFile(SnapshotFile&& other) noexcept;
  SnapshotFile& operator=(SnapshotFile&& other) noexcept;
  ~SnapshotFile();

  const std::string& path() const { return path_; }
  const SnapshotInfo& info() const { return info_; }
  void set_info(const SnapshotInfo& info) { info_ = info; }
  Status Stream(const SnapshotSink& sink) const { return StreamFile(path_, sink); }

 private:
  std::string path_;
  SnapshotInfo info_;
};

// Writes a snapshot of `kv` into a new file under `dir` while holding the
// gate (commits wait; reads go on).
Result<SnapshotFile> TakeSnapshotFile(GatedKv* kv, const std::string& dir);

// A new empty file under `dir` for a download, deleted by the returned
// object; `append` writes to it.
Result<SnapshotFile> NewSnapshotFile(const std::string& dir);
Status AppendToFile(const std::string& path, std::string_view bytes);

}  // namespace kdfs
