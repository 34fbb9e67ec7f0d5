// FaultInjectionEnv: an Env that forwards to another Env and fails on demand,
// for unit tests of code that must survive a full or failing disk.
//
// Injected failures look exactly like the real ones: the same errno mapped
// through Status::FromErrno (ENOSPC -> kNoSpace, EIO -> kIoError), and a
// WritableFile that saw an injected failure is poisoned like a real one.
//
// Thread-safe: knobs may be turned while other threads use the Env.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/env.h"

namespace kdfs {

class FaultInjectionEnv final : public Env {
 public:
  // REQUIRES: base outlives this object.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // The next `n` WritableFile::Append calls fail with `err` and write nothing.
  void FailNextWrites(int n, int err = ENOSPC);
  // The next `n` WritableFile::Sync calls fail with EIO.
  void FailNextSyncs(int n = 1);
  // The next `n` SyncDir calls fail with EIO.
  void FailNextDirSyncs(int n = 1);
  // While set, every RenameFile fails with EIO and renames nothing.
  void SetFailRenames(bool fail);
  // After `bytes` more bytes have been appended (to any file), every Append
  // fails with ENOSPC; the Append that crosses the limit writes the part that
  // fits, as a real full disk does. Negative: no budget (the default).
  void SetWriteBudget(int64_t bytes);
  // Clears every knob above.
  void Reset();

  // Counters of calls that reached this Env (failed ones included).
  struct Counters {
    uint64_t files_created = 0;   // NewWritableFile
    uint64_t bytes_appended = 0;  // bytes handed to the base Env
    uint64_t syncs = 0;           // WritableFile::Sync
    uint64_t dir_syncs = 0;
    uint64_t renames = 0;
    uint64_t removes = 0;  // RemoveFile
  };
  Counters counters();

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t n) override {
    return base_->ReadFileRange(path, offset, n);
  }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status SyncDir(const std::string& path) override;
  Status SyncFilesystem(const std::string& path) override { return base_->SyncFilesystem(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Result<FileAttributes> Stat(const std::string& path) override { return base_->Stat(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Status SetFileMTime(const std::string& path, int64_t mtime_ms) override {
    return base_->SetFileMTime(path, mtime_ms);
  }
  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    return base_->GetDiskSpace(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  class File;
  friend class File;

  // How much of an Append of `n` bytes may go through, and the errno to fail
  // it with afterwards (0: none). Updates counters and budget.
  size_t AdmitWrite(size_t n, int* err);
  bool TakeSyncFailure();

  Env* const base_;
  std::mutex mu_;
  int fail_writes_ = 0;
  int fail_writes_errno_ = ENOSPC;
  int fail_syncs_ = 0;
  int fail_dir_syncs_ = 0;
  bool fail_renames_ = false;
  int64_t budget_ = -1;
  Counters counters_;
};

}  // namespace kdfs
