// Env: everything the node does with files, behind one interface (LevelDB
// style), so that unit tests can inject disk faults (see fault_env.h) and the
// errno of every system call is mapped to a Status once, here.
//
// Paths are plain strings; nothing is resolved against a working directory
// other than the process's own. Every file descriptor is opened O_CLOEXEC and
// every system call is retried on EINTR.
//
// Thread-safety: an Env is safe for concurrent use. A WritableFile or FileLock
// is owned by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kdfs {

// A file being written sequentially. Data reaches the kernel on each Append
// (there is no user-space buffer: append large pieces) and the disk on Sync.
//
// Contract: after any failed Append, Sync or Close the file is poisoned: every
// later call returns that first error. In particular a failed Sync is never
// retried as if it could succeed (after an fsync error the kernel may have
// dropped the dirty pages; the only safe recovery is to write the data again
// to a new file). The destructor closes the file if Close was not called.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Flushes data and metadata (size, mtime) to stable storage (fsync).
  virtual Status Sync() = 0;
  // REQUIRES: called at most once; no call of any method afterwards.
  virtual Status Close() = 0;
};

// An exclusive advisory lock on a file (flock). Released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct FileAttributes {
  uint64_t size = 0;
  int64_t mtime_ms = 0;  // modification time, milliseconds since the Unix epoch
  bool is_directory = false;
};

struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // what an unprivileged writer may still use
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation. Never null; never destroyed.
  static Env* Default();

  // Creates (or truncates) `path` for writing, mode 0644.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // The whole file.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Up to `n` bytes from `offset`; fewer only at end of file.
  virtual Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                            uint64_t n) = 0;

  // mkdir -p: creates `path` and its missing parents (mode 0755). Ok if it
  // already is a directory. Does not fsync anything.
  virtual Status CreateDirs(const std::string& path) = 0;
  // rename(2): atomically replaces `to` if it exists. Same filesystem only.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // REQUIRES: the directory is empty.
  virtual Status RemoveDir(const std::string& path) = 0;
  // fsync of a directory: makes creations, renames and removals of its
  // entries durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // syncfs(2) of the filesystem holding `path`: makes everything written to
  // it so far durable, including what a crashed process left unsynced.
  virtual Status SyncFilesystem(const std::string& path) = 0;
  // Names of the entries of `path`, without "." and "..", in no order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

  // kNotFound if `path` does not exist.
  virtual Result<FileAttributes> Stat(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Sets the modification (and access) time of `path`.
  virtual Status SetFileMTime(const std::string& path, int64_t mtime_ms) = 0;
  // statvfs of the filesystem holding `path`.
  virtual Result<DiskSpace> GetDiskSpace(const std::string& path) = 0;

  // Takes an exclusive lock on `path` (created if absent) without waiting:
  // kUnavailable if another open file description holds it, in this process
  // or another.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Conveniences over Stat.
  Result<uint64_t> GetFileSize(const std::string& path);
  Result<int64_t> GetFileMTime(const std::string& path);
  // Writes `data` to `path` through a temporary file, fsync and rename, then
  // fsyncs the parent directory: afterwards `path` holds either its old
  // contents or `data`, never a mix, even across a crash.
  Status WriteFileAtomic(const std::string& path, std::string_view data);
};

// "a/b" + "c" -> "a/b/c".
std::string JoinPath(std::string_view dir, std::string_view name);
// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string ParentDir(std::string_view path);

}  // namespace kdfs
