// kdfs: the command-line client of a kdfs cluster. See `kdfs --help`.
//
// Exit codes: 0 success, 1 other error, 2 usage, 3 not found, 4 conflict or
// precondition failed, 5 unavailable (no leader, Kafka down, timeout).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/client.h"
#include "cli/progress.h"

namespace {

using json = nlohmann::json;
using kdfs::Code;
using kdfs::Status;

int ExitCodeOf(const Status& st) {
  switch (st.code()) {
    case Code::kOk:
      return 0;
    case Code::kNotFound:
      return 3;
    case Code::kParentNotDirectory:
    case Code::kIsDirectory:
    case Code::kNotDirectory:
    case Code::kDirectoryNotEmpty:
    case Code::kAlreadyExists:
    case Code::kInvalidRename:
    case Code::kLwwLost:
    case Code::kPreconditionFailed:
      return 4;
    case Code::kUnavailable:
    case Code::kTimeout:
      return 5;
    default:
      return 1;
  }
}

int Fail(const Status& st) {
  std::cerr << "kdfs: " << kdfs::WireNameOf(st.code()) << ": " << st.message() << "\n";
  return ExitCodeOf(st);
}

std::string DefaultUrl() {
  if (const char* env = std::getenv("KDFS_URL")) return env;
  if (const char* home = std::getenv("HOME")) {
    std::ifstream in(std::string(home) + "/.config/kdfs/url");
    std::string url;
    if (in >> url) return url;
  }
  return "http://127.0.0.1:8080";
}

int Put(kdfs::KdfsClient& c, const std::string& local, const std::string& remote) {
  FILE* f = local == "-" ? stdin : std::fopen(local.c_str(), "rb");
  if (f == nullptr) return Fail(Status::FromErrno(errno, "open " + local));
  std::optional<uint64_t> size;
  if (local != "-" && std::fseek(f, 0, SEEK_END) == 0) {
    size = static_cast<uint64_t>(std::ftell(f));
    std::rewind(f);
  }
  kdfs::Progress progress(remote, size.value_or(0), isatty(STDERR_FILENO) && size);
  auto source = [&](char* out, size_t n) -> kdfs::Result<size_t> {
    size_t got = std::fread(out, 1, n, f);
    if (got == 0 && std::ferror(f)) return Status::IoError("reading " + local);
    progress.Add(got);
    return got;
  };
  auto result = c.Put(remote, size, source, local != "-", [&] {
    std::rewind(f);
    progress.Reset();
  });
  if (f != stdin) std::fclose(f);
  progress.Done();
  if (!result.ok()) return Fail(result.status());
  std::cout << result->dump() << "\n";
  return 0;
}

int Get(kdfs::KdfsClient& c, const std::string& remote, const std::string& local) {
  bool to_stdout = local == "-";
  std::string tmp = to_stdout ? "" : local + ".kdfs-part";
  FILE* f = to_stdout ? stdout : std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Fail(Status::FromErrno(errno, "open " + tmp));
  std::unique_ptr<kdfs::Progress> progress;
  Status st = c.Get(
      remote,
      [&](uint64_t size) {
        progress =
            std::make_unique<kdfs::Progress>(remote, size, !to_stdout && isatty(STDERR_FILENO));
      },
      [&](std::string_view piece) -> Status {
        if (std::fwrite(piece.data(), 1, piece.size(), f) != piece.size()) {
          return Status::FromErrno(errno, "write " + local);
        }
        if (progress) progress->Add(piece.size());
        return Status::Ok();
      });
  if (progress) progress->Done();
  if (to_stdout) {
    std::fflush(stdout);
    return st.ok() ? 0 : Fail(st);
  }
  if (std::fclose(f) != 0 && st.ok()) st = Status::FromErrno(errno, "close " + local);
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return Fail(st);
  }
  if (std::rename(tmp.c_str(), local.c_str()) != 0) {
    return Fail(Status::FromErrno(errno, "rename to " + local));
  }
  return 0;
}

int Ls(kdfs::KdfsClient& c, const std::string& remote, bool long_format) {
  std::string after;
  for (;;) {
    auto page = c.List(remote, after, 1000);
    if (!page.ok()) return Fail(page.status());
    for (const auto& e : (*page)["entries"]) {
      std::string name = e["name"].get<std::string>();
      bool dir = e["type"] == "directory";
      if (long_format) {
        std::printf("%s %12llu %10lld %s%s\n", dir ? "d" : "-",
                    static_cast<unsigned long long>(e["size"].get<uint64_t>()),
                    static_cast<long long>(e["version"].get<int64_t>()), name.c_str(),
                    dir ? "/" : "");
      } else {
        std::printf("%s%s\n", name.c_str(), dir ? "/" : "");
      }
    }
    if ((*page)["next"].is_null()) return 0;
    after = (*page)["next"].get<std::string>();
  }
}

