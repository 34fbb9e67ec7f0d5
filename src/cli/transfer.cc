#include "cli/transfer.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cli/progress.h"

namespace kdfs {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct RemoteEntry {
  std::string rel;  // relative to the root of the listing
  bool is_dir = false;
  uint64_t size = 0;
};

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Uploads one local file (or stdin); `progress` may be null.
Result<json> UploadFile(KdfsClient& c, const std::string& local, const std::string& remote,
                        Progress* progress) {
  bool from_stdin = local == "-";
  FILE* f = from_stdin ? stdin : std::fopen(local.c_str(), "rb");
  if (f == nullptr) return Status::FromErrno(errno, "open " + local);
  std::optional<uint64_t> size;
  if (!from_stdin && std::fseek(f, 0, SEEK_END) == 0) {
    size = static_cast<uint64_t>(std::ftell(f));
    std::rewind(f);
  }
  uint64_t sent = 0;
  auto source = [&](char* out, size_t n) -> Result<size_t> {
    size_t got = std::fread(out, 1, n, f);
    if (got == 0 && std::ferror(f)) return Status::IoError("reading " + local);
    sent += got;
    if (progress) progress->Add(got);
    return got;
  };
  auto result = c.Put(remote, size, source, !from_stdin, [&] {
    std::rewind(f);
    if (progress) progress->Sub(sent);
    sent = 0;
  });
  if (!from_stdin) std::fclose(f);
  if (!result.ok()) return Status(result.status().code(), local + ": " + result.status().message());
  return result;
}

// Downloads one file to `local` ("-": stdout). Without a shared `progress`,
// draws its own bar if `tty`.
Status DownloadFile(KdfsClient& c, const std::string& remote, const std::string& local,
                    Progress* progress, bool tty) {
  bool to_stdout = local == "-";
  std::string tmp = to_stdout ? "" : local + ".kdfs-part";
  FILE* f = to_stdout ? stdout : std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::FromErrno(errno, "open " + tmp);
  std::unique_ptr<Progress> own;
  Status st = c.Get(
      remote,
      [&](uint64_t size) {
        if (progress == nullptr) {
          own = std::make_unique<Progress>(remote, size, tty && !to_stdout);
          progress = own.get();
        }
      },
      [&](std::string_view piece) -> Status {
        if (std::fwrite(piece.data(), 1, piece.size(), f) != piece.size()) {
          return Status::FromErrno(errno, "write " + local);
        }
        if (progress) progress->Add(piece.size());
        return Status::Ok();
      });
  if (own) own->Done();
  if (to_stdout) {
    if (std::fflush(stdout) != 0 && st.ok()) st = Status::FromErrno(errno, "write stdout");
    return st;
  }
  if (std::fclose(f) != 0 && st.ok()) st = Status::FromErrno(errno, "close " + local);
  if (st.ok() && std::rename(tmp.c_str(), local.c_str()) != 0) {
    st = Status::FromErrno(errno, "rename to " + local);
  }
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return Status(st.code(), remote + ": " + st.message());
  }
  return st;
}

// Every entry below `root` (depth first, each directory before its contents).
Status ListTree(KdfsClient& c, const std::string& root, const std::string& rel,
                std::vector<RemoteEntry>& out) {
  std::string after;
  for (;;) {
    KDFS_ASSIGN_OR_RETURN(json page, c.List(JoinRemote(root, rel), after, 1000));
    for (const auto& e : page["entries"]) {
      RemoteEntry entry;
      std::string name = e["name"].get<std::string>();
      entry.rel = rel.empty() ? name : rel + "/" + name;
      entry.is_dir = e["type"] == "directory";
      entry.size = e.value("size", uint64_t{0});
      out.push_back(entry);
      if (entry.is_dir) KDFS_RETURN_IF_ERROR(ListTree(c, root, entry.rel, out));
    }
    if (page["next"].is_null()) return Status::Ok();
    after = page["next"].get<std::string>();
  }
}

