#include "common/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace kdfs {

namespace {

// Retries `fn` while it fails with EINTR; returns its last result.
template <typename Fn>
auto RetryOnEintr(Fn fn) {
  decltype(fn()) r;
  do {
    r = fn();
  } while (r == -1 && errno == EINTR);
  return r;
}

Status PosixError(std::string_view op, const std::string& path, int err) {
  return Status::FromErrno(err, std::string(op) + " " + path);
}

int64_t MillisOf(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// close(2) must not be retried on EINTR on Linux (the descriptor is gone).
Status CloseFd(int fd, const std::string& path) {
  if (::close(fd) != 0 && errno != EINTR) return PosixError("close", path, errno);
  return Status::Ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (!error_.ok()) return error_;
    while (!data.empty()) {
      ssize_t n = RetryOnEintr([&] { return ::write(fd_, data.data(), data.size()); });
      if (n < 0) return Poison(PosixError("write", path_, errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (!error_.ok()) return error_;
    if (RetryOnEintr([&] { return ::fsync(fd_); }) != 0) {
      return Poison(PosixError("fsync", path_, errno));
    }
    return Status::Ok();
  }

  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd < 0) return error_.ok() ? Status::Internal("close twice: " + path_) : error_;
    Status s = CloseFd(fd, path_);
    if (!error_.ok()) return error_;
    return Poison(s);
  }

 private:
  Status Poison(Status s) {
    if (error_.ok()) error_ = s;
    return s;
  }

  const std::string path_;
  int fd_;
  Status error_;  // first failure; sticky
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // releases the flock

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = RetryOnEintr(
        [&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    int fd = OpenForRead(path);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("fstat", path, err);
    }
    // The size is a hint: read until EOF in case the file grew meanwhile.
    std::string out;
    Status s = ReadAt(fd, path, 0, static_cast<uint64_t>(st.st_size) + 1, &out);
    ::close(fd);
    if (!s.ok()) return s;
    return out;
  }

  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t n) override {
    int fd = OpenForRead(path);
    if (fd < 0) return PosixError("open", path, errno);
    std::string out;
    Status s = ReadAt(fd, path, offset, n, &out);
    ::close(fd);
    if (!s.ok()) return s;
    return out;
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return Status::InvalidArgument("CreateDirs: empty path");
    // Walk the components left to right, creating each missing one.
    for (size_t pos = 1; pos <= path.size(); ++pos) {
      if (pos != path.size() && path[pos] != '/') continue;
      std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return PosixError("mkdir", prefix, errno);
      }
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("mkdir", path, errno);
    if (!S_ISDIR(st.st_mode)) return PosixError("mkdir", path, ENOTDIR);
    return Status::Ok();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", from + " -> " + to, errno);
    }
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return Status::Ok();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError("rmdir", path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return PosixError("open", path, errno);
    Status s;
    if (RetryOnEintr([&] { return ::fsync(fd); }) != 0) s = PosixError("fsync", path, errno);
    ::close(fd);
    return s;
  }

  Status SyncFilesystem(const std::string& path) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) return PosixError("open", path, errno);
    Status s;
    if (::syncfs(fd) != 0) s = PosixError("syncfs", path, errno);
    ::close(fd);
    return s;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return PosixError("opendir", path, errno);
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return PosixError("fdopendir", path, err);
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir);
      if (e == nullptr) break;
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    int err = errno;
    ::closedir(dir);  // closes fd
    if (err != 0) return PosixError("readdir", path, err);
    return names;
  }

  Result<FileAttributes> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    FileAttributes info;
    info.size = static_cast<uint64_t>(st.st_size);
    info.mtime_ms = MillisOf(st.st_mtim);
    info.is_directory = S_ISDIR(st.st_mode);
    return info;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status SetFileMTime(const std::string& path, int64_t mtime_ms) override {
    struct timespec times[2];
    times[0].tv_sec = static_cast<time_t>(mtime_ms / 1000);
    times[0].tv_nsec = static_cast<long>(mtime_ms % 1000) * 1'000'000;
    if (times[0].tv_nsec < 0) {  // negative millis: borrow a second
      times[0].tv_sec -= 1;
      times[0].tv_nsec += 1'000'000'000;
    }
    times[1] = times[0];
    if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
      return PosixError("utimensat", path, errno);
    }
    return Status::Ok();
  }

  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    struct statvfs sv;
    if (RetryOnEintr([&] { return ::statvfs(path.c_str(), &sv); }) != 0) {
      return PosixError("statvfs", path, errno);
    }
    DiskSpace space;
    space.total_bytes = static_cast<uint64_t>(sv.f_blocks) * sv.f_frsize;
    space.available_bytes = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
    return space;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = RetryOnEintr([&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
    if (fd < 0) return PosixError("open", path, errno);
    if (RetryOnEintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Status::Unavailable("lock " + path + ": held by another user");
      return PosixError("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

 private:
  static int OpenForRead(const std::string& path) {
    return RetryOnEintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
  }

  // Appends up to `n` bytes read from `offset` to `*out`; stops early at EOF.
  static Status ReadAt(int fd, const std::string& path, uint64_t offset, uint64_t n,
                       std::string* out) {
    constexpr uint64_t kMaxStep = 8 << 20;
    while (n > 0) {
      size_t step = static_cast<size_t>(std::min(n, kMaxStep));
      size_t old = out->size();
      out->resize(old + step);
      ssize_t r = RetryOnEintr(
          [&] { return ::pread(fd, out->data() + old, step, static_cast<off_t>(offset)); });
      if (r < 0) {
        out->resize(old);
        return PosixError("read", path, errno);
      }
      out->resize(old + static_cast<size_t>(r));
      if (r == 0) break;
      offset += static_cast<uint64_t>(r);
      n -= static_cast<uint64_t>(r);
    }
    return Status::Ok();
  }
};

std::atomic<uint64_t> g_atomic_write_seq{0};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Result<uint64_t> Env::GetFileSize(const std::string& path) {
  KDFS_ASSIGN_OR_RETURN(FileAttributes info, Stat(path));
  return info.size;
}

Result<int64_t> Env::GetFileMTime(const std::string& path) {
  KDFS_ASSIGN_OR_RETURN(FileAttributes info, Stat(path));
  return info.mtime_ms;
}

Status Env::WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(g_atomic_write_seq.fetch_add(1));
  Status s;
  {
    auto file = NewWritableFile(tmp);
    if (!file.ok()) return file.status();
    s = (*file)->Append(data);
    if (s.ok()) s = (*file)->Sync();
    Status c = (*file)->Close();
    if (s.ok()) s = c;
  }
  if (s.ok()) s = RenameFile(tmp, path);
  if (!s.ok()) {
    (void)RemoveFile(tmp);
    return s;
  }
  return SyncDir(ParentDir(path));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace kdfs