int ClusterTable(kdfs::KdfsClient& c) {
  auto cluster = c.Cluster();
  if (!cluster.ok()) return Fail(cluster.status());
  const json& leader = (*cluster)["leader"];
  std::printf("leader: %s\n", leader.is_null() ? "(none)"
                                               : (leader["node"].get<std::string>() + " epoch " +
                                                  std::to_string(leader["epoch"].get<int64_t>()))
                                                     .c_str());
  std::printf("%-10s %-9s %-6s %10s %6s  %-16s %s\n", "NODE", "ROLE", "READY", "APPLIED", "LAG",
              "DIGEST", "URL");
  for (const auto& n : (*cluster)["nodes"]) {
    std::string digest = n.value("digest", "");
    std::printf("%-10s %-9s %-6s %10lld %6lld  %-16s %s\n", n.value("id", "?").c_str(),
                n.value("reachable", false) ? n.value("role", "?").c_str() : "down",
                n.value("ready", false) ? "yes" : "no",
                static_cast<long long>(n.value("applied_offset", int64_t{-1})),
                static_cast<long long>(n.value("lag", int64_t{0})), digest.substr(0, 16).c_str(),
                n.value("url", "").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kdfs: command-line client of a kdfs cluster"};
  app.require_subcommand(1);
  kdfs::ClientOptions options;
  options.url = DefaultUrl();
  app.add_option("--url", options.url,
                 "cluster URL (default: $KDFS_URL, ~/.config/kdfs/url, http://127.0.0.1:8080)");
  app.add_option("--timeout-ms", options.timeout_ms, "per-request timeout")->capture_default_str();
  std::string a, b;
  bool flag = false;

  auto* put = app.add_subcommand("put", "upload a local file (- for stdin) to REMOTE");
  put->add_option("local", a, "local file or -")->required();
  put->add_option("remote", b, "remote path, e.g. /data/x.csv")->required();
  auto* get = app.add_subcommand("get", "download REMOTE to a local file (- for stdout)");
  get->add_option("remote", a, "remote path")->required();
  get->add_option("local", b, "local file or -")->required();
  auto* cat = app.add_subcommand("cat", "write REMOTE to stdout");
  cat->add_option("remote", a, "remote path")->required();
  auto* ls = app.add_subcommand("ls", "list a directory in name order");
  ls->add_option("remote", a, "remote directory")->default_val("/");
  ls->add_flag("-l,--long", flag, "type, size and version of each entry");
  auto* rm = app.add_subcommand("rm", "delete a file or directory");
  rm->add_option("remote", a, "remote path")->required();
  rm->add_flag("-r,--recursive", flag, "delete a non-empty directory and everything in it");
  auto* mv = app.add_subcommand("mv", "rename a file or directory (atomic)");
  mv->add_option("from", a, "source path")->required();
  mv->add_option("to", b, "destination path")->required();
  auto* mkdir = app.add_subcommand("mkdir", "create a directory and its parents");
  mkdir->add_option("remote", a, "remote path")->required();
  mkdir->add_flag("-p,--parents", flag, "accepted for familiarity; parents are always created");
  auto* stat = app.add_subcommand("stat", "print the metadata of a path as JSON");
  stat->add_option("remote", a, "remote path")->required();
  auto* cluster = app.add_subcommand("cluster", "show the nodes, the leader, lag and digests");

  CLI11_PARSE(app, argc, argv);
  auto client = kdfs::KdfsClient::Create(options);
  if (!client.ok()) return Fail(client.status());
  kdfs::KdfsClient& c = **client;
  if (*put) return Put(c, a, b);
  if (*get) return Get(c, a, b);
  if (*cat) return Get(c, a, "-");
  if (*ls) return Ls(c, a, flag);
  if (*rm) {
    Status st = c.Remove(a, flag);
    return st.ok() ? 0 : Fail(st);
  }
  auto print = [](const kdfs::Result<json>& r) {
    if (!r.ok()) return Fail(r.status());
    std::cout << r->dump(2) << "\n";
    return 0;
  };
  if (*mv) return print(c.Rename(a, b));
  if (*mkdir) return print(c.Mkdir(a));
  if (*stat) return print(c.Stat(a));
  if (*cluster) return ClusterTable(c);
  return 2;
}
