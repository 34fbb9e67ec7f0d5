#include "recovery/snapshot_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/random_id.h"

namespace kdfs {

namespace {

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

Status IoError(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

Result<std::string> FreshPath(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("create " + dir + ": " + ec.message());
  return dir + "/" + RandomId("snapshot-") + ".tmp";
}

}  // namespace

SnapshotFile::SnapshotFile(SnapshotFile&& other) noexcept
    : path_(std::move(other.path_)), info_(other.info_) {
  other.path_.clear();
}

SnapshotFile& SnapshotFile::operator=(SnapshotFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) std::remove(path_.c_str());
    path_ = std::move(other.path_);
    info_ = other.info_;
    other.path_.clear();
  }
  return *this;
}

SnapshotFile::~SnapshotFile() {
  if (!path_.empty()) std::remove(path_.c_str());
}

Status StreamFile(const std::string& path, const SnapshotSink& sink) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) return IoError("open", path);
  std::string buf(256 << 10, '\0');
  for (;;) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) KDFS_RETURN_IF_ERROR(sink(std::string_view(buf.data(), n)));
    if (n < buf.size()) break;
  }
  if (std::ferror(f.get())) return IoError("read", path);
  return Status::Ok();
}

Result<SnapshotFile> TakeSnapshotFile(GatedKv* kv, const std::string& dir) {
  KDFS_ASSIGN_OR_RETURN(std::string path, FreshPath(dir));
  SnapshotFile file(path, {});
  FilePtr f(std::fopen(path.c_str(), "wb"));
  if (!f) return IoError("create", path);
  Result<SnapshotInfo> info = [&] {
    auto hold = kv->Hold();
    return WriteSnapshot(kv->inner(), [&](std::string_view piece) {
      if (std::fwrite(piece.data(), 1, piece.size(), f.get()) != piece.size()) {
        return IoError("write", path);
      }
      return Status::Ok();
    });
  }();
  if (!info.ok()) return info.status();
  if (std::fflush(f.get()) != 0) return IoError("write", path);
  f.reset();
  file.set_info(*info);
  return file;
}

Result<SnapshotFile> NewSnapshotFile(const std::string& dir) {
  KDFS_ASSIGN_OR_RETURN(std::string path, FreshPath(dir));
  FilePtr f(std::fopen(path.c_str(), "wb"));
  if (!f) return IoError("create", path);
  return SnapshotFile(path, {});
}

Status AppendToFile(const std::string& path, std::string_view bytes) {
  FilePtr f(std::fopen(path.c_str(), "ab"));
  if (!f) return IoError("open", path);
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    return IoError("write", path);
  }
  if (std::fflush(f.get()) != 0) return IoError("write", path);
  return Status::Ok();
}

}  // namespace kdfs
