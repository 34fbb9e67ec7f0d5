#include "cli/commands.h"

#include <cstdio>
#include <ctime>
#include <iostream>

namespace kdfs {

using json = nlohmann::json;

namespace {

std::string UtcTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

int PrintJson(const Result<json>& r) {
  if (!r.ok()) return Fail(r.status());
  std::cout << r->dump(2) << "\n";
  return 0;
}

}  // namespace

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
  std::cerr << "kdfs: " << WireNameOf(st.code()) << ": " << st.message() << "\n";
  return ExitCodeOf(st);
}

int ListCommand(KdfsClient& c, const std::string& remote, bool long_format, int page_size) {
  std::string after;
  for (;;) {
    auto page = c.List(remote, after, page_size);
    if (!page.ok()) return Fail(page.status());
    for (const auto& e : (*page)["entries"]) {
      std::string name = e["name"].get<std::string>();
      bool dir = e["type"] == "directory";
      if (long_format) {
        std::printf("%s %12llu %10lld %s %s%s\n", dir ? "d" : "-",
                    static_cast<unsigned long long>(e.value("size", uint64_t{0})),
                    static_cast<long long>(e.value("version", int64_t{-1})),
                    UtcTime(e.value("mtime", int64_t{0})).c_str(), name.c_str(), dir ? "/" : "");
      } else {
        std::printf("%s%s\n", name.c_str(), dir ? "/" : "");
      }
    }
    if ((*page)["next"].is_null()) return 0;
    after = (*page)["next"].get<std::string>();
  }
}

int RemoveCommand(KdfsClient& c, const std::string& remote, bool recursive) {
  Status st = c.Remove(remote, recursive);
  return st.ok() ? 0 : Fail(st);
}

int MoveCommand(KdfsClient& c, const std::string& from, const std::string& to) {
  return PrintJson(c.Rename(from, to));
}

int MkdirCommand(KdfsClient& c, const std::string& remote, bool parents) {
  if (!parents) {
    auto self = c.Stat(remote);
    if (self.ok()) return Fail(Status(Code::kAlreadyExists, remote + " exists"));
    if (self.status().code() != Code::kNotFound) return Fail(self.status());
    std::string parent = remote.substr(0, remote.find_last_of('/'));
    if (!parent.empty()) {
      auto p = c.Stat(parent);
      if (!p.ok()) return Fail(p.status());
      if (p->value("type", "") != "directory") {
        return Fail(Status(Code::kNotDirectory, parent + " is not a directory"));
      }
    }
  }
  return PrintJson(c.Mkdir(remote));
}

int StatCommand(KdfsClient& c, const std::string& remote) {
  return PrintJson(c.Stat(remote));
}

int ClusterCommand(KdfsClient& c) {
  auto cluster = c.Cluster();
  if (!cluster.ok()) return Fail(cluster.status());
  const json& leader = (*cluster)["leader"];
  std::string leader_id = leader.is_null() ? "" : leader.value("node", "");
  if (leader.is_null()) {
    std::printf("leader: (none)\n");
  } else {
    std::printf("leader: %s (epoch %lld)\n", leader_id.c_str(),
                static_cast<long long>(leader.value("epoch", int64_t{-1})));
  }
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

}  // namespace kdfs