Result<TransferStats> PutTree(KdfsClient& c, const std::string& local, const std::string& remote,
                              const TransferOptions& options) {
  std::vector<std::pair<std::string, uint64_t>> files;  // relative path, size
  std::vector<std::string> empty_dirs;
  std::error_code ec;
  fs::recursive_directory_iterator it(local, ec), end;
  if (ec) return Status::FromErrno(ec.value(), "reading " + local);
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::FromErrno(ec.value(), "reading " + local);
    std::string rel = fs::relative(it->path(), local).generic_string();
    if (it->is_regular_file()) {
      files.emplace_back(rel, it->file_size());
    } else if (it->is_directory() && fs::is_empty(it->path())) {
      empty_dirs.push_back(rel);
    } else if (!it->is_directory()) {
      std::fprintf(stderr, "kdfs: skipping %s (not a regular file)\n", it->path().c_str());
    }
  }
  if (files.empty() && empty_dirs.empty()) empty_dirs.push_back("");
  TransferStats stats;
  stats.directory = true;
  for (const auto& [rel, size] : files)
    stats.bytes += size;
  Progress progress(local, stats.bytes, options.progress);
  Status st = ForEachParallel(
      c, options.jobs, files.size() + empty_dirs.size(), [&](KdfsClient& w, size_t i) -> Status {
        if (i >= files.size()) {
          return w.Mkdir(JoinRemote(remote, empty_dirs[i - files.size()])).status();
        }
        const std::string& rel = files[i].first;
        return UploadFile(w, (fs::path(local) / rel).string(), JoinRemote(remote, rel), &progress)
            .status();
      });
  progress.Done();
  KDFS_RETURN_IF_ERROR(st);
  stats.files = files.size();
  return stats;
}

Result<TransferStats> GetTree(KdfsClient& c, const std::string& remote, const std::string& local,
                              const TransferOptions& options) {
  std::vector<RemoteEntry> entries;
  KDFS_RETURN_IF_ERROR(ListTree(c, remote, "", entries));
  std::error_code ec;
  fs::create_directories(local, ec);
  if (ec) return Status::FromErrno(ec.value(), "mkdir " + local);
  std::vector<const RemoteEntry*> files;
  TransferStats stats;
  stats.directory = true;
  for (const auto& e : entries) {
    if (e.is_dir) {
      fs::create_directories(fs::path(local) / e.rel, ec);
      if (ec) return Status::FromErrno(ec.value(), "mkdir " + e.rel);
    } else {
      files.push_back(&e);
      stats.bytes += e.size;
    }
  }
  Progress progress(remote, stats.bytes, options.progress);
  Status st = ForEachParallel(c, options.jobs, files.size(), [&](KdfsClient& w, size_t i) {
    return DownloadFile(w, JoinRemote(remote, files[i]->rel),
                        (fs::path(local) / files[i]->rel).string(), &progress, false);
  });
  progress.Done();
  KDFS_RETURN_IF_ERROR(st);
  stats.files = files.size();
  return stats;
}

}  // namespace

std::string JoinRemote(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return dir;
  if (dir.empty() || dir.back() == '/') return dir + rel;
  return dir + "/" + rel;
}

Status ForEachParallel(KdfsClient& base, int jobs, size_t n,
                       const std::function<Status(KdfsClient&, size_t)>& fn) {
  size_t threads = std::min<size_t>(std::max(jobs, 1), n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  auto record = [&](const Status& st) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = st;
    failed = true;
  };
  std::vector<std::unique_ptr<KdfsClient>> clients(threads);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto client = KdfsClient::Create(base.options());
      if (!client.ok()) return record(client.status());
      clients[t] = std::move(*client);
      clients[t]->SeedVersion(base.seen_version());
      for (size_t i; !failed && (i = next++) < n;) {
        Status st = fn(*clients[t], i);
        if (!st.ok()) record(st);
      }
    });
  }
  for (auto& th : pool)
    th.join();
  for (auto& cl : clients) {
    if (cl) base.SeedVersion(cl->seen_version());
  }
  return first_error;
}

Result<TransferStats> PutPath(KdfsClient& c, const std::string& local, const std::string& remote,
                              const TransferOptions& options) {
  std::error_code ec;
  if (local != "-" && fs::is_directory(local, ec)) return PutTree(c, local, remote, options);
  std::string target = remote;
  if (!target.empty() && target.back() == '/') target += BaseName(local);
  uint64_t size = local == "-" ? 0 : fs::file_size(local, ec);
  Progress progress(target, ec ? 0 : size, options.progress && local != "-");
  auto answer = UploadFile(c, local, target, &progress);
  progress.Done();
  if (!answer.ok()) return answer.status();
  TransferStats stats;
  stats.files = 1;
  stats.bytes = answer->value("size", uint64_t{0});
  stats.answer = *answer;
  return stats;
}

Result<TransferStats> GetPath(KdfsClient& c, const std::string& remote, const std::string& local,
                              const TransferOptions& options) {
  std::string target = local;
  if (local != "-") {
    KDFS_ASSIGN_OR_RETURN(json info, c.Stat(remote));
    if (info.value("type", "") == "directory") return GetTree(c, remote, local, options);
    std::error_code ec;
    if (target.back() == '/' || fs::is_directory(target, ec)) {
      target = (fs::path(target) / BaseName(remote)).string();
    }
  }
  KDFS_RETURN_IF_ERROR(DownloadFile(c, remote, target, nullptr, options.progress));
  TransferStats stats;
  stats.files = 1;
  return stats;
}

}  // namespace kdfs
